//! In-memory data sets: [`Dataset`] (numeric features) and [`TextDataset`].

use crate::DataError;

/// A supervised data set: row-major `f32` features and integer labels in `0..n_classes`.
///
/// Row `i` occupies `features[i * n_features .. (i + 1) * n_features]`;
/// `example_shape` tells a model how to view one row (`[n_features]` for
/// tables, `[1, 28, 28]` for grey images, `[2, 28, 28]` for ColoredMNIST).
///
/// ```
/// use rgd_data::Dataset;
/// let ds = Dataset::from_features("toy", vec![0.0, 1.0, 2.0, 3.0], 2, vec![0, 1], vec!["a".into(), "b".into()]);
/// assert_eq!(ds.len(), 2);
/// assert_eq!(ds.row(1), &[2.0, 3.0]);
/// ds.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Short name used in messages and run folders.
    pub name: String,
    /// `len() * n_features` values, row-major.
    pub features: Vec<f32>,
    /// Values per row.
    pub n_features: usize,
    /// Shape of one row; its product equals `n_features`.
    pub example_shape: Vec<usize>,
    /// One label per row, each `< class_names.len()`.
    pub labels: Vec<u32>,
    /// Class names; label `k` means `class_names[k]`.
    pub class_names: Vec<String>,
    /// One name per feature (may be empty for images).
    pub feature_names: Vec<String>,
    /// Optional domain (environment) id per row, `< domain_names.len()`.
    pub domains: Option<Vec<u32>>,
    /// Domain names; empty when `domains` is `None`.
    pub domain_names: Vec<String>,
}

