//! `rgd report` in headless Chromium over WebDriver: a small comparison trained here plus the
//! committed noise suite's records. Every page kind must load with no console error and no
//! missing resource, hold the expected runs and numbers, sort and filter its run table, and
//! leave a screenshot under `target/tmp/rgd-browser/`.
//!
//! Needs the `rgd` binary of the main build (`RGD_BIN`, else `$CARGO_TARGET_DIR/debug/rgd`, else
//! `target/debug/rgd`), and Debian's `chromium` and `chromium-driver`. Without the browser the
//! test skips with the reason, unless `RGD_REQUIRE_BROWSER=1` (which `.ci/run` sets).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rgd_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("RGD_BIN") {
        return bin.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(repo().join("target"), PathBuf::from);
    let bin = target.join("debug/rgd");
    assert!(
        bin.is_file(),
        "no rgd binary at {}: build it first (`cargo build -p rgd-lab --bin rgd`, or the README's \
         `cargo test --workspace`), or name it with RGD_BIN",
        bin.display()
    );
    bin
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `chromedriver`, or the reason there is none (a failure when the browser is required).
fn chromedriver() -> Option<PathBuf> {
    let found = on_path("chromedriver").filter(|_| on_path("chromium").is_some());
    if found.is_none() {
        let reason = "chromium and chromedriver are not on PATH (apt-get install chromium \
                      chromium-driver)";
        assert!(
            std::env::var("RGD_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "RGD_REQUIRE_BROWSER=1 but {reason}"
        );
        eprintln!("skipping the browser test: {reason}");
    }
    found
}

fn rgd(args: &[&str]) -> String {
    let out = Command::new(rgd_binary())
        .args(args)
        .output()
        .expect("rgd runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "rgd {args:?} failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A running chromedriver on a free local port, stopped on drop.
struct Driver {
    child: std::process::Child,
    port: u16,
}

impl Driver {
    fn start(binary: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Chromium's console and network log since the last call (`goog:loggingPrefs`).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// Fails on any console error or failed load (a missing file) since the last check.
async fn assert_clean_log(client: &Client, page: &str) {
    let log = client.issue_cmd(BrowserLog).await.expect("the browser log");
    let severe: Vec<&Value> = (log.as_array().into_iter().flatten())
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .collect();
    assert!(
        severe.is_empty(),
        "{page}: console errors or missing resources: {severe:#?}"
    );
}

/// Every cell of the rows of the markdown file `results` that start with one of `rows` is in
/// the page's `text` (the page renders those tables from the same records).
fn assert_cells_shown(text: &str, results: &Path, rows: &[&str]) {
    let markdown = std::fs::read_to_string(results).expect("a results.md");
    let mut cells = 0;
    for line in markdown
        .lines()
        .filter(|l| rows.iter().any(|r| l.starts_with(r)))
    {
        for cell in line
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "-")
        {
            assert!(
                text.contains(cell),
                "the page lacks {cell:?} of {}",
                results.display()
            );
            cells += 1;
        }
    }
    assert!(cells > 0, "no row of {} was checked", results.display());
}

/// The text of the page's `<main>`.
async fn main_text(client: &Client) -> String {
    let main = client.find(Locator::Css("main")).await.expect("a <main>");
    main.text().await.expect("its text")
}

/// The page loaded cleanly (no console error or missing resource, at least `images` images,
/// all loaded); its main text.
async fn checked_page(client: &Client, page: &str, images: u64) -> String {
    assert_clean_log(client, page).await;
    assert_images_loaded(client, page, images).await;
    main_text(client).await
}

/// Every image of the page has loaded (a missing SVG has no natural width). The page's load
/// event waits for its images; the check still gives them up to 10 s to finish.
async fn assert_images_loaded(client: &Client, page: &str, at_least: u64) {
    let started = Instant::now();
    while client
        .execute(
            "return Array.from(document.images).every(i => i.complete);",
            vec![],
        )
        .await
        .expect("the images' state")
        != Value::Bool(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{page}: images still loading after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let images = client
        .execute(
            "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]);",
            vec![],
        )
        .await
        .expect("the images");
    let images = images.as_array().expect("a list").clone();
    assert!(
        images.len() as u64 >= at_least,
        "{page}: {} images, expected at least {at_least}",
        images.len()
    );
    for image in &images {
        assert_eq!(image[1], true, "{page}: image {} did not load", image[0]);
    }
}

async fn screenshot(client: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rgd-browser");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is written");
}

/// The visible rows' cells of column `column` in the table `#runs`.
async fn column(client: &Client, column: usize) -> Vec<String> {
    let script = format!(
        "return Array.from(document.querySelectorAll('#runs tbody tr'))\
           .filter(r => !r.hidden).map(r => r.cells[{column}].textContent.trim());"
    );
    let values = client.execute(&script, vec![]).await.expect("the column");
    (values.as_array().expect("a list").iter())
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

fn numbers(cells: &[String]) -> Vec<f64> {
    cells.iter().map(|c| c.parse().expect("a number")).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn the_report_works_in_a_real_browser() {
    let Some(chromedriver) = chromedriver() else {
        return;
    };
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rgd-browser-work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("a work folder");
    let cmp = work.join("cmp");
    let site = work.join("site");
    let cmp_arg = cmp.to_str().expect("a UTF-8 path");
    rgd(&[
        "--quiet",
        "compare",
        "--seeds",
        "2",
        "--methods",
        "erm,rgd",
        "--taus",
        "1,3",
        "--set",
        "train.steps=60",
        "--set",
        "train.eval_every=20",
        "--out",
        cmp_arg,
    ]);
    let noise = repo().join("results/noise");
    let built: Value = serde_json::from_str(&rgd(&[
        "--json",
        "report",
        cmp_arg,
        noise.to_str().expect("UTF-8"),
        "--out",
        site.to_str().expect("UTF-8"),
    ]))
    .expect("the report's JSON line");
    let total = 6 + walk_count(&noise.join("runs"));
    assert_eq!(built["runs"], total as u64, "{built}");
    assert_eq!(built["groups"], 2, "{built}");

    let driver = Driver::start(&chromedriver);
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000"] }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    let client = ClientBuilder::new(hyper_util_connector())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session");
    let url = |path: &str| format!("file://{}/{path}", site.display());

    // The index: every run, and the numbers of one of them.
    client
        .goto(&url("index.html"))
        .await
        .expect("the index loads");
    assert_clean_log(&client, "index").await;
    let ids = column(&client, 0).await;
    assert_eq!(ids.len(), total, "every run is listed");
    let summary: Value = serde_json::from_slice(
        &std::fs::read(cmp.join("rgd-tau3/seed1/summary.json")).expect("a summary"),
    )
    .expect("JSON");
    let test = 100.0
        * summary["selected"]["test"]["accuracy"]
            .as_f64()
            .expect("a number");
    let row = ids
        .iter()
        .position(|id| id == "cmp/rgd-tau3/seed1")
        .expect("the run's row");
    assert_eq!(column(&client, 9).await[row], format!("{test:.2}"));
    assert_eq!(column(&client, 4).await[row], "tau=3");

    // Sorting by test accuracy, then reversed.
    let header = client
        .find(Locator::XPath(
            "//table[@id='runs']//th[.='test accuracy (%)']/button",
        ))
        .await
        .expect("the column's header");
    header.click().await.expect("sort");
    let ascending = numbers(&column(&client, 9).await);
    assert!(
        ascending.windows(2).all(|w| w[0] <= w[1]),
        "ascending: {ascending:?}"
    );
    header.click().await.expect("sort again");
    let descending = numbers(&column(&client, 9).await);
    assert!(
        descending.windows(2).all(|w| w[0] >= w[1]),
        "descending: {descending:?}"
    );
    assert_ne!(ascending, descending, "sorting changed the order");

    screenshot(&client, "index").await;

    // Filtering: the comparison's RGD runs at tau 1 only.
    let filter = client
        .find(Locator::Css("input[data-filter='runs']"))
        .await
        .expect("the filter box");
    filter.send_keys("cmp tau=1").await.expect("typing");
    let mut shown = column(&client, 0).await;
    shown.sort(); // shown in the order of the last sort
    assert_eq!(
        shown,
        ["cmp/rgd-tau1/seed0", "cmp/rgd-tau1/seed1"],
        "filtered rows"
    );
    let count = client
        .find(Locator::Css("[data-count-of='runs']"))
        .await
        .expect("the count")
        .text()
        .await
        .expect("its text");
    assert_eq!(count, format!("2 of {total} runs"));
    screenshot(&client, "index-filtered").await;

    // A run page with its curves, weights and config.
    client
        .goto(&url("runs/cmp--rgd-tau3--seed1.html"))
        .await
        .expect("a run page loads");
    let text = checked_page(&client, "run page", 5).await;
    for expected in [
        "Metrics",
        "Training",
        "Config",
        "tau = 3.0",
        &format!("{test:.2}"),
    ] {
        assert!(text.contains(expected), "the run page lacks {expected:?}");
    }
    screenshot(&client, "run").await;

    // A committed noise record: no curves kept, but the weight on flipped labels. Its page is
    // the one the index links.
    client
        .goto(&url("index.html"))
        .await
        .expect("the index loads");
    let link = client
        .find(Locator::XPath(
            "//table[@id='runs']//a[starts-with(., 'noise/')]",
        ))
        .await
        .expect("a noise run's link");
    link.click().await.expect("following the link");
    let heading = client
        .find(Locator::Css("h1"))
        .await
        .expect("a heading")
        .text()
        .await
        .expect("text");
    assert!(
        heading.contains("symmetric-20%") || heading.contains("symmetric-40%"),
        "{heading}"
    );
    let text = checked_page(&client, "record page", 2).await;
    let flipped = client
        .find_all(Locator::Css("img[src$='flipped.svg']"))
        .await
        .expect("images");
    assert_eq!(flipped.len(), 1, "the weight on flipped labels is drawn");
    assert!(text.contains("The curves were not kept"), "{text}");
    screenshot(&client, "record").await;

    // The comparison's page: its table and forest plot; the suite's page: its tables.
    client
        .goto(&url("groups/compare-cmp.html"))
        .await
        .expect("the comparison's page");
    let text = checked_page(&client, "comparison page", 1).await;
    assert_cells_shown(&text, &cmp.join("results.md"), &["| erm", "| rgd"]);
    assert_eq!(column(&client, 0).await.len(), 6, "the comparison's runs");
    screenshot(&client, "comparison").await;

    client
        .goto(&url("groups/suite-noise.html"))
        .await
        .expect("the suite's page");
    let text = checked_page(&client, "suite page", 1).await;
    assert_cells_shown(
        &text,
        &noise.join("results.md"),
        &["| symmetric-20%", "| asymmetric-20%", "| symmetric-40%"],
    );
    let tables = client
        .find_all(Locator::Css("main table"))
        .await
        .expect("tables");
    assert!(
        tables.len() >= 3,
        "the suite's tables and its runs: {}",
        tables.len()
    );
    screenshot(&client, "suite").await;

    client.close().await.expect("the session closes");
}

/// Finished runs (folders with a summary.json) under `dir`.
fn walk_count(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .map(|p| {
            if p.join("summary.json").is_file() {
                1
            } else {
                walk_count(&p)
            }
        })
        .sum()
}

fn hyper_util_connector() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}
