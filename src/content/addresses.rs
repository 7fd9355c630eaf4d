//! The addresses pass: every file's public address (the permalink map the
//! renderer resolves links against), the pages the site cannot do without,
//! aliases, and the one report of an address claimed twice. Also what `new`
//! asks before it starts an article: who holds an address.

use std::collections::HashMap;
use std::path::Path;

use super::parse::{Parsed, normalize_alias};
use super::{Kind, LoadOptions, REQUIRED_PAGES, front_matter, load::markdown_files};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Which file holds `url` under `content_dir`, said for a message: the file
/// whose address it is, or the file that keeps it as an old address in its
/// `aliases:`. Reads only the front matter, so it answers even when the
/// content has other problems; `new` uses it so a new article never takes
/// an address that is already answered.
pub fn address_holder(content_dir: &Path, url: &str) -> Option<String> {
    for (folder, kind) in [("blog", Kind::Article), ("pages", Kind::Page)] {
        for path in markdown_files(&content_dir.join(folder), &mut Diagnostics::default()) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(split) = front_matter::split(&path, &text) else {
                continue;
            };
            let Ok((front, _, _)) = front_matter::parse(&path, &split) else {
                continue;
            };
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let slug = front.slug.as_deref().unwrap_or(&stem);
            if public_url(kind, slug) == url {
                return Some(format!("{} has it", path.display()));
            }
            if front
                .aliases
                .iter()
                .any(|alias| normalize_alias(alias).is_ok_and(|alias| alias == url))
            {
                return Some(format!(
                    "{} keeps it as an old address (`aliases:`), so links to it lead there",
                    path.display()
                ));
            }
        }
    }
    None
}

pub(super) fn check_required_pages(
    content_dir: &Path,
    parsed: &[&Parsed],
    options: &LoadOptions,
    problems: &mut Diagnostics,
) {
    for slug in REQUIRED_PAGES {
        if !parsed
            .iter()
            .any(|f| f.kind == Kind::Page && f.slug == slug && f.meta.is_visible(options))
        {
            problems.push(Diagnostic::new(
                &content_dir.join("pages").join(format!("{slug}.md")),
                1,
                format!("this page is missing (or a draft, scheduled, expired or retired); the site links to it from every page, so it must exist with `slug: {slug}`"),
            ));
        }
    }
}

/// An alias must not shadow a page, nor be claimed twice.
pub(super) fn check_aliases(
    parsed: &[&Parsed],
    sources_by_url: &HashMap<String, &Path>,
    problems: &mut Diagnostics,
) {
    let mut claimed: HashMap<&str, &Path> = HashMap::new();
    for file in parsed {
        let line = file.fields.line("aliases");
        for alias in &file.meta.aliases {
            if let Some(owner) = sources_by_url.get(alias.as_str()) {
                problems.push(Diagnostic::new(
                    &file.source,
                    line,
                    format!(
                        "the alias {alias} is the address of {}; an alias must be an old address that no page uses any more",
                        owner.display()
                    ),
                ));
            } else if let Some(other) = claimed.insert(alias, &file.source) {
                problems.push(Diagnostic::new(
                    &file.source,
                    line,
                    format!(
                        "the alias {alias} is also claimed by {}; keep it in one file",
                        other.display()
                    ),
                ));
            }
        }
    }
}

/// The permalink map, and the files that lost their address to another.
pub(super) struct Addresses<'a> {
    /// File key → its address (also for a file that lost it, so links to it
    /// resolve and only the real problem is reported).
    pub(super) urls: HashMap<String, String>,
    /// Address → the key of the file that has it.
    pub(super) keys_by_url: HashMap<String, String>,
    /// Address → the file that has it.
    pub(super) sources_by_url: HashMap<String, &'a Path>,
    /// Files whose address another file has: they are not built.
    pub(super) lost: Lost,
}

/// The files that lost their address to another, and the addresses they
/// answered before (the one their name makes, their aliases), so the checks
/// that would fail only because they are not built can pass over them.
#[derive(Default)]
pub(super) struct Lost {
    pub(super) keys: Vec<String>,
    pub(super) addresses: Vec<String>,
}

impl Lost {
    fn add(&mut self, file: &Parsed) {
        self.keys.push(file.key.clone());
        let name = file.key.rsplit('/').next().unwrap_or_default();
        let from_name = public_url(file.kind, name.trim_end_matches(".md"));
        self.addresses.push(from_name);
        self.addresses.extend(file.meta.aliases.iter().cloned());
    }
}

/// Gives every file its address. Two files claiming one address is one
/// problem: the file whose name makes the address keeps it, and the one that
/// claims it with `slug:` is told so at that line, naming the other (at line
/// 1 when both take it from their names).
pub(super) fn assign_addresses<'a>(
    parsed: &[&'a Parsed],
    problems: &mut Diagnostics,
) -> Addresses<'a> {
    let mut holders: HashMap<String, &'a Parsed> = HashMap::new();
    let mut lost = Lost::default();
    for &file in parsed {
        let url = public_url(file.kind, &file.slug);
        let Some(holder) = holders.get_mut(&url) else {
            holders.insert(url, file);
            continue;
        };
        let loser = if holder.slug_line.is_some() && file.slug_line.is_none() {
            std::mem::replace(holder, file)
        } else {
            file
        };
        let keeper = holders[&url];
        let message = match loser.slug_line {
            Some(_) => format!(
                "`slug: {}` gives the address {url}, which {} already has; give this file another `slug:`",
                loser.slug,
                keeper.source.display()
            ),
            None => format!(
                "the file name makes the address {url}, which {} also has; rename one of them or give it another `slug:`",
                keeper.source.display()
            ),
        };
        problems.push(Diagnostic::new(
            &loser.source,
            loser.slug_line.unwrap_or(1),
            message,
        ));
        lost.add(loser);
    }
    let mut addresses = Addresses {
        urls: HashMap::new(),
        keys_by_url: HashMap::new(),
        sources_by_url: HashMap::new(),
        lost,
    };
    for file in parsed {
        addresses
            .urls
            .insert(file.key.clone(), public_url(file.kind, &file.slug));
    }
    for (url, file) in holders {
        addresses.keys_by_url.insert(url.clone(), file.key.clone());
        addresses.sources_by_url.insert(url, &file.source);
    }
    addresses
}

pub(super) fn public_url(kind: Kind, slug: &str) -> String {
    match (kind, slug) {
        (Kind::Page, "home") => "/".to_string(),
        (Kind::Page, slug) => format!("/{slug}"),
        (Kind::Article, slug) => format!("/blog/{slug}"),
    }
}
