//! Broken content is reported file by file, line by line, all in one run, and
//! the server refuses to start on it.

mod common;

use common::ContentCopy;
use practice_site::site::{BuildError, Site};

const GUIDE: &str = "blog/ketamine-assisted-psychotherapy-guide.md";
const SESSION: &str = "blog/what-happens-in-a-kap-session.md";
const VERSUS: &str = "blog/kap-vs-iv-ketamine-clinics.md";
const REWIRES: &str = "blog/how-ketamine-therapy-rewires-the-brain.md";
const AFFAIR: &str = "blog/finding-an-affair-recovery-therapist.md";

/// One problem planted on purpose: the file and a text on the line where it
/// must be reported, and a phrase the message must contain.
struct Planted {
    file: String,
    marker: &'static str,
    says: &'static str,
}

/// Breaks a copy of the shipped content in every way the checker knows.
fn break_everything(copy: &ContentCopy) -> Vec<Planted> {
    let mut planted = Vec::new();
    let mut plant = |file: &str, from: &str, to: &str, marker: &'static str, says: &'static str| {
        copy.edit(file, from, to);
        planted.push(Planted {
            file: file.to_string(),
            marker,
            says,
        });
    };
    // A misspelt front-matter field.
    plant(
        GUIDE,
        "cta: kap",
        "cta: kap\ntitel: Oops",
        "titel:",
        "unknown field `titel`",
    );
    // A date that is not a date.
    plant(
        SESSION,
        "date: 2025-10-06",
        "date: 2025-10-36",
        "date:",
        "YYYY-MM-DD",
    );
    // A cross-link to a file that does not exist.
    plant(
        REWIRES,
        "(kap-vs-iv-ketamine-clinics.md)",
        "(kap-vs-iv-ketamine-clinic.md)",
        "kap-vs-iv-ketamine-clinic.md)",
        "no file content/blog/kap-vs-iv-ketamine-clinic.md",
    );
    // A cross-link to a heading the target does not have.
    plant(
        REWIRES,
        "kap-vs-iv-ketamine-clinics.md#what-kap-adds",
        "kap-vs-iv-ketamine-clinics.md#what-kap-offers",
        "#what-kap-offers",
        "no heading with the id `what-kap-offers`",
    );
    // An image without alt text.
    plant(
        VERSUS,
        "Not all ketamine treatments are the same",
        "![](/static/favicon.svg)\n\nNot all ketamine treatments are the same",
        "![](",
        "no alt text",
    );
    // A consultation length that contradicts the setting.
    plant(
        AFFAIR,
        "book a consultation today",
        "book a free 30-minute consultation today",
        "30-minute",
        "30-minute consultation",
    );
    // The same, spelt out, and as how long the call lasts.
    plant(
        SESSION,
        "to see if a KAP session",
        "(a thirty-minute call; the consultation lasts 20 minutes) to see if a KAP session",
        "a thirty-minute call",
        "this says a 30-minute consultation",
    );
    // A footnote that is cited but never written.
    plant(
        AFFAIR,
        "book a free 30-minute consultation today",
        "book a free 30-minute consultation today[^license]",
        "[^license]",
        "the footnote [^license] is never defined",
    );
    // A placeholder that does not exist.
    plant(
        VERSUS,
        "{{consultation_minutes}}",
        "{{consultation_length}}",
        "{{consultation_length}}",
        "unknown placeholder",
    );
    // An alias that is a live page's address.
    plant(
        AFFAIR,
        "cta: intensives",
        "cta: intensives\naliases: [/about]",
        "aliases:",
        "is the address of",
    );
    // A link to a draft.
    plant(
        "pages/intensives.md",
        "title:",
        "draft: true\ntitle:",
        "draft: true",
        "",
    );
    planted.pop();
    planted.push(Planted {
        file: "pages/affair-recovery-intensives.md".into(),
        marker: "(intensives.md",
        says: "which is a draft",
    });
    // The second length on the line with the thirty-minute call.
    planted.push(Planted {
        file: SESSION.into(),
        marker: "a thirty-minute call",
        says: "this says a 20-minute consultation",
    });
    // A missing description.
    copy.write(
        "pages/extra.md",
        "---\ntitle: Extra\n---\n\nA page with no description.\n",
    );
    planted.push(Planted {
        file: "pages/extra.md".into(),
        marker: "---",
        says: "add a `description:`",
    });
    // Two files that claim the same address.
    copy.write(
        "blog/another-guide.md",
        "---\ntitle: Another\ndescription: Same slug.\ndate: 2025-01-01\nslug: ketamine-assisted-psychotherapy-guide\n---\n\nText.\n",
    );
    planted.push(Planted {
        file: "blog/another-guide.md".into(),
        marker: "slug:",
        says: "/blog/ketamine-assisted-psychotherapy-guide.md already has",
    });
    planted
}

