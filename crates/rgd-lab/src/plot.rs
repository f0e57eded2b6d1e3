//! SVG plots of a run and of a comparison: learning curves, per-example weight histograms and
//! forest plots of paired differences with their intervals.
//!
//! Every plot is rendered in memory by plotters' SVG backend and written atomically (to
//! `<path>.tmp`, then renamed), creating the parent folder if needed. Text is emitted as SVG
//! `<text>` elements, so no font files are needed. A plot with nothing to draw (no series, no
//! finite point, no bar) is an error, [`LabError::Plot`], rather than an empty picture; a file
//! that cannot be written is a [`LabError::Io`].

use std::{fs, ops::Range, path::Path};

use plotters::{
    coord::{Shift, ranged1d::SegmentValue},
    prelude::*,
};

use crate::LabError;

/// Size of every plot, in pixels.
const SIZE: (u32, u32) = (800, 500);

/// Line colours in order (matplotlib's "tab10", which stays apart on white and in print).
pub(crate) const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Width of the legend column right of a chart, in pixels.
const LEGEND_WIDTH: u32 = 210;

/// Most outlines [`weight_histograms`] draws.
pub const MAX_OUTLINES: usize = 8;

/// Number of histogram bins in [`weight_histograms`].
const BINS: usize = 30;

/// A named curve: `(x, y)` points, drawn in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// The points; non-finite ones are skipped.
    pub points: Vec<(f64, f64)>,
}

/// Line chart of `series` (e.g. training loss and validation accuracy against the step), one
/// colour per series, with markers and a legend beside the chart (never over the data).
///
/// Non-finite points are skipped; the axes span the finite points padded by 5% (by 5% of
/// `max(|v|, 1)` around a constant), so a single point or a flat curve still shows.
///
/// ```
/// use rgd_lab::plot::{line_chart, Series};
/// let dir = tempfile::tempdir().unwrap();
/// let loss = Series { name: "train loss".into(), points: vec![(0.0, 2.3), (100.0, 0.7), (200.0, 0.4)] };
/// line_chart(&dir.path().join("loss.svg"), "MNIST", "step", "loss", &[loss]).unwrap();
/// ```
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), LabError> {
    let finite_point = |(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
    // Coloured by their place in `series`, so that a series without a point shifts no colour.
    let lines: Vec<_> = (series.iter().enumerate())
        .map(|(i, s)| {
            let points: Vec<_> = s.points.iter().copied().filter(finite_point).collect();
            let colour = COLOURS[i % COLOURS.len()];
            (s.name.clone(), points, colour.stroke_width(2))
        })
        .filter(|(_, points, _)| !points.is_empty())
        .collect();
    let (Some(x), Some(y)) = (
        padded_range(lines.iter().flat_map(|l| &l.1).map(|p| p.0)),
        padded_range(lines.iter().flat_map(|l| &l.1).map(|p| p.1)),
    ) else {
        return Err(plot_error(path, "no series has a finite point"));
    };
    draw_lines(path, [title, x_label, y_label], (x, y), lines, 2)
}

/// A named polyline and its style.
type Line = (String, Vec<(f64, f64)>, ShapeStyle);

/// The chart of [`line_chart`] and [`weight_histograms`]: the named `lines` drawn in order (with
/// markers of `point_size` pixels, none at 0) on the axes' ranges, titled `[title, x label, y
/// label]`, with their names in a legend column beside the chart, so that it never covers data.
fn draw_lines(
    path: &Path,
    [title, x_label, y_label]: [&str; 3],
    (x_range, y_range): (Range<f64>, Range<f64>),
    lines: Vec<Line>,
    point_size: u32,
) -> Result<(), LabError> {
    render_sized(path, SIZE, |root| {
        let (area, legend) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        for (i, (name, _, style)) in lines.iter().enumerate() {
            let y = 60 + 22 * i as i32;
            legend.draw(&PathElement::new(vec![(4, y), (28, y)], *style))?;
            legend.draw(&Text::new(name.clone(), (34, y - 8), ("sans-serif", 14)))?;
        }
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x_range, y_range)?;
        chart
            .configure_mesh()
            .max_light_lines(1)
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()?;
        for (_, points, style) in lines {
            chart.draw_series(LineSeries::new(points, style).point_size(point_size))?;
        }
        Ok(())
    })
}