impl Dataset {
    /// Build a flat tabular data set without domains; feature names are `x0, x1, ...`.
    ///
    /// ```
    /// let ds = rgd_data::Dataset::from_features("t", vec![1.0, 2.0], 1, vec![0, 1], vec!["n".into(), "p".into()]);
    /// assert_eq!(ds.feature_names, vec!["x0"]);
    /// ```
    pub fn from_features(
        name: &str,
        features: Vec<f32>,
        n_features: usize,
        labels: Vec<u32>,
        class_names: Vec<String>,
    ) -> Dataset {
        Dataset {
            name: name.to_string(),
            features,
            n_features,
            example_shape: vec![n_features],
            labels,
            class_names,
            feature_names: (0..n_features).map(|j| format!("x{j}")).collect(),
            domains: None,
            domain_names: Vec::new(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes (`class_names.len()`).
    pub fn n_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Features of row `i`. Panics if `i >= len()`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.n_features..(i + 1) * self.n_features]
    }

    /// Rows per class, indexed by label.
    ///
    /// ```
    /// let ds = rgd_data::Dataset::from_features("t", vec![0.0; 3], 1, vec![0, 1, 1], vec!["a".into(), "b".into()]);
    /// assert_eq!(ds.class_counts(), vec![1, 2]);
    /// ```
    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0usize; self.n_classes()];
        for &l in &self.labels {
            if let Some(x) = c.get_mut(l as usize) {
                *x += 1;
            }
        }
        c
    }

    /// A new data set holding the rows `idx` in that order (repeats allowed).
    ///
    /// Names, shapes, class and domain names are kept. Panics on an index `>= len()`.
    ///
    /// ```
    /// let ds = rgd_data::Dataset::from_features("t", vec![0.0, 1.0, 2.0], 1, vec![0, 1, 0], vec!["a".into(), "b".into()]);
    /// let s = ds.subset(&[2, 0]);
    /// assert_eq!(s.features, vec![2.0, 0.0]);
    /// ```
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(idx.len() * self.n_features);
        for &i in idx {
            features.extend_from_slice(self.row(i));
        }
        Dataset {
            name: self.name.clone(),
            features,
            n_features: self.n_features,
            example_shape: self.example_shape.clone(),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
            feature_names: self.feature_names.clone(),
            domains: self
                .domains
                .as_ref()
                .map(|d| idx.iter().map(|&i| d[i]).collect()),
            domain_names: self.domain_names.clone(),
        }
    }

    /// Check the invariants every loader guarantees.
    ///
    /// Non-empty; `features.len() == len() * n_features`; the product of
    /// `example_shape` is `n_features`; feature names empty or one per
    /// feature; all features finite; at least two class names; every label
    /// `< n_classes()`; domains (if any) one per row and `< domain_names.len()`.
    ///
    /// ```
    /// let mut ds = rgd_data::Dataset::from_features("t", vec![0.0, 1.0], 1, vec![0, 1], vec!["a".into(), "b".into()]);
    /// ds.labels[1] = 7;
    /// assert!(ds.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |reason: String| {
            Err(DataError::InvalidDataset {
                name: self.name.clone(),
                reason,
            })
        };
        if self.is_empty() {
            return bad(
                "it has no rows; load a non-empty file or check the filter that produced it".into(),
            );
        }
        if self.n_features == 0 {
            return bad(
                "it has no feature columns; a table needs at least one column besides the label"
                    .into(),
            );
        }
        if self.features.len() != self.len() * self.n_features {
            return bad(format!(
                "features hold {} values but {} rows x {} features = {} were expected; build rows with exactly n_features values",
                self.features.len(),
                self.len(),
                self.n_features,
                self.len() * self.n_features
            ));
        }
        if self.example_shape.iter().product::<usize>() != self.n_features {
            return bad(format!(
                "example_shape {:?} has {} elements but n_features is {}; make the shape match",
                self.example_shape,
                self.example_shape.iter().product::<usize>(),
                self.n_features
            ));
        }
        if !self.feature_names.is_empty() && self.feature_names.len() != self.n_features {
            return bad(format!(
                "{} feature names for {} features; give one name per feature or none",
                self.feature_names.len(),
                self.n_features
            ));
        }
        if let Some(p) = self.features.iter().position(|v| !v.is_finite()) {
            return Err(DataError::NonFinite {
                file: self.name.clone(),
                line: p / self.n_features + 1,
                column: p % self.n_features + 1,
                value: self.features[p].to_string(),
            });
        }
        if self.n_classes() < 2 {
            return Err(DataError::SingleClass {
                file: self.name.clone(),
                class: self.class_names.first().cloned().unwrap_or_default(),
            });
        }
        if let Some((i, &l)) = self
            .labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| l as usize >= self.n_classes())
        {
            return Err(DataError::LabelOutOfRange {
                file: self.name.clone(),
                location: format!("row {}", i + 1),
                label: l.to_string(),
                n_classes: self.n_classes(),
                allowed: format!("0..{}", self.n_classes()),
            });
        }
        if let Some(d) = &self.domains {
            if d.len() != self.len() {
                return bad(format!(
                    "{} domain ids for {} rows; give one per row",
                    d.len(),
                    self.len()
                ));
            }
            if let Some(&x) = d.iter().find(|&&x| x as usize >= self.domain_names.len()) {
                return bad(format!(
                    "domain id {x} but only {} domain names; add the missing names",
                    self.domain_names.len()
                ));
            }
        }
        Ok(())
    }
}

/// A supervised text data set: one string and one label per row, optional domains.
///
/// ```
/// let t = rgd_data::TextDataset { name: "t".into(), texts: vec!["good".into()], labels: vec![1],
///     class_names: vec!["negative".into(), "positive".into()], domains: None, domain_names: vec![] };
/// assert_eq!(t.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TextDataset {
    /// Short name.
    pub name: String,
    /// One text per row.
    pub texts: Vec<String>,
    /// One label per row, `< class_names.len()`.
    pub labels: Vec<u32>,
    /// Class names.
    pub class_names: Vec<String>,
    /// Optional domain id per row.
    pub domains: Option<Vec<u32>>,
    /// Domain names; empty when `domains` is `None`.
    pub domain_names: Vec<String>,
}

impl TextDataset {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.class_names.len()
    }

    /// A new text data set holding the rows `idx` in that order.
    pub fn subset(&self, idx: &[usize]) -> TextDataset {
        TextDataset {
            name: self.name.clone(),
            texts: idx.iter().map(|&i| self.texts[i].clone()).collect(),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
            domains: self
                .domains
                .as_ref()
                .map(|d| idx.iter().map(|&i| d[i]).collect()),
            domain_names: self.domain_names.clone(),
        }
    }
}