fn assert_reported(output: &str, copy: &ContentCopy, planted: &[Planted]) {
    for p in planted {
        let line = copy.line_of(&p.file, p.marker);
        let location = format!("{}:{line}: ", copy.path(&p.file).display());
        let line = output
            .lines()
            .find(|l| l.starts_with(&location) && l.contains(p.says))
            .unwrap_or_else(|| panic!("expected `{location}… {}` in:\n{output}", p.says));
        assert!(!line.is_empty());
    }
}

#[test]
fn every_kind_of_content_error_is_reported_with_file_and_line_in_one_run() {
    let copy = ContentCopy::new();
    let planted = break_everything(&copy);
    let err = Site::load(&copy.sources()).expect_err("broken content must not build");
    let BuildError::Content(problems) = err else {
        panic!("expected content problems, got {err}");
    };
    let output = problems.to_string();
    assert_reported(&output, &copy, &planted);
    assert!(problems.len() >= planted.len(), "{output}");
}

/// A published, featured article given another's address with `slug:` is
/// one problem, at that line, naming the file that has the address: not
/// also its old address in the record, nor `featured` in site.toml, which
/// fail only because of it.
#[test]
fn an_address_taken_twice_is_one_error_at_the_slug_line() {
    let copy = ContentCopy::new();
    copy.edit(
        SESSION,
        "date: 2025-10-06",
        "date: 2025-10-06\nslug: ketamine-assisted-psychotherapy-guide",
    );
    let err = Site::load(&copy.sources()).expect_err("two files cannot share an address");
    let BuildError::Content(problems) = err else {
        panic!("expected content problems, got {err}");
    };
    let errors: Vec<String> = problems
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    let expected = format!(
        "{}:{}: `slug: ketamine-assisted-psychotherapy-guide` gives the address /blog/ketamine-assisted-psychotherapy-guide, which {} already has; give this file another `slug:`",
        copy.path(SESSION).display(),
        copy.line_of(SESSION, "slug:"),
        copy.path(GUIDE).display()
    );
    assert_eq!(errors, [expected]);
}

#[test]
fn the_shipped_content_has_no_problems() {
    let copy = ContentCopy::new();
    Site::load(&copy.sources()).unwrap_or_else(|err| panic!("{err}"));
}

fn run(args: &[&str], copy: &ContentCopy) -> (bool, String, String) {
    common::run_cli(copy, args)
}

#[test]
fn check_lists_every_problem_and_fails() {
    let copy = ContentCopy::new();
    let planted = break_everything(&copy);
    let (ok, _, stderr) = run(&["check"], &copy);
    assert!(!ok, "check must fail on broken content");
    assert_reported(&stderr, &copy, &planted);
    assert!(stderr.contains("errors found"), "{stderr}");
}

#[test]
fn serve_refuses_to_start_on_content_errors() {
    let copy = ContentCopy::new();
    let planted = break_everything(&copy);
    // Were it to start, it would serve forever on port 0 and this test would hang.
    let (ok, _, stderr) = run(&["serve"], &copy);
    assert!(!ok);
    assert_reported(&stderr, &copy, &planted);
    assert!(stderr.contains("The site was not started."), "{stderr}");
}

#[test]
fn check_passes_on_good_content() {
    let copy = ContentCopy::new();
    let (ok, stdout, stderr) = run(&["check"], &copy);
    assert!(ok, "{stderr}");
    // Advice may remain (the shipped pages about medication await a
    // clinician's review date), but no error.
    assert!(stdout.contains("No errors"), "{stdout}");
}

#[test]
fn a_broken_settings_file_is_reported_with_its_line() {
    let copy = ContentCopy::new();
    copy.edit("site.toml", "city = ", "cty = ");
    let line = copy.line_of("site.toml", "cty = ");
    let (ok, _, stderr) = run(&["check"], &copy);
    assert!(!ok);
    let expected = format!("{}:{line}: ", copy.path("site.toml").display());
    assert!(
        stderr.contains(&expected) && stderr.contains("cty"),
        "{stderr}"
    );
}
