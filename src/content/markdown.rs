//! Markdown to HTML: a pure function over pulldown-cmark's events.
//!
//! It assigns heading ids, rewrites links through a resolver the caller
//! supplies, and collects what the rest of the engine needs (headings for the
//! table of contents and anchor checks, internal links, each block's text,
//! problems). It never stops at the first problem. Problems are
//! `Diagnostic`s for the file it is given, at the line of pulldown-cmark's
//! own byte offset for the event.
//!
//! Raw HTML the writer puts in the Markdown is read by html5ever's tokenizer
//! (Servo's browser-grade HTML5 tokenizer, the one `scraper` is built on),
//! not by hand: it reads tags, attributes and character references exactly
//! as a browser does, so no spelling of a script or of another site's
//! address can slip past the check (see `raw_html_problems`).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, LineIndex};
use crate::images::{Catalog, Picture};

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

#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
    pub links: Vec<InternalLink>,
    /// Same-page `#anchor` links, checked against this page's own headings.
    pub self_anchors: Vec<(String, usize)>,
    /// Problems found while rendering, each at its line of the file: errors,
    /// and advice (a footnote never referred to) as warnings.
    pub problems: Vec<Diagnostic>,
    pub word_count: usize,
    pub link_texts: Vec<LinkText>,
    /// Each paragraph's word count and first line.
    pub paragraphs: Vec<(usize, usize)>,
    /// The readable text of each block (paragraph, heading, list item, table
    /// cell), for checks that read what the page says.
    pub blocks: Vec<TextBlock>,
    /// The photos of `content/images/` its images name, each with the hash
    /// it had (none: not there), so a later load knows whether a photo
    /// this rendering showed has changed.
    pub pictures: Vec<(String, Option<String>)>,
    /// The file, for the problems' diagnostics.
    path: PathBuf,
}

impl Rendered {
    fn problem(&mut self, line: usize, message: impl Into<String>) {
        self.problems
            .push(Diagnostic::new(&self.path, line, message));
    }
}

/// One block's text as a reader sees it (no addresses, no markup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextBlock {
    /// The line of its first word.
    pub line: usize,
    pub text: String,
    /// It holds a link or a footnote reference: it names where it comes from.
    pub sourced: bool,
    /// It is part of a footnote: it is a source, not a claim.
    pub in_source: bool,
}

/// The id of the "Sources" section that ends a page with footnotes; kept
/// from headings so a "## Sources" heading cannot take it.
pub const SOURCES_ID: &str = "sources";

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders `markdown`, whose first line is line `first_line` of the file
/// at `path`. Lines come from pulldown-cmark's own byte offsets. An image
/// of `content/images/` becomes its `pictures` entry's `<picture>`.
pub fn render(
    path: &Path,
    markdown: &str,
    first_line: usize,
    resolve: &mut dyn FnMut(&str) -> Resolution,
    pictures: &Catalog,
) -> Rendered {
    let lines = LineIndex::new(markdown);
    let line_at = |offset: usize| lines.line_of(offset) + first_line - 1;
    let mut renderer = Renderer {
        rendered: Rendered {
            path: path.to_path_buf(),
            ..Rendered::default()
        },
        // The sources section takes this id whenever the page has footnotes.
        used_ids: HashSet::from([SOURCES_ID.to_string()]),
        events: Vec::new(),
        heading: None,
        image: None,
        link: None,
        paragraph: None,
        html_block: None,
        blocks: Blocks::default(),
        footnotes: Footnotes::default(),
        resolve,
        pictures,
    };
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        renderer.event(event, line_at(range.start));
    }
    let Renderer {
        mut rendered,
        mut events,
        blocks,
        footnotes,
        ..
    } = renderer;
    rendered.blocks = blocks.finish();
    for (label, line) in undefined_footnotes(markdown, &footnotes.defined) {
        rendered.problem(
            line_at(line),
            format!(
                "the footnote [^{label}] is never defined; add its source on a line of its own, for example `[^{label}]: Author, “Title”, Journal (Year), https://…`"
            ),
        );
    }
    // `#sources`, `#source-2` and `#cite-2` are this page's own anchors too.
    let sources_ids = footnotes.ids();
    rendered
        .self_anchors
        .retain(|(anchor, _)| !sources_ids.contains(anchor));
    for (label, line) in footnotes.append_sources(&mut events) {
        rendered.problems.push(Diagnostic::warning(
            path,
            line,
            format!(
                "the footnote [^{label}] is never referred to, so it is left out of the sources; cite it with [^{label}] where it supports the text, or remove it"
            ),
        ));
    }
    pulldown_cmark::html::push_html(&mut rendered.html, events.into_iter());
    rendered
}

/// One rendering in progress: what is open (a heading, link, image,
/// paragraph, HTML block, footnote definition) and what is gathered.
struct Renderer<'a, 'r> {
    rendered: Rendered,
    used_ids: HashSet<String>,
    events: Vec<Event<'a>>,
    heading: Option<OpenHeading<'a>>,
    image: Option<OpenImage>,
    link: Option<LinkText>,
    /// The open paragraph's word count and first line.
    paragraph: Option<(usize, usize)>,
    /// The open HTML block's first line and text.
    html_block: Option<(usize, String)>,
    blocks: Blocks,
    footnotes: Footnotes<'a>,
    resolve: &'r mut dyn FnMut(&str) -> Resolution,
    pictures: &'r Catalog,
}