/// Histograms of the per-example weights over training, one outline per snapshot
/// `(step, weights of the batch at that step)`, coloured from light (earliest step) to dark
/// (latest), with the step in the legend.
///
/// At most [`MAX_OUTLINES`] snapshots are drawn, evenly spaced from the first to the last, so
/// the outlines and the legend stay readable. Each outline is a step line over 30 equal bins
/// spanning the x axis (the global finite min..max of all weights, padded as in
/// [`line_chart`]), with the fraction of the snapshot's finite weights in each bin as height,
/// so batches of different sizes compare. All-equal weights (ERM: every weight is 1) give a
/// single spike.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let snapshots = vec![(0, vec![1.0f32; 64]), (500, vec![0.2, 0.9, 1.0, 1.4, 3.1])];
/// rgd_lab::plot::weight_histograms(&dir.path().join("weights.svg"), "RGD weights", &snapshots)
///     .unwrap();
/// ```
pub fn weight_histograms(
    path: &Path,
    title: &str,
    snapshots: &[(u64, Vec<f32>)],
) -> Result<(), LabError> {
    let finite = |w: &[f32]| -> Vec<f64> {
        let values = w.iter().map(|&v| f64::from(v));
        values.filter(|v| v.is_finite()).collect()
    };
    let snapshots = evenly_spaced(snapshots, MAX_OUTLINES);
    let weights: Vec<Vec<f64>> = snapshots.iter().map(|(_, w)| finite(w)).collect();
    let Some(x_range) = padded_range(weights.iter().flatten().copied()) else {
        return Err(plot_error(path, "no finite weight to plot"));
    };
    let bin_width = (x_range.end - x_range.start) / BINS as f64;
    let outlines: Vec<Vec<(f64, f64)>> = weights
        .iter()
        .map(|w| {
            let mut counts = [0usize; BINS];
            for v in w {
                counts[(((v - x_range.start) / bin_width) as usize).min(BINS - 1)] += 1;
            }
            let edge = |k: usize| x_range.start + k as f64 * bin_width;
            let mut outline = vec![(edge(0), 0.0)];
            for (k, &count) in counts.iter().enumerate() {
                let height = count as f64 / w.len().max(1) as f64;
                outline.extend([(edge(k), height), (edge(k + 1), height)]);
            }
            outline.push((edge(BINS), 0.0));
            outline
        })
        .collect();
    let top = outlines.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    let first = snapshots.iter().map(|s| s.0).min().unwrap_or(0);
    let last = snapshots.iter().map(|s| s.0).max().unwrap_or(0);
    let lines = (snapshots.iter().zip(outlines))
        .map(|(&(step, _), outline)| {
            let progress = match last - first {
                0 => 1.0,
                span => (step - first) as f64 / span as f64,
            };
            // From a light to a dark blue (matplotlib's "Blues" ends).
            let colour = blend(RGBColor(198, 219, 239), RGBColor(8, 48, 107), progress);
            (format!("step {step}"), outline, colour.stroke_width(2))
        })
        .collect();
    let labels = [
        title,
        "example weight (1 = an unweighted example)",
        "fraction of the batch",
    ];
    draw_lines(path, labels, (x_range, 0.0..top * 1.1), lines, 0)
}

/// The colour a fraction `t` (0 to 1) of the way from `from` to `to`.
pub(crate) fn blend(from: RGBColor, to: RGBColor, t: f64) -> RGBColor {
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

/// At most `n` of `items`, evenly spaced, always with the first and the last.
fn evenly_spaced<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n || n < 2 {
        return items.to_vec();
    }
    (0..n)
        .map(|k| items[(k * (items.len() - 1) + (n - 1) / 2) / (n - 1)].clone())
        .collect()
}

/// One row of a [`forest_plot`]: a label, an estimate and its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// The row's label (e.g. `chess · rgd`).
    pub label: String,
    /// The estimate (e.g. the mean paired difference).
    pub estimate: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
}

