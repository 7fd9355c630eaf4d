//! Writing checks: advice that makes pages easier to find, read and trust.
//! They are warnings (`Diagnostic::warning`): `check` shows them, but they
//! never keep a page from readers. Each one says what to do instead, at the
//! line of the field or of the rendered block it is about.

use std::path::Path;

use super::Kind;
use super::markdown::Rendered;
use crate::diagnostic::Diagnostic;

/// Search results show about this many characters of a title.
pub const TITLE_MAX: usize = 60;
/// ... and of a description.
pub const DESCRIPTION_MAX: usize = 160;
/// Past this, a paragraph is a wall of text on a phone.
pub const PARAGRAPH_MAX_WORDS: usize = 150;

/// Link words that say nothing about where the link leads.
const VAGUE_LINK_TEXTS: [&str; 12] = [
    "here",
    "click here",
    "click",
    "this",
    "this link",
    "link",
    "this page",
    "read more",
    "more",
    "learn more",
    "go",
    "see here",
];

/// Promises a health site should not make.
const PROMISES: [&str; 18] = [
    "cure",
    "cures",
    "cured",
    "curing",
    "guarantee",
    "guarantees",
    "guaranteed",
    "100%",
    "100 percent",
    "miracle",
    "miracles",
    "miraculous",
    "risk-free",
    "risk free",
    "no side effects",
    "always works",
    "instant relief",
    "permanent relief",
];

/// What the checks look at in one file.
pub struct Draft<'a> {
    /// The file, for the advice's diagnostics.
    pub path: &'a Path,
    pub kind: Kind,
    /// The title shown in search results (`seo_title`, else `title`).
    pub search_title: &'a str,
    pub has_seo_title: bool,
    /// The line of the `seo_title:` (or `title:`) field.
    pub title_line: usize,
    pub description: &'a str,
    pub description_line: usize,
    pub rendered: &'a Rendered,
    pub body: &'a str,
    pub body_line: usize,
    /// Whether the file links to the consultation page.
    pub links_to_consultation: bool,
}

/// Every piece of advice for one file, as warnings at their lines.
pub fn check(draft: &Draft<'_>) -> Vec<Diagnostic> {
    let path = draft.path;
    let mut advice = Vec::new();
    let title_length = draft.search_title.chars().count();
    if title_length > TITLE_MAX {
        let fix = if draft.has_seo_title {
            "shorten `seo_title:`"
        } else {
            "add a shorter `seo_title:` for search results (the page keeps its full title)"
        };
        advice.push(Diagnostic::warning(path,
            draft.title_line,
            format!("the title has {title_length} characters; search results cut titles after about {TITLE_MAX}: {fix}"),
        ));
    }
    let description_length = draft.description.chars().count();
    if description_length > DESCRIPTION_MAX {
        advice.push(Diagnostic::warning(path,
            draft.description_line,
            format!(
                "the description has {description_length} characters; search results cut it after about {DESCRIPTION_MAX}: keep its first sentence, or shorten it"
            ),
        ));
    }
    headings(path, draft.rendered, &mut advice);
    for link in &draft.rendered.link_texts {
        let words = link
            .text
            .trim()
            .trim_end_matches(['.', ':', '!'])
            .to_lowercase();
        if VAGUE_LINK_TEXTS.contains(&words.as_str()) {
            advice.push(Diagnostic::warning(path,
                link.line,
                format!(
                    "the link text “{}” says nothing about where it leads (screen readers list links by their words); link the words that name the page instead, for example [my guide to Ketamine-Assisted Psychotherapy](ketamine-assisted-psychotherapy-guide.md)",
                    link.text.trim()
                ),
            ));
        }
    }
    for &(words, line) in &draft.rendered.paragraphs {
        if words > PARAGRAPH_MAX_WORDS {
            advice.push(Diagnostic::warning(path,
                line,
                format!(
                    "this paragraph has {words} words; on a phone that is a wall of text: split it where the thought turns (under about {PARAGRAPH_MAX_WORDS} words each)"
                ),
            ));
        }
    }
    if draft.kind == Kind::Article && !draft.links_to_consultation {
        advice.push(Diagnostic::warning(path,
            draft.body_line,
            "this article never links to the consultation page; end it with a link such as [book a free {{consultation_minutes}}-minute consultation](../pages/consultation.md)".to_string(),
        ));
    }
    promises(path, draft.body, draft.body_line, &mut advice);
    advice
}

fn headings(path: &Path, rendered: &Rendered, advice: &mut Vec<Diagnostic>) {
    // The page's title is its one level-1 heading.
    let mut previous = 1;
    for heading in &rendered.headings {
        if heading.level == 1 {
            advice.push(Diagnostic::warning(path,
                heading.line,
                "a page has one top-level heading, its title; start this heading with ## instead of #".to_string(),
            ));
        } else if heading.level > previous + 1 {
            advice.push(Diagnostic::warning(path,
                heading.line,
                format!(
                    "this heading skips a level (a level-{} heading after a level-{previous} one); use {} so the outline stays clear for screen readers",
                    heading.level,
                    "#".repeat(usize::from(previous) + 1)
                ),
            ));
        }
        previous = heading.level;
    }
}

