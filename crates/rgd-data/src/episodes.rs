//! Few-shot episodes: N-way K-shot tasks with Q queries per class, drawn from fixed class splits.
//!
//! Meta-learning trains on tasks, not examples. A task (episode) picks `ways` classes of one
//! split, `shots` support and `queries` query examples of each, and relabels the classes
//! `0..ways` in the order they were drawn. The classes of meta-training, meta-validation and
//! meta-test are disjoint ([`ClassSplit`]): a model is always tested on classes it never saw.
//!
//! The class splits are written down here once:
//!
//! - `keel/letter` (26 letters, label `k` = the `k`-th letter in the file's class order):
//!   meta-train = the first 16 classes, meta-validation = the next 5, meta-test = the last 5
//!   ([`LETTER_SPLIT`]).
//! - images: the 10 Fashion-MNIST classes (labels 0-9) together with the 10 MNIST digits
//!   (labels 10-19, digit `d` = label `10 + d`), built by [`combine_image_classes`]; meta-train =
//!   Fashion-MNIST 0-4 and digits 0-4, meta-validation = Fashion-MNIST 5-6 and digits 5-7,
//!   meta-test = Fashion-MNIST 7-9 and digits 8-9 ([`IMAGE_SPLIT`]). Every split holds classes
//!   of both sources.
//!
//! Episode `i` of a sampler seeded with `seed` depends on `(seed, i)` only, so a resumed run
//! replays the same episodes and every method is evaluated on the same test episodes.
//!
//! ```
//! use rgd_data::{Dataset, EpisodeSampler};
//! // 4 classes x 6 examples each.
//! let labels: Vec<u32> = (0..24).map(|i| i / 6).collect();
//! let ds = Dataset::from_features("toy", (0..24).map(|i| i as f32).collect(), 1, labels,
//!     (0..4).map(|c| format!("c{c}")).collect());
//! let sampler = EpisodeSampler::new(&ds, &[0, 1, 2, 3], 3, 2, 4).unwrap();
//! let e = sampler.episode(7, 0);
//! assert_eq!((e.support.len(), e.query.len()), (3 * 2, 3 * 4));
//! assert_eq!(e.support_labels, vec![0, 0, 1, 1, 2, 2]);
//! assert_eq!(sampler.episode(7, 0), e); // deterministic
//! // More shots + queries than a class has examples: an error, not a panic.
//! assert!(EpisodeSampler::new(&ds, &[0, 1, 2, 3], 3, 3, 4).is_err());
//! ```

use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

use crate::{DataError, Dataset};

/// Disjoint class lists for meta-training, meta-validation and meta-test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassSplit {
    /// Classes episodes are trained on.
    pub train: &'static [u32],
    /// Classes hyperparameters and checkpoints are selected on.
    pub valid: &'static [u32],
    /// Classes reported once.
    pub test: &'static [u32],
}

/// The letter split: 16 / 5 / 5 of the 26 classes of `keel/letter`, in label order.
pub const LETTER_SPLIT: ClassSplit = ClassSplit {
    train: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    valid: &[16, 17, 18, 19, 20],
    test: &[21, 22, 23, 24, 25],
};

/// The image split over [`combine_image_classes`]' 20 classes (0-9 Fashion-MNIST, 10-19 MNIST
/// digits 0-9): 10 / 5 / 5, each split holding classes of both sources.
pub const IMAGE_SPLIT: ClassSplit = ClassSplit {
    train: &[0, 1, 2, 3, 4, 10, 11, 12, 13, 14],
    valid: &[5, 6, 15, 16, 17],
    test: &[7, 8, 9, 18, 19],
};

/// Which split of a [`ClassSplit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaSplit {
    /// Meta-training classes.
    Train,
    /// Meta-validation classes.
    Valid,
    /// Meta-test classes.
    Test,
}

