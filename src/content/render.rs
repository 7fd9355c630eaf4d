//! The render pass: a [`Parsed`] file becomes a [`Document`]: its Markdown
//! rendered with links resolved against the permalink map, its own anchors
//! checked, and its advice (writing, the health review, unsourced claims,
//! unused footnotes) gathered as warnings.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::markdown::Rendered;
use super::parse::Parsed;
use super::{Document, health, links, markdown, writing};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::images::Catalog;

/// The consultation page, which every article should lead to.
const CONSULTATION_KEY: &str = "pages/consultation.md";

/// One file's Markdown rendered into its [`Document`], links resolved
/// against the permalink map; its problems and advice go to `problems`.
pub(super) fn render_file(
    file: &Parsed,
    urls: &HashMap<String, String>,
    keys_by_url: &HashMap<String, String>,
    today: NaiveDate,
    pictures: &Catalog,
    problems: &mut Diagnostics,
) -> Document {
    let resolver = links::Resolver::new(urls, keys_by_url, file.folder);
    let body = file.body.as_deref().unwrap_or_default();
    let path = file.source.as_path();
    let rendered = markdown::render(
        path,
        body,
        file.body_line,
        &mut |dest| resolver.resolve(dest),
        pictures,
    );
    for problem in &rendered.problems {
        problems.push(problem.clone());
    }
    for (anchor, line) in &rendered.self_anchors {
        if !rendered.headings.iter().any(|h| &h.id == anchor) {
            problems.push(Diagnostic::new(
                path,
                *line,
                format!("links to `#{anchor}`, but this page has no heading with that id"),
            ));
        }
    }
    let medication_mention = health::first_medication_mention(&rendered.blocks);
    for advice in advice(file, &rendered, medication_mention.as_ref(), today) {
        problems.push(advice);
    }
    document(file, urls[&file.key].clone(), rendered, medication_mention)
}

/// Everything the file's checks advise, as warnings: from its front matter,
/// on its writing, its review and its sources.
fn advice(
    file: &Parsed,
    rendered: &Rendered,
    medication_mention: Option<&(usize, String)>,
    today: NaiveDate,
) -> Vec<Diagnostic> {
    let path = file.source.as_path();
    let meta = &file.meta;
    let writing = writing::check(&writing::Draft {
        path,
        kind: file.kind,
        search_title: meta.seo_title.as_deref().unwrap_or(&meta.title),
        has_seo_title: meta.seo_title.is_some(),
        title_line: file.fields.line(if meta.seo_title.is_some() {
            "seo_title"
        } else {
            "title"
        }),
        description: &meta.description,
        description_line: file.fields.line("description"),
        rendered,
        body: file.body.as_deref().unwrap_or_default(),
        body_line: file.body_line,
        links_to_consultation: rendered.links.iter().any(|l| l.target == CONSULTATION_KEY),
    });
    let (reviewed_line, title_line) = (file.fields.line("reviewed"), file.fields.line("title"));
    let review = health::review_advice(
        path,
        medication_mention,
        meta.reviewed,
        reviewed_line,
        title_line,
        today,
    );
    file.advice
        .iter()
        .cloned()
        .chain(writing)
        .chain(review)
        .chain(health::unsourced_claims(path, &rendered.blocks))
        .collect()
}

/// The document a file makes: its fields and its rendering; the link graph
/// is added once every file is rendered.
fn document(
    file: &Parsed,
    url: String,
    rendered: Rendered,
    medication_mention: Option<(usize, String)>,
) -> Document {
    let meta = file.meta.clone();
    Document {
        kind: file.kind,
        source: file.source.clone(),
        key: file.key.clone(),
        slug: file.slug.clone(),
        url,
        title: meta.title,
        title_line: file.fields.line("title"),
        description: meta.description,
        date: meta.date,
        updated: meta.updated,
        tags: meta.tags,
        draft: meta.draft,
        retired: meta.retired,
        aliases: meta.aliases,
        seo_title: meta.seo_title,
        expires: meta.expires,
        reviewed: meta.reviewed,
        reviewed_by: meta.reviewed_by,
        medication_mention,
        status: file.status,
        visible: file.visible,
        image: meta.image,
        call_to_action: meta.call_to_action,
        html: rendered.html.into(),
        headings: rendered.headings,
        word_count: rendered.word_count,
        outgoing: rendered.links,
        pictures: rendered.pictures,
        links_to: Vec::new(),
        linked_from: Vec::new(),
        related: Vec::new(),
        fingerprint: 0,
    }
}
