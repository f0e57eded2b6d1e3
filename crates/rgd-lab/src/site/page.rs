//! The frame every page shares (head, stylesheet, script, header) and the sortable,
//! filterable table of runs that the index and the group pages show.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::collect::{Collection, Run};

/// The stylesheet, written beside the pages as `report.css`.
pub const CSS: &str = include_str!("assets/report.css");
/// The script of the run tables (sorting, filtering), written as `report.js`.
pub const JS: &str = include_str!("assets/report.js");

/// A whole page: `up` is the path from the page's folder to the site's root (`""` or `"../"`).
pub fn layout(title: &str, up: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rgd report" }
                link rel="stylesheet" href={ (up) "report.css" };
                // No favicon request, so a page loads with no missing resource.
                link rel="icon" href="data:,";
            }
            body {
                header.site {
                    a.home href={ (up) "index.html" } { "rgd report" }
                    span { (title) }
                }
                main { (body) }
                script src={ (up) "report.js" } {}
            }
        }
    }
    .into_string()
}

/// `value` with `decimals` decimals, or an empty cell's text for a non-finite value.
pub fn number(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        String::new()
    }
}

/// A sortable, filterable table (`id` unique on its page) of `runs`, linked from `up`.
pub fn runs_table(id: &str, up: &str, collection: &Collection, runs: &[&Run]) -> Markup {
    let columns: [(&str, bool); 10] = [
        ("run", false),
        ("group", false),
        ("data set", false),
        ("method", false),
        ("setting", false),
        ("seed", true),
        ("steps", true),
        ("wall time (s)", true),
        ("valid accuracy (%)", true),
        ("test accuracy (%)", true),
    ];
    html! {
        div.filter {
            input type="search" data-filter=(id) placeholder="filter: words that every shown row holds"
                aria-label="filter the runs";
            span data-count-of=(id) { (runs.len()) " runs" }
        }
        table.runs id=(id) {
            thead { tr {
                @for (name, numeric) in columns {
                    th class=[numeric.then_some("num")] data-type=(if numeric { "number" } else { "text" }) {
                        button type="button" { (name) }
                    }
                }
            } }
            tbody {
                @for run in runs {
                    @let (steps, wall_secs, valid, test) = run.record.numbers();
                    @let group = run.group.map(|g| &collection.groups[g]);
                    tr {
                        td { a href={ (up) "runs/" (run.id) ".html" } { (run.name) } }
                        td { @if let Some(g) = group {
                            a href={ (up) "groups/" (g.id) ".html" } { (g.title) }
                        } }
                        td { (run.data_set) }
                        td { (run.method) }
                        td { (run.setting) }
                        td.num { (run.seed) }
                        td.num { (steps) }
                        td.num data-value=(wall_secs) { (number(wall_secs, 1)) }
                        td.num data-value=(valid) { (number(100.0 * valid, 2)) }
                        td.num data-value=(test) { (number(100.0 * test, 2)) }
                    }
                }
            }
        }
    }
}

/// Markdown (the lab's tables) as HTML; any HTML in it is shown as text, not interpreted.
pub fn markdown(text: &str) -> Markup {
    use pulldown_cmark::{Event, Options, Parser};
    let events = Parser::new_ext(text, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    PreEscaped(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_tables_become_html_tables_with_escaped_text() {
        let html = markdown("| a | b |\n|---|---|\n| 1 | <x> |\n").into_string();
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<td>&lt;x&gt;</td>"), "{html}");
    }

    #[test]
    fn layout_escapes_the_title_and_links_the_assets() {
        let page = layout("a <b>", "../", html! { p { "x" } });
        assert!(page.contains("<title>a &lt;b&gt; · rgd report</title>"));
        assert!(page.contains(r#"href="../report.css""#));
        assert!(page.contains(r#"src="../report.js""#));
    }

    #[test]
    fn numbers_leave_non_finite_values_empty() {
        assert_eq!(number(83.456, 2), "83.46");
        assert_eq!(number(f64::NAN, 2), "");
    }
}
