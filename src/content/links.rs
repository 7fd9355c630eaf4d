//! Cross-links: relative Markdown links to other files become public URLs,
//! and once every file is rendered, their `#anchors` are checked and the link
//! graph ("linked from", related articles) is derived.

use std::collections::HashMap;

use super::markdown::Resolution;

/// Resolves the link destinations written in one file.
pub struct Resolver<'a> {
    /// Content key (`blog/guide.md`) to public URL (`/blog/guide`).
    urls: &'a HashMap<String, String>,
    /// Public URL back to its key, for links written as `/blog/guide`.
    keys_by_url: &'a HashMap<String, String>,
    /// Folder of the file being rendered, as a key prefix (`blog`).
    folder: &'a str,
}

impl<'a> Resolver<'a> {
    pub fn new(
        urls: &'a HashMap<String, String>,
        keys_by_url: &'a HashMap<String, String>,
        folder: &'a str,
    ) -> Self {
        Self {
            urls,
            keys_by_url,
            folder,
        }
    }

    pub fn resolve(&self, dest: &str) -> Resolution {
        let dest = dest.trim();
        if dest.is_empty() {
            return Resolution::Broken(
                "this link has no destination: write one between the parentheses".into(),
            );
        }
        if let Some(anchor) = dest.strip_prefix('#') {
            return Resolution::Internal {
                href: dest.to_string(),
                target: None,
                anchor: Some(anchor.to_string()),
            };
        }
        if let Some(scheme) = scheme_of(dest) {
            return match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" | "mailto" | "tel" => Resolution::External,
                _ => Resolution::Broken(format!(
                    "`{dest}` is not a web address; links go to another Markdown file (other-article.md) or start with https://, mailto: or tel:"
                )),
            };
        }
        if dest.starts_with("//") {
            return Resolution::External;
        }
        let (path, anchor) = match dest.split_once('#') {
            Some((path, anchor)) => (path, Some(anchor.to_string())),
            None => (dest, None),
        };
        if path.starts_with('/') {
            let path = path.trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            return match self.keys_by_url.get(path) {
                Some(key) => self.internal(key, anchor),
                None if path == "/blog" || path.starts_with("/static/") => Resolution::Internal {
                    href: dest.to_string(),
                    target: None,
                    anchor: None,
                },
                None => Resolution::Broken(format!(
                    "there is no page at `{path}`; link to the Markdown file instead, for example [About](../pages/about.md)"
                )),
            };
        }
        let Some(key) = join(self.folder, path) else {
            return Resolution::Broken(format!("`{path}` points outside the content folder"));
        };
        if !key.ends_with(".md") {
            return Resolution::Broken(format!(
                "`{path}` is not a Markdown file; link to another article (other-article.md), a page (../pages/about.md) or a full address (https://...)"
            ));
        }
        if self.urls.contains_key(&key) {
            self.internal(&key, anchor)
        } else {
            Resolution::Broken(format!(
                "links to `{path}`, but there is no file content/{key}; check the file name{}",
                self.suggestion(&key)
            ))
        }
    }

    fn internal(&self, key: &str, anchor: Option<String>) -> Resolution {
        let url = &self.urls[key];
        let href = match &anchor {
            Some(anchor) => format!("{url}#{anchor}"),
            None => url.clone(),
        };
        Resolution::Internal {
            href,
            target: Some(key.to_string()),
            anchor,
        }
    }

    /// Names a file whose name is close, for the typos people make.
    fn suggestion(&self, key: &str) -> String {
        let (folder, name) = key.rsplit_once('/').unwrap_or(("", key));
        let mut best: Option<(usize, &String)> = None;
        for candidate in self.urls.keys() {
            let (candidate_folder, candidate_name) =
                candidate.rsplit_once('/').unwrap_or(("", candidate));
            let distance =
                edit_distance(name, candidate_name) + usize::from(folder != candidate_folder) * 2;
            if distance <= 4 && best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, candidate));
            }
        }
        match best {
            Some((_, key)) => format!(" (did you mean content/{key}?)"),
            None => String::new(),
        }
    }
}

