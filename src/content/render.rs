//! The render pass: a [`Parsed`] file becomes a [`Document`]: its Markdown
//! rendered with links resolved against the permalink map, its own anchors
//! checked, and its advice (writing, the health review, unsourced claims,
//! unused footnotes) gathered as warnings.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::parse::Parsed;
use super::{Document, health, links, markdown, writing};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// The consultation page, which every article should lead to.
pub(super) const CONSULTATION_KEY: &str = "pages/consultation.md";

pub(super) fn render_file(
    file: &Parsed,
    urls: &HashMap<String, String>,
    keys_by_url: &HashMap<String, String>,
    today: NaiveDate,
    problems: &mut Diagnostics,
) -> Document {
    let resolver = links::Resolver::new(urls, keys_by_url, file.folder);
    let body = file.body.as_deref().unwrap_or_default();
    let path = file.source.as_path();
    let rendered = markdown::render(path, body, file.body_line, &mut |dest| {
        resolver.resolve(dest)
    });
    for problem in &rendered.problems {
        problems.push(problem.clone());
    }
    let writing_advice = writing::check(&writing::Draft {
        path,
        kind: file.kind,
        search_title: file.meta.seo_title.as_deref().unwrap_or(&file.meta.title),
        has_seo_title: file.meta.seo_title.is_some(),
        title_line: file.fields.line(if file.meta.seo_title.is_some() {
            "seo_title"
        } else {
            "title"
        }),
        description: &file.meta.description,
        description_line: file.fields.line("description"),
        rendered: &rendered,
        body,
        body_line: file.body_line,
        links_to_consultation: rendered.links.iter().any(|l| l.target == CONSULTATION_KEY),
    });
    let medication_mention = health::first_medication_mention(&rendered.blocks);
    let review_advice = health::review_advice(
        path,
        medication_mention.as_ref(),
        file.meta.reviewed,
        file.fields.line("reviewed"),
        file.fields.line("title"),
        today,
    );
    let unused_footnotes = rendered.unused_footnotes.iter().map(|(label, line)| {
        Diagnostic::warning(
            path,
            *line,
            format!(
                "the footnote [^{label}] is never referred to, so it is left out of the sources; cite it with [^{label}] where it supports the text, or remove it"
            ),
        )
    });
    for advice in file
        .advice
        .iter()
        .cloned()
        .chain(writing_advice)
        .chain(review_advice)
        .chain(health::unsourced_claims(path, &rendered.blocks))
        .chain(unused_footnotes)
    {
        problems.push(advice);
    }
    for (anchor, line) in &rendered.self_anchors {
        if !rendered.headings.iter().any(|h| &h.id == anchor) {
            problems.push(Diagnostic::new(
                &file.source,
                *line,
                format!("links to `#{anchor}`, but this page has no heading with that id"),
            ));
        }
    }
    Document {
        kind: file.kind,
        source: file.source.clone(),
        key: file.key.clone(),
        slug: file.slug.clone(),
        url: urls[&file.key].clone(),
        title: file.meta.title.clone(),
        description: file.meta.description.clone(),
        date: file.meta.date,
        updated: file.meta.updated,
        tags: file.meta.tags.clone(),
        draft: file.meta.draft,
        retired: file.meta.retired,
        aliases: file.meta.aliases.clone(),
        seo_title: file.meta.seo_title.clone(),
        expires: file.meta.expires,
        reviewed: file.meta.reviewed,
        reviewed_by: file.meta.reviewed_by.clone(),
        medication_mention,
        status: file.status,
        visible: file.visible,
        image: file.meta.image.clone(),
        call_to_action: file.meta.call_to_action.clone(),
        html: rendered.html.into(),
        headings: rendered.headings,
        word_count: rendered.word_count,
        outgoing: rendered.links,
        links_to: Vec::new(),
        linked_from: Vec::new(),
        related: Vec::new(),
        fingerprint: 0,
    }
}
