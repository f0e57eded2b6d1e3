//! Domain-shift builders from MNIST digits: RotatedMNIST and ColoredMNIST (DomainBed recipes).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{DataError, Dataset};

/// DomainBed's RotatedMNIST angles in degrees.
pub const ROTATED_MNIST_ANGLES: [f32; 6] = [0.0, 15.0, 30.0, 45.0, 60.0, 75.0];

/// ColoredMNIST colour-flip probabilities of the three environments (DomainBed).
pub const COLORED_MNIST_ENVIRONMENTS: [f64; 3] = [0.1, 0.2, 0.9];

/// Label-flip probability of ColoredMNIST (DomainBed).
pub const COLORED_MNIST_LABEL_NOISE: f64 = 0.25;

fn check_images(ds: &Dataset) -> Result<(usize, usize), DataError> {
    match ds.example_shape.as_slice() {
        [1, h, w] if h * w == ds.n_features => Ok((*h, *w)),
        s => Err(DataError::InvalidDataset {
            name: ds.name.clone(),
            reason: format!(
                "example_shape is {s:?} but grey images [1, height, width] are needed; load MNIST digits (e.g. load_mnist_json)"
            ),
        }),
    }
}

/// Rotate one `h x w` image by `deg` degrees counter-clockwise about its centre (bilinear, zero fill).
///
/// ```
/// let img = vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0];
/// let r = rgd_data::rotate_image(&img, 3, 3, 90.0);
/// assert!((r[3] - 1.0).abs() < 1e-5 && (r[4] - 1.0).abs() < 1e-5 && r[1].abs() < 1e-5);
/// ```
pub fn rotate_image(img: &[f32], h: usize, w: usize, deg: f32) -> Vec<f32> {
    let (s, c) = (deg as f64).to_radians().sin_cos();
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    let at = |y: isize, x: isize| -> f64 {
        if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
            0.0
        } else {
            img[y as usize * w + x as usize] as f64
        }
    };
    let mut out = vec![0f32; h * w];
    for y in 0..h {
        for x in 0..w {
            // Inverse map: output (x, y) samples the input rotated by -deg.
            // Image y grows downwards, so a counter-clockwise turn on screen uses -s here.
            let (dx, dy) = (x as f64 - cx, y as f64 - cy);
            let sx = c * dx - s * dy + cx;
            let sy = s * dx + c * dy + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as isize, y0 as isize);
            let v = at(y0, x0) * (1.0 - fx) * (1.0 - fy)
                + at(y0, x0 + 1) * fx * (1.0 - fy)
                + at(y0 + 1, x0) * (1.0 - fx) * fy
                + at(y0 + 1, x0 + 1) * fx * fy;
            out[y * w + x] = v as f32;
        }
    }
    out
}

/// RotatedMNIST: domain `i` takes the digits `images[i::k]` (k = `angles.len()`) rotated by `angles[i]`.
///
/// Domains are disjoint (no digit appears twice), as in DomainBed. Rows are
/// ordered by domain; `domain_names` are `"0°"`, `"15°"`, ...; labels and
/// class names are kept. Rotation is bilinear with zero fill about the image
/// centre, counter-clockwise. Use [`ROTATED_MNIST_ANGLES`] for the standard six.
///
/// ```
/// use rgd_data::{Dataset, rotated_mnist};
/// let mut ds = Dataset::from_features("m", vec![0.5; 12 * 4], 4, (0..12).map(|i| i % 2).collect(), vec!["a".into(), "b".into()]);
/// ds.example_shape = vec![1, 2, 2];
/// let r = rotated_mnist(&ds, &rgd_data::ROTATED_MNIST_ANGLES).unwrap();
/// assert_eq!(r.domain_names.len(), 6);
/// assert_eq!(r.len(), 12);
/// ```
pub fn rotated_mnist(ds: &Dataset, angles: &[f32]) -> Result<Dataset, DataError> {
    let (h, w) = check_images(ds)?;
    if angles.is_empty() {
        return Err(DataError::arg(
            "angles",
            "[]",
            "at least one angle in degrees",
        ));
    }
    let k = angles.len();
    let mut features = Vec::with_capacity(ds.features.len());
    let mut labels = Vec::with_capacity(ds.len());
    let mut domains = Vec::with_capacity(ds.len());
    for (d, &a) in angles.iter().enumerate() {
        for i in (d..ds.len()).step_by(k) {
            if a == 0.0 {
                features.extend_from_slice(ds.row(i));
            } else {
                features.extend(rotate_image(ds.row(i), h, w, a));
            }
            labels.push(ds.labels[i]);
            domains.push(d as u32);
        }
    }
    Ok(Dataset {
        name: format!("rotated-{}", ds.name),
        features,
        n_features: ds.n_features,
        example_shape: ds.example_shape.clone(),
        labels,
        class_names: ds.class_names.clone(),
        feature_names: ds.feature_names.clone(),
        domains: Some(domains),
        domain_names: angles.iter().map(|a| format!("{a}°")).collect(),
    })
}

