//! What machines read: `/sitemap.xml`, `/feed.xml` (Atom) and `/robots.txt`.
//! XML is written by quick-xml and atom_syndication, which escape every value.

use std::io;

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use chrono::{NaiveDate, TimeZone as _, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::config::SiteConfig;
use crate::content::{Document, Library};

/// Paths crawlers must stay out of: the admin area and booking confirmations.
pub const DISALLOWED: [&str; 2] = ["/admin", "/booking/"];

/// One `<url>` of the sitemap.
pub struct SitemapEntry {
    pub path: String,
    pub last_modified: Option<NaiveDate>,
}

pub fn sitemap(config: &SiteConfig, entries: &[SitemapEntry]) -> String {
    let mut writer = Writer::new(Vec::new());
    let written: io::Result<()> = (|| {
        writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        writer
            .create_element("urlset")
            .with_attribute(("xmlns", "http://www.sitemaps.org/schemas/sitemap/0.9"))
            .write_inner_content(|writer| {
                for entry in entries {
                    writer.create_element("url").write_inner_content(|writer| {
                        writer
                            .create_element("loc")
                            .write_text_content(BytesText::new(
                                &config.absolute_url(&entry.path),
                            ))?;
                        if let Some(date) = entry.last_modified {
                            writer
                                .create_element("lastmod")
                                .write_text_content(BytesText::new(&date.to_string()))?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    written.expect("writing XML to memory cannot fail");
    let mut xml = String::from_utf8(writer.into_inner()).expect("quick-xml writes UTF-8");
    xml.push('\n');
    xml
}

pub fn robots(config: &SiteConfig) -> String {
    let mut text = String::from("User-agent: *\n");
    if config.is_sample() {
        // A demo with sample facts must never be indexed as the practice.
        text.push_str("# Sample details: this site is not live.\nDisallow: /\n");
        return text;
    }
    for path in DISALLOWED {
        text.push_str(&format!("Disallow: {path}\n"));
    }
    text.push_str(&format!(
        "\nSitemap: {}\n",
        config.absolute_url("/sitemap.xml")
    ));
    text
}

/// The Atom feed of published articles, newest first, with their full text.
/// The feed carries the newest articles in full; readers that subscribe
/// later find older ones on the blog. Keeps the feed small however many
/// articles the site has.
pub const FEED_ENTRIES: usize = 20;

pub fn atom(config: &SiteConfig, library: &Library) -> String {
    let articles: Vec<&Document> = library.articles().take(FEED_ENTRIES).collect();
    let updated = articles
        .iter()
        .filter_map(|a| a.last_modified())
        .max()
        .unwrap_or_default();
    let mut feed = Feed::default();
    feed.set_title(Text::plain(format!("{}: articles", config.practice.name)));
    feed.set_subtitle(Some(Text::plain(format!(
        "Writing by {} on therapy, Ketamine-Assisted Psychotherapy and intensives in {}, {}",
        config.therapist_with_credential(),
        config.practice.city,
        config.practice.state
    ))));
    feed.set_id(config.absolute_url("/feed.xml"));
    feed.set_updated(midnight(updated));
    feed.set_lang(Some("en-US".to_string()));
    feed.set_authors(vec![author(config)]);
    feed.set_links(vec![
        link(
            &config.absolute_url("/feed.xml"),
            "self",
            "application/atom+xml",
        ),
        link(&config.absolute_url("/blog"), "alternate", "text/html"),
    ]);
    feed.set_entries(
        articles
            .iter()
            .map(|article| entry(config, article))
            .collect::<Vec<_>>(),
    );
    let mut xml = feed.to_string();
    xml.push('\n');
    xml
}

fn entry(config: &SiteConfig, article: &Document) -> Entry {
    let mut entry = Entry::default();
    entry.set_title(Text::plain(article.title.clone()));
    entry.set_id(entry_id(config, article));
    let published = article.date.unwrap_or_default();
    entry.set_published(Some(midnight(published)));
    entry.set_updated(midnight(article.last_modified().unwrap_or(published)));
    entry.set_authors(vec![author(config)]);
    entry.set_links(vec![link(
        &config.absolute_url(&article.url),
        "alternate",
        "text/html",
    )]);
    entry.set_summary(Some(Text::plain(article.description.clone())));
    let mut content = Content::default();
    content.set_content_type(Some("html".to_string()));
    // Links in the body are site-relative; xml:base makes them absolute.
    content.set_base(Some(config.absolute_url(&article.url)));
    content.set_value(Some(article.html.to_string()));
    entry.set_content(Some(content));
    entry
}

/// A `tag:` URI (RFC 4151) that survives rebuilds and slug changes: it is
/// minted from the article's first address — its first alias, once it has
/// been renamed — and its publication date, never from the current slug.
pub fn entry_id(config: &SiteConfig, article: &Document) -> String {
    let host = config
        .practice
        .base_url
        .split("://")
        .nth(1)
        .unwrap_or(&config.practice.base_url)
        .trim_end_matches('/');
    let first_address = article.aliases.first().unwrap_or(&article.url);
    let date = article.date.unwrap_or_default();
    format!("tag:{host},{date}:{first_address}")
}

fn author(config: &SiteConfig) -> Person {
    let mut person = Person::default();
    person.set_name(config.therapist_with_credential());
    person.set_uri(Some(config.absolute_url("/about")));
    person
}

fn link(href: &str, rel: &str, mime: &str) -> Link {
    let mut link = Link::default();
    link.set_href(href.to_string());
    link.set_rel(rel.to_string());
    link.set_mime_type(Some(mime.to_string()));
    link
}

fn midnight(date: NaiveDate) -> FixedDateTime {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn sitemap_escapes_and_lists_lastmod() {
        let config = SiteConfig::parse(
            Path::new("site.toml"),
            include_str!("../../content/site.toml"),
        )
        .unwrap();
        let xml = sitemap(
            &config,
            &[
                SitemapEntry {
                    path: "/a&b".into(),
                    last_modified: NaiveDate::from_ymd_opt(2025, 6, 12),
                },
                SitemapEntry {
                    path: "/about".into(),
                    last_modified: None,
                },
            ],
        );
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(
            xml.contains("<loc>https://www.example.com/a&amp;b</loc><lastmod>2025-06-12</lastmod>")
        );
        assert!(xml.contains("<url><loc>https://www.example.com/about</loc></url>"));
    }

    #[test]
    fn robots_names_the_sitemap_and_keeps_crawlers_out_of_private_pages() {
        let config = SiteConfig::parse(
            Path::new("site.toml"),
            include_str!("../../content/site.toml"),
        )
        .unwrap();
        assert_eq!(
            robots(&config),
            "User-agent: *\n# Sample details: this site is not live.\nDisallow: /\n"
        );
        let real = SiteConfig::parse(
            Path::new("site.toml"),
            &crate::config::filled_in(include_str!("../../content/site.toml")),
        )
        .unwrap();
        let text = robots(&real);
        assert!(text.contains("Disallow: /admin\n"));
        assert!(text.contains("Disallow: /booking/\n"));
        assert!(!text.contains("Disallow: /\n"));
        assert!(text.contains("Sitemap: https://www.alicia-taverner-therapy.com/sitemap.xml\n"));
    }
}
