//! The map itself, from the records alone: which settings were chosen on seed 0, and for
//! every data regime, comparison and training length the paired difference to ERM with its
//! power and its reading.
//!
//! The reading rule, one for every cell: with at least [`CONFIRMATORY_SEEDS`] seeds, RGD
//! *helps* or *hurts* where the interval survives the Benjamini-Hochberg correction over every
//! such cell of the map (false-discovery rate 5%, with the Benjamini-Yekutieli adjusted
//! interval), the data *cannot tell* where the minimum detectable effect at 80% power exceeds
//! [`DECISIVE_POINTS`], and otherwise there is *no effect* larger than that minimum. Cells with
//! fewer seeds are *exploratory*.

use crate::metrics::Evaluation;
use crate::power::{benjamini_hochberg, fcr_level, minimum_detectable_effect, paired_t_p_value};
use crate::stats::{PairedDifference, paired_difference, t_interval};
use crate::suite::catalog::{DataSpec, Metric, Part, Setting, folder_name, settings};
use crate::suite::tables::{DataRecords, Records, best_of};
use crate::train::Summary;

use super::design::{Design, FIXED, FIXED_TAU};

/// Seeds a cell needs to be read with the rule rather than marked exploratory.
pub(crate) const CONFIRMATORY_SEEDS: usize = 5;
/// A minimum detectable effect above this many points reads as "cannot tell".
pub(crate) const DECISIVE_POINTS: f64 = 0.5;
/// The false-discovery rate of the correction over cells.
pub(crate) const FDR: f64 = 0.05;

/// The settings chosen on seed 0 for one data regime.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Choice {
    pub(crate) erm: Setting,
    pub(crate) rgd: Setting,
    pub(crate) fixed: Setting,
    /// The best peer (the methods after ERM and RGD) and its setting.
    pub(crate) peer: Option<(String, Setting)>,
}

impl Choice {
    /// The (table name, method folder, setting) of each comparison to ERM; the fixed tau only
    /// where validation chose another one.
    pub(crate) fn comparisons(&self) -> Vec<(String, String, Setting)> {
        let mut out = vec![("rgd".to_string(), "rgd".to_string(), self.rgd.clone())];
        if self.fixed != self.rgd {
            out.push((FIXED.into(), "rgd".into(), self.fixed.clone()));
        }
        if let Some((method, setting)) = &self.peer {
            out.push((method.clone(), method.clone(), setting.clone()));
        }
        out
    }
}

/// The choices of one data regime once its seed-0 runs have finished (`None` before).
pub(crate) fn choose(part: &Part, records: &DataRecords) -> Option<Choice> {
    let (_, erm) = best_of(part, records, &["erm"])?;
    let (_, rgd) = best_of(part, records, &["rgd"])?;
    let fixed = (settings("rgd", part).into_iter())
        .find(|(l, _)| l.starts_with(&format!("tau{FIXED_TAU}-")))?;
    Some(Choice {
        erm,
        rgd,
        fixed,
        peer: best_of(part, records, &part.methods[2..]),
    })
}

/// The evaluation of `s` after `epochs` epochs of `part`'s batches.
pub(crate) fn at_length<'a>(part: &Part, s: &'a Summary, epochs: u64) -> Option<&'a Evaluation> {
    let (rows, batch) = (s.sizes[0] as u64, part.base.train.batch_size as u64);
    let per_epoch = match part.base.train.drop_last {
        true => (rows / batch).max(1),
        false => rows.div_ceil(batch),
    };
    s.evaluations.iter().find(|e| e.step == epochs * per_epoch)
}

/// How a cell reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// The corrected interval lies above zero.
    Helps,
    /// The corrected interval lies below zero.
    Hurts,
    /// The uncorrected 95% interval excludes zero (its p-value), but the correction does not
    /// keep the cell: neither a resolved effect nor "no effect".
    Uncorrected(f64),
    /// No effect larger than the minimum detectable one (points).
    NoEffect(f64),
    /// The minimum detectable effect (points) exceeds [`DECISIVE_POINTS`].
    CannotTell(f64),
    /// Fewer than [`CONFIRMATORY_SEEDS`] seeds.
    Exploratory,
}

impl Verdict {
    /// The reading in words.
    pub(crate) fn words(self) -> String {
        match self {
            Verdict::Helps => "helps".into(),
            Verdict::Hurts => "hurts".into(),
            Verdict::Uncorrected(p) => format!("uncorrected only (p = {p:.3})"),
            Verdict::NoEffect(mde) => format!("no effect > {mde:.2}"),
            Verdict::CannotTell(mde) => format!("cannot tell (MDE {mde:.2})"),
            Verdict::Exploratory => "exploratory".into(),
        }
    }
}

/// One cell of the map: a comparison to ERM on one data regime after one training length.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub(crate) part: usize,
    pub(crate) data: String,
    /// Table name of the comparison (`rgd`, [`FIXED`], or the peer's name).
    pub(crate) comparison: String,
    pub(crate) setting: String,
    pub(crate) epochs: u64,
    pub(crate) metric: Metric,
    /// Paired per-seed test differences in points, 95% interval.
    pub(crate) diff: PairedDifference,
    pub(crate) p: Option<f64>,
    pub(crate) mde: Option<f64>,
    /// The interval at the corrected level (confirmatory cells).
    pub(crate) corrected: Option<(f64, f64)>,
    pub(crate) verdict: Verdict,
}

