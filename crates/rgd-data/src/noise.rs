//! Label noise: symmetric and asymmetric flips with an exact rate and a flipped mask.
//!
//! Apply noise to training and validation labels (the validation split then
//! matches the noisy training distribution, as in the literature's "noisy
//! validation" protocol), never to test labels: the test split measures the
//! clean task.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::DataError;

/// Fashion-MNIST class names, label order 0..9.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Asymmetric-noise map of similar Fashion-MNIST classes: `map[c]` is the class `c` flips to.
///
/// T-shirt/top (0) <-> Shirt (6), Pullover (2) <-> Coat (4), Sandal (5) <->
/// Sneaker (7); Trouser (1), Dress (3), Bag (8) and Ankle boot (9) map to
/// themselves and are never flipped.
pub const FASHION_MNIST_ASYMMETRIC_MAP: [u32; 10] = [6, 1, 4, 3, 2, 7, 0, 5, 8, 9];

fn check_rate(rate: f64) -> Result<(), DataError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(DataError::arg("rate", rate, "a fraction in [0, 1]"))
    }
}

/// Flip exactly `round(rate * n)` labels, each to a uniformly chosen *different* class.
///
/// The flipped rows are a uniform random subset (`ChaCha8Rng` seeded with
/// `seed`). Returns the mask of flipped rows, so that weights on flipped and
/// clean examples can be reported. Errors if `n_classes < 2`, `rate` is not in
/// `[0, 1]` or a label is `>= n_classes`.
///
/// ```
/// let mut y = vec![0u32; 10];
/// let flipped = rgd_data::symmetric_noise(&mut y, 3, 0.3, 1).unwrap();
/// assert_eq!(flipped.iter().filter(|&&f| f).count(), 3);
/// assert!(y.iter().zip(&flipped).all(|(&l, &f)| (l != 0) == f));
/// ```
pub fn symmetric_noise(
    labels: &mut [u32],
    n_classes: usize,
    rate: f64,
    seed: u64,
) -> Result<Vec<bool>, DataError> {
    check_rate(rate)?;
    if n_classes < 2 {
        return Err(DataError::arg(
            "n_classes",
            n_classes,
            "at least 2 so that a label can change",
        ));
    }
    if let Some(&l) = labels.iter().find(|&&l| l as usize >= n_classes) {
        return Err(DataError::arg(
            "labels",
            l,
            format!("every label < n_classes = {n_classes}"),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx: Vec<usize> = (0..labels.len()).collect();
    idx.shuffle(&mut rng);
    let k = (rate * labels.len() as f64).round() as usize;
    let mut mask = vec![false; labels.len()];
    for &i in &idx[..k] {
        let r = rng.random_range(0..n_classes as u32 - 1);
        labels[i] = if r >= labels[i] { r + 1 } else { r };
        mask[i] = true;
    }
    Ok(mask)
}

/// Flip labels along a class map: in every class `c` with `map[c] != c`, exactly
/// `round(rate * n_c)` of its rows (uniformly chosen) become `map[c]`.
///
/// Classes with `map[c] == c` are untouched. Returns the flipped mask. Use
/// [`FASHION_MNIST_ASYMMETRIC_MAP`] for Fashion-MNIST. Errors if `rate` is
/// not in `[0, 1]`, or a label or map entry is `>= map.len()`.
///
/// ```
/// use rgd_data::{asymmetric_noise, FASHION_MNIST_ASYMMETRIC_MAP};
/// let mut y: Vec<u32> = (0..100).map(|i| i % 10).collect();
/// let f = asymmetric_noise(&mut y, &FASHION_MNIST_ASYMMETRIC_MAP, 0.4, 3).unwrap();
/// assert_eq!(f.iter().filter(|&&x| x).count(), 6 * 4); // 6 mapped classes x round(0.4 * 10)
/// ```
pub fn asymmetric_noise(
    labels: &mut [u32],
    map: &[u32],
    rate: f64,
    seed: u64,
) -> Result<Vec<bool>, DataError> {
    check_rate(rate)?;
    let c = map.len();
    if let Some(&m) = map.iter().find(|&&m| m as usize >= c) {
        return Err(DataError::arg(
            "map",
            m,
            format!("every target class < map.len() = {c}"),
        ));
    }
    if let Some(&l) = labels.iter().find(|&&l| l as usize >= c) {
        return Err(DataError::arg(
            "labels",
            l,
            format!("every label < map.len() = {c}"),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mask = vec![false; labels.len()];
    for (class, &target) in map.iter().enumerate() {
        if target as usize == class {
            continue;
        }
        let mut idx: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] as usize == class && !mask[i])
            .collect();
        idx.shuffle(&mut rng);
        let k = (rate * idx.len() as f64).round() as usize;
        for &i in &idx[..k] {
            labels[i] = target;
            mask[i] = true;
        }
    }
    Ok(mask)
}