impl ClassSplit {
    /// The classes of one split.
    pub fn classes(&self, split: MetaSplit) -> &'static [u32] {
        match split {
            MetaSplit::Train => self.train,
            MetaSplit::Valid => self.valid,
            MetaSplit::Test => self.test,
        }
    }

    /// Checks that no class is listed twice (within or across splits) and that every class is
    /// below `n_classes`.
    ///
    /// ```
    /// rgd_data::LETTER_SPLIT.validate(26).unwrap();
    /// rgd_data::IMAGE_SPLIT.validate(20).unwrap();
    /// assert!(rgd_data::LETTER_SPLIT.validate(20).is_err());
    /// ```
    pub fn validate(&self, n_classes: usize) -> Result<(), DataError> {
        let mut seen = vec![false; n_classes];
        for &c in self.train.iter().chain(self.valid).chain(self.test) {
            let Some(s) = seen.get_mut(c as usize) else {
                return Err(DataError::arg(
                    "class split",
                    c,
                    format!("classes below {n_classes}, the classes of the data set"),
                ));
            };
            if *s {
                return Err(DataError::arg(
                    "class split",
                    c,
                    "each class in exactly one of meta-train, meta-validation and meta-test",
                ));
            }
            *s = true;
        }
        Ok(())
    }
}

/// One N-way K-shot episode: rows of the data set and their episode labels `0..ways`.
///
/// Support rows are ordered by episode class, then shot (`support_labels` =
/// `0,..,0,1,..,1,...`); query rows likewise, `queries` per class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The data set's classes of this episode; episode label `k` is `classes[k]`.
    pub classes: Vec<u32>,
    /// Support rows (`ways * shots`).
    pub support: Vec<usize>,
    /// Episode labels of the support rows.
    pub support_labels: Vec<u32>,
    /// Query rows (`ways * queries`).
    pub query: Vec<usize>,
    /// Episode labels of the query rows.
    pub query_labels: Vec<u32>,
}

/// Draws episodes from the rows of a set of classes.
#[derive(Debug, Clone)]
pub struct EpisodeSampler {
    classes: Vec<u32>,
    rows: Vec<Vec<usize>>,
    ways: usize,
    shots: usize,
    queries: usize,
}

impl EpisodeSampler {
    /// A sampler of `ways`-way `shots`-shot episodes with `queries` queries per class, over the
    /// rows of `ds` whose label is in `classes`.
    ///
    /// Errors ([`DataError::InvalidArgument`]): `ways < 2`, `shots` or `queries` 0, a class
    /// listed twice or absent from `ds`, more ways than classes, or a class with fewer than
    /// `shots + queries` examples.
    pub fn new(
        ds: &Dataset,
        classes: &[u32],
        ways: usize,
        shots: usize,
        queries: usize,
    ) -> Result<Self, DataError> {
        if ways < 2 {
            return Err(DataError::arg(
                "ways",
                ways,
                "at least 2 classes per episode",
            ));
        }
        if shots == 0 {
            return Err(DataError::arg(
                "shots",
                shots,
                "at least 1 support example per class",
            ));
        }
        if queries == 0 {
            return Err(DataError::arg(
                "queries",
                queries,
                "at least 1 query example per class",
            ));
        }
        if ways > classes.len() {
            return Err(DataError::arg(
                "ways",
                ways,
                format!(
                    "at most {}, the number of classes in this split ({classes:?})",
                    classes.len()
                ),
            ));
        }
        let mut rows = vec![Vec::new(); classes.len()];
        let mut position = vec![None; ds.n_classes()];
        for (k, &c) in classes.iter().enumerate() {
            match position.get_mut(c as usize) {
                None => {
                    return Err(DataError::arg(
                        "classes",
                        c,
                        format!(
                            "classes of data set `{}` (below {})",
                            ds.name,
                            ds.n_classes()
                        ),
                    ));
                }
                Some(Some(_)) => {
                    return Err(DataError::arg("classes", c, "each class listed once"));
                }
                Some(p) => *p = Some(k),
            }
        }
        for (i, &l) in ds.labels.iter().enumerate() {
            if let Some(Some(k)) = position.get(l as usize) {
                rows[*k].push(i);
            }
        }
        if let Some((k, r)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() < shots + queries)
        {
            return Err(DataError::arg(
                "shots + queries",
                shots + queries,
                format!(
                    "at most {}, the examples of class {} (`{}`) in data set `{}`",
                    r.len(),
                    classes[k],
                    ds.class_names[classes[k] as usize],
                    ds.name
                ),
            ));
        }
        Ok(EpisodeSampler {
            classes: classes.to_vec(),
            rows,
            ways,
            shots,
            queries,
        })
    }