/// A forest plot: one row per [`Interval`], top to bottom, the estimate as a dot and its
/// interval as a horizontal bar, with a vertical line at zero, so that a difference is read
/// against no difference. The x range spans the intervals and zero (padded by 5%); the height
/// grows with the rows. Rows with a non-finite estimate are left out.
///
/// ```
/// use rgd_lab::plot::{Interval, forest_plot};
/// let dir = tempfile::tempdir().unwrap();
/// let rows = vec![
///     Interval { label: "adult · rgd".into(), estimate: 0.35, low: -0.12, high: 0.82 },
///     Interval { label: "adult · focal".into(), estimate: -0.4, low: -0.9, high: 0.1 },
/// ];
/// forest_plot(&dir.path().join("d.svg"), "RGD − ERM", "test accuracy difference (points)", &rows)
///     .unwrap();
/// ```
pub fn forest_plot(
    path: &Path,
    title: &str,
    x_label: &str,
    rows: &[Interval],
) -> Result<(), LabError> {
    let rows: Vec<&Interval> = rows.iter().filter(|r| r.estimate.is_finite()).collect();
    if rows.is_empty() {
        return Err(plot_error(path, "no finite estimate to plot"));
    }
    let x_range = padded_range(
        rows.iter()
            .flat_map(|r| [r.estimate, r.low, r.high])
            .chain([0.0]),
    )
    .expect("the range includes 0");
    let height = (120 + 22 * rows.len() as u32).max(300);
    let label_width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(8) as u32;
    render_sized(path, (SIZE.0, height), |root| {
        let n = rows.len();
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size((label_width * 7 + 10).min(360))
            .build_cartesian_2d(x_range.clone(), (0..n - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(1)
            .y_labels(n)
            .y_label_formatter(&|y| match y {
                // Row 0 at the top.
                SegmentValue::CenterOf(i) => rows
                    .get(n - 1 - *i)
                    .map(|r| r.label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc(x_label)
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, SegmentValue::Exact(0)), (0.0, SegmentValue::Exact(n))],
            BLACK.stroke_width(1),
        )))?;
        let at = |i: usize| SegmentValue::CenterOf(n - 1 - i);
        let intervals =
            (rows.iter().enumerate()).filter(|(_, r)| r.low.is_finite() && r.high.is_finite());
        chart.draw_series(intervals.map(|(i, r)| {
            ErrorBar::new_horizontal(at(i), r.low, r.estimate, r.high, BLUE.stroke_width(2), 8)
        }))?;
        chart.draw_series(
            rows.iter()
                .enumerate()
                .map(|(i, r)| Circle::new((r.estimate, at(i)), 4, BLUE.filled())),
        )?;
        Ok(())
    })
}

/// The range of the finite `values` padded by 5% of its width on each side, or by 5% of
/// `max(|v|, 1)` around a single value; `None` when no value is finite.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> Option<Range<f64>> {
    let (lo, hi) =
        values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(None, |acc: Option<(f64, f64)>, v| match acc {
                None => Some((v, v)),
                Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            })?;
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.05 * lo.abs().max(1.0)
    };
    Some(lo - pad..hi + pad)
}

/// Renders a white SVG of `size` pixels with `draw` and writes it atomically to `path`.
pub(crate) fn render_sized(
    path: &Path,
    size: (u32, u32),
    draw: impl for<'a> FnOnce(
        &DrawingArea<SVGBackend<'a>, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>>,
) -> Result<(), LabError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
            .map_err(|e| plot_error(path, e))?;
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| LabError::io(parent, e))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    fs::write(&tmp, svg).map_err(|e| LabError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| LabError::io(path, e))
}

