//! The map's pictures, from its cells: `curves.svg` (method − ERM against training length,
//! with 95% interval bands, one panel per data regime) and `tau-map.svg` (seed 0's RGD − ERM
//! over training length and tau, a heat map per data regime).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::LabError;
use crate::plot::{COLOURS, blend, padded_range, render_sized};
use crate::run_plots::Figure;
use crate::suite::tables::Records;

use super::design::{Design, FIXED};
use super::map::{Cell, Map, regimes, tau_exploration};

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

const PANEL: (u32, u32) = (560, 340);
const COLUMNS: usize = 2;
const HEADER: u32 = 40;

/// The colour and legend entry of a comparison.
fn style(comparison: &str) -> (RGBColor, &'static str) {
    match comparison {
        "rgd" => (COLOURS[3], "RGD at the selected tau"),
        FIXED => (COLOURS[1], "RGD at the fixed tau"),
        _ => (COLOURS[0], "best peer (named in the panel)"),
    }
}

/// Draws `dest/file`: `n` panels below a header strip (`top`, for the legend or the scale).
fn panelled(
    dest: &Path,
    file: &str,
    caption: &str,
    n: usize,
    draw: impl for<'a> FnOnce(&Area<'a>, &[Area<'a>]) -> DrawResult,
) -> Result<Option<Figure>, LabError> {
    let rows = n.div_ceil(COLUMNS);
    let size = (PANEL.0 * COLUMNS as u32, HEADER + PANEL.1 * rows as u32);
    render_sized(&dest.join(file), size, |root| {
        let (header, body) = root.split_vertically(HEADER);
        let areas = body.split_evenly((rows, COLUMNS));
        draw(&header, &areas[..n])
    })?;
    Ok(Some(Figure {
        file: file.into(),
        caption: caption.into(),
    }))
}

fn curve_panel(area: &Area, design: &Design, cells: &[Cell]) -> DrawResult {
    let x_range =
        (design.lengths[0] as f64 / 1.5)..(*design.lengths.last().unwrap_or(&1) as f64 * 1.5);
    let ys = (cells.iter())
        .flat_map(|c| [c.diff.ci_low, c.diff.ci_high])
        .chain([0.0]);
    let y_range = padded_range(ys).unwrap_or(-1.0..1.0);
    let peer = (cells.iter())
        .find(|c| c.comparison != "rgd" && c.comparison != FIXED)
        .map_or(String::new(), |c| format!(" (peer: {})", c.comparison));
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{}{peer}", cells[0].data), ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(x_range.clone().log_scale(), y_range)?;
    let lengths = &design.lengths;
    let on_grid =
        |x: &f64| (lengths.iter()).any(|&e| (e as f64 - x).abs() < 1e-6 * x.abs().max(1.0));
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(1)
        .x_labels(30)
        .x_label_formatter(&|x| {
            if on_grid(x) {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .x_desc("epochs (log scale)")
        .y_desc(format!(
            "method − ERM, test {} (pts)",
            cells[0].metric.name()
        ))
        .draw()?;
    chart.draw_series(LineSeries::new(
        [(x_range.start, 0.0), (x_range.end, 0.0)],
        BLACK.mix(0.5),
    ))?;
    let mut names: Vec<&str> = cells.iter().map(|c| c.comparison.as_str()).collect();
    names.dedup();
    for name in names {
        let (colour, _) = style(name);
        let mut points: Vec<&Cell> = cells.iter().filter(|c| c.comparison == name).collect();
        points.sort_by_key(|c| c.epochs);
        let x = |c: &Cell| c.epochs as f64;
        let band: Vec<(f64, f64)> = (points.iter().map(|c| (x(c), c.diff.ci_high)))
            .chain(points.iter().rev().map(|c| (x(c), c.diff.ci_low)))
            .collect();
        if points.len() > 1 {
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                colour.mix(0.18).filled(),
            )))?;
        }
        let line: Vec<(f64, f64)> = points.iter().map(|c| (x(c), c.diff.mean)).collect();
        chart.draw_series(LineSeries::new(line, colour.stroke_width(2)).point_size(3))?;
    }
    Ok(())
}

fn legend(header: &Area, entries: &[(RGBColor, &str)]) -> DrawResult {
    let mut x = 12;
    for (colour, name) in entries {
        header.draw(&PathElement::new(
            vec![(x, 20), (x + 24, 20)],
            colour.stroke_width(3),
        ))?;
        header.draw(&Text::new(
            name.to_string(),
            (x + 30, 12),
            ("sans-serif", 14),
        ))?;
        x += 40 + 8 * name.len() as i32;
    }
    Ok(())
}

/// `curves.svg` in `dest`: every data regime's cells against training length (none without a
/// cell).
fn curves(design: &Design, map: &Map, dest: &Path) -> Result<Option<Figure>, LabError> {
    // The map holds each data regime's cells together.
    let regimes: Vec<&[Cell]> = map.cells.chunk_by(|a, b| a.data == b.data).collect();
    if regimes.is_empty() {
        return Ok(None);
    }
    let entries = ["rgd", FIXED, "peer"].map(style);
    let caption = "Method − ERM in test points against training length (log scale), with the \
                   95% interval over seeds as a band, per data regime.";
    panelled(dest, "curves.svg", caption, regimes.len(), |top, areas| {
        legend(top, &entries)?;
        for (area, cells) in areas.iter().zip(&regimes) {
            curve_panel(area, design, cells)?;
        }
        Ok(())
    })
}

/// Blue below zero, white at zero, red above, saturating at `scale`.
fn diverging(value: f64, scale: f64) -> RGBColor {
    let t = (value / scale).clamp(-1.0, 1.0);
    let end = if t >= 0.0 { COLOURS[3] } else { COLOURS[0] };
    blend(WHITE, end, t.abs())
}

type TauRows = Vec<(String, Vec<Option<f64>>)>;

fn heat_panel(area: &Area, design: &Design, data: &str, rows: &TauRows, scale: f64) -> DrawResult {
    let (cols, n) = (design.lengths.len(), rows.len());
    let mut chart = ChartBuilder::on(area)
        .caption(data, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(32)
        .y_label_area_size(96)
        .build_cartesian_2d(0.0..cols as f64, 0.0..n as f64)?;
    let lengths = design.lengths.clone();
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(cols * 2 + 1)
        .y_labels(n * 2 + 1)
        .x_label_formatter(&|x| label_at(*x, |i| lengths.get(i).map(|e| format!("{e} ep"))))
        .y_label_formatter(&|y| label_at(*y, |i| labels.get(i).cloned()))
        .draw()?;
    for (r, (_, values)) in rows.iter().enumerate() {
        for (c, value) in values.iter().enumerate() {
            let (x, y) = (c as f64, r as f64);
            let fill = value.map_or(RGBColor(235, 235, 235), |v| diverging(v, scale));
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                fill.filled(),
            )))?;
            let text = value.map_or("-".to_string(), |v| format!("{v:+.2}"));
            let font = ("sans-serif", 13).into_font();
            let centre = Pos::new(HPos::Center, VPos::Center);
            let style = font.into_text_style(area).pos(centre);
            chart.draw_series(std::iter::once(Text::new(text, (x + 0.5, y + 0.5), style)))?;
        }
    }
    Ok(())
}