impl<'a> Renderer<'a, '_> {
    fn event(&mut self, event: Event<'a>, line: usize) {
        self.blocks.see(&event, line);
        match event {
            Event::FootnoteReference(ref label) => {
                let sup = self.footnotes.reference(label);
                self.push(Event::InlineHtml(sup.into()));
            }
            // A definition's events are set aside where it is written and
            // placed, numbered, in the sources list at the end.
            Event::Start(Tag::FootnoteDefinition(label)) => {
                self.footnotes.open = Some((label.to_string(), line, self.events.len()));
            }
            Event::End(TagEnd::FootnoteDefinition) => self.footnotes.close(&mut self.events),
            Event::Start(Tag::Heading { level, id, .. }) => {
                self.heading = Some(OpenHeading {
                    level,
                    custom_id: id,
                    events: Vec::new(),
                    text: String::new(),
                    line,
                });
            }
            Event::End(TagEnd::Heading(_)) => self.close_heading(),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => self.open_link(link_type, &dest_url, &title, line),
            Event::End(TagEnd::Link) => {
                if let Some(mut done) = self.link.take() {
                    done.text = done.text.trim().to_string();
                    self.rendered.link_texts.push(done);
                }
                self.push(Event::InlineHtml("</a>".into()));
            }
            // An image inside another's alt text is part of that text.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image)
                if self
                    .image
                    .as_ref()
                    .is_some_and(|open| open.nested > 0 || matches!(event, Event::Start(_))) =>
            {
                if let Some(open) = self.image.as_mut() {
                    match event {
                        Event::Start(_) => open.nested += 1,
                        _ => open.nested -= 1,
                    }
                }
                self.push(event);
            }
            Event::Start(Tag::Image { ref dest_url, .. }) => {
                if !self.open_image(dest_url, line) {
                    self.push(event);
                }
            }
            Event::End(TagEnd::Image) => {
                if let Some(html) = self.close_image() {
                    self.push(Event::InlineHtml(html.into()));
                } else {
                    self.push(event);
                }
            }
            Event::Start(Tag::Paragraph) => {
                self.paragraph = Some((0, line));
                self.push(event);
            }
            Event::End(TagEnd::Paragraph) => {
                self.rendered.paragraphs.extend(self.paragraph.take());
                self.push(event);
            }
            // A wide table scrolls inside its own focusable box on phones,
            // so the page never scrolls sideways and it stays a table.
            Event::Start(Tag::Table(_)) => {
                self.push(Event::Html("<div class=\"table-wrap\" role=\"region\" aria-label=\"Table\" tabindex=\"0\">\n".into()));
                self.push(event);
            }
            Event::End(TagEnd::Table) => {
                self.push(event);
                self.push(Event::Html("</div>\n".into()));
            }
            Event::Text(ref text) | Event::Code(ref text) => {
                self.text(text);
                self.push(event);
            }
            Event::Start(Tag::HtmlBlock)
            | Event::End(TagEnd::HtmlBlock)
            | Event::Html(_)
            | Event::InlineHtml(_) => self.html(event, line),
            Event::SoftBreak | Event::HardBreak => {
                if let Some(open) = self.image.as_mut() {
                    open.alt.push(' ');
                }
                self.push(event);
            }
            other => self.push(other),
        }
    }

    /// Events inside a heading are held until its id is known; those of a
    /// photo's alt text are its `alt` (held in [`OpenImage`]), not HTML.
    fn push(&mut self, event: Event<'a>) {
        if self
            .image
            .as_ref()
            .is_some_and(|open| open.picture.is_some())
        {
            return;
        }
        match &mut self.heading {
            Some(open) => open.events.push(event),
            None => self.events.push(event),
        }
    }

    /// A heading, once its text is known: its id (unique on the page), its
    /// anchor link, and its place in the outline.
    fn close_heading(&mut self) {
        let Some(open) = self.heading.take() else {
            return;
        };
        let text = open.text.trim().to_string();
        let id = unique_id(
            &mut self.used_ids,
            open.custom_id
                .as_deref()
                .map_or_else(|| slugify(&text), str::to_string),
        );
        if text.is_empty() {
            self.rendered.problem(open.line, "this heading has no text");
        }
        let level = heading_number(open.level);
        self.events.push(Event::Html(
            format!("<h{level} id=\"{}\">", escape_attribute(&id)).into(),
        ));
        self.events.extend(open.events);
        self.events.push(Event::Html(
            format!(
                "<a class=\"heading-anchor\" href=\"#{}\" aria-label=\"Link to this section\">#</a></h{level}>\n",
                escape_attribute(&id)
            )
            .into(),
        ));
        self.rendered.headings.push(Heading {
            level,
            id,
            text,
            line: open.line,
        });
    }

    /// A link's opening tag, its destination rewritten by the resolver.
    fn open_link(
        &mut self,
        link_type: pulldown_cmark::LinkType,
        dest_url: &str,
        title: &str,
        line: usize,
    ) {
        let dest = if matches!(link_type, pulldown_cmark::LinkType::Email) {
            format!("mailto:{dest_url}")
        } else {
            dest_url.to_string()
        };
        self.link = Some(LinkText {
            text: String::new(),
            dest: dest.clone(),
            line,
        });
        let resolution = (self.resolve)(&dest);
        let tag = link_tag(&dest, title, line, resolution, &mut self.rendered);
        self.push(Event::InlineHtml(tag.into()));
    }

    /// An image opens; true when it is a photo of `content/images/`,
    /// which is written whole when it closes.
    fn open_image(&mut self, dest_url: &str, line: usize) -> bool {
        if is_other_site(dest_url) {
            self.rendered.problem(
                line,
                format!(
                    "the image `{dest_url}` is on another site, which would learn who reads this page; upload it in the editor (Add an image) and write /images/<name>"
                ),
            );
        }
        let picture = match self.pictures.find(dest_url.trim()) {
            Some(Ok(picture)) => {
                let seen = (picture.name.clone(), Some(picture.hash.clone()));
                self.rendered.pictures.push(seen);
                Some(picture.clone())
            }
            Some(Err(why)) => {
                let name = dest_url.rsplit('/').next().unwrap_or_default();
                self.rendered.pictures.push((name.to_string(), None));
                self.rendered.problem(line, why);
                None
            }
            None => None,
        };
        let is_picture = picture.is_some();
        self.image = Some(OpenImage {
            dest: dest_url.to_string(),
            line,
            alt: String::new(),
            nested: 0,
            picture,
        });
        is_picture
    }

    /// An image closes: a problem if it has no alt text, and the HTML of
    /// a photo of `content/images/` (the first of the page loads at once,
    /// the others as the reader nears them).
    fn close_image(&mut self) -> Option<String> {
        let open = self.image.take()?;
        let alt = open.alt.trim();
        if alt.is_empty() {
            self.rendered.problem(
                open.line,
                format!(
                    "the image `{}` has no alt text; describe it between the brackets, for example ![A calm office with two chairs]({})",
                    open.dest, open.dest
                ),
            );
        }
        let picture: Picture = open.picture?;
        let first = self.rendered.pictures.len() == 1;
        Some(picture.html(alt, first))
    }

    /// Words count towards the page and the open paragraph, and are the
    /// text of the open link, heading or image.
    fn text(&mut self, text: &str) {
        let words = text.split_whitespace().count();
        self.rendered.word_count += words;
        if let Some((count, _)) = self.paragraph.as_mut() {
            *count += words;
        }
        if let Some(open) = self.link.as_mut() {
            open.text.push_str(text);
        }
        if let Some(open) = self.heading.as_mut() {
            open.text.push_str(text);
        }
        if let Some(open) = self.image.as_mut() {
            open.alt.push_str(text);
        }
    }

    /// Raw HTML is checked (no script, nothing from another site). An HTML
    /// block comes line by line; it is checked whole, so a tag spread over
    /// lines is read as one.
    fn html(&mut self, event: Event<'a>, line: usize) {
        match &event {
            Event::Start(Tag::HtmlBlock) => self.html_block = Some((line, String::new())),
            Event::End(TagEnd::HtmlBlock) => {
                if let Some((first, block)) = self.html_block.take() {
                    for message in raw_html_problems(&block) {
                        self.rendered.problem(first, message);
                    }
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => match self.html_block.as_mut() {
                Some((_, block)) if matches!(event, Event::Html(_)) => block.push_str(html),
                _ => {
                    for message in raw_html_problems(html) {
                        self.rendered.problem(line, message);
                    }
                }
            },
            _ => {}
        }
        self.push(event);
    }
}

/// References to footnotes that have no definition, as (label, byte
/// offset). pulldown-cmark's GFM footnotes leave such a reference as plain
/// text, so the older footnote syntax, which reports every reference, is
/// parsed to find them; only for a file that has any.
fn undefined_footnotes(markdown: &str, defined: &HashSet<String>) -> Vec<(String, usize)> {
    // A reference is written `[^label]`: when every `[^…]` in the text names
    // a defined footnote, none can be undefined, and the second parse (as
    // long as the first) is skipped. Anything else (an undefined label, one
    // with an escaped `]`) is parsed to be sure.
    let all_defined = memchr::memmem::find_iter(markdown.as_bytes(), "[^").all(|at| {
        let rest = &markdown[at + 2..];
        rest.find(']')
            .is_some_and(|end| defined.contains(&rest[..end].to_lowercase()))
    });
    if all_defined {
        return Vec::new();
    }
    Parser::new_ext(markdown, options() | Options::ENABLE_OLD_FOOTNOTES)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::FootnoteReference(label) if !defined.contains(&label.to_lowercase()) => {
                Some((label.to_string(), range.start))
            }
            _ => None,
        })
        .collect()
}

