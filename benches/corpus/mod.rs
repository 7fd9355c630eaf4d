//! A reproducible corpus for the benchmarks: the shipped site (settings,
//! pages and the real articles) plus N generated articles of about 1,500
//! words each, shaped like the therapist's own: headings (some with explicit
//! ids), lists, a table, footnotes, tags, and cross-links to other generated
//! articles and to sections in them.
//!
//! The same seed always writes the same files, so two runs (or ours and
//! Hugo's) read identical Markdown. The text is filler made of calm,
//! non-clinical words; it is never served to readers.

// Shared by the benchmarks, the `corpus` example and a test; each uses a part.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};

/// What [`write`] produced.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub words: usize,
    pub bytes: usize,
}

/// Writes the shipped content and `articles` generated articles into `out`
/// (created if missing): `out/site.toml`, `out/pages/`, `out/blog/`.
pub fn write(out: &Path, articles: usize, seed: u64) -> io::Result<Summary> {
    let shipped = shipped_content();
    copy_dir(&shipped, out)?;
    let blog = out.join("blog");
    let specs = specs(articles, seed);
    let mut summary = Summary { words: 0, bytes: 0 };
    for (index, spec) in specs.iter().enumerate() {
        let text = article(index, &specs, seed);
        summary.words += text.split_whitespace().count();
        summary.bytes += text.len();
        fs::write(blog.join(format!("{}.md", spec.slug)), text)?;
    }
    Ok(summary)
}

/// The content folder shipped with the site.
pub fn shipped_content() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content")
}

/// The slug of generated article `index` (for benchmarks that open one).
pub fn slug(articles: usize, seed: u64, index: usize) -> String {
    specs(articles, seed).swap_remove(index).slug
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// What other articles need to know of one before any is written: its
/// address, title and the ids of its sections.
struct Spec {
    slug: String,
    title: String,
    sections: Vec<Section>,
}

struct Section {
    heading: String,
    id: String,
    /// Written as `## Heading {#id}` rather than relying on the automatic id.
    explicit: bool,
}

fn specs(articles: usize, seed: u64) -> Vec<Spec> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..articles)
        .map(|index| {
            let title = title(&mut rng);
            let slug = format!("{}-{}", slugify(&title), index + 1);
            let count = rng.gen_range(6..=8);
            let mut used = Vec::new();
            let sections = (0..count)
                .map(|n| {
                    let mut heading = heading(&mut rng);
                    while used.contains(&heading) {
                        heading = heading_with(&mut rng, n);
                    }
                    used.push(heading.clone());
                    let explicit = rng.gen_bool(0.3);
                    let id = if explicit {
                        format!("part-{}", n + 1)
                    } else {
                        slugify(&heading)
                    };
                    Section {
                        heading,
                        id,
                        explicit,
                    }
                })
                .collect();
            Spec {
                slug,
                title,
                sections,
            }
        })
        .collect()
}

