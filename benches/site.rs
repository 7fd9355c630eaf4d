//! In-process benchmarks (criterion): building the whole site from its
//! Markdown, rendering one article, compressing the built site, and one
//! request through the real router. Run with
//!
//!     cargo bench --bench site                 # all of them
//!     cargo bench --bench site -- build/1000   # one
//!
//! Each group writes the corpora it needs (the shipped content, and it plus
//! 1,000 and 10,000 generated articles) into a temporary folder, from seed 1.
//! Results and what they mean: BENCHMARKS.md.

mod corpus;

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use practice_site::booking::Booking;
use practice_site::booking::settings::Secrets;
use practice_site::booking::store::{Database, SqlStore};
use practice_site::clock::SystemClock;
use practice_site::content::markdown::{self, Resolution};
use practice_site::site::{BuildOptions, Site, Sources};
use practice_site::{AppState, PreparedFirst, app};
use tower::ServiceExt as _;

const SEED: u64 = 1;
const SIZES: [usize; 3] = [0, 1_000, 10_000];

/// A temporary folder holding the shipped content plus `articles`
/// generated ones, and the sources that build it (the folder lives as long
/// as the returned guard).
fn written_corpus(articles: usize) -> (tempfile::TempDir, Sources) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    corpus::write(dir.path(), articles, SEED).expect("the corpus is written");
    let sources = sources(dir.path());
    (dir, sources)
}

fn sources(content: &Path) -> Sources {
    Sources {
        config: content.join("site.toml"),
        content: content.to_path_buf(),
        static_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("static"),
    }
}

/// Reading, checking and rendering every file into a servable site (no
/// compression: the server makes those forms after it starts serving).
fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for articles in SIZES {
        let (_dir, sources) = written_corpus(articles);
        group.bench_with_input(BenchmarkId::from_parameter(articles), &sources, |b, s| {
            b.iter(|| {
                Site::load_with(s, BuildOptions::published_now()).expect("the corpus builds")
            });
        });
    }
    group.finish();
}

/// A rebuild after one article was saved: what the server does between a
/// save and serving the new page (see also scripts/bench-server).
fn rebuild(c: &mut Criterion) {
    let mut group = c.benchmark_group("rebuild_after_one_edit");
    group.sample_size(20);
    for articles in [0, 1_000] {
        let (dir, sources) = written_corpus(articles);
        let previous =
            Site::load_with(&sources, BuildOptions::published_now()).expect("the corpus builds");
        previous.compress_all();
        let article = dir
            .path()
            .join("blog/ketamine-assisted-psychotherapy-guide.md");
        let mut edits = 0;
        group.bench_with_input(BenchmarkId::from_parameter(articles), &sources, |b, s| {
            b.iter(|| {
                edits += 1;
                let mut text = std::fs::read_to_string(&article).expect("the guide");
                text.push_str(&format!("\nEdit number {edits}.\n"));
                std::fs::write(&article, text).expect("the guide is written");
                let site = Site::rebuild(s, BuildOptions::published_now(), &previous)
                    .expect("the corpus builds");
                site.compress_all();
                site
            });
        });
    }
    group.finish();
}

/// Photos: making the variants of a photo never seen before (a 2400 × 1800
/// photo, the size an upload is kept at), and the rebuild after an upload,
/// which finds them made (the upload makes them before it writes the file).
fn photos(c: &mut Criterion) {
    use practice_site::images::{Picture, testing::phone_photo, upload, variants};
    let mut group = c.benchmark_group("photos");
    group.sample_size(10);
    let photo = upload::clean(&phone_photo(2400, 1800))
        .expect("a photo")
        .bytes;
    let picture =
        Picture::of_bytes(Path::new("office.jpg"), "office.jpg", &photo).expect("a picture");
    group.bench_function("variants_of_a_new_photo", |b| {
        b.iter(|| variants::make(black_box(&photo), picture.format, &picture.variants()))
    });
    let (dir, sources) = written_corpus(1_000);
    let previous =
        Site::load_with(&sources, BuildOptions::published_now()).expect("the corpus builds");
    previous.compress_all();
    std::fs::create_dir_all(dir.path().join("images")).expect("the photos' folder");
    let mut uploads = 0u32;
    let mut previous = previous;
    group.bench_function("rebuild_after_an_upload/1000", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                // A new photo each time, as an upload leaves it: cleaned,
                // its variants made, then written; only the rebuild is timed.
                uploads += 1;
                let photo = phone_photo(1200 + uploads, 900);
                let cleaned = upload::clean(&photo).expect("a photo").bytes;
                let name = format!("upload-{uploads}.jpg");
                let path = dir.path().join("images").join(&name);
                let picture = Picture::of_bytes(&path, &name, &cleaned).expect("a picture");
                variants::warm(&picture, &cleaned).expect("its variants");
                std::fs::write(&path, cleaned).expect("the photo is written");
                let start = std::time::Instant::now();
                let site = Site::rebuild(&sources, BuildOptions::published_now(), &previous)
                    .expect("the corpus builds");
                site.compress_all();
                spent += start.elapsed();
                previous = site;
            }
            spent
        })
    });
    group.finish();
}

