//! The HTML report in a real browser: headless Chromium renders the samples' page and
//! a probe script, run after the page's own, checks what a reader sees (the summary
//! and a known finding are visible, a severity filter and the text search hide rows,
//! a row expands to its source, sorting puts the most severe first), that the filter
//! in the address (`#sev=critical`) hides rows on load, and that a manifest named
//! `<script>…</script>` shows as text and runs nothing. A screenshot is written to
//! `target/tmp/breakout-report.png` for a person to look at.
//!
//! Skipped, with the reason printed, where no Chromium is installed (Debian:
//! `apt-get install chromium`); `BREAKOUT_CHROMIUM` names the browser to use.

mod common;

use common::{command, finish, ROOT};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A browser that does not answer in this long is killed and the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium to use: `BREAKOUT_CHROMIUM`, else the first of the usual names on the
/// `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BREAKOUT_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Runs Chromium headless on `url` with `extra` arguments; returns standard output.
fn headless(browser: &Path, profile: &Path, extra: &[&str], url: &str) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
        out
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium exited with {status}");
            break;
        }
        if start.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            panic!("chromium did not finish in {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap()
}

/// The page, written by the binary for `paths` (run in `dir`).
fn render(dir: &Path, paths: &[&str]) -> String {
    let mut args = vec!["scan"];
    args.extend(paths);
    args.extend(["--format", "html"]);
    let run = finish(&mut command(dir, &args));
    assert!(run.code == Some(1), "{}", run.stderr);
    run.stdout
}