/// Footnotes become a numbered "Sources" list that ends the page, numbered
/// by first reference; each reference links to its source and back.
#[derive(Default)]
struct Footnotes<'a> {
    /// Label (lowercased, as pulldown-cmark matches them) → number.
    numbers: HashMap<String, usize>,
    /// How many times each number has been cited so far.
    cited: Vec<usize>,
    /// Every label defined, lowercased.
    defined: HashSet<String>,
    /// Label (lowercased) → (label as written, line, its events).
    definitions: HashMap<String, (String, usize, Vec<Event<'a>>)>,
    /// The definition being read: label, line, where its events start.
    open: Option<(String, usize, usize)>,
}

/// The links from a source back to where it is cited: one `↩` for a source
/// cited once; for one cited more often, as encyclopedias do, `↩` then a
/// letter per citation (`↩ a b c`), not a row of identical arrows.
fn back_links(number: usize, times: usize) -> String {
    let link = |nth: usize, text: &str| {
        let which = if times == 1 {
            String::new()
        } else {
            format!(" ({nth})")
        };
        format!(
            " <a class=\"source-back\" href=\"#{}\" aria-label=\"Back to where source {number} is cited{which}\">{text}</a>",
            cite_id(number, nth)
        )
    };
    if times == 1 {
        return link(1, "↩");
    }
    let letters = ('a'..='z')
        .map(String::from)
        .chain((27..).map(|n| n.to_string()));
    let links: String = (1..=times)
        .zip(letters)
        .map(|(nth, letter)| link(nth, &letter))
        .collect();
    // One group, kept on one line: the arrow never ends a line alone.
    format!(" <span class=\"source-backs\"><span aria-hidden=\"true\">↩</span>{links}</span>")
}

