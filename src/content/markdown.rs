//! Markdown to HTML: a pure function over pulldown-cmark's events.
//!
//! It assigns heading ids, rewrites links through a resolver the caller
//! supplies, and collects what the rest of the engine needs (headings for the
//! table of contents and anchor checks, internal links, problems with their
//! lines). It never stops at the first problem.

use std::collections::HashSet;
use std::fmt::Write as _;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};

use crate::diagnostic::LineIndex;

/// What a link destination turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Another site's page (or mail/phone): kept, opened with `rel="noopener"`.
    External,
    /// A page of this site. `target` names the file when the link was to one,
    /// so anchors can be checked once every file is rendered.
    Internal {
        href: String,
        target: Option<String>,
        anchor: Option<String>,
    },
    /// A link that cannot work; the message says what to fix.
    Broken(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
    pub line: usize,
}

/// A link's visible words, for the writing checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkText {
    pub text: String,
    pub dest: String,
    pub line: usize,
}

/// A link to another file of the content, found while rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalLink {
    /// The destination as written in the file, for messages.
    pub written: String,
    /// The target file, as the resolver named it.
    pub target: String,
    pub anchor: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
    pub links: Vec<InternalLink>,
    /// Same-page `#anchor` links, checked against this page's own headings.
    pub self_anchors: Vec<(String, usize)>,
    pub problems: Vec<Problem>,
    pub word_count: usize,
    pub link_texts: Vec<LinkText>,
    /// Each paragraph's word count and first line.
    pub paragraphs: Vec<(usize, usize)>,
}

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders `markdown`, whose first line is line `first_line` of its file.
pub fn render(
    markdown: &str,
    first_line: usize,
    resolve: &mut dyn FnMut(&str) -> Resolution,
) -> Rendered {
    let lines = LineIndex::new(markdown);
    let line_at = |offset: usize| lines.line_of(offset) + first_line - 1;
    let mut rendered = Rendered::default();
    let mut used_ids = HashSet::new();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut heading: Option<OpenHeading<'_>> = None;
    let mut image: Option<OpenImage> = None;
    let mut link: Option<LinkText> = None;
    let mut paragraph: Option<(usize, usize)> = None;

    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        let line = line_at(range.start);
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                heading = Some(OpenHeading {
                    level,
                    custom_id: id,
                    events: Vec::new(),
                    text: String::new(),
                    line,
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(open) = heading.take() {
                    let text = open.text.trim().to_string();
                    let id = unique_id(
                        &mut used_ids,
                        open.custom_id
                            .as_deref()
                            .map_or_else(|| slugify(&text), str::to_string),
                    );
                    if text.is_empty() {
                        rendered.problems.push(Problem {
                            line: open.line,
                            message: "this heading has no text".to_string(),
                        });
                    }
                    let level = heading_number(open.level);
                    events.push(Event::Html(
                        format!("<h{level} id=\"{}\">", escape_attribute(&id)).into(),
                    ));
                    events.extend(open.events);
                    events.push(Event::Html(
                        format!(
                            "<a class=\"heading-anchor\" href=\"#{}\" aria-label=\"Link to this section\">#</a></h{level}>\n",
                            escape_attribute(&id)
                        )
                        .into(),
                    ));
                    rendered.headings.push(Heading {
                        level,
                        id,
                        text,
                        line: open.line,
                    });
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => {
                let dest = if matches!(link_type, pulldown_cmark::LinkType::Email) {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                };
                link = Some(LinkText {
                    text: String::new(),
                    dest: dest.clone(),
                    line,
                });
                let tag = link_tag(&dest, &title, line, resolve(&dest), &mut rendered);
                push(&mut heading, &mut events, Event::InlineHtml(tag.into()));
            }
            Event::End(TagEnd::Link) => {
                if let Some(mut done) = link.take() {
                    done.text = done.text.trim().to_string();
                    rendered.link_texts.push(done);
                }
                push(&mut heading, &mut events, Event::InlineHtml("</a>".into()));
            }
            Event::Start(Tag::Image { ref dest_url, .. }) => {
                if is_other_site(dest_url) {
                    rendered.problems.push(Problem {
                        line,
                        message: format!(
                            "the image `{dest_url}` is on another site, which would learn who reads this page; put the file in static/images/ and write /static/images/<name>"
                        ),
                    });
                }
                image = Some(OpenImage {
                    dest: dest_url.to_string(),
                    line,
                    has_alt: false,
                });
                push(&mut heading, &mut events, event);
            }
            Event::End(TagEnd::Image) => {
                if let Some(open) = image.take()
                    && !open.has_alt
                {
                    rendered.problems.push(Problem {
                        line: open.line,
                        message: format!(
                            "the image `{}` has no alt text; describe it between the brackets, for example ![A calm office with two chairs]({})",
                            open.dest, open.dest
                        ),
                    });
                }
                push(&mut heading, &mut events, event);
            }
            Event::Start(Tag::Paragraph) => {
                paragraph = Some((0, line));
                push(&mut heading, &mut events, event);
            }
            Event::End(TagEnd::Paragraph) => {
                rendered.paragraphs.extend(paragraph.take());
                push(&mut heading, &mut events, event);
            }
            // A wide table scrolls inside its own focusable box on phones,
            // so the page never scrolls sideways and it stays a table.
            Event::Start(Tag::Table(_)) => {
                push(
                    &mut heading,
                    &mut events,
                    Event::Html("<div class=\"table-wrap\" role=\"region\" aria-label=\"Table\" tabindex=\"0\">\n".into()),
                );
                push(&mut heading, &mut events, event);
            }
            Event::End(TagEnd::Table) => {
                push(&mut heading, &mut events, event);
                push(&mut heading, &mut events, Event::Html("</div>\n".into()));
            }
            Event::Text(ref text) | Event::Code(ref text) => {
                let words = text.split_whitespace().count();
                rendered.word_count += words;
                if let Some((count, _)) = paragraph.as_mut() {
                    *count += words;
                }
                if let Some(open) = link.as_mut() {
                    open.text.push_str(text);
                }
                if let Some(open) = heading.as_mut() {
                    open.text.push_str(text);
                }
                if let Some(open) = image.as_mut()
                    && !text.trim().is_empty()
                {
                    open.has_alt = true;
                }
                push(&mut heading, &mut events, event);
            }
            Event::Html(ref html) | Event::InlineHtml(ref html) => {
                for message in raw_html_problems(html) {
                    rendered.problems.push(Problem { line, message });
                }
                push(&mut heading, &mut events, event);
            }
            other => push(&mut heading, &mut events, other),
        }
    }

    pulldown_cmark::html::push_html(&mut rendered.html, events.into_iter());
    rendered
}

struct OpenHeading<'a> {
    level: HeadingLevel,
    custom_id: Option<CowStr<'a>>,
    events: Vec<Event<'a>>,
    text: String,
    line: usize,
}

