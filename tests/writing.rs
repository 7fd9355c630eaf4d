//! The therapist's tools: `new` starts an article, `check` gives writing
//! advice (quiet on the shipped content) and guards published addresses.

mod common;

use common::ContentCopy;
use practice_site::site::Site;

fn run(copy: &ContentCopy, args: &[&str]) -> (bool, String, String) {
    common::run_cli(copy, args)
}

#[test]
fn new_creates_a_draft_with_its_front_matter_and_prints_its_path() {
    let copy = ContentCopy::new();
    let (ok, stdout, stderr) = run(&copy, &["new", "What to Expect: Your First KAP Session"]);
    assert!(ok, "{stderr}");
    let path = copy.path("blog/what-to-expect-your-first-kap-session.md");
    assert_eq!(stdout.trim(), path.display().to_string());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("title: \"What to Expect: Your First KAP Session\""));
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Los_Angeles)
        .date_naive();
    assert!(text.contains(&format!("date: {today}")), "{text}");
    assert!(text.contains("draft: true"));
    // The site still builds; the draft is not published, and check advises.
    let site = Site::load(&copy.sources()).unwrap();
    assert!(
        !site
            .page_paths()
            .contains(&"/blog/what-to-expect-your-first-kap-session")
    );
    let (ok, _, stderr) = run(&copy, &["check"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr
            .contains("what-to-expect-your-first-kap-session.md:1: warning: add a `description:`"),
        "{stderr}"
    );
    // A second `new` with the same title refuses to overwrite.
    let (ok, _, stderr) = run(&copy, &["new", "What to Expect: Your First KAP Session"]);
    assert!(!ok && stderr.contains("already exists"), "{stderr}");
}

/// `new` never starts an article at a taken address: another file's
/// `slug:`, or an old address kept as an alias (which would block every
/// rebuild). It says which file holds it and writes nothing.
#[test]
fn new_refuses_an_address_another_file_or_an_alias_holds() {
    let copy = ContentCopy::new();
    copy.edit(
        "blog/ketamine-assisted-psychotherapy-guide.md",
        "cta: kap",
        "cta: kap\naliases: [/blog/kap-basics]",
    );
    copy.write(
        "blog/renamed.md",
        "---\ntitle: Renamed\ndescription: d\ndate: 2025-01-01\nslug: kap-faq\n---\n\nText.\n",
    );
    for (title, holder, says) in [
        (
            "KAP Basics",
            "blog/ketamine-assisted-psychotherapy-guide.md",
            "keeps it as an old address (`aliases:`)",
        ),
        ("KAP FAQ", "blog/renamed.md", "has it"),
    ] {
        let (ok, stdout, stderr) = run(&copy, &["new", title]);
        assert!(!ok, "{stdout}");
        let expected = format!("is taken: {} {says}", copy.path(holder).display());
        assert!(stderr.contains(&expected), "{stderr}");
        let slug = practice_site::content::front_matter::slug_from_title(title);
        assert!(!copy.path(&format!("blog/{slug}.md")).exists());
    }
}

/// The shipped words get no writing advice; the health checks' findings
/// (pages about medication not yet reviewed, claims of evidence without a
/// source) are for the therapist to settle, so they are the only advice.
#[test]
fn the_shipped_content_gets_no_writing_advice_beyond_health_findings() {
    let copy = ContentCopy::new();
    let (ok, _, stderr) = run(&copy, &["check"]);
    assert!(ok, "{stderr}");
    for line in stderr.lines().filter(|l| l.contains("warning:")) {
        assert!(
            line.contains("has no `reviewed:` date") || line.contains("but cites nothing"),
            "unexpected advice on the shipped content: {line}"
        );
    }
}

#[test]
fn writing_advice_fires_on_a_fixture_and_never_blocks() {
    let copy = ContentCopy::new();
    let long_paragraph = "word ".repeat(160);
    copy.write(
        "blog/needs-work.md",
        &format!(
            "---\ntitle: \"A Title That Goes On and On Well Past What Any Search Result Shows\"\ndescription: \"{}\"\ndate: 2025-02-01\n---\n\n# A second title\n\n#### Too deep\n\nRead more [here](ketamine-assisted-psychotherapy-guide.md).\n\n{long_paragraph}\n\nKAP is guaranteed to change your life. It is a cure for everything!\n",
            "A description. ".repeat(12)
        ),
    );
    let (ok, _, stderr) = run(&copy, &["check"]);
    assert!(ok, "advice never fails the check: {stderr}");
    let file = copy.path("blog/needs-work.md").display().to_string();
    for (line, says) in [
        (2, "search results cut titles"),
        (3, "search results cut it after about 160"),
        (7, "one top-level heading"),
        (9, "skips a level"),
        (11, "“here” says nothing"),
        (13, "160 words"),
        (15, "“guaranteed” promises"),
        (15, "“cure” promises"),
        (6, "never links to the consultation page"),
    ] {
        let prefix = format!("{file}:{line}: warning: ");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(says)),
            "expected {prefix}… {says} in:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("“KAP is guaranteed to change your life.”"),
        "the sentence is quoted"
    );
    // The page is still published.
    assert!(
        Site::load(&copy.sources())
            .unwrap()
            .page_paths()
            .contains(&"/blog/needs-work")
    );
}

#[test]
fn a_renamed_article_without_an_alias_is_caught_and_the_fix_is_named() {
    let copy = ContentCopy::new();
    let file = "blog/kap-vs-iv-ketamine-clinics.md";
    copy.edit(file, "cta: kap", "cta: kap\nslug: kap-or-iv");
    let (ok, _, stderr) = run(&copy, &["check"]);
    assert!(!ok);
    let record = copy.path("published-urls.txt").display().to_string();
    let line = copy.line_of("published-urls.txt", "/blog/kap-vs-iv-ketamine-clinics");
    assert!(
        stderr.contains(&format!(
            "{record}:{line}: /blog/kap-vs-iv-ketamine-clinics was published but now leads nowhere; if an article moved, add `aliases: [/blog/kap-vs-iv-ketamine-clinics]`"
        )),
        "{stderr}"
    );
    copy.edit(
        file,
        "slug: kap-or-iv",
        "slug: kap-or-iv\naliases: [/blog/kap-vs-iv-ketamine-clinics]",
    );
    let (ok, _, stderr) = run(&copy, &["check"]);
    assert!(ok, "{stderr}");
    // The new address is recorded too, so a later rename is caught as well.
    assert!(
        copy.read("published-urls.txt")
            .contains("/blog/kap-or-iv\n")
    );
}

#[test]
fn check_prints_health_advice_with_file_and_line_and_still_passes() {
    let copy = ContentCopy::new();
    let file = "blog/old-review.md";
    copy.write(
        file,
        "---\ntitle: Dosing Days\ndescription: What a dosing day is like.\ndate: 2025-02-01\nreviewed: 2020-01-01\n---\n\nEach dose is small.\n\nResearch proves it works.\n\n[Book a consultation](../pages/consultation.md)\n",
    );
    let (ok, _, stderr) = run(&copy, &["check"]);
    assert!(ok, "advice never fails the check: {stderr}");
    let path = copy.path(file).display().to_string();
    for (line, says) in [
        (5, "`reviewed: 2020-01-01` is more than 12 months ago"),
        (10, "says “research proves” but cites nothing"),
    ] {
        let prefix = format!("{path}:{line}: warning: ");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(says)),
            "expected {prefix}… {says} in:\n{stderr}"
        );
    }
}