impl<'a> Footnotes<'a> {
    /// The superscript for one reference: `cite-N`, then `cite-N-2`, … so
    /// each repeated reference has its own id to come back to.
    fn reference(&mut self, label: &str) -> String {
        let next = self.numbers.len() + 1;
        let number = *self.numbers.entry(label.to_lowercase()).or_insert(next);
        if number > self.cited.len() {
            self.cited.push(0);
        }
        self.cited[number - 1] += 1;
        let id = cite_id(number, self.cited[number - 1]);
        format!("<sup id=\"{id}\"><a href=\"#source-{number}\">{number}</a></sup>")
    }

    /// The ids the sources list and its citations give the page.
    fn ids(&self) -> HashSet<String> {
        let mut ids = HashSet::new();
        if !self.numbers.is_empty() {
            ids.insert(SOURCES_ID.to_string());
        }
        for (index, &count) in self.cited.iter().enumerate() {
            let number = index + 1;
            ids.insert(format!("source-{number}"));
            ids.extend((1..=count).map(|nth| cite_id(number, nth)));
        }
        ids
    }

    fn close(&mut self, events: &mut Vec<Event<'a>>) {
        if let Some((label, line, start)) = self.open.take() {
            let body: Vec<Event<'a>> = events.drain(start..).collect();
            let key = label.to_lowercase();
            self.defined.insert(key.clone());
            self.definitions.entry(key).or_insert((label, line, body));
        }
    }

    /// Appends the sources section to `events`; returns the definitions no
    /// reference points to (label, line), which are left out.
    fn append_sources(mut self, events: &mut Vec<Event<'a>>) -> Vec<(String, usize)> {
        let mut by_number: Vec<(usize, String)> =
            self.numbers.iter().map(|(k, n)| (*n, k.clone())).collect();
        by_number.sort_unstable();
        if !by_number.is_empty() {
            events.push(Event::Html(
                format!("<section class=\"sources\" aria-labelledby=\"{SOURCES_ID}\">\n<h2 id=\"{SOURCES_ID}\">Sources</h2>\n<ol>\n").into(),
            ));
            for (number, key) in by_number {
                let Some((_, _, mut body)) = self.definitions.remove(&key) else {
                    continue;
                };
                let back = back_links(number, self.cited[number - 1]);
                // The back links end the source's last paragraph, not a line of their own.
                let at = body
                    .iter()
                    .rposition(|e| matches!(e, Event::End(TagEnd::Paragraph)))
                    .unwrap_or(body.len());
                body.insert(at, Event::InlineHtml(back.into()));
                events.push(Event::Html(format!("<li id=\"source-{number}\">").into()));
                events.extend(body);
                events.push(Event::Html("</li>\n".into()));
            }
            events.push(Event::Html("</ol>\n</section>\n".into()));
        }
        let mut unused: Vec<(String, usize)> = self
            .definitions
            .into_values()
            .map(|(label, line, _)| (label, line))
            .collect();
        unused.sort_by_key(|(_, line)| *line);
        unused
    }
}

fn cite_id(number: usize, nth: usize) -> String {
    if nth == 1 {
        format!("cite-{number}")
    } else {
        format!("cite-{number}-{nth}")
    }
}

/// Gathers each block's text as the events pass.
#[derive(Default)]
struct Blocks {
    done: Vec<TextBlock>,
    open: Option<TextBlock>,
    /// Inside a footnote definition (they may nest blocks).
    footnote_depth: usize,
    in_code_block: bool,
}

