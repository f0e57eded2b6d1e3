//! CSV parser: the first byte picks the label column among the header's first columns.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let header = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let header = String::from_utf8_lossy(header);
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let label = cols[pick as usize % cols.len()];
    if let Ok(ds) = rgd_data::parse_csv(rest, "fuzz.csv", label) {
        ds.validate()
            .expect("parse_csv returned an invalid data set");
    }
});