    /// Classes per episode.
    pub fn ways(&self) -> usize {
        self.ways
    }

    /// Support examples per class.
    pub fn shots(&self) -> usize {
        self.shots
    }

    /// Query examples per class.
    pub fn queries(&self) -> usize {
        self.queries
    }

    /// Episode `index` of the stream seeded by `seed`: a function of `(seed, index)` only.
    ///
    /// Classes are drawn without replacement from the sampler's classes; within each class,
    /// `shots + queries` distinct rows, the first `shots` for support.
    pub fn episode(&self, seed: u64, index: u64) -> Episode {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // One independent stream per episode (ChaCha's 2^64 streams).
        rng.set_stream(index);
        let mut picked: Vec<usize> = (0..self.classes.len()).collect();
        picked.shuffle(&mut rng);
        picked.truncate(self.ways);
        let mut e = Episode {
            classes: picked.iter().map(|&k| self.classes[k]).collect(),
            support: Vec::with_capacity(self.ways * self.shots),
            support_labels: Vec::with_capacity(self.ways * self.shots),
            query: Vec::with_capacity(self.ways * self.queries),
            query_labels: Vec::with_capacity(self.ways * self.queries),
        };
        for (label, &k) in picked.iter().enumerate() {
            let chosen: Vec<usize> = self.rows[k]
                .choose_multiple(&mut rng, self.shots + self.queries)
                .copied()
                .collect();
            e.support.extend_from_slice(&chosen[..self.shots]);
            e.support_labels
                .extend(std::iter::repeat_n(label as u32, self.shots));
            e.query.extend_from_slice(&chosen[self.shots..]);
            e.query_labels
                .extend(std::iter::repeat_n(label as u32, self.queries));
        }
        e
    }
}