fn promises(path: &Path, body: &str, body_line: usize, advice: &mut Vec<Diagnostic>) {
    static FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(PROMISES)
                .expect("the promises are plain words")
        });
    // One pass over the body for every promise at once; then, per line, each
    // promise is reported once, in the order of the list.
    let line_of = |at: usize| body[..at].bytes().filter(|&b| b == b'\n').count();
    let mut found: Vec<(usize, usize, usize)> = FINDER
        .find_iter(body)
        .filter(|m| stands_alone(body, m.start(), m.end()))
        .map(|m| (line_of(m.start()), m.pattern().as_usize(), m.start()))
        .collect();
    found.sort_unstable();
    found.dedup_by_key(|&mut (line, promise, _)| (line, promise));
    for (line, promise, at) in found {
        let line_start = body[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = body[at..].find('\n').map_or(body.len(), |i| at + i);
        let text = &body[line_start..line_end];
        advice.push(Diagnostic::warning(path,
            body_line + line,
            format!(
                "“{}” promises an outcome no therapy can promise, and health advertising must not: “{}”; describe what clients often notice instead",
                PROMISES[promise],
                sentence_around(text, at - line_start)
            ),
        ));
    }
}

/// Whether `text[start..end]` is a whole word (not part of a longer one).
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// The sentence of `line` that contains byte offset `at`.
fn sentence_around(line: &str, at: usize) -> String {
    let ends = |c: char| matches!(c, '.' | '!' | '?');
    let start = line[..at].rfind(ends).map_or(0, |i| i + 1);
    let end = line[at..].find(ends).map_or(line.len(), |i| at + i + 1);
    let sentence = line[start..end].trim();
    let sentence: String = sentence.chars().take(200).collect();
    sentence
        .trim_start_matches(['-', '*', '>', ' '])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::markdown::{self, Resolution};

    fn advice_for(kind: Kind, title: &str, description: &str, body: &str) -> Vec<(usize, String)> {
        let path = Path::new("x.md");
        let rendered = markdown::render(
            path,
            body,
            10,
            &mut |dest| {
                if dest.starts_with("http") {
                    Resolution::External
                } else {
                    Resolution::Internal {
                        href: "/x".into(),
                        target: Some(dest.into()),
                        anchor: None,
                    }
                }
            },
            &crate::images::Catalog::default(),
        );
        let links_to_consultation = rendered
            .links
            .iter()
            .any(|l| l.target.ends_with("consultation.md"));
        check(&Draft {
            path,
            kind,
            search_title: title,
            has_seo_title: false,
            title_line: 2,
            description,
            description_line: 3,
            rendered: &rendered,
            body,
            body_line: 10,
            links_to_consultation,
        })
        .into_iter()
        .map(|advice| {
            assert!(!advice.is_error() && advice.path == path);
            (advice.line, advice.message)
        })
        .collect()
    }

    fn clean_article(extra: &str) -> String {
        format!("Intro.\n\n{extra}\n\n[Book a consultation](../pages/consultation.md).\n")
    }

    #[test]
    fn a_clean_article_gets_no_advice() {
        let advice = advice_for(
            Kind::Article,
            "A title",
            "A description.",
            &clean_article("## Part\n\n### Sub"),
        );
        assert!(advice.is_empty(), "{advice:?}");
    }

    #[test]
    fn each_check_fires_with_its_line() {
        let long_title = "x".repeat(61);
        let long_description = "d".repeat(161);
        let cases: Vec<(String, &str, &str, usize, &str)> = vec![
            (
                clean_article("# Second title"),
                "A title",
                "d",
                12,
                "one top-level heading",
            ),
            (
                clean_article("## Part\n\n#### Deep"),
                "A title",
                "d",
                14,
                "skips a level",
            ),
            (
                clean_article("Read [here](other.md)."),
                "A title",
                "d",
                12,
                "“here” says nothing",
            ),
            (
                clean_article("[Click here](other.md)"),
                "A title",
                "d",
                12,
                "“Click here”",
            ),
            (
                clean_article(&"word ".repeat(151)),
                "A title",
                "d",
                12,
                "151 words",
            ),
            (
                clean_article("KAP is guaranteed to help. Really."),
                "A title",
                "d",
                12,
                "“KAP is guaranteed to help.”",
            ),
            (
                clean_article("It will cure you"),
                "A title",
                "d",
                12,
                "“cure”",
            ),
            (
                clean_article("100% of clients"),
                "A title",
                "d",
                12,
                "“100%”",
            ),
            (clean_article(""), &long_title, "d", 2, "61 characters"),
            (
                clean_article(""),
                "A title",
                &long_description,
                3,
                "161 characters",
            ),
            (
                "No consultation link.\n".to_string(),
                "A title",
                "d",
                10,
                "never links to the consultation",
            ),
        ];
        for (body, title, description, line, expected) in cases {
            let advice = advice_for(Kind::Article, title, description, &body);
            assert!(
                advice
                    .iter()
                    .any(|(l, m)| *l == line && m.contains(expected)),
                "expected line {line} “{expected}” for {body:?}: {advice:?}"
            );
        }
    }

    #[test]
    fn words_inside_other_words_are_not_promises() {
        let advice = advice_for(
            Kind::Page,
            "A title",
            "d",
            "A secure, curious, accurate place.\n",
        );
        assert!(advice.is_empty(), "{advice:?}");
    }

    #[test]
    fn pages_need_no_consultation_link() {
        let advice = advice_for(Kind::Page, "A title", "d", "Text.\n");
        assert!(advice.is_empty(), "{advice:?}");
    }
}