/// The map of every finished cell, read with one rule.
#[derive(Debug, Clone)]
pub(crate) struct Map {
    pub(crate) cells: Vec<Cell>,
    /// Confirmatory cells (the family of the correction) and how many it rejects.
    pub(crate) family: usize,
    pub(crate) rejected: usize,
}

/// The cells of one data regime (before the reading).
fn regime_cells(
    design: &Design,
    index: usize,
    label: &str,
    records: &DataRecords,
) -> Vec<(Cell, Vec<f64>)> {
    let part = &design.parts[index];
    let Some(choice) = choose(part, records) else {
        return Vec::new();
    };
    let erm = &records["erm"][&choice.erm.0];
    let mut out = Vec::new();
    for (name, method, (setting, _)) in choice.comparisons() {
        let Some(runs) = records.get(&method).and_then(|m| m.get(&setting)) else {
            continue;
        };
        for &epochs in &design.lengths {
            let metric = part.report[0];
            let value = |s: &Summary| Some(100.0 * metric.of(&at_length(part, s, epochs)?.test));
            // Paired over the seeds both have.
            let (tv, bv): (Vec<f64>, Vec<f64>) = (runs.iter())
                .filter_map(|(seed, s)| Some((value(s)?, value(erm.get(seed)?)?)))
                .unzip();
            let Some(diff) = paired_difference(&tv, &bv, 1e-9, 0.95) else {
                continue;
            };
            let d: Vec<f64> = tv.iter().zip(&bv).map(|(a, b)| a - b).collect();
            let cell = Cell {
                part: index,
                data: label.to_string(),
                comparison: name.clone(),
                setting: setting.clone(),
                epochs,
                metric,
                diff,
                p: paired_t_p_value(&d),
                mde: minimum_detectable_effect(diff.std, diff.n, 0.05, 0.8),
                corrected: None,
                verdict: Verdict::Exploratory,
            };
            out.push((cell, d));
        }
    }
    out
}

/// Every data regime of `design` that has records (keyed by data folder, as on disk): its
/// part's index, the part, the regime and its records.
pub(crate) fn regimes<'a>(
    design: &'a Design,
    records: &'a Records,
) -> impl Iterator<Item = (usize, &'a Part, &'a DataSpec, &'a DataRecords)> {
    (design.parts.iter().enumerate()).flat_map(move |(index, part)| {
        (part.data.iter()).filter_map(move |data| {
            Some((index, part, data, records.get(&folder_name(&data.label))?))
        })
    })
}

/// The map of the records of a regimes suite.
pub(crate) fn map(design: &Design, records: &Records) -> Map {
    let mut cells: Vec<(Cell, Vec<f64>)> = (regimes(design, records))
        .flat_map(|(index, _, data, r)| regime_cells(design, index, &data.label, r))
        .collect();
    let family: Vec<usize> = (0..cells.len())
        .filter(|&i| cells[i].0.diff.n >= CONFIRMATORY_SEEDS && cells[i].0.p.is_some())
        .collect();
    let p: Vec<f64> = family.iter().filter_map(|&i| cells[i].0.p).collect();
    let (rejected, r) = benjamini_hochberg(&p, FDR);
    let level = fcr_level(r, family.len(), FDR);
    for (&i, &reject) in family.iter().zip(&rejected) {
        let (cell, d) = &mut cells[i];
        cell.corrected = t_interval(d, level);
        let mde = cell.mde.unwrap_or(f64::INFINITY);
        cell.verdict = match (reject, cell.diff.mean > 0.0, cell.p) {
            (true, true, _) => Verdict::Helps,
            (true, false, _) => Verdict::Hurts,
            (false, _, Some(p)) if p < 0.05 => Verdict::Uncorrected(p),
            _ if mde > DECISIVE_POINTS => Verdict::CannotTell(mde),
            _ => Verdict::NoEffect(mde),
        };
    }
    Map {
        cells: cells.into_iter().map(|(c, _)| c).collect(),
        family: family.len(),
        rejected: r,
    }
}

/// Seed 0's difference to ERM (points) of every tau of the grid after every length, of one
/// data regime: rows in grid order `(label, [difference per length])`.
pub(crate) fn tau_exploration(
    design: &Design,
    part: &Part,
    records: &DataRecords,
) -> Vec<(String, Vec<Option<f64>>)> {
    let metric = part.report[0];
    let Some(erm) = choose(part, records).map(|c| &records["erm"][&c.erm.0][&0]) else {
        return Vec::new();
    };
    (settings("rgd", part).into_iter())
        .filter_map(|(label, _)| {
            let s = records.get("rgd")?.get(&label)?.get(&0)?;
            let row = (design.lengths.iter())
                .map(|&e| {
                    let (a, b) = (at_length(part, s, e)?, at_length(part, erm, e)?);
                    Some(100.0 * (metric.of(&a.test) - metric.of(&b.test)))
                })
                .collect();
            Some((label, row))
        })
        .collect()
}