impl Blocks {
    fn see(&mut self, event: &Event<'_>, line: usize) {
        match event {
            Event::Text(text) | Event::Code(text) if !self.in_code_block => {
                self.current(line).text.push_str(text);
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(open) = self.open.as_mut() {
                    open.text.push(' ');
                }
            }
            Event::FootnoteReference(_) | Event::Start(Tag::Link { .. }) => {
                self.current(line).sourced = true;
            }
            Event::Start(Tag::CodeBlock(_)) => {
                self.flush();
                self.in_code_block = true;
            }
            Event::End(TagEnd::CodeBlock) => self.in_code_block = false,
            Event::Start(Tag::FootnoteDefinition(_)) => {
                self.flush();
                self.footnote_depth += 1;
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                self.flush();
                self.footnote_depth = self.footnote_depth.saturating_sub(1);
            }
            Event::Start(
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Image { .. },
            )
            | Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Image
                | TagEnd::Link,
            ) => {}
            Event::Start(_) | Event::End(_) => self.flush(),
            _ => {}
        }
    }

    fn current(&mut self, line: usize) -> &mut TextBlock {
        let in_source = self.footnote_depth > 0;
        self.open.get_or_insert_with(|| TextBlock {
            line,
            text: String::new(),
            sourced: false,
            in_source,
        })
    }

    fn flush(&mut self) {
        if let Some(block) = self.open.take()
            && !block.text.trim().is_empty()
        {
            self.done.push(block);
        }
    }

    fn finish(mut self) -> Vec<TextBlock> {
        self.flush();
        self.done
    }
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
    /// Its alt text so far.
    alt: String,
    /// Images open inside its alt text.
    nested: usize,
    /// The photo it shows, when it is one of `content/images/`.
    picture: Option<Picture>,
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
            rendered.problem(line, message);
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
///
/// The HTML is read by html5ever's tokenizer, the browser-grade HTML5
/// tokenizer of Servo, so tags and attributes come out exactly as a browser
/// reads them: quotes or none, any case, attributes split over lines, every
/// named and numeric character reference (`&#106;`, `&colon;`, `&Tab;`)
/// decoded, comments skipped. A spelling cannot slip past the check.
fn raw_html_problems(html: &str) -> Vec<String> {
    let read = read_html(html);
    let tags = &read.tags;
    let named = |name: &str| tags.iter().any(|tag| tag.name == name);
    let attributes = || {
        tags.iter()
            .flat_map(|tag| tag.attributes.iter().map(move |a| (tag, a)))
    };
    let mut problems = Vec::new();
    if named("script") {
        problems.push(
            "raw HTML here contains a <script>; the site runs no scripts in pages: remove it"
                .to_string(),
        );
    }
    if attributes().any(|(_, (_, value))| runs_script(value)) {
        problems.push("raw HTML here contains a `javascript:` address; links must go to a page (https://…, mailto:, tel:)".to_string());
    }
    if let Some((_, (handler, _))) = attributes().find(|(_, (name, _))| is_event_handler(name)) {
        problems.push(format!(
            "raw HTML here has an `{handler}=` attribute, which runs script; remove it"
        ));
    }
    let refresh = tags.iter().any(|tag| {
        tag.name == "meta" && tag.attributes.iter().any(|(name, _)| name == "http-equiv")
    });
    let embeds = [
        "iframe", "frame", "embed", "object", "portal", "link", "base", "form",
    ];
    let embeds = embeds.into_iter().filter(|name| named(name));
    for tag in embeds.chain(refresh.then_some("meta http-equiv")) {
        problems.push(format!(
            "raw HTML here contains <{tag}>, which loads or sends to another page; remove it (the consultation page has the booking form)"
        ));
    }
    let mut loaded = Vec::new();
    for (tag, (name, value)) in attributes() {
        match name.as_str() {
            "src" | "srcset" | "poster" | "data" | "background" | "ping" => {
                // A srcset lists addresses between commas, each with its
                // width or density; a ping, between spaces. Every word counts.
                loaded.extend(value.split(',').flat_map(str::split_whitespace));
            }
            "href" | "xlink:href" if matches!(tag.name.as_str(), "image" | "use" | "feimage") => {
                loaded.push(value);
            }
            // CSS fetches whatever `url(…)`, `@import` or `image-set(…)` names.
            "style" => loaded.extend(css_words(value)),
            _ => {}
        }
    }
    loaded.extend(read.style_sheets.iter().flat_map(|css| css_words(css)));
    for address in loaded {
        if is_other_site(&as_address(address).replace('\\', "/")) {
            let message = format!(
                "raw HTML here loads `{address}` from another site, which would learn who reads this page; serve the file from static/ instead"
            );
            if !problems.contains(&message) {
                problems.push(message);
            }
        }
    }
    problems
}

/// A start tag in raw HTML as html5ever's tokenizer gives it: names
/// lowercased, values unquoted and with character references decoded.
struct HtmlTag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// What the tokenizer found in a piece of raw HTML: its start tags, and the
/// text of its `<style>` elements.
#[derive(Default)]
struct ReadHtml {
    tags: Vec<HtmlTag>,
    style_sheets: Vec<String>,
}

/// Every start tag in `html`, read twice by html5ever's tokenizer. A browser
/// reads what follows `<style>`, `<textarea>`, `<title>`… as text, except
/// inside `<svg>` or `<math>`, where it reads it as tags; which one it is
/// takes a whole tree builder (and the page around the fragment) to know.
/// So the piece is read both ways and everything found either way counts:
/// nothing a browser could take for a tag is missed.
fn read_html(html: &str) -> ReadHtml {
    let mut read = ReadHtml::default();
    for raw_text in [true, false] {
        let input = BufferQueue::default();
        input.push_back(StrTendril::from_slice(html));
        let tokenizer = Tokenizer::new(
            TagSink {
                raw_text,
                read: RefCell::default(),
                in_style: Cell::new(false),
            },
            TokenizerOpts::default(),
        );
        // The sink never asks to stop for a script, so one call reads it all.
        let _ = tokenizer.feed(&input);
        tokenizer.end();
        let found = tokenizer.sink.read.into_inner();
        read.tags.extend(found.tags);
        read.style_sheets.extend(found.style_sheets);
    }
    read
}