/// Checks what a reader sees, after the page's own script has run, and writes the
/// answers as JSON into `<pre id="probe">`.
const PROBE: &str = r##"<script>
(function () {
  function visible(el) {
    if (!el) return false;
    var r = el.getBoundingClientRect();
    var s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  }
  function shown() {
    return Array.prototype.filter.call(document.querySelectorAll("#findings-table tbody.finding"), visible);
  }
  var out = {};
  out.summary = visible(document.querySelector("#summary svg"));
  out.severity_bars = document.querySelectorAll("#summary svg .bar").length;
  var known = Array.prototype.filter.call(document.querySelectorAll("#findings-table tbody.finding"), function (b) {
    return b.dataset.rule === "BRK201" && b.dataset.resource === "Deployment ci/image-builder";
  })[0];
  out.known_finding = visible(known);
  out.known_text = known ? known.querySelector("tr.main").textContent.replace(/\s+/g, " ") : "";
  out.detail_before = visible(known && known.querySelector("tr.detail"));
  known.querySelector(".toggle").click();
  out.detail_after = visible(known.querySelector("tr.detail"));
  out.snippet_marked = visible(known.querySelector(".snippet .line.marked"));
  out.total = shown().length;
  Array.prototype.forEach.call(document.querySelectorAll("input[name=sev]"), function (c) {
    if (c.value !== "critical") c.click();
  });
  var critical = shown();
  out.after_severity_filter = critical.length;
  out.only_critical = critical.every(function (b) { return b.dataset.severity === "critical"; });
  out.count_text = document.getElementById("f-count").textContent;
  out.hash = location.hash;
  document.getElementById("f-reset").click();
  out.after_reset = shown().length;
  var q = document.getElementById("f-text");
  q.value = "image-builder";
  q.dispatchEvent(new Event("input"));
  var found = shown();
  out.after_search = found.length;
  out.search_matches = found.every(function (b) { return b.dataset.text.indexOf("image-builder") !== -1; });
  document.getElementById("f-reset").click();
  document.querySelector("th[data-sort=rank] button").click();
  out.first_after_sort = shown()[0].dataset.severity;
  out.xss = window.__xss === undefined ? "none" : "ran";
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"##;

/// The probe's answers in a DOM dump.
fn probe_result(dom: &str) -> Value {
    let start = dom.find("<pre id=\"probe\">").expect("the probe ran") + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let text = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn the_report_works_in_headless_chromium() {
    let Some(browser) = chromium() else {
        println!(
            "skipped: no Chromium on the PATH (chromium, chromium-browser, google-chrome); \
             install it (Debian: apt-get install chromium) or set BREAKOUT_CHROMIUM"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = render(Path::new(ROOT), &["samples"]);
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let probed = dir.path().join("probed.html");
    std::fs::write(
        &probed,
        html.replace("</body>", &format!("{PROBE}\n</body>")),
    )
    .unwrap();
    let profile = dir.path().join("profile");

    let dom = headless(
        &browser,
        &profile,
        &["--dump-dom"],
        &format!("file://{}", probed.display()),
    );
    let r = probe_result(&dom);
    println!("probe: {r}");
    assert_eq!(r["summary"], true, "summary chart visible");
    assert!(r["severity_bars"].as_u64().unwrap() >= 4);
    assert_eq!(
        r["known_finding"], true,
        "BRK201 on ci/image-builder visible"
    );
    assert!(r["known_text"].as_str().unwrap().contains("docker.sock"));
    assert_eq!(r["detail_before"], false, "details start collapsed");
    assert_eq!(r["detail_after"], true, "a row expands");
    assert_eq!(r["snippet_marked"], true, "with its source line marked");
    let total = r["total"].as_u64().unwrap();
    let critical = r["after_severity_filter"].as_u64().unwrap();
    assert!(total > 100, "{total} rows shown");
    assert!(
        critical > 0 && critical < total,
        "the filter hides rows: {critical} of {total}"
    );
    assert_eq!(r["only_critical"], true);
    assert_eq!(
        r["count_text"].as_str().unwrap(),
        format!("{critical} of {total} shown")
    );
    assert_eq!(
        r["hash"], "#sev=critical",
        "the filter is kept in the address"
    );
    assert_eq!(r["after_reset"].as_u64().unwrap(), total);
    let searched = r["after_search"].as_u64().unwrap();
    assert!(searched > 0 && searched < total);
    assert_eq!(r["search_matches"], true);
    assert_eq!(r["first_after_sort"], "critical");

    // The filter in the address applies on load, without the probe.
    let dom = headless(
        &browser,
        &profile,
        &["--dump-dom"],
        &format!("file://{}#sev=high", page.display()),
    );
    let bodies: Vec<&str> = dom
        .split("<tbody class=\"finding\"")
        .skip(1)
        .map(|b| &b[..b.find('>').unwrap()])
        .collect();
    assert!(bodies.len() > 100);
    let (hidden, shown): (Vec<&str>, Vec<&str>) =
        bodies.iter().partition(|b| b.contains(" hidden"));
    assert!(!hidden.is_empty() && !shown.is_empty());
    assert!(
        shown.iter().all(|b| b.contains("data-severity=\"high\"")),
        "only high rows shown"
    );

    // A screenshot for people.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("breakout-report.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &browser,
        &profile,
        &[&format!("--screenshot={}", shot.display())],
        &format!("file://{}", page.display()),
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 20_000, "screenshot of {size} bytes");
    println!("screenshot: {}", shot.display());
}

#[test]
fn markup_in_scanned_files_stays_text_in_the_browser() {
    let Some(browser) = chromium() else {
        println!("skipped: no Chromium on the PATH; set BREAKOUT_CHROMIUM");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scanned = dir.path().join("repo");
    std::fs::create_dir(&scanned).unwrap();
    std::fs::write(
        scanned.join("<img src=x onerror=window.__xss=2>.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"<script>window.__xss=1</script>\"\n  namespace: ci\nspec:\n  template:\n    spec:\n      containers:\n        - name: builder\n          image: docker:27\n          volumeMounts: [{name: s, mountPath: /var/run/docker.sock}]\n      volumes: [{name: s, hostPath: {path: /var/run/docker.sock}}]\n",
    )
    .unwrap();
    let html = render(&scanned, &["."]);
    // The probe looks for the known finding by resource: point it at this one (`<` as
    // `\x3c`, or the name would end the probe's own script).
    let probe = PROBE.replace(
        "Deployment ci/image-builder",
        "Deployment ci/\\x3cscript>window.__xss=1\\x3c/script>",
    );
    let page = dir.path().join("xss.html");
    std::fs::write(&page, html.replace("</body>", &format!("{probe}\n</body>"))).unwrap();
    let dom = headless(
        &browser,
        &dir.path().join("profile"),
        &["--dump-dom"],
        &format!("file://{}", page.display()),
    );
    let r = probe_result(&dom);
    assert_eq!(r["xss"], "none", "a script from a scanned file ran");
    assert_eq!(r["known_finding"], true, "the finding is shown");
    assert!(
        r["known_text"]
            .as_str()
            .unwrap()
            .contains("<script>window.__xss=1</script>"),
        "the name shows as text: {r}"
    );
}