/// ColoredMNIST (DomainBed recipe, kept at 28 x 28): 3 environments from disjoint thirds `images[i::3]`.
///
/// For each digit (in environment order, then row order) two Bernoulli draws
/// from one `ChaCha8Rng` seeded with `seed`: the binary label `digit >= 5` is
/// flipped with probability 0.25, then the colour is the (noisy) label flipped
/// with probability `e` = 0.1, 0.2, 0.9 for environments 0, 1, 2. The image is
/// placed in channel `colour` and the other channel is zero, giving
/// `example_shape [2, h, w]`. DomainBed also downsamples to 14 x 14; this
/// builder keeps the full resolution. Class names `"0-4"`, `"5-9"`; domain
/// names `"+90%"`, `"+80%"`, `"-90%"` (DomainBed's names: colour-label correlation).
/// Input labels must be digits `0..=9`.
///
/// ```
/// use rgd_data::{Dataset, colored_mnist};
/// let mut ds = Dataset::from_features("m", vec![1.0; 30 * 4], 4, (0..30).map(|i| i % 10).collect(),
///     (0..10).map(|d| d.to_string()).collect());
/// ds.example_shape = vec![1, 2, 2];
/// let c = colored_mnist(&ds, 0).unwrap();
/// assert_eq!(c.example_shape, vec![2, 2, 2]);
/// assert_eq!(c.n_classes(), 2);
/// ```
pub fn colored_mnist(ds: &Dataset, seed: u64) -> Result<Dataset, DataError> {
    let (h, w) = check_images(ds)?;
    if let Some(&l) = ds.labels.iter().find(|&&l| l > 9) {
        return Err(DataError::InvalidDataset {
            name: ds.name.clone(),
            reason: format!(
                "label {l} is not a digit 0..=9; ColoredMNIST needs MNIST digit labels"
            ),
        });
    }
    let n_pix = h * w;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut features = Vec::with_capacity(ds.len() * 2 * n_pix);
    let mut labels = Vec::with_capacity(ds.len());
    let mut domains = Vec::with_capacity(ds.len());
    for (env, &e) in COLORED_MNIST_ENVIRONMENTS.iter().enumerate() {
        for i in (env..ds.len()).step_by(3) {
            let mut y = u32::from(ds.labels[i] >= 5);
            if rng.random_bool(COLORED_MNIST_LABEL_NOISE) {
                y ^= 1;
            }
            let mut colour = y;
            if rng.random_bool(e) {
                colour ^= 1;
            }
            let start = features.len();
            features.resize(start + 2 * n_pix, 0.0);
            let ch = start + colour as usize * n_pix;
            features[ch..ch + n_pix].copy_from_slice(ds.row(i));
            labels.push(y);
            domains.push(env as u32);
        }
    }
    Ok(Dataset {
        name: format!("colored-{}", ds.name),
        features,
        n_features: 2 * n_pix,
        example_shape: vec![2, h, w],
        labels,
        class_names: vec!["0-4".into(), "5-9".into()],
        feature_names: Vec::new(),
        domains: Some(domains),
        domain_names: vec!["+90%".into(), "+80%".into(), "-90%".into()],
    })
}
