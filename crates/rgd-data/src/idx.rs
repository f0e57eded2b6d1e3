//! IDX binary files (MNIST / Fashion-MNIST), gzipped or not.

use std::io::Read;
use std::path::Path;

use crate::{DataError, Dataset};

/// Magic number of an unsigned-byte rank-3 IDX file (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an unsigned-byte rank-1 IDX file (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// Grey images read from an IDX file: `n` images of `rows x cols` scaled to `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    /// Number of images.
    pub n: usize,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// `n * rows * cols` pixels, byte / 255.
    pub pixels: Vec<f32>,
}

/// Decompress when `bytes` start with the gzip magic `1f 8b`, else borrow them unchanged.
pub fn maybe_gunzip<'a>(
    bytes: &'a [u8],
    source: &str,
) -> Result<std::borrow::Cow<'a, [u8]>, DataError> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| DataError::Decompress {
                file: source.into(),
                msg: e.to_string(),
            })?;
        Ok(std::borrow::Cow::Owned(out))
    } else {
        Ok(std::borrow::Cow::Borrowed(bytes))
    }
}

fn header(
    bytes: &[u8],
    source: &str,
    magic: u32,
    what: &'static str,
    dims: usize,
) -> Result<Vec<usize>, DataError> {
    let need = 4 + 4 * dims;
    if bytes.len() < 4 {
        return Err(if bytes.is_empty() {
            DataError::Empty {
                file: source.into(),
            }
        } else {
            DataError::Truncated {
                file: source.into(),
                expected: need,
                found: bytes.len(),
            }
        });
    }
    let word = |k: usize| u32::from_be_bytes([bytes[k], bytes[k + 1], bytes[k + 2], bytes[k + 3]]);
    let found = word(0);
    if found != magic {
        return Err(DataError::BadMagic {
            file: source.into(),
            expected: magic,
            found,
            what,
        });
    }
    if bytes.len() < need {
        return Err(DataError::Truncated {
            file: source.into(),
            expected: need,
            found: bytes.len(),
        });
    }
    let dims: Vec<usize> = (0..dims).map(|d| word(4 + 4 * d) as usize).collect();
    let body: usize = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .unwrap_or(usize::MAX);
    let expected = need.saturating_add(body);
    if bytes.len() < expected {
        return Err(DataError::Truncated {
            file: source.into(),
            expected,
            found: bytes.len(),
        });
    }
    if bytes.len() > expected {
        return Err(DataError::TrailingBytes {
            file: source.into(),
            expected,
            extra: bytes.len() - expected,
        });
    }
    Ok(dims)
}

/// Parse an IDX image file (magic `0x00000803`, gzipped or not) from bytes.
///
/// Pixels are scaled to `[0, 1]` by dividing by 255. Errors:
/// [`DataError::Empty`], [`DataError::BadMagic`], [`DataError::Truncated`],
/// [`DataError::TrailingBytes`], [`DataError::Decompress`].
///
/// ```
/// let mut b = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2];
/// b.extend([0, 255]);
/// let im = rgd_data::parse_idx_images(&b, "x.idx").unwrap();
/// assert_eq!((im.n, im.rows, im.cols), (1, 1, 2));
/// assert_eq!(im.pixels, vec![0.0, 1.0]);
/// ```
pub fn parse_idx_images(bytes: &[u8], source: &str) -> Result<IdxImages, DataError> {
    let raw = maybe_gunzip(bytes, source)?;
    let dims = header(
        &raw,
        source,
        IDX_IMAGES_MAGIC,
        "IDX images, unsigned bytes, 3 dimensions",
        3,
    )?;
    let lut: [f32; 256] = std::array::from_fn(|b| b as f32 / 255.0);
    let pixels = raw[16..].iter().map(|&b| lut[b as usize]).collect();
    Ok(IdxImages {
        n: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels,
    })
}

/// Parse an IDX label file (magic `0x00000801`, gzipped or not); every label must be `< n_classes`.
///
/// Errors: as [`parse_idx_images`], plus [`DataError::LabelOutOfRange`] naming the 1-based item.
///
/// ```
/// let b = [0, 0, 8, 1, 0, 0, 0, 2, 3, 9];
/// assert_eq!(rgd_data::parse_idx_labels(&b, "y.idx", 10).unwrap(), vec![3, 9]);
/// assert!(rgd_data::parse_idx_labels(&b, "y.idx", 5).is_err());
/// ```
pub fn parse_idx_labels(
    bytes: &[u8],
    source: &str,
    n_classes: usize,
) -> Result<Vec<u32>, DataError> {
    let raw = maybe_gunzip(bytes, source)?;
    header(
        &raw,
        source,
        IDX_LABELS_MAGIC,
        "IDX labels, unsigned bytes, 1 dimension",
        1,
    )?;
    let labels: Vec<u32> = raw[8..].iter().map(|&b| b as u32).collect();
    if let Some((i, &l)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| l as usize >= n_classes)
    {
        return Err(DataError::LabelOutOfRange {
            file: source.into(),
            location: format!("item {} (byte offset {})", i + 1, 8 + i),
            label: l.to_string(),
            n_classes,
            allowed: format!("0..{n_classes}"),
        });
    }
    Ok(labels)
}

/// Pair parsed IDX images and labels into a [`Dataset`] with `example_shape [1, rows, cols]`.
///
/// Errors: [`DataError::CountMismatch`] when the counts differ,
/// [`DataError::Empty`] when there are no images.
pub fn idx_dataset(
    name: &str,
    images: IdxImages,
    images_source: &str,
    labels: Vec<u32>,
    labels_source: &str,
    class_names: Vec<String>,
) -> Result<Dataset, DataError> {
    if images.n != labels.len() {
        return Err(DataError::CountMismatch {
            first: images_source.into(),
            first_count: images.n,
            second: labels_source.into(),
            second_count: labels.len(),
        });
    }
    if images.n == 0 {
        return Err(DataError::Empty {
            file: images_source.into(),
        });
    }
    let n_features = images.rows * images.cols;
    Ok(Dataset {
        name: name.into(),
        features: images.pixels,
        n_features,
        example_shape: vec![1, images.rows, images.cols],
        labels,
        class_names,
        feature_names: Vec::new(),
        domains: None,
        domain_names: Vec::new(),
    })
}

/// Load an IDX images file and its labels file into one [`Dataset`].
///
/// Both may be gzipped (detected by the magic `1f 8b`, not the extension).
/// Labels must be `< class_names.len()`; the counts must match.
///
/// ```no_run
/// use rgd_data::{load_idx_pair, FASHION_MNIST_CLASSES};
/// let names = FASHION_MNIST_CLASSES.iter().map(|s| s.to_string()).collect();
/// let ds = load_idx_pair("fashion-mnist", "data-cache/fashion-mnist/train-images-idx3-ubyte.gz",
///     "data-cache/fashion-mnist/train-labels-idx1-ubyte.gz", names).unwrap();
/// assert_eq!(ds.len(), 60000);
/// ```
pub fn load_idx_pair(
    name: &str,
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    class_names: Vec<String>,
) -> Result<Dataset, DataError> {
    let (ip, lp) = (images.as_ref(), labels.as_ref());
    let (is, ls) = (ip.display().to_string(), lp.display().to_string());
    let im = parse_idx_images(&crate::error::read_file(ip)?, &is)?;
    let y = parse_idx_labels(&crate::error::read_file(lp)?, &ls, class_names.len())?;
    idx_dataset(name, im, &is, y, &ls, class_names)
}