/// `https://x` → `https`; `other.md` → none. A Windows-looking `C:` is not a scheme.
fn scheme_of(dest: &str) -> Option<&str> {
    let (scheme, _) = dest.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// Joins a relative path onto a folder key, resolving `.` and `..`.
/// `None` when it climbs out of the content folder.
fn join(folder: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

/// Related articles: those that share tags or links with an article. Each
/// shared tag scores 2 and a link either way 1; the best come first, ties in
/// the candidates' order (newest first).
///
/// Built once per load from an index of who has which tag and who links to
/// whom, so finding one article's related ones touches only the articles it
/// shares something with, not every article of the site.
pub struct Related<'a> {
    tags: &'a [Vec<String>],
    links: &'a [Vec<usize>],
    /// Each document's place among the candidates (`None`: not a candidate).
    rank: Vec<Option<usize>>,
    /// Candidates by tag, in the candidates' order.
    tagged: HashMap<&'a str, Vec<usize>>,
    /// Candidates that link to each document.
    linked_by: Vec<Vec<usize>>,
}

impl<'a> Related<'a> {
    /// `tags` and `links` are indexed by document; `candidates` are the
    /// documents that may be listed, in the order ties keep.
    pub fn new(tags: &'a [Vec<String>], links: &'a [Vec<usize>], candidates: &[usize]) -> Self {
        let mut rank = vec![None; tags.len()];
        let mut tagged: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut linked_by = vec![Vec::new(); tags.len()];
        for (place, &candidate) in candidates.iter().enumerate() {
            rank[candidate] = Some(place);
            let own = &tags[candidate];
            for (i, tag) in own.iter().enumerate() {
                // A tag written twice is one tag shared.
                if !own[..i].contains(tag) {
                    tagged.entry(tag.as_str()).or_default().push(candidate);
                }
            }
            for &target in &links[candidate] {
                linked_by[target].push(candidate);
            }
        }
        Self {
            tags,
            links,
            rank,
            tagged,
            linked_by,
        }
    }

    /// The best `limit` candidates related to `article`. `scratch` is
    /// working space reused from call to call (see [`Scratch`]).
    pub fn of(&self, article: usize, limit: usize, scratch: &mut Scratch) -> Vec<usize> {
        let Scratch { scores, touched } = scratch;
        if scores.len() < self.rank.len() {
            scores.resize(self.rank.len(), 0);
        }
        let mut add = |other: usize, points: u32| {
            if other == article || self.rank[other].is_none() {
                return;
            }
            if scores[other] == 0 {
                touched.push(other);
            }
            scores[other] += points;
        };
        for tag in &self.tags[article] {
            for &other in self.tagged.get(tag.as_str()).into_iter().flatten() {
                add(other, 2);
            }
        }
        for &other in &self.links[article] {
            add(other, 1);
        }
        for &other in &self.linked_by[article] {
            add(other, 1);
        }
        // The best few, kept in order while every candidate is scored once.
        let mut best: Vec<(std::cmp::Reverse<u32>, Option<usize>, usize)> =
            Vec::with_capacity(limit + 1);
        for other in touched.drain(..) {
            let entry = (
                std::cmp::Reverse(std::mem::take(&mut scores[other])),
                self.rank[other],
                other,
            );
            if best.len() < limit || best.last().is_some_and(|worst| entry < *worst) {
                let at = best.partition_point(|kept| *kept < entry);
                best.insert(at, entry);
                best.truncate(limit);
            }
        }
        best.into_iter().map(|(_, _, other)| other).collect()
    }
}

/// Working space for [`Related::of`]: a score per document (all zero
/// between calls) and the documents scored so far.
#[derive(Default)]
pub struct Scratch {
    scores: Vec<u32>,
    touched: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> (HashMap<String, String>, HashMap<String, String>) {
        let urls: HashMap<String, String> = [
            ("blog/guide.md", "/blog/guide"),
            ("blog/session.md", "/blog/session"),
            ("pages/about.md", "/about"),
            ("pages/home.md", "/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let keys = urls.iter().map(|(k, v)| (v.clone(), k.clone())).collect();
        (urls, keys)
    }

    #[test]
    fn resolves_relative_markdown_links() {
        let (urls, keys) = maps();
        let resolver = Resolver::new(&urls, &keys, "blog");
        let cases = [
            ("guide.md", "/blog/guide", None),
            ("./guide.md#phases", "/blog/guide#phases", Some("phases")),
            ("../pages/about.md", "/about", None),
            ("../blog/session.md", "/blog/session", None),
            ("/about", "/about", None),
            ("/", "/", None),
        ];
        for (dest, href, anchor) in cases {
            match resolver.resolve(dest) {
                Resolution::Internal {
                    href: got,
                    target,
                    anchor: got_anchor,
                } => {
                    assert_eq!(got, href, "{dest}");
                    assert!(target.is_some(), "{dest}");
                    assert_eq!(got_anchor.as_deref(), anchor, "{dest}");
                }
                other => panic!("{dest}: {other:?}"),
            }
        }
    }

    #[test]
    fn external_and_broken_links() {
        let (urls, keys) = maps();
        let resolver = Resolver::new(&urls, &keys, "blog");
        assert_eq!(
            resolver.resolve("https://example.org"),
            Resolution::External
        );
        assert_eq!(resolver.resolve("mailto:a@b.c"), Resolution::External);
        for (dest, expected) in [
            ("gide.md", "did you mean content/blog/guide.md"),
            ("../../secret.md", "outside the content folder"),
            ("photo.png", "not a Markdown file"),
            ("/nowhere", "no page at `/nowhere`"),
            ("javascript:alert(1)", "not a web address"),
            ("", "no destination"),
        ] {
            match resolver.resolve(dest) {
                Resolution::Broken(message) => {
                    assert!(message.contains(expected), "{dest}: {message}")
                }
                other => panic!("{dest}: {other:?}"),
            }
        }
    }

    #[test]
    fn related_prefers_shared_tags_then_links() {
        let tags = vec![
            vec!["kap".to_string(), "brain".to_string()],
            vec!["kap".to_string()],
            vec!["kap".to_string(), "brain".to_string()],
            vec!["couples".to_string()],
        ];
        let links = vec![vec![], vec![0], vec![], vec![]];
        let related = Related::new(&tags, &links, &[0, 1, 2, 3]);
        let mut scratch = Scratch::default();
        assert_eq!(related.of(0, 3, &mut scratch), [2, 1]);
        assert_eq!(related.of(0, 1, &mut scratch), [2]);
        assert_eq!(related.of(0, 0, &mut scratch), Vec::<usize>::new());
        // Only candidates are listed, and ties keep the candidates' order.
        let related = Related::new(&tags, &links, &[3, 2, 1]);
        assert_eq!(related.of(0, 3, &mut scratch), [2, 1]);
        assert_eq!(related.of(3, 3, &mut scratch), Vec::<usize>::new());
        assert!(scratch.scores.iter().all(|&s| s == 0));
    }
}
