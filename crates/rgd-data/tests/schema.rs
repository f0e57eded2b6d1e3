//! The table schema end to end: a row encodes the same whatever its file's other rows, columns
//! match by name or position, typos and runaway one-hot columns are errors, numeric labels
//! compare as numbers, and the schema round-trips through JSON.

use rgd_data::{ColumnKind, Table, TableSchema};

fn csv(text: &str) -> Table {
    Table::parse_csv(text.as_bytes(), "t.csv").unwrap()
}

#[test]
fn a_row_encodes_the_same_whatever_the_other_rows_of_its_file() {
    let train = csv("c,x,y\nred,1,a\nblue,2,b\ngreen,3,a\n");
    let schema = TableSchema::infer(&train, Some("y")).unwrap();
    let alone = schema.encode(&csv("c,x,y\nred,5,b\n")).unwrap();
    let with_others = schema
        .encode(&csv("c,x,y\nblue,0,a\nred,5,b\ngreen,9,a\n"))
        .unwrap();
    let w = schema.width();
    assert_eq!(alone.features, with_others.features[w..2 * w]);
    assert_eq!(alone.labels, vec![Some(1)]);
    let e = schema
        .encode(&csv("c,x,y\npurple,1,a\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 2") && e.contains("`purple`") && e.contains("blue, green, red"),
        "{e}"
    );
    let e = schema
        .encode(&csv("c,x,y\nred,1,z\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`z`") && e.contains("a, b"), "{e}");
}

#[test]
fn columns_match_by_name_or_by_position_and_the_label_may_be_absent() {
    let train = Table::parse_keel(b"1,a,p\n2,b,q\n", "train.dat").unwrap();
    let schema = TableSchema::infer(&train, None).unwrap();
    let unlabelled = Table::parse_keel(b"3,b\n", "new.dat").unwrap();
    let rows = schema.encode(&unlabelled).unwrap();
    assert_eq!(
        (rows.features, rows.labels),
        (vec![3.0, 0.0, 1.0], vec![None])
    );
    let e = schema
        .encode(&Table::parse_keel(b"3,b,p,x\n", "new.dat").unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("4 columns but the training data has 3"), "{e}");
    let named = TableSchema::infer(&csv("x,c,y\n1,a,p\n2,b,q\n"), Some("y")).unwrap();
    let e = named
        .encode(&csv("x,c,id\n1,a,7\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("column `id` is not in the training data"), "{e}");
    let e = named.encode(&csv("x,y\n1,p\n")).unwrap_err().to_string();
    assert!(e.contains("no column `c`"), "{e}");
}

#[test]
fn a_typo_in_a_numeric_column_is_an_error_not_a_one_hot_column() {
    let mut text = String::from("x,y\n");
    for i in 0..200 {
        text += &format!(
            "{},{}\n",
            if i == 57 {
                "0.5x".into()
            } else {
                format!("{i}.5")
            },
            i % 2
        );
    }
    let e = TableSchema::infer(&csv(&text), Some("y"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("199 of 200") && e.contains("line 59 `0.5x`"),
        "{e}"
    );
    // A column of words stays categorical.
    let s = TableSchema::infer(&csv("c,y\nred,0\nblue,1\n1,0\n"), Some("y")).unwrap();
    assert!(matches!(s.columns[0].kind, ColumnKind::Categorical { .. }));
}

#[test]
fn one_hot_width_and_classes_are_bounded() {
    let mut text = String::from("id,y\n");
    for i in 0..300 {
        text += &format!("id{i},{}\n", i % 2);
    }
    let e = TableSchema::infer(&csv(&text), Some("y"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("more than the 256"), "{e}");
    let mut text = String::from("x,y\n");
    for i in 0..1200 {
        text += &format!("1,{i}.25\n");
    }
    let e = TableSchema::infer(&csv(&text), Some("y"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("regression target"), "{e}");
}

#[test]
fn numeric_labels_compare_as_numbers() {
    let t = csv("x,y\n1,1\n2,1.0\n3,2\n4,10\n");
    let s = TableSchema::infer(&t, Some("y")).unwrap();
    assert_eq!(s.class_names, vec!["1", "2", "10"]);
    let ds = s.to_dataset(&t).unwrap();
    assert_eq!(ds.labels, vec![0, 0, 1, 2]);
}

#[test]
fn the_schema_round_trips_through_json() {
    let t = csv("x,c,y\n1,a,p\n?,b,q\n");
    let s = TableSchema::infer(&t, Some("y")).unwrap();
    let back: TableSchema = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}