/// Collects start tags and style sheets from html5ever's tokenizer, and
/// (when `raw_text`) switches it to reading text after the elements whose
/// content a browser reads as text, as html5ever's own tree builder does.
struct TagSink {
    raw_text: bool,
    read: RefCell<ReadHtml>,
    in_style: Cell<bool>,
}

impl TokenSink for TagSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => {
                self.in_style
                    .set(tag.kind == TagKind::StartTag && &*tag.name == "style");
                if tag.kind == TagKind::EndTag {
                    return TokenSinkResult::Continue;
                }
                let mut read = self.read.borrow_mut();
                if self.in_style.get() {
                    read.style_sheets.push(String::new());
                }
                read.tags.push(HtmlTag {
                    name: tag.name.to_string(),
                    attributes: tag
                        .attrs
                        .iter()
                        .map(|a| (a.name.local.to_string(), a.value.to_string()))
                        .collect(),
                });
                if !self.raw_text {
                    return TokenSinkResult::Continue;
                }
                match &*tag.name {
                    "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                        TokenSinkResult::RawData(RawKind::Rawtext)
                    }
                    "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                    "plaintext" => TokenSinkResult::Plaintext,
                    _ => TokenSinkResult::Continue,
                }
            }
            Token::CharacterTokens(text) if self.in_style.get() => {
                let mut read = self.read.borrow_mut();
                if let Some(css) = read.style_sheets.last_mut() {
                    css.push_str(&text);
                }
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

/// The words of a piece of CSS, split where an address could begin or end:
/// `url(https://a.example/x.png)` and `@import "https://b.example/y.css"`
/// both give their address as one word.
fn css_words(css: &str) -> impl Iterator<Item = &str> {
    css.split(|c: char| c.is_whitespace() || "()\"',;".contains(c))
        .filter(|word| !word.is_empty())
}

/// An attribute value as a browser takes it for an address (the WHATWG URL
/// parser): tabs and line breaks anywhere are dropped, spaces and control
/// characters before it too, and the scheme's case does not matter.
fn as_address(value: &str) -> String {
    let kept: String = value
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    kept.trim_start_matches(|c: char| c <= ' ')
        .to_ascii_lowercase()
}

/// A value that runs script when followed as an address. Anywhere in it,
/// not only at its start: SVG animation sets `href` from a `;`-separated
/// list (`<animate values="x;javascript:…">`).
fn runs_script(value: &str) -> bool {
    let address = as_address(value);
    ["javascript:", "vbscript:", "data:text/html"]
        .iter()
        .any(|scheme| address.contains(scheme))
}

/// `onclick`, `onerror`, `onbegin`…: an attribute whose value is script.
fn is_event_handler(name: &str) -> bool {
    name.len() > 2 && name.starts_with("on") && name[2..].chars().all(|c| c.is_ascii_alphabetic())
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
        render_with(markdown, &Catalog::default())
    }

    fn render_with(markdown: &str, pictures: &Catalog) -> Rendered {
        render(
            Path::new("x.md"),
            markdown,
            1,
            &mut |dest| {
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
            },
            pictures,
        )
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

    /// A catalog with one photo, `office.jpg` (800 × 600).
    fn one_photo() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("images")).unwrap();
        let photo = crate::images::testing::phone_photo(600, 800);
        std::fs::write(dir.path().join("images/office.jpg"), photo).unwrap();
        let (catalog, problems) = Catalog::load(dir.path(), &Catalog::default());
        assert!(problems.is_empty(), "{problems:?}");
        (dir, catalog)
    }

    #[test]
    fn photos_become_pictures_with_their_alt_text_the_first_loaded_at_once() {
        let (_dir, catalog) = one_photo();
        let out = render_with(
            "![A calm\noffice](/images/office.jpg)\n\n[![Two *chairs*](../images/office.jpg)](https://example.org)\n\n![a ![b](/images/office.jpg) c](/images/office.jpg)\n",
            &catalog,
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.html.matches("<picture>").count(), 3, "{}", out.html);
        assert!(
            out.html.contains("alt=\"A calm office\" decoding"),
            "{}",
            out.html
        );
        assert!(
            out.html.contains("alt=\"Two chairs\" loading=\"lazy\""),
            "{}",
            out.html
        );
        assert!(
            out.html.contains("<a href=\"https://example.org\""),
            "{}",
            out.html
        );
        assert!(out.html.contains("alt=\"a b c\""), "{}", out.html);
        assert!(
            out.html.contains("width=\"800\" height=\"600\""),
            "{}",
            out.html
        );
        assert_eq!(out.pictures.len(), 3);
        let missing = render_with("Text.\n\n![Our office](/images/ofice.jpg)\n", &catalog);
        assert_eq!(missing.problems.len(), 1);
        assert_eq!(missing.problems[0].line, 3);
        assert!(
            missing.problems[0]
                .message
                .contains("there is no image content/images/ofice.jpg")
        );
        assert_eq!(missing.pictures, [("ofice.jpg".to_string(), None)]);
    }

    #[test]
    fn first_line_offsets_lines() {
        let out = render(
            Path::new("x.md"),
            "a\n\n[x](y.txt)",
            10,
            &mut |_| Resolution::Broken("nope".into()),
            &Catalog::default(),
        );
        assert_eq!(out.problems[0].line, 12);
    }

    #[test]
    fn tables_footnotes_strikethrough_and_smart_quotes() {
        let out = render_plain(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1] ~~old~~ \"quoted\"\n\n[^1]: A note.\n",
        );
        assert!(out.html.contains("<div class=\"table-wrap\" role=\"region\" aria-label=\"Table\" tabindex=\"0\">\n<table>"));
        assert!(out.html.contains("</table>\n</div>"));
        assert!(out.html.contains("<sup id=\"cite-1\">"));
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
            // Spellings a browser reads the same way.
            ("<img alt=\">\" onerror=alert(1) src=/x.png>", "`onerror=`"),
            ("<div\nonclick=\"x()\">two lines</div>", "`onclick=`"),
            ("<a href=\"jav&#x61;script:alert(1)\">x</a>", "javascript:"),
            (
                "<a href=\"&#0000106;avascript:alert(1)\">x</a>",
                "javascript:",
            ),
            ("<a href=\"java&#9;script:alert(1)\">x</a>", "javascript:"),
            ("<a href=\"java\nscript:alert(1)\">x</a>", "javascript:"),
            ("<a href=\"javascript&colon;alert(1)\">x</a>", "javascript:"),
            ("<a href=\"&#x4A;avaScript:x\">x</a>", "javascript:"),
            ("<a href=\"vbscript:x\">x</a>", "javascript:"),
            (
                "<svg><image href=\"https://t.example/p.png\"/></svg>",
                "https://t.example/p.png",
            ),
            (
                "<img srcset=\"/a.png 1x, https://t.example/b.png 2x\">",
                "https://t.example/b.png",
            ),
            (
                "<img src=\"https&#58;//t.example/p.gif\">",
                "https://t.example/p.gif",
            ),
            ("<img src=\"\\\\t.example/p.gif\">", "t.example/p.gif"),
            // Spellings a browser accepts that a naive reading misses.
            ("<a href=\"jav&#x09;ascript:alert(1)\">x</a>", "javascript:"),
            ("<a href=\"jav&Tab;ascript:alert(1)\">x</a>", "javascript:"),
            ("<a href=\"&#X6A&#X61vascript:x\">x</a>", "javascript:"),
            ("<a href=\" \u{1}javascript:x\">x</a>", "javascript:"),
            ("<img src=//evil.example/x.png>", "//evil.example/x.png"),
            (
                "<IMG SRC=\"HTTPS://T.EXAMPLE/P.GIF\">",
                "HTTPS://T.EXAMPLE/P.GIF",
            ),
            ("<IMG SRC=/x.png ONERROR=alert(1)>", "`onerror=`"),
            ("<img src=/x.png\nonerror=alert(1)>", "`onerror=`"),
            (
                "<div><img\nsrc\n=\n'https://t.example/p.gif'></div>",
                "https://t.example/p.gif",
            ),
            (
                "<div><img/src=\"https://t.example/p.gif\"></div>",
                "https://t.example/p.gif",
            ),
            (
                "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
                "javascript:",
            ),
            (
                "<svg><use xlink:href=\"https://t.example/s.svg#i\"/></svg>",
                "https://t.example/s.svg#i",
            ),
            (
                "<svg><animate attributeName=\"href\" values=\"#a;javascript:alert(1)\"/></svg>",
                "javascript:",
            ),
            ("<svg onload=alert(1)>", "`onload=`"),
            (
                "<button formaction=\"javascript:alert(1)\">x</button>",
                "javascript:",
            ),
            ("<a href=\"data:text/html,<b>x</b>\">x</a>", "javascript:"),
            (
                "<video poster=\"https://t.example/p.jpg\"></video>",
                "https://t.example/p.jpg",
            ),
            (
                "<a href=\"/a\" ping=\"https://t.example/ping\">x</a>",
                "https://t.example/ping",
            ),
            (
                "<div style=\"background: URL( 'https://t.example/p.gif' )\">x</div>",
                "https://t.example/p.gif",
            ),
            (
                "<style>@import \"https://t.example/a.css\";</style>",
                "https://t.example/a.css",
            ),
            (
                "<meta http-equiv=\"refresh\" content=\"0;url=https://t.example\">",
                "<meta http-equiv>",
            ),
            ("<frame src=\"/x\">", "<frame>"),
            ("<SCRIPT SRC=/x.js></SCRIPT>", "<script>"),
            // Text a browser reads as text, not tags, hides nothing.
            (
                "<style><!--</style><img src=\"https://t.example/p.gif\">",
                "https://t.example/p.gif",
            ),
            (
                "<textarea><!--</textarea><img src=https://t.example/p.gif>",
                "https://t.example/p.gif",
            ),
            // ... and neither does what only inside <svg> is read as tags.
            (
                "<svg><style><a href=\"javascript:x\">x</a></style></svg>",
                "javascript:",
            ),
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
        let fine = render_plain(
            "<figure class=\"wide\">\n<img src=\"/static/images/office.jpg\"\n  alt=\"A calm &amp; quiet office\" title='one > two'>\n<figcaption>Online &#8212; or in person</figcaption>\n</figure>\n",
        );
        assert!(fine.problems.is_empty(), "{:?}", fine.problems);
        // A comment, text and titles are not tags or addresses a browser
        // follows; an end tag's attributes are ignored by browsers too.
        for html in [
            "<!-- <script>alert(1)</script> <img src=https://t.example/p.gif> -->",
            "<p>Never paste <code>&lt;script&gt;</code> or javascript&colon; into a page.</p>",
            "<p title=\"one &gt; two\">In person or online</p>",
            "<div>x</div onclick=\"alert(1)\">",
            "<svg viewBox=\"0 0 10 10\"><title>A calm circle</title><circle r=\"4\" stroke=\"teal\"/></svg>",
            "<a href=\"https://example.org/page\">another site's page</a>",
        ] {
            let out = render_plain(&format!("Text.\n\n{html}\n"));
            assert!(out.problems.is_empty(), "{html}: {:?}", out.problems);
        }
        let image = render_plain("![A chart](https://example.org/chart.png)\n");
        assert!(image.problems[0].message.contains("on another site"));
    }

    #[test]
    fn footnotes_become_a_numbered_sources_list_at_the_end() {
        let out = render_plain(
            "Intro[^b] and more[^a].\n\n[^a]: Second, https://example.org/a/very/long/address\n\n[^b]: First source.\n\nMiddle cites [^b] again.\n\n## Later\n\nEnd.\n",
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let html = &out.html;
        assert!(
            html.contains("Intro<sup id=\"cite-1\"><a href=\"#source-1\">1</a></sup> and more<sup id=\"cite-2\"><a href=\"#source-2\">2</a></sup>."),
            "{html}"
        );
        assert!(
            html.contains("cites <sup id=\"cite-1-2\"><a href=\"#source-1\">1</a></sup> again"),
            "{html}"
        );
        // The sources come last, in order of first reference, with a way back to each citation.
        let sources = html
            .find("<section class=\"sources\" aria-labelledby=\"sources\">\n<h2 id=\"sources\">Sources</h2>\n<ol>")
            .expect(html);
        assert!(sources > html.find("End.").unwrap(), "{html}");
        assert!(
            html.contains("<li id=\"source-1\">\n<p>First source. <span class=\"source-backs\"><span aria-hidden=\"true\">↩</span> <a class=\"source-back\" href=\"#cite-1\" aria-label=\"Back to where source 1 is cited (1)\">a</a> <a class=\"source-back\" href=\"#cite-1-2\" aria-label=\"Back to where source 1 is cited (2)\">b</a></span></p>\n</li>"),
            "{html}"
        );
        assert!(html.contains("<li id=\"source-2\">\n<p>Second, https://example.org/a/very/long/address <a class=\"source-back\" href=\"#cite-2\""), "{html}");
        assert!(
            !html[..sources].contains("First source"),
            "no definition where it was written: {html}"
        );
        // The section is not a heading of the article (no table of contents entry).
        let ids: Vec<_> = out.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["later"]);
        assert!(
            out.blocks
                .iter()
                .any(|b| b.in_source && b.text.contains("First source"))
        );
    }

    #[test]
    fn footnote_mistakes_are_found_with_their_lines() {
        let out = render_plain("Text[^missing].\n\nMore.\n\n[^spare]: Never cited.\n");
        assert_eq!(
            out.problems[..1],
            [Diagnostic::new(
                Path::new("x.md"),
                1,
                "the footnote [^missing] is never defined; add its source on a line of its own, for example `[^missing]: Author, “Title”, Journal (Year), https://…`"
            )]
        );
        assert_eq!(
            out.problems[1..],
            [Diagnostic::warning(
                Path::new("x.md"),
                5,
                "the footnote [^spare] is never referred to, so it is left out of the sources; cite it with [^spare] where it supports the text, or remove it"
            )]
        );
        assert!(!out.html.contains("Never cited"), "{}", out.html);
        assert!(!out.html.contains("class=\"sources\""), "{}", out.html);
        // Links to the sources and citations are links to this page's own anchors.
        let out = render_plain(
            "A[^1], see [the sources](#sources) and [1](#source-1).\n\n[^1]: B.\n\n[x](#source-2)\n",
        );
        assert_eq!(out.self_anchors, [("source-2".to_string(), 5)]);
        // A heading called Sources keeps the section's id free.
        let out = render_plain("## Sources\n\nA[^1].\n\n[^1]: B.\n");
        assert_eq!(out.headings[0].id, "sources-1");
        assert_eq!(out.html.matches("id=\"sources\"").count(), 1);
        // Raw HTML in a source is held to the same rules.
        let out =
            render_plain("A[^1].\n\n[^1]: <img src=\"https://t.example/p.gif\" onerror=\"x()\">\n");
        assert!(
            out.problems
                .iter()
                .any(|p| p.line == 3 && p.message.contains("onerror")),
            "{:?}",
            out.problems
        );
    }

    #[test]
    fn blocks_carry_their_text_line_and_sources() {
        let out = render_plain(
            "Studies\nshow *this*.\n\n- one [link](https://example.org)\n- two\n\n```\ncode dose\n```\n",
        );
        let blocks: Vec<(usize, &str, bool)> = out
            .blocks
            .iter()
            .map(|b| (b.line, b.text.as_str(), b.sourced))
            .collect();
        assert_eq!(
            blocks,
            [
                (1, "Studies show this.", false),
                (4, "one link", true),
                (5, "two", false)
            ]
        );
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
