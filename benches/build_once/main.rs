//! Builds the site from a content folder once (or N times), for profiling
//! the full build under callgrind without criterion's loop around it:
//!
//!     cargo run --release --example corpus -- /tmp/corpus 1000
//!     cargo build --release --example build_once
//!     RAYON_NUM_THREADS=1 valgrind --tool=callgrind \
//!         target/release/examples/build_once /tmp/corpus
//!
//! The same as one iteration of `build/1000` in benches/site.rs.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use practice_site::site::{BuildOptions, Site, Sources};

fn main() {
    let mut args = std::env::args().skip(1);
    let content = PathBuf::from(args.next().expect("usage: build_once CONTENT [TIMES]"));
    let times: usize = args
        .next()
        .map_or(1, |n| n.parse().expect("a whole number"));
    let sources = Sources {
        config: content.join("site.toml"),
        content: content.clone(),
        static_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("static"),
    };
    for _ in 0..times {
        black_box(
            Site::load_with(&sources, BuildOptions::published_now()).expect("the corpus builds"),
        );
    }
}