/// Making every page's gzip and brotli forms, as the server does in the
/// background after a build and the export does before writing.
fn compress(c: &mut Criterion) {
    let mut group = c.benchmark_group("compress");
    group.sample_size(10);
    for articles in [0, 1_000] {
        let (_dir, sources) = written_corpus(articles);
        group.bench_with_input(BenchmarkId::from_parameter(articles), &sources, |b, s| {
            b.iter_batched(
                || Site::load_with(s, BuildOptions::published_now()).expect("the corpus builds"),
                |site| site.compress_all(),
                criterion::BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

/// One article's Markdown to HTML: the real guide, and a generated article.
fn render_article(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    corpus::write(dir.path(), 1, SEED).expect("the corpus is written");
    let generated = corpus::slug(1, SEED, 0);
    let mut group = c.benchmark_group("render_article");
    for (name, file) in [
        ("guide", "ketamine-assisted-psychotherapy-guide".to_string()),
        ("generated", generated),
    ] {
        let text = std::fs::read_to_string(dir.path().join("blog").join(format!("{file}.md")))
            .expect("the article is there");
        let body = text
            .splitn(3, "---\n")
            .nth(2)
            .expect("front matter")
            .to_string();
        let pictures = practice_site::images::Catalog::default();
        group.bench_function(name, |b| {
            b.iter(|| {
                markdown::render(
                    Path::new("bench.md"),
                    black_box(&body),
                    1,
                    &mut |dest| Resolution::Internal {
                        href: dest.to_string(),
                        target: None,
                        anchor: None,
                    },
                    &pictures,
                )
            });
        });
    }
    group.finish();
}

/// One request for the home page, in process, uncompressed and with
/// `Accept-Encoding: gzip, br`: as the server answers it, and through the
/// whole router and its layers.
fn request(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let sources = sources(&corpus::shipped_content());
    let site = Site::load(&sources).expect("the shipped site builds");
    let config = site.config().expect("settings").clone();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = {
        let _inside = runtime.enter();
        SqlStore::open_lazy(&Database::Sqlite(dir.path().join("bench.db"))).unwrap()
    };
    let booking = Booking::new(
        &config,
        Arc::new(store),
        Arc::new(SystemClock),
        &Secrets::default(),
        b"a benchmark signing key, long enough",
    )
    .expect("booking settings");
    let state = AppState::new(site, Arc::new(booking));
    let router = app(state.clone());
    let prepared = PreparedFirst::new(state);
    let mut group = c.benchmark_group("request");
    for (name, encoding) in [("identity", ""), ("br", "gzip, br")] {
        let request = || {
            Request::get("/")
                .header(header::ACCEPT_ENCODING, encoding)
                .body(Body::empty())
                .expect("a request")
        };
        // What the server runs (the page answered before routing) ...
        group.bench_function(format!("prepared/{name}"), |b| {
            b.iter(|| runtime.block_on(prepared.clone().oneshot(request())));
        });
        // ... and the same page through the router and all its layers.
        group.bench_function(format!("router/{name}"), |b| {
            b.iter(|| runtime.block_on(router.clone().oneshot(request())));
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    render_article,
    request,
    rebuild,
    photos,
    compress,
    build
);
criterion_main!(benches);
