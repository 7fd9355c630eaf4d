//! The last pass, once every file is rendered: each cross-link's `#anchor`
//! against its target's headings, links from a published page to one
//! readers cannot see, the link graph (links to, linked from, related
//! articles), and the settings' references to pages and articles.

use std::collections::HashMap;

use rayon::prelude::*;

use super::markdown::InternalLink;
use super::{Document, Kind, Status, links};
use crate::config::SiteConfig;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// How many related articles an article lists.
const RELATED_ARTICLES: usize = 3;

/// Checks every cross-link against its target (only possible once every
/// file is rendered), then derives the link graph.
pub(super) fn check_links_and_build_graph(documents: &mut [Document], problems: &mut Diagnostics) {
    let index_by_key: HashMap<&str, usize> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| (d.key.as_str(), i))
        .collect();
    let mut links_to = vec![Vec::new(); documents.len()];
    for (source, document) in documents.iter().enumerate() {
        for link in &document.outgoing {
            let Some(&target) = index_by_key.get(link.target.as_str()) else {
                continue;
            };
            check_link(document, link, &documents[target], problems);
            if target != source && !links_to[source].contains(&target) {
                links_to[source].push(target);
            }
        }
    }
    build_graph(documents, links_to);
}

/// A link's `#anchor` must be a heading of its target, and a published page
/// must not link to one readers cannot see.
fn check_link(
    document: &Document,
    link: &InternalLink,
    target: &Document,
    problems: &mut Diagnostics,
) {
    if let Some(anchor) = &link.anchor
        && !target.headings.iter().any(|h| &h.id == anchor)
    {
        let ids: Vec<String> = target
            .headings
            .iter()
            .take(12)
            .map(|h| format!("#{}", h.id))
            .collect();
        problems.push(Diagnostic::new(
            &document.source,
            link.line,
            format!(
                "links to `{}`, but that page has no heading with the id `{anchor}`; its headings are: {}",
                link.written,
                if ids.is_empty() { "none".to_string() } else { ids.join(", ") }
            ),
        ));
    }
    if document.is_published() && !target.is_published() {
        let why = match target.status {
            Status::Draft => "a draft (`draft: true`) that readers cannot see yet".to_string(),
            Status::Scheduled(day) => {
                format!("scheduled for {day}: until then readers would find nothing there")
            }
            Status::Expired => "expired (`expires:`): its address answers 410 Gone".to_string(),
            _ => "retired (`retired: true`): its address answers 410 Gone".to_string(),
        };
        problems.push(Diagnostic::new(
            &document.source,
            link.line,
            format!("links to `{}`, which is {why}", link.written),
        ));
    }
}

/// Links to, linked from (published articles) and related articles.
fn build_graph(documents: &mut [Document], links_to: Vec<Vec<usize>>) {
    let published_articles: Vec<usize> = documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == Kind::Article && d.is_published())
        .map(|(i, _)| i)
        .collect();
    let tags: Vec<Vec<String>> = documents.iter().map(|d| d.tags.clone()).collect();
    let related = links::Related::new(&tags, &links_to, &published_articles);
    let lists: Vec<Vec<usize>> = published_articles
        .par_iter()
        .map_init(links::Scratch::default, |scratch, &article| {
            related.of(article, RELATED_ARTICLES, scratch)
        })
        .collect();
    for (&article, list) in published_articles.iter().zip(lists) {
        documents[article].related = list;
    }
    for &source in &published_articles {
        for &target in &links_to[source] {
            documents[target].linked_from.push(source);
        }
    }
    for (document, links) in documents.iter_mut().zip(links_to) {
        document.links_to = links;
    }
}

/// The site settings name pages and articles; each must exist.
pub(super) fn check_settings_references(
    documents: &[Document],
    lost: &[String],
    config: &SiteConfig,
    problems: &mut Diagnostics,
) {
    let published = |folder: &str, name: &str| {
        let key = format!("{folder}/{name}.md");
        lost.contains(&key) || documents.iter().any(|d| d.key == key && d.is_published())
    };
    for (i, name) in config.home.services.iter().enumerate() {
        if !published("pages", name) {
            problems.push(config.setting_diagnostic(
                &format!("home.services.{i}"),
                format!("services names `{name}`, but there is no published page content/pages/{name}.md"),
            ));
        }
    }
    for (i, name) in config.home.featured.iter().enumerate() {
        if !published("blog", name) {
            problems.push(config.setting_diagnostic(
                &format!("home.featured.{i}"),
                format!("featured names `{name}`, but there is no published article content/blog/{name}.md"),
            ));
        }
    }
}