/// The label of the category whose centre is at `v` (`i + 0.5`), empty elsewhere.
fn label_at(v: f64, name: impl Fn(usize) -> Option<String>) -> String {
    let centre = (v - 0.5).round();
    match (v - 0.5 - centre).abs() < 1e-6 && centre >= 0.0 {
        true => name(centre as usize).unwrap_or_default(),
        false => String::new(),
    }
}

/// `tau-map.svg` in `dest`: seed 0's RGD − ERM over (length, tau) per data regime (none without
/// a value to draw).
fn tau_map(design: &Design, records: &Records, dest: &Path) -> Result<Option<Figure>, LabError> {
    let regimes: Vec<(String, TauRows)> = (regimes(design, records))
        .map(|(_, part, data, r)| (data.label.clone(), tau_exploration(design, part, r)))
        .filter(|(_, rows)| !rows.is_empty())
        .collect();
    let values = (regimes.iter()).flat_map(|r| r.1.iter().flat_map(|row| row.1.iter().flatten()));
    let Some(scale) = values.map(|v| v.abs()).reduce(f64::max) else {
        return Ok(None);
    };
    let scale = scale.max(0.1);
    let caption = "Seed 0 (exploratory): RGD − ERM in test points at every tau of the grid after \
                   every training length.";
    panelled(dest, "tau-map.svg", caption, regimes.len(), |top, areas| {
        top.draw(&Text::new(
            format!("seed 0, RGD − ERM in test points; colour saturates at ±{scale:.2} (red: RGD better)"),
            (12, 12),
            ("sans-serif", 14),
        ))?;
        for (area, (data, rows)) in areas.iter().zip(&regimes) {
            heat_panel(area, design, data, rows, scale)?;
        }
        Ok(())
    })
}

/// Draws both figures of the suite at `out` (run `--quick` or not) into `dest`.
pub fn figures(out: &Path, dest: &Path, quick: bool) -> Result<Vec<Figure>, LabError> {
    let design = super::design::design(quick);
    let records = crate::suite::records::load_records(out)?;
    let map = super::map::map(&design, &records);
    let figures = [
        curves(&design, &map, dest)?,
        tau_map(&design, &records, dest)?,
    ];
    Ok(figures.into_iter().flatten().collect())
}