/// A [`LabError::Plot`] for `path`.
fn plot_error(path: &Path, reason: impl ToString) -> LabError {
    LabError::Plot {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_svg(path: &Path) -> String {
        let svg = fs::read_to_string(path).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        assert!(!Path::new(&tmp).exists());
        svg
    }

    #[test]
    fn line_chart_writes_svg_with_legend_and_skips_non_finite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plots/curves.svg");
        let series = [
            Series {
                name: "train loss".into(),
                points: vec![
                    (0.0, 2.3),
                    (1.0, f64::NAN),
                    (2.0, 0.9),
                    (f64::INFINITY, 1.0),
                ],
            },
            Series {
                name: "val acc".into(),
                points: vec![(0.0, 0.1), (2.0, 0.8)],
            },
            Series {
                name: "nothing yet".into(),
                points: vec![],
            },
        ];
        line_chart(&path, "curves", "step", "value", &series).unwrap();
        let svg = read_svg(&path);
        for text in ["curves", "train loss", "val acc", "step", "value"] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn line_chart_single_point_and_constant() {
        let dir = tempfile::tempdir().unwrap();
        let one = Series {
            name: "one".into(),
            points: vec![(5.0, 0.5)],
        };
        line_chart(&dir.path().join("one.svg"), "t", "x", "y", &[one]).unwrap();
        let flat = Series {
            name: "flat".into(),
            points: vec![(0.0, 0.0), (1.0, 0.0)],
        };
        line_chart(&dir.path().join("flat.svg"), "t", "x", "y", &[flat]).unwrap();
        assert!(!read_svg(&dir.path().join("one.svg")).contains("NaN"));
        assert!(!read_svg(&dir.path().join("flat.svg")).contains("NaN"));
    }

    #[test]
    fn line_chart_without_finite_points_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.svg");
        let nan = Series {
            name: "nan".into(),
            points: vec![(f64::NAN, 1.0)],
        };
        for series in [&[][..], &[nan][..]] {
            let err = line_chart(&path, "t", "x", "y", series).unwrap_err();
            assert!(matches!(err, LabError::Plot { .. }), "{err}");
        }
        assert!(!path.exists());
    }

    #[test]
    fn weight_histograms_writes_svg_and_handles_equal_weights() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weights.svg");
        let snapshots = vec![
            (0, vec![1.0; 32]),
            (100, vec![0.5, 0.8, 1.0, 1.2, 2.5, f32::NAN]),
            (200, vec![0.1, 0.2, 0.9, 4.0]),
        ];
        weight_histograms(&path, "weights", &snapshots).unwrap();
        let svg = read_svg(&path);
        assert!(svg.contains("step 0") && svg.contains("step 200"));
        // Early light, late dark.
        assert!(svg.contains("#C6DBEF") && svg.contains("#08306B"), "{svg}");

        let erm = dir.path().join("erm.svg");
        weight_histograms(&erm, "ERM", &[(7, vec![1.0; 16])]).unwrap();
        assert!(!read_svg(&erm).contains("NaN"));
    }

    #[test]
    fn weight_histograms_without_finite_weights_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.svg");
        for snapshots in [vec![], vec![(0, vec![]), (1, vec![f32::NAN])]] {
            let err = weight_histograms(&path, "w", &snapshots).unwrap_err();
            assert!(matches!(err, LabError::Plot { .. }), "{err}");
        }
    }

    #[test]
    fn a_forest_plot_draws_every_finite_row_and_the_zero_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forest.svg");
        let row = |label: &str, estimate, low, high| Interval {
            label: label.into(),
            estimate,
            low,
            high,
        };
        let rows = vec![
            row("adult · rgd", 0.35, -0.12, 0.82),
            row("adult · term", -0.5, f64::NAN, f64::NAN),
            row("broken", f64::NAN, 0.0, 1.0),
        ];
        forest_plot(&path, "RGD − ERM", "difference (points)", &rows).unwrap();
        let svg = read_svg(&path);
        for text in [
            "RGD − ERM",
            "difference (points)",
            "adult · rgd",
            "adult · term",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(!svg.contains("broken") && !svg.contains("NaN"));
        let err = forest_plot(&path, "none", "x", &[]).unwrap_err();
        assert!(matches!(err, LabError::Plot { .. }), "{err}");
    }

    #[test]
    fn evenly_spaced_keeps_the_ends_and_at_most_n() {
        let steps: Vec<u32> = (0..=50).collect();
        let kept = evenly_spaced(&steps, MAX_OUTLINES);
        assert_eq!(kept.len(), MAX_OUTLINES);
        assert_eq!((kept[0], kept[MAX_OUTLINES - 1]), (0, 50));
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "{kept:?}");
        assert_eq!(evenly_spaced(&steps[..3], MAX_OUTLINES), vec![0, 1, 2]);
    }

    #[test]
    fn padded_range_cases() {
        assert_eq!(padded_range([0.0, 10.0]), Some(-0.5..10.5));
        let r = padded_range([2.0, f64::NAN]).unwrap();
        assert!(
            (r.start - 1.9).abs() < 1e-12 && (r.end - 2.1).abs() < 1e-12,
            "{r:?}"
        );
        assert_eq!(padded_range([0.0]), Some(-0.05..0.05));
        assert_eq!(padded_range([f64::NAN, f64::INFINITY]), None);
    }
}
