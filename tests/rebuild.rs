//! A rebuild after an edit reuses what did not change (files already read
//! and rendered, pages, compressed forms), so it must answer exactly what a
//! build from nothing answers. Each edit below is followed by both, and
//! every address of the two sites is compared.

mod common;
#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::path::Path;

use axum::http::StatusCode;
use practice_site::site::{BuildOptions, Site, Sources};

fn sources(root: &Path, static_dir: &Path) -> Sources {
    Sources {
        config: root.join("site.toml"),
        content: root.to_path_buf(),
        static_dir: static_dir.to_path_buf(),
    }
}

/// Every address, with what it answers, of a site.
fn answers(site: &Site) -> Vec<(String, StatusCode, String, Vec<u8>)> {
    let mut all: Vec<_> = site
        .resources()
        .into_iter()
        .map(|(path, r)| {
            (
                path.to_string(),
                r.status,
                format!(
                    "{:?} {:?} {:?} {:?}",
                    r.content_type, r.identity.etag, r.last_modified, r.location
                ),
                r.identity.body.to_vec(),
            )
        })
        .collect();
    let not_found = site.error_page(StatusCode::NOT_FOUND);
    all.push((
        "404".into(),
        not_found.status,
        String::new(),
        not_found.identity.body.to_vec(),
    ));
    all
}

/// One change to the content, as the therapist would make it.
type Edit<'a> = Box<dyn Fn() + 'a>;

fn replace(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The generated articles beside the shipped ones, and their seed.
const GENERATED: usize = 30;
const SEED: u64 = 3;

#[test]
fn a_rebuild_after_any_edit_answers_what_a_fresh_build_answers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("content");
    corpus::write(&root, GENERATED, SEED).unwrap();
    let articles = GENERATED + common::shipped_articles();
    let static_dir = dir.path().join("static");
    common::copy_dir(&common::repo().join("static"), &static_dir);
    let sources = sources(&root, &static_dir);
    let blog = root.join("blog");
    let linked = corpus::slug(GENERATED, SEED, 0);
    let article = blog.join(format!("{linked}.md"));
    let guide = blog.join("ketamine-assisted-psychotherapy-guide.md");

    let edits: Vec<(&str, Edit<'_>)> = vec![
        ("nothing", Box::new(|| {})),
        (
            "a word in an article",
            Box::new(|| replace(&guide, "Ketamine", "ketamine")),
        ),
        (
            "the title of an article others list",
            Box::new(|| replace(&article, "title: \"", "title: \"Renamed: ")),
        ),
        (
            "an article's tags",
            Box::new(|| replace(&article, "tags: [", "tags: [grief, ")),
        ),
        (
            "the settings",
            Box::new(|| {
                replace(
                    &root.join("site.toml"),
                    "Book a free {{consultation_minutes}}-minute consultation\"",
                    "Book your free {{consultation_minutes}}-minute consultation\"",
                )
            }),
        ),
        (
            "the stylesheet",
            Box::new(|| {
                let css = static_dir.join("css/site.css");
                let mut text = std::fs::read_to_string(&css).unwrap();
                text.push_str("\n.rebuilt { color: inherit; }\n");
                std::fs::write(css, text).unwrap();
            }),
        ),
        (
            "a new article that links to another",
            Box::new(|| {
                std::fs::write(
                    blog.join("a-new-article.md"),
                    format!(
                        "---\ntitle: \"A New Article About Rest\"\ndescription: \"A short article about rest and what it makes room for.\"\ndate: 2024-02-03\ntags: [rest]\n---\n\nSee [the other one]({linked}.md) and [book a consultation](../pages/consultation.md).\n"
                    ),
                )
                .unwrap()
            }),
        ),
        (
            "the new article removed",
            Box::new(|| std::fs::remove_file(blog.join("a-new-article.md")).unwrap()),
        ),
    ];

    let mut previous = Site::load_with(&sources, BuildOptions::published_now()).unwrap();
    previous.compress_all();
    for (what, edit) in &edits {
        edit();
        let fresh = Site::load_with(&sources, BuildOptions::published_now()).unwrap();
        let rebuilt = Site::rebuild(&sources, BuildOptions::published_now(), &previous).unwrap();
        let (fresh_answers, rebuilt_answers) = (answers(&fresh), answers(&rebuilt));
        assert_eq!(
            fresh_answers.len(),
            rebuilt_answers.len(),
            "after editing {what}"
        );
        for (f, r) in fresh_answers.iter().zip(&rebuilt_answers) {
            assert!(f == r, "after editing {what}, {} differs", f.0);
        }
        assert_eq!(
            fresh.warnings().to_string(),
            rebuilt.warnings().to_string(),
            "after editing {what}"
        );
        // Compressed forms kept from before belong to the same bodies.
        for (path, resource) in rebuilt.resources() {
            if let Some(brotli) = resource.brotli() {
                let mut decoded = Vec::new();
                std::io::Read::read_to_end(
                    &mut brotli::Decompressor::new(&brotli.body[..], 4096),
                    &mut decoded,
                )
                .unwrap();
                assert!(
                    decoded == resource.identity.body,
                    "after editing {what}, {path}'s brotli form is stale"
                );
            }
        }
        if *what == "nothing" {
            // With nothing edited, every article page is the one already built.
            let reused = rebuilt
                .resources()
                .into_iter()
                .filter(|(path, r)| {
                    path.starts_with("/blog/")
                        && previous
                            .get(path)
                            .is_some_and(|p| p.identity.body.as_ptr() == r.identity.body.as_ptr())
                })
                .count();
            assert_eq!(
                reused, articles,
                "article pages taken from the previous build"
            );
        }
        rebuilt.compress_all();
        previous = rebuilt;
    }

    // A broken edit fails the same way both ways.
    replace(&guide, "title:", "titel:");
    let fresh = Site::load_with(&sources, BuildOptions::published_now())
        .unwrap_err()
        .to_string();
    let rebuilt = Site::rebuild(&sources, BuildOptions::published_now(), &previous)
        .unwrap_err()
        .to_string();
    assert_eq!(fresh, rebuilt);
    assert!(fresh.contains("titel"), "{fresh}");
}