fn article(index: usize, specs: &[Spec], seed: u64) -> String {
    // Each article has its own stream, so one article's text does not depend
    // on how many words the others drew.
    let mut rng =
        StdRng::seed_from_u64(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let spec = &specs[index];
    let mut out = String::with_capacity(11_000);
    let date = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).expect("a real day")
        + chrono::Days::new(rng.gen_range(0..3_900));
    let count = rng.gen_range(2..=4);
    let mut tags: Vec<&str> = TAGS.choose_multiple(&mut rng, count).copied().collect();
    tags.sort_unstable();
    let cta = ["general", "kap", "intensives"][rng.gen_range(0..3)];
    let _ = write!(
        out,
        "---\ntitle: \"{}\"\ndescription: \"{}\"\ndate: {date}\ntags: [{}]\ncta: {cta}\n---\n\n",
        spec.title,
        description(&mut rng),
        tags.join(", ")
    );
    for _ in 0..2 {
        paragraph(&mut rng, &mut out, specs, index);
    }
    let table_at = rng.gen_range(1..spec.sections.len());
    let list_at = rng.gen_range(0..spec.sections.len());
    let mut footnotes = 0;
    for (n, section) in spec.sections.iter().enumerate() {
        out.push_str("## ");
        out.push_str(&section.heading);
        if section.explicit {
            let _ = write!(out, " {{#{}}}", section.id);
        }
        out.push_str("\n\n");
        for _ in 0..rng.gen_range(2..=3) {
            paragraph(&mut rng, &mut out, specs, index);
        }
        if n == list_at {
            list(&mut rng, &mut out);
        }
        if n == table_at {
            table(&mut rng, &mut out);
        }
        if rng.gen_bool(0.4) {
            let _ = writeln!(out, "### {}\n", capitalise(&phrase(&mut rng, 3)));
            paragraph(&mut rng, &mut out, specs, index);
        }
        if footnotes < 2 && rng.gen_bool(0.35) {
            footnotes += 1;
            let sentence = sentence(&mut rng);
            let _ = writeln!(out, "{}[^{footnotes}]\n", sentence.trim_end());
        }
    }
    out.push_str(
        "If you would like to talk about any of this, [book a free consultation](../pages/consultation.md).\n",
    );
    for n in 1..=footnotes {
        let _ = write!(out, "\n[^{n}]: {}\n", sentence(&mut rng).trim_end());
    }
    out
}

fn paragraph(rng: &mut StdRng, out: &mut String, specs: &[Spec], index: usize) {
    let sentences = rng.gen_range(3..=4);
    for s in 0..sentences {
        if s == 2 && specs.len() > 1 && rng.gen_bool(0.3) {
            cross_link(rng, out, specs, index);
        } else {
            out.push_str(&sentence(rng));
        }
    }
    out.pop();
    out.push_str("\n\n");
}

/// A sentence that links to another generated article, often to one of its
/// sections, as the therapist's articles link to each other.
fn cross_link(rng: &mut StdRng, out: &mut String, specs: &[Spec], index: usize) {
    let mut other = rng.gen_range(0..specs.len());
    if other == index {
        other = (other + 1) % specs.len();
    }
    let target = &specs[other];
    if rng.gen_bool(0.5) {
        let section = &target.sections[rng.gen_range(0..target.sections.len())];
        let _ = write!(
            out,
            "There is more on this under [{}]({}.md#{}). ",
            section.heading.to_lowercase(),
            target.slug,
            section.id
        );
    } else {
        let _ = write!(
            out,
            "I wrote about this in [{}]({}.md). ",
            target.title, target.slug
        );
    }
}

fn list(rng: &mut StdRng, out: &mut String) {
    let ordered = rng.gen_bool(0.4);
    for n in 1..=rng.gen_range(4..=6) {
        let words = rng.gen_range(4..=9);
        let item = capitalise(&phrase(rng, words));
        if ordered {
            let _ = writeln!(out, "{n}. {item}");
        } else {
            let _ = writeln!(out, "- {item}");
        }
    }
    out.push('\n');
}