struct OpenImage {
    dest: String,
    line: usize,
    has_alt: bool,
}

/// Events inside a heading are held until its id is known.
fn push<'a>(heading: &mut Option<OpenHeading<'a>>, events: &mut Vec<Event<'a>>, event: Event<'a>) {
    match heading {
        Some(open) => open.events.push(event),
        None => events.push(event),
    }
}

fn link_tag(
    dest: &str,
    title: &str,
    line: usize,
    resolution: Resolution,
    rendered: &mut Rendered,
) -> String {
    let mut tag = String::from("<a href=\"");
    let rel = match resolution {
        Resolution::External => {
            escape_href(&mut tag, dest).expect("writing to a String cannot fail");
            true
        }
        Resolution::Internal {
            href,
            target,
            anchor,
        } => {
            escape_href(&mut tag, &href).expect("writing to a String cannot fail");
            match target {
                Some(target) => rendered.links.push(InternalLink {
                    written: dest.to_string(),
                    target,
                    anchor,
                    line,
                }),
                None => {
                    if let Some(anchor) = anchor {
                        rendered.self_anchors.push((anchor, line));
                    }
                }
            }
            false
        }
        Resolution::Broken(message) => {
            rendered.problems.push(Problem { line, message });
            escape_href(&mut tag, dest).expect("writing to a String cannot fail");
            false
        }
    };
    tag.push('"');
    if !title.is_empty() {
        let _ = write!(tag, " title=\"{}\"", escape_attribute(title));
    }
    if rel {
        tag.push_str(" rel=\"noopener\"");
    }
    tag.push('>');
    tag
}