/// The 20-class image set of the meta-learning benchmark: Fashion-MNIST classes 0-9 keep their
/// labels, MNIST digit `d` becomes class `10 + d`. At most `per_class` images of each class are
/// kept (the first ones of a shuffle seeded by `seed`), so both sources weigh the same.
///
/// Both inputs must be 28x28 grey images (`example_shape == [1, 28, 28]`) with 10 classes.
///
/// ```
/// use rgd_data::{Dataset, combine_image_classes};
/// let img = |n: usize| {
///     let mut d = Dataset::from_features("x", vec![0.5; n * 784], 784, (0..n as u32).map(|i| i % 10).collect(),
///         (0..10).map(|c| c.to_string()).collect());
///     d.example_shape = vec![1, 28, 28];
///     d
/// };
/// let both = combine_image_classes(&img(40), &img(30), 2, 0).unwrap();
/// assert_eq!((both.len(), both.n_classes()), (40, 20));
/// ```
pub fn combine_image_classes(
    fashion: &Dataset,
    mnist: &Dataset,
    per_class: usize,
    seed: u64,
) -> Result<Dataset, DataError> {
    for ds in [fashion, mnist] {
        if ds.example_shape != [1, 28, 28] || ds.n_classes() != 10 {
            return Err(DataError::InvalidDataset {
                name: ds.name.clone(),
                reason: format!(
                    "expected 28x28 grey images of 10 classes, found shape {:?} and {} classes; \
                     pass fashion-mnist and mnist",
                    ds.example_shape,
                    ds.n_classes()
                ),
            });
        }
    }
    if per_class == 0 {
        return Err(DataError::arg("per_class", per_class, "at least 1"));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for (offset, ds) in [(0u32, fashion), (10, mnist)] {
        let mut by_class = vec![Vec::new(); 10];
        for (i, &l) in ds.labels.iter().enumerate() {
            by_class[l as usize].push(i);
        }
        for (c, mut rows) in by_class.into_iter().enumerate() {
            rows.shuffle(&mut rng);
            rows.truncate(per_class);
            rows.sort_unstable();
            for r in rows {
                features.extend_from_slice(ds.row(r));
                labels.push(offset + c as u32);
            }
        }
    }
    let class_names = fashion
        .class_names
        .iter()
        .cloned()
        .chain((0..10).map(|d| format!("digit {d}")))
        .collect();
    let mut out = Dataset::from_features("images", features, 784, labels, class_names);
    out.example_shape = vec![1, 28, 28];
    out.feature_names = Vec::new();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(classes: usize, per_class: usize) -> Dataset {
        let n = classes * per_class;
        Dataset::from_features(
            "toy",
            (0..n).map(|i| i as f32).collect(),
            1,
            (0..n).map(|i| (i % classes) as u32).collect(),
            (0..classes).map(|c| format!("c{c}")).collect(),
        )
    }

    #[test]
    fn episodes_have_the_requested_shape_and_distinct_rows() {
        let ds = toy(26, 30);
        for split in [MetaSplit::Train, MetaSplit::Valid, MetaSplit::Test] {
            let classes = LETTER_SPLIT.classes(split);
            let s = EpisodeSampler::new(&ds, classes, 5, 5, 15).unwrap();
            for i in 0..50 {
                let e = s.episode(3, i);
                assert_eq!(e.support.len(), 5 * 5);
                assert_eq!(e.query.len(), 5 * 15);
                assert_eq!(e.support_labels.len() + e.query_labels.len(), 5 * (5 + 15));
                let mut all: Vec<usize> = e.support.iter().chain(&e.query).copied().collect();
                all.sort_unstable();
                all.dedup();
                assert_eq!(all.len(), 5 * 20, "no row twice in one episode");
                for (rows, labels) in [(&e.support, &e.support_labels), (&e.query, &e.query_labels)]
                {
                    for (&r, &l) in rows.iter().zip(labels) {
                        assert_eq!(ds.labels[r], e.classes[l as usize]);
                        assert!(classes.contains(&ds.labels[r]));
                    }
                }
            }
        }
    }

    #[test]
    fn streams_are_deterministic_and_differ_by_index() {
        let ds = toy(16, 20);
        let s = EpisodeSampler::new(&ds, LETTER_SPLIT.train, 5, 1, 3).unwrap();
        assert_eq!(s.episode(1, 5), s.episode(1, 5));
        assert_ne!(s.episode(1, 5), s.episode(1, 6));
        assert_ne!(s.episode(1, 5), s.episode(2, 5));
    }

    #[test]
    fn impossible_requests_are_errors() {
        let ds = toy(26, 10);
        let err = |r: Result<EpisodeSampler, DataError>| r.unwrap_err().to_string();
        assert!(err(EpisodeSampler::new(&ds, LETTER_SPLIT.test, 6, 1, 1)).contains("at most 5"));
        assert!(err(EpisodeSampler::new(&ds, LETTER_SPLIT.test, 5, 5, 6)).contains("at most 10"));
        assert!(err(EpisodeSampler::new(&ds, LETTER_SPLIT.test, 1, 1, 1)).contains("ways"));
        assert!(err(EpisodeSampler::new(&ds, LETTER_SPLIT.test, 5, 0, 1)).contains("shots"));
        assert!(err(EpisodeSampler::new(&ds, LETTER_SPLIT.test, 5, 1, 0)).contains("queries"));
        assert!(err(EpisodeSampler::new(&ds, &[0, 30], 2, 1, 1)).contains("30"));
        assert!(err(EpisodeSampler::new(&ds, &[1, 1], 2, 1, 1)).contains("once"));
    }

    #[test]
    fn the_written_splits_are_disjoint_and_sized_as_documented() {
        LETTER_SPLIT.validate(26).unwrap();
        IMAGE_SPLIT.validate(20).unwrap();
        let sizes = |s: ClassSplit| (s.train.len(), s.valid.len(), s.test.len());
        assert_eq!(sizes(LETTER_SPLIT), (16, 5, 5));
        assert_eq!(sizes(IMAGE_SPLIT), (10, 5, 5));
        for s in [IMAGE_SPLIT.train, IMAGE_SPLIT.valid, IMAGE_SPLIT.test] {
            assert!(s.iter().any(|&c| c < 10) && s.iter().any(|&c| c >= 10));
        }
        let overlapping = ClassSplit {
            train: &[0, 1],
            valid: &[1],
            test: &[2],
        };
        assert!(overlapping.validate(3).is_err());
    }
}