fn table(rng: &mut StdRng, out: &mut String) {
    let columns = ["What to notice", "In the first weeks", "Later on"];
    let _ = writeln!(out, "| {} |\n|---|---|---|", columns.join(" | "));
    for _ in 0..rng.gen_range(3..=5) {
        let cells: Vec<String> = (0..3).map(|_| capitalise(&phrase(rng, 3))).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

fn sentence(rng: &mut StdRng) -> String {
    let words = rng.gen_range(6..=14);
    let mut text = capitalise(&phrase(rng, words));
    if rng.gen_bool(0.15) {
        text.push_str(", ");
        text.push_str(&phrase(rng, 5));
    }
    text.push_str(if rng.gen_bool(0.1) { "? " } else { ". " });
    text
}

fn phrase(rng: &mut StdRng, words: usize) -> String {
    let mut text = String::new();
    for n in 0..words {
        if n > 0 {
            text.push(' ');
        }
        let pool = match n % 4 {
            0 => SUBJECTS,
            1 => VERBS,
            2 => LINKS,
            _ => NOUNS,
        };
        text.push_str(pool[rng.gen_range(0..pool.len())]);
    }
    text
}

fn title(rng: &mut StdRng) -> String {
    let opening = TITLE_OPENINGS[rng.gen_range(0..TITLE_OPENINGS.len())];
    let noun = NOUNS[rng.gen_range(0..NOUNS.len())];
    let close = TITLE_CLOSINGS[rng.gen_range(0..TITLE_CLOSINGS.len())];
    capitalise_words(&format!("{opening} {noun} {close}"))
}

fn heading(rng: &mut StdRng) -> String {
    capitalise(&format!(
        "{} {} {}",
        VERBS[rng.gen_range(0..VERBS.len())],
        LINKS[rng.gen_range(0..LINKS.len())],
        NOUNS[rng.gen_range(0..NOUNS.len())]
    ))
}

fn heading_with(rng: &mut StdRng, n: usize) -> String {
    format!("{} ({})", heading(rng), n + 1)
}

fn description(rng: &mut StdRng) -> String {
    let mut text = capitalise(&phrase(rng, 9));
    text.push_str(", and ");
    text.push_str(&phrase(rng, 4));
    text.push('.');
    text
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn capitalise_words(text: &str) -> String {
    text.split(' ')
        .map(capitalise)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The site's own slug rule for the generated titles (ASCII words).
fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if c == ' ' && !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

const TAGS: &[&str] = &[
    "kap",
    "ketamine",
    "integration",
    "couples",
    "intensives",
    "affair-recovery",
    "trust",
    "grief",
    "anxiety",
    "depression",
    "trauma",
    "self-compassion",
    "boundaries",
    "family",
    "communication",
    "preparation",
    "mindfulness",
    "rest",
    "parenting",
    "change",
];

const SUBJECTS: &[&str] = &[
    "many people",
    "a couple",
    "the session",
    "our work",
    "your body",
    "the mind",
    "a partner",
    "each step",
    "the process",
    "this practice",
    "integration",
    "preparation",
    "a therapist",
    "the space",
    "healing",
    "connection",
    "the family",
    "a new habit",
    "the week",
    "rest",
];

const VERBS: &[&str] = &[
    "notices",
    "invites",
    "supports",
    "allows",
    "shapes",
    "softens",
    "opens",
    "holds",
    "follows",
    "reflects",
    "builds",
    "welcomes",
    "steadies",
    "carries",
    "revisits",
    "names",
    "explores",
    "listens to",
    "returns to",
    "makes room for",
];

const LINKS: &[&str] = &[
    "the",
    "a gentler",
    "a steady",
    "each",
    "some",
    "a quieter",
    "the old",
    "a shared",
    "the daily",
    "a clearer",
    "the hidden",
    "a kinder",
    "every",
    "the inner",
    "a slower",
];

const NOUNS: &[&str] = &[
    "patterns",
    "feelings",
    "questions",
    "memories",
    "conversations",
    "routines",
    "boundaries",
    "hopes",
    "worries",
    "insights",
    "rhythms",
    "choices",
    "stories",
    "needs",
    "moments",
    "relationships",
    "intentions",
    "sensations",
    "habits",
    "goals",
    "values",
    "doubts",
    "strengths",
    "wounds",
    "beliefs",
];

const TITLE_OPENINGS: &[&str] = &[
    "finding steady ground with",
    "what to know about",
    "making room for",
    "a gentle guide to",
    "understanding",
    "how couples talk about",
    "preparing for",
    "coming back to",
    "questions to ask about",
    "learning to trust",
];

const TITLE_CLOSINGS: &[&str] = &[
    "after a hard season",
    "in everyday life",
    "between sessions",
    "as a couple",
    "when change feels slow",
    "with more compassion",
    "in the first weeks",
    "over time",
];