fn is_other_site(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("http:") || lower.starts_with("https:") || lower.starts_with("//")
}

/// Raw HTML stays the therapist's choice, but nothing in it may run script
/// (the site's security policy would block it anyway, silently) or load
/// anything from another site (which would learn who reads the page).
fn raw_html_problems(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut problems = Vec::new();
    if lower.contains("<script") {
        problems.push(
            "raw HTML here contains a <script>; the site runs no scripts in pages: remove it"
                .to_string(),
        );
    }
    if lower.contains("javascript:") {
        problems.push("raw HTML here contains a `javascript:` address; links must go to a page (https://…, mailto:, tel:)".to_string());
    }
    if let Some(handler) = event_handler(&lower) {
        problems.push(format!(
            "raw HTML here has an `{handler}=` attribute, which runs script; remove it"
        ));
    }
    for tag in ["<iframe", "<embed", "<object", "<link", "<base", "<form"] {
        if lower.contains(tag) {
            problems.push(format!(
                "raw HTML here contains {tag}>, which loads or sends to another page; remove it (the consultation page has the booking form)"
            ));
        }
    }
    for attribute in ["src=", "srcset=", "poster=", "data="] {
        for (at, _) in lower.match_indices(attribute) {
            let value = lower[at + attribute.len()..].trim_start_matches(['"', '\'', ' ']);
            if is_other_site(value) {
                problems.push(format!(
                    "raw HTML here loads `{}` from another site, which would learn who reads this page; serve the file from static/ instead",
                    value.split(['"', '\'', ' ', '>']).next().unwrap_or(value)
                ));
            }
        }
    }
    problems
}

/// The first `on…=` attribute inside a tag, such as `onclick`.
fn event_handler(lower: &str) -> Option<String> {
    let mut in_tag = false;
    let bytes = lower.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b'o' if in_tag
                && i > 0
                && (bytes[i - 1].is_ascii_whitespace()
                    || bytes[i - 1] == b'/'
                    || bytes[i - 1] == b'"'
                    || bytes[i - 1] == b'\'')
                && bytes.get(i + 1) == Some(&b'n') =>
            {
                let name: String = lower[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                let rest = lower[i + name.len()..].trim_start();
                if name.len() > 2 && rest.starts_with('=') {
                    return Some(name);
                }
            }
            _ => {}
        }
    }
    None
}

fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    escape_html(&mut out, value).expect("writing to a String cannot fail");
    out
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// A heading's id from its text: "What KAP Adds: Integration" becomes
/// `what-kap-adds-integration`. Stable as long as the words stay the same.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if (c.is_whitespace() || c == '-' || c == '–' || c == '—' || c == '/')
            && !slug.is_empty()
            && !slug.ends_with('-')
        {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        "section".to_string()
    } else {
        slug
    }
}

