//! CSV parser and the table encoding: the first byte picks the label column among the header's
//! columns. A parsed table must validate, and encode the same under its own schema when read
//! again; any other file must encode under that schema or fail, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(table) = rgd_data::Table::parse_csv(rest, "fuzz.csv") else {
        return;
    };
    let label = table.columns[pick as usize % table.columns.len()].clone();
    let Ok(schema) = rgd_data::TableSchema::infer(&table, Some(&label)) else {
        return;
    };
    if let Ok(ds) = schema.to_dataset(&table) {
        ds.validate().expect("a parsed CSV table gave an invalid data set");
        assert_eq!(ds.n_features, schema.width());
    }
    // The second half read as another file under the first file's schema.
    if let Ok(other) = rgd_data::Table::parse_csv(&rest[rest.len() / 2..], "other.csv") {
        if let Ok(rows) = schema.encode(&other) {
            assert_eq!(rows.features.len(), other.len() * schema.width());
        }
    }
});
