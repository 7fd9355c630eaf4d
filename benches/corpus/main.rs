//! Writes a benchmark corpus to a folder:
//!
//!     cargo run --release --example corpus -- OUT ARTICLES [SEED]
//!
//! OUT gets the shipped settings, pages and articles plus ARTICLES generated
//! articles (seed 1 unless given). Serve or export it with
//! `--content OUT --config OUT/site.toml`.

#[path = "mod.rs"]
mod corpus;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(Ok(articles))) = (args.first(), args.get(1).map(|n| n.parse::<usize>()))
    else {
        eprintln!("usage: corpus OUT ARTICLES [SEED]");
        return ExitCode::FAILURE;
    };
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => 1,
        Some(Ok(seed)) => seed,
        Some(Err(_)) => {
            eprintln!("the seed must be a whole number");
            return ExitCode::FAILURE;
        }
    };
    let out = PathBuf::from(out);
    match corpus::write(&out, articles, seed) {
        Ok(summary) => {
            println!(
                "Wrote {} generated articles ({} words, {} KiB of Markdown, seed {seed}) and the shipped content to {}.",
                articles,
                summary.words,
                summary.bytes / 1024,
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cannot write the corpus to {}: {err}", out.display());
            ExitCode::FAILURE
        }
    }
}