fn unique_id(used: &mut HashSet<String>, wanted: String) -> String {
    if used.insert(wanted.clone()) {
        return wanted;
    }
    (1..)
        .map(|n| format!("{wanted}-{n}"))
        .find(|candidate| used.insert(candidate.clone()))
        .expect("an unused suffix always exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_plain(markdown: &str) -> Rendered {
        render(markdown, 1, &mut |dest| {
            if dest.starts_with("http") {
                Resolution::External
            } else if let Some(anchor) = dest.strip_prefix('#') {
                Resolution::Internal {
                    href: dest.to_string(),
                    target: None,
                    anchor: Some(anchor.to_string()),
                }
            } else if dest.ends_with(".md") {
                Resolution::Internal {
                    href: format!("/blog/{}", dest.trim_end_matches(".md")),
                    target: Some(dest.to_string()),
                    anchor: None,
                }
            } else {
                Resolution::Broken(format!("no such file `{dest}`"))
            }
        })
    }

    #[test]
    fn headings_get_stable_unique_ids_and_anchor_links() {
        let out = render_plain("## What KAP Adds: Integration\n\n## Notes\n\n## Notes\n");
        let ids: Vec<_> = out.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["what-kap-adds-integration", "notes", "notes-1"]);
        assert!(
            out.html
                .contains("<h2 id=\"what-kap-adds-integration\">What KAP Adds: Integration<a class=\"heading-anchor\" href=\"#what-kap-adds-integration\"")
        );
    }

    #[test]
    fn custom_heading_ids_win() {
        let out = render_plain("## What KAP Adds: The Healing Power {#what-kap-adds}\n");
        assert_eq!(out.headings[0].id, "what-kap-adds");
        assert_eq!(out.headings[0].text, "What KAP Adds: The Healing Power");
    }

    #[test]
    fn links_are_rewritten_and_collected_with_lines() {
        let out = render_plain(
            "Intro.\n\nSee [the guide](guide.md) and [a site](https://example.org).\n",
        );
        assert!(
            out.html.contains("<a href=\"/blog/guide\">the guide</a>"),
            "{}",
            out.html
        );
        assert!(
            out.html
                .contains("<a href=\"https://example.org\" rel=\"noopener\">a site</a>")
        );
        assert_eq!(
            out.links,
            [InternalLink {
                written: "guide.md".into(),
                target: "guide.md".into(),
                anchor: None,
                line: 3
            }]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let out = render_plain("[a](missing.txt)\n\n![](photo.jpg)\n\n[b](other.txt)\n");
        let lines: Vec<_> = out.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 3, 5]);
        assert!(out.problems[1].message.contains("alt text"));
    }

    #[test]
    fn first_line_offsets_lines() {
        let out = render("a\n\n[x](y.txt)", 10, &mut |_| {
            Resolution::Broken("nope".into())
        });
        assert_eq!(out.problems[0].line, 12);
    }

    #[test]
    fn tables_footnotes_strikethrough_and_smart_quotes() {
        let out = render_plain(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1] ~~old~~ \"quoted\"\n\n[^1]: A note.\n",
        );
        assert!(out.html.contains("<div class=\"table-wrap\" role=\"region\" aria-label=\"Table\" tabindex=\"0\">\n<table>"));
        assert!(out.html.contains("</table>\n</div>"));
        assert!(out.html.contains("footnote-reference"));
        assert!(out.html.contains("<del>old</del>"));
        assert!(out.html.contains("“quoted”"));
    }

    #[test]
    fn titles_and_hrefs_are_escaped() {
        let out = render_plain("[x](https://example.org/?a=1&b=\"2\" \"a \\\"title\\\" <b>\")\n");
        assert!(out.html.contains("&amp;b="), "{}", out.html);
        assert!(
            out.html.contains("title=\"a &quot;title&quot; &lt;b&gt;\""),
            "{}",
            out.html
        );
    }

    #[test]
    fn raw_html_cannot_run_script_or_reach_other_sites() {
        for (html, expected) in [
            ("<script>alert(1)</script>", "<script>"),
            ("<a href=\"javascript:alert(1)\">x</a>", "javascript:"),
            (
                "<img src=\"/static/a.png\" onerror=\"alert(1)\">",
                "`onerror=`",
            ),
            ("<div ONCLICK = 'x()'>", "`onclick=`"),
            ("<iframe src=\"https://maps.example\"></iframe>", "<iframe>"),
            (
                "<img src=\"https://tracker.example/p.gif\">",
                "https://tracker.example/p.gif",
            ),
            ("<img src=//cdn.example/x.png>", "//cdn.example/x.png"),
        ] {
            let out = render_plain(&format!("Text.\n\n{html}\n"));
            assert!(
                out.problems
                    .iter()
                    .any(|p| p.line == 3 && p.message.contains(expected)),
                "{html}: {:?}",
                out.problems
            );
        }
        let fine = render_plain(
            "<details><summary>More</summary>\n\nText with <em>one</em> word, online and onward.\n\n</details>\n",
        );
        assert!(fine.problems.is_empty(), "{:?}", fine.problems);
        let image = render_plain("![A chart](https://example.org/chart.png)\n");
        assert!(image.problems[0].message.contains("on another site"));
    }

    #[test]
    fn slugify_handles_punctuation_and_unicode() {
        assert_eq!(
            slugify("KAP vs. IV — What’s the Difference?"),
            "kap-vs-iv-whats-the-difference"
        );
        assert_eq!(slugify("  Über   Café "), "über-café");
        assert_eq!(slugify("?!"), "section");
    }
}
