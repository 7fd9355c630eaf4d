//! JSON-LD for search engines: one `@graph` per page, built from typed values
//! and serialized with serde_json, never by concatenating strings.

use serde::Serialize;

use crate::config::SiteConfig;
use crate::content::Document;

/// What a page is, for its structured data.
pub enum PageKind<'a> {
    Home,
    /// The therapist's profile (about page).
    Profile,
    Page,
    BlogIndex,
    Article(&'a Document),
}

#[derive(Serialize)]
struct Graph {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@graph")]
    graph: Vec<Node>,
}

#[derive(Serialize)]
#[serde(tag = "@type")]
enum Node {
    MedicalBusiness(Business),
    Person(Person),
    WebSite(WebSite),
    WebPage(WebPage),
    /// A page about medication: schema.org's WebPage for health content,
    /// whose `lastReviewed`/`reviewedBy` say who checked it and when.
    MedicalWebPage(WebPage),
    ProfilePage(WebPage),
    CollectionPage(WebPage),
    BreadcrumbList(BreadcrumbList),
    BlogPosting(BlogPosting),
}

#[derive(Serialize, Clone)]
struct Ref {
    #[serde(rename = "@id")]
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Business {
    #[serde(rename = "@id")]
    id: String,
    name: String,
    url: String,
    telephone: String,
    email: String,
    image: String,
    address: PostalAddress,
    area_served: Vec<Place>,
    employee: Ref,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostalAddress {
    #[serde(rename = "@type")]
    kind: &'static str,
    address_locality: String,
    address_region: String,
    address_country: &'static str,
}

#[derive(Serialize)]
struct Place {
    #[serde(rename = "@type")]
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Person {
    #[serde(rename = "@id")]
    id: String,
    name: String,
    job_title: String,
    url: String,
    has_credential: Credential,
    works_for: Ref,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Credential {
    #[serde(rename = "@type")]
    kind: &'static str,
    credential_category: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    identifier: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebSite {
    #[serde(rename = "@id")]
    id: String,
    url: String,
    name: String,
    publisher: Ref,
    in_language: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebPage {
    #[serde(rename = "@id")]
    id: String,
    url: String,
    name: String,
    description: String,
    is_part_of: Ref,
    breadcrumb: Ref,
    in_language: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    main_entity: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_reviewed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reviewed_by: Option<Reviewer>,
}

/// Whoever reviewed the page, named as its front matter names them
/// ("Jordan Lee, MD"): not necessarily the site's therapist.
#[derive(Serialize)]
struct Reviewer {
    #[serde(rename = "@type")]
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BreadcrumbList {
    #[serde(rename = "@id")]
    id: String,
    item_list_element: Vec<ListItem>,
}

#[derive(Serialize)]
struct ListItem {
    #[serde(rename = "@type")]
    kind: &'static str,
    position: usize,
    name: String,
    item: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlogPosting {
    #[serde(rename = "@id")]
    id: String,
    headline: String,
    description: String,
    date_published: String,
    date_modified: String,
    author: Ref,
    publisher: Ref,
    main_entity_of_page: Ref,
    is_part_of: Ref,
    image: String,
    in_language: &'static str,
    word_count: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keywords: Vec<String>,
}

/// The page being described.
pub struct Subject<'a> {
    pub kind: PageKind<'a>,
    /// The Markdown file the page shows, if any: its review and whether it
    /// discusses medication.
    pub document: Option<&'a Document>,
    pub path: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// Absolute URL of the share image.
    pub image: &'a str,
    /// Absolute URL of the default share image, which stands for the practice.
    pub practice_image: &'a str,
}

/// The JSON-LD for one page, safe to place inside `<script>`: `<`, `>` and `&`
/// are written as `\u003c` etc., so no field can close the element.
pub fn json_ld(config: &SiteConfig, subject: &Subject<'_>) -> String {
    let graph = graph(config, subject);
    let json = serde_json::to_string(&graph).expect("plain data always serializes");
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn graph(config: &SiteConfig, subject: &Subject<'_>) -> Graph {
    let base = &config.practice.base_url;
    let practice = Ref {
        id: format!("{base}/#practice"),
    };
    let therapist = Ref {
        id: format!("{base}/#therapist"),
    };
    let website = Ref {
        id: format!("{base}/#website"),
    };
    let url = config.absolute_url(subject.path);
    let webpage = Ref {
        id: format!("{url}#webpage"),
    };
    let breadcrumb = Ref {
        id: format!("{url}#breadcrumb"),
    };

    let mut crumbs = vec![("Home".to_string(), config.absolute_url("/"))];
    match subject.kind {
        PageKind::Home => {}
        PageKind::BlogIndex => crumbs.push(("Articles".to_string(), url.clone())),
        PageKind::Article(_) => {
            crumbs.push(("Articles".to_string(), config.absolute_url("/blog")));
            crumbs.push((subject.title.to_string(), url.clone()));
        }
        PageKind::Page | PageKind::Profile => crumbs.push((subject.title.to_string(), url.clone())),
    }

    let page = WebPage {
        id: webpage.id.clone(),
        url: url.clone(),
        name: subject.title.to_string(),
        description: subject.description.to_string(),
        is_part_of: website.clone(),
        breadcrumb: breadcrumb.clone(),
        in_language: "en-US",
        main_entity: matches!(subject.kind, PageKind::Profile).then(|| therapist.clone()),
        date_modified: match subject.kind {
            PageKind::Article(article) => article.last_modified().map(|d| d.to_string()),
            _ => None,
        },
        last_reviewed: subject
            .document
            .and_then(|d| d.reviewed)
            .map(|d| d.to_string()),
        reviewed_by: subject
            .document
            .filter(|d| d.reviewed.is_some())
            .map(|d| Reviewer {
                kind: "Person",
                name: d.reviewed_by.clone(),
            }),
    };
    let medical = subject.document.is_some_and(Document::discusses_medication);
    let mut nodes = vec![
        Node::MedicalBusiness(Business {
            id: practice.id.clone(),
            name: config.practice.name.clone(),
            url: config.absolute_url("/"),
            telephone: config.practice.phone.clone(),
            email: config.practice.email.clone(),
            image: subject.practice_image.to_string(),
            address: PostalAddress {
                kind: "PostalAddress",
                address_locality: config.practice.city.clone(),
                address_region: config.practice.state.clone(),
                address_country: "US",
            },
            area_served: vec![
                Place {
                    kind: "City",
                    name: config.practice.city.clone(),
                },
                Place {
                    kind: "State",
                    name: config.practice.state.clone(),
                },
            ],
            employee: therapist.clone(),
        }),
        Node::Person(Person {
            id: therapist.id.clone(),
            name: config.therapist.name.clone(),
            job_title: config.therapist.credential_name.clone(),
            url: config.absolute_url("/about"),
            has_credential: Credential {
                kind: "EducationalOccupationalCredential",
                credential_category: "license",
                name: format!(
                    "{} ({})",
                    config.therapist.credential_name, config.therapist.credential
                ),
                identifier: Some(config.therapist.license_number.clone()).filter(|n| !n.is_empty()),
            },
            works_for: practice.clone(),
        }),
        Node::WebSite(WebSite {
            id: website.id.clone(),
            url: config.absolute_url("/"),
            name: config.practice.name.clone(),
            publisher: practice.clone(),
            in_language: "en-US",
        }),
        match subject.kind {
            PageKind::Profile => Node::ProfilePage(page),
            PageKind::BlogIndex => Node::CollectionPage(page),
            _ if medical => Node::MedicalWebPage(page),
            _ => Node::WebPage(page),
        },
        Node::BreadcrumbList(BreadcrumbList {
            id: breadcrumb.id,
            item_list_element: crumbs
                .into_iter()
                .enumerate()
                .map(|(index, (name, item))| ListItem {
                    kind: "ListItem",
                    position: index + 1,
                    name,
                    item,
                })
                .collect(),
        }),
    ];
    if let PageKind::Article(article) = subject.kind {
        let published = article.date.map(|d| d.to_string()).unwrap_or_default();
        nodes.push(Node::BlogPosting(BlogPosting {
            id: format!("{url}#article"),
            headline: article.title.clone(),
            description: article.description.clone(),
            date_modified: article
                .last_modified()
                .map_or_else(|| published.clone(), |d| d.to_string()),
            date_published: published,
            author: therapist,
            publisher: practice,
            main_entity_of_page: webpage,
            is_part_of: website,
            image: subject.image.to_string(),
            in_language: "en-US",
            word_count: article.word_count,
            keywords: article.tags.clone(),
        }));
    }
    Graph {
        context: "https://schema.org",
        graph: nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config() -> SiteConfig {
        SiteConfig::parse(
            Path::new("site.toml"),
            include_str!("../../content/site.toml"),
        )
        .unwrap()
    }

    #[test]
    fn script_closing_tags_cannot_escape() {
        let subject = Subject {
            kind: PageKind::Page,
            document: None,
            path: "/x",
            title: "</script><script>alert(1)</script> & more",
            description: "d",
            image: "https://www.example.com/i.png",
            practice_image: "https://www.example.com/i.png",
        };
        let json = json_ld(&config(), &subject);
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let page = &value["@graph"][3];
        assert_eq!(page["@type"], "WebPage");
        assert_eq!(page["name"], "</script><script>alert(1)</script> & more");
    }

    #[test]
    fn the_practice_and_therapist_are_described() {
        let subject = Subject {
            kind: PageKind::Profile,
            document: None,
            path: "/about",
            title: "About",
            description: "d",
            image: "https://www.example.com/i.png",
            practice_image: "https://www.example.com/i.png",
        };
        let value: serde_json::Value = serde_json::from_str(&json_ld(&config(), &subject)).unwrap();
        let graph = value["@graph"].as_array().unwrap();
        let business = &graph[0];
        assert_eq!(business["@type"], "MedicalBusiness");
        assert_eq!(business["address"]["addressLocality"], "Rancho Cucamonga");
        let person = &graph[1];
        assert_eq!(
            person["hasCredential"]["name"],
            "Licensed Marriage and Family Therapist (LMFT)"
        );
        assert!(
            person["hasCredential"].get("identifier").is_none(),
            "no licence number set"
        );
        assert_eq!(graph[3]["@type"], "ProfilePage");
        assert_eq!(graph[3]["mainEntity"]["@id"], person["@id"]);
    }

    fn document(body: &str, reviewed: Option<&str>) -> Document {
        let front = reviewed.map_or(String::new(), |day| {
            format!("reviewed: {day}\nreviewed_by: \"Jordan Lee, MD\"\n")
        });
        let file = format!("---\ntitle: X\ndescription: d\n{front}---\n\n{body}\n");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let library =
            crate::content::testing::shipped_with(&[("pages/x.md", &file)], today).unwrap();
        library.page("x").unwrap().clone()
    }

    fn page_node(document: &Document, kind: PageKind<'_>) -> serde_json::Value {
        let subject = Subject {
            kind,
            document: Some(document),
            path: "/x",
            title: "X",
            description: "d",
            image: "https://www.example.com/i.png",
            practice_image: "https://www.example.com/i.png",
        };
        let value: serde_json::Value = serde_json::from_str(&json_ld(&config(), &subject)).unwrap();
        value["@graph"][3].clone()
    }

    #[test]
    fn a_reviewed_page_about_medication_is_a_medical_web_page() {
        let reviewed = document("Ketamine is a medicine.", Some("2025-11-02"));
        let page = page_node(&reviewed, PageKind::Page);
        assert_eq!(page["@type"], "MedicalWebPage");
        assert_eq!(page["lastReviewed"], "2025-11-02");
        assert_eq!(page["reviewedBy"]["@type"], "Person");
        assert_eq!(page["reviewedBy"]["name"], "Jordan Lee, MD");
        // An article keeps its BlogPosting; its page node is the medical one.
        let value: serde_json::Value = serde_json::from_str(&json_ld(
            &config(),
            &Subject {
                kind: PageKind::Article(&reviewed),
                document: Some(&reviewed),
                path: "/blog/x",
                title: "X",
                description: "d",
                image: "https://www.example.com/i.png",
                practice_image: "https://www.example.com/i.png",
            },
        ))
        .unwrap();
        let types: Vec<&str> = value["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["@type"].as_str().unwrap())
            .collect();
        assert!(
            types.contains(&"BlogPosting") && types.contains(&"MedicalWebPage"),
            "{types:?}"
        );

        let plain = document("Couples learn to listen.", None);
        let page = page_node(&plain, PageKind::Page);
        assert_eq!(page["@type"], "WebPage");
        assert!(page.get("lastReviewed").is_none() && page.get("reviewedBy").is_none());
    }
}
