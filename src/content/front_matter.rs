//! The YAML block between `---` lines at the top of every Markdown file.
//!
//! `FrontMatter` is exactly what the therapist wrote (parsed by
//! serde-saphyr); `FieldLines` is where each field is, from the parser's
//! own positions, so a problem found later (a bad date, a taken slug) is
//! reported at its field's line. The loader (`content::parse`) turns both
//! into what the rest of the engine uses, after the checks serde cannot
//! make (dates, slugs). Problems are [`Diagnostic`]s.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::diagnostic::Diagnostic;

/// The fields a Markdown file may set. Any other name is an error that names
/// it, so a typo such as `titel:` is caught instead of silently ignored.
/// Unknown names are collected rather than refused outright (serde's
/// `deny_unknown_fields` would stop at the first and lose the other fields),
/// so one run reports every problem in the file.
#[derive(Debug, Default, Deserialize)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub description: Option<String>,
    pub date: Option<String>,
    pub updated: Option<String>,
    pub slug: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub cta: Option<String>,
    /// A shorter title for search results and link previews.
    pub seo_title: Option<String>,
    /// The day the page comes down by itself (`YYYY-MM-DD`).
    pub expires: Option<String>,
    /// A share image for link previews, e.g. `/static/images/office.jpg`.
    pub image: Option<String>,
    /// A retired article answers 410 Gone with a page that helps readers on.
    #[serde(default)]
    pub retired: bool,
    /// The day a clinician last checked the page's health content (`YYYY-MM-DD`).
    pub reviewed: Option<String>,
    /// Who reviewed it, e.g. "Jordan Lee, MD"; the therapist when absent.
    pub reviewed_by: Option<String>,
    #[serde(flatten)]
    unknown: BTreeMap<String, IgnoredAny>,
}

/// The field names a front matter may use, for messages.
pub const FIELDS: [&str; 15] = [
    "title",
    "description",
    "date",
    "updated",
    "slug",
    "tags",
    "draft",
    "aliases",
    "cta",
    "seo_title",
    "expires",
    "image",
    "retired",
    "reviewed",
    "reviewed_by",
];

/// A file split into its front matter and its Markdown body.
#[derive(Debug)]
pub struct Split<'a> {
    pub yaml: &'a str,
    /// Line (in the whole file) of the first YAML line.
    pub yaml_line: usize,
    pub body: &'a str,
    /// Line (in the whole file) of the first body line.
    pub body_line: usize,
}

/// Splits `---\n yaml \n---\n body`. A file without front matter is an error:
/// every page needs at least a title and a description.
pub fn split<'a>(path: &Path, text: &'a str) -> Result<Split<'a>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Err(Diagnostic::new(
            path,
            1,
            "the file must start with a line `---`, then the front matter (title, description, ...), then another `---`",
        ));
    };
    let mut offset = 0;
    for (index, line) in rest.split_inclusive('\n').enumerate() {
        if line.trim_end() == "---" {
            let body = &rest[offset + line.len()..];
            return Ok(Split {
                yaml: &rest[..offset],
                yaml_line: 2,
                body,
                body_line: index + 3,
            });
        }
        offset += line.len();
    }
    Err(Diagnostic::new(
        path,
        1,
        "the front matter is never closed: add a line `---` after its last field",
    ))
}

/// Parses the YAML. A syntax or type error is one problem; otherwise every
/// unknown field is one, and the known fields are still returned.
pub fn parse(
    path: &Path,
    split: &Split<'_>,
) -> Result<(FrontMatter, FieldLines, Vec<Diagnostic>), Diagnostic> {
    if split.yaml.trim().is_empty() {
        return Ok((FrontMatter::default(), FieldLines::default(), Vec::new()));
    }
    let front = serde_saphyr::from_str::<FrontMatter>(split.yaml).map_err(|err| {
        let yaml_line = err
            .location()
            .map_or(1, |location| location.line() as usize);
        let message = plain_yaml_message(&err.without_snippet().to_string());
        Diagnostic::new(path, split.yaml_line + yaml_line.saturating_sub(1), message)
    })?;
    let lines = FieldLines::read(split);
    let unknown = front
        .unknown
        .keys()
        .map(|name| {
            let message = match closest_field(name) {
                Some(field) => format!("unknown field `{name}`; did you mean `{field}`?"),
                None => format!(
                    "unknown field `{name}`; the fields are {} (content/README.md explains each)",
                    FIELDS.join(", ")
                ),
            };
            Diagnostic::new(path, lines.line(name), message)
        })
        .collect();
    Ok((front, lines, unknown))
}

/// The known field a misspelt name most likely meant.
pub fn closest_field(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    FIELDS
        .iter()
        .map(|field| (super::links::edit_distance(&lower, field), *field))
        .filter(|(distance, field)| *distance <= 2.min(field.len() / 2))
        .min()
        .map(|(_, field)| field)
}

impl FrontMatter {
    /// Whether a misspelling of `field` was written (so "missing" would mislead).
    pub fn misspelt(&self, field: &str) -> bool {
        self.unknown
            .keys()
            .any(|name| closest_field(name) == Some(field))
    }
}

/// The parser's message, without its own position (we print ours), with a
/// hint for the mistakes people actually make.
fn plain_yaml_message(raw: &str) -> String {
    let first = raw.lines().next().unwrap_or(raw).trim();
    let message = first
        .rsplit_once(" at line ")
        .map_or(first, |(message, _)| message)
        .trim_start_matches("error: ")
        .trim();
    format!(
        "the front matter cannot be read ({message}); check this line: lists are written [a, b], and text containing a colon goes in \"quotes\""
    )
}

/// The line of each top-level field, from the YAML parser's own positions.
///
/// `Spanned` fields inside [`FrontMatter`] would come back without a line
/// (serde buffers a struct that has a `flatten` field, and the unknown
/// fields need one), so the keys are read a second time on their own, each
/// as a `Spanned` key. One table answers every "which line is `date:` on".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldLines(Vec<(String, usize)>);

impl FieldLines {
    /// The keys of `split`'s YAML with their lines in the whole file; empty
    /// when the YAML is not a mapping (that is reported by [`parse`]).
    pub fn read(split: &Split<'_>) -> Self {
        let keys = serde_saphyr::from_str::<Keys>(split.yaml).map_or_else(|_| Vec::new(), |k| k.0);
        Self(
            keys.into_iter()
                .map(|(key, line)| (key, split.yaml_line + line.max(1) - 1))
                .collect(),
        )
    }

    /// The line of `key:`, or the first line of the file when it is absent.
    pub fn line(&self, key: &str) -> usize {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map_or(1, |(_, line)| *line)
    }
}

/// The top-level keys of a YAML mapping with their 1-based lines.
struct Keys(Vec<(String, usize)>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<serde_saphyr::Spanned<String>>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push((key.value, key.referenced.line() as usize));
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Parses a `YYYY-MM-DD` date with a message that says how to write one.
pub fn parse_date(field: &str, value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        format!("`{field}: {value}` is not a date; write it as YYYY-MM-DD, for example 2025-06-12")
    })
}

/// An address from a title: "What to Expect: Your First Session" becomes
/// `what-to-expect-your-first-session`.
pub fn slug_from_title(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if c.is_alphanumeric() {
            // Accented letters lose their accent rather than the word: é → e.
            slug.extend(unaccent(c));
        } else if matches!(c, '’' | '\'') {
            // "what's" stays one word.
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

fn unaccent(c: char) -> Option<char> {
    let plain = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => return None,
    };
    Some(plain)
}

/// The text of a new article's file: front matter filled in, as a draft.
pub fn new_article(title: &str, today: NaiveDate) -> String {
    let quoted = title.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "---\ntitle: \"{quoted}\"\n# One or two sentences for search results and link previews (under 160 characters).\ndescription: \"\"\ndate: {today}\ntags: []\n# Remove this line when the article is ready for readers.\ndraft: true\n---\n\nStart with the paragraph a reader sees first. Use ## for sections.\n\n[Book a free {{{{consultation_minutes}}}}-minute consultation](../pages/consultation.md)\n"
    )
}

/// The text's lines (with their endings), the index of the line that closes
/// its front matter, and the line ending the text uses.
fn front_matter_lines(text: &str) -> Option<(Vec<String>, usize, &'static str)> {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let bare = |line: &str| line.trim_start_matches('\u{feff}').trim_end().to_string();
    if bare(lines.first()?) != "---" {
        return None;
    }
    let close = (1..lines.len()).find(|&i| matches!(bare(&lines[i]).as_str(), "---" | "..."))?;
    Some((lines, close, newline))
}

/// `text` with its front matter's `slug:` set to `slug` (its line replaced,
/// or added before the closing `---`); nothing else changes.
pub fn with_slug(text: &str, slug: &str) -> Option<String> {
    let (mut lines, close, newline) = front_matter_lines(text)?;
    // Quoted: `null` or `true` is an address, not YAML's null or true.
    let line = format!("slug: \"{slug}\"{newline}");
    match (1..close).find(|&i| lines[i].starts_with("slug:")) {
        Some(i) => lines[i] = line,
        None => lines.insert(close, line),
    }
    Some(lines.concat())
}

/// `text` with `alias` added to its front matter's `aliases:` (the field
/// made when there is none), written as she would write it: one more item
/// in her list, in its style, and nothing else moved. `None` when the
/// front matter or its list is not in a shape this can extend (a list over
/// several lines in brackets, say): she then adds the line herself.
pub fn with_alias(text: &str, alias: &str) -> Option<String> {
    let (mut lines, close, newline) = front_matter_lines(text)?;
    let quoted = format!("\"{}\"", alias.replace('\\', "\\\\").replace('"', "\\\""));
    let Some(field) = (1..close).find(|&i| lines[i].starts_with("aliases:")) else {
        lines.insert(close, format!("aliases: [{quoted}]{newline}"));
        return Some(lines.concat());
    };
    let rest = lines[field]["aliases:".len()..].trim();
    if rest.starts_with('[') {
        let line = lines[field].clone();
        let (open, end) = (line.find('[')?, line.rfind(']')?);
        let listed = line[open + 1..end].trim_end();
        let listed = if listed.trim().is_empty() {
            quoted
        } else {
            format!("{listed}, {quoted}")
        };
        lines[field] = format!("{}[{listed}]{}", &line[..open], &line[end + 1..]);
        return Some(lines.concat());
    }
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let items: Vec<usize> = (field + 1..close)
        .take_while(|&i| lines[i].trim_start().starts_with("- "))
        .collect();
    let (after, indent) = match items.last() {
        Some(&last) => {
            let line = &lines[last];
            (
                last + 1,
                line[..line.len() - line.trim_start().len()].to_string(),
            )
        }
        None => (field + 1, "  ".to_string()),
    };
    lines.insert(after, format!("{indent}- {quoted}{newline}"));
    Some(lines.concat())
}

/// A slug is what follows `/blog/` in an article's address: lowercase
/// letters, digits and single hyphens.
pub fn check_slug(slug: &str) -> Result<(), String> {
    let valid = !slug.is_empty()
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{slug}` cannot be part of an address; use lowercase letters, digits and single hyphens, for example `kap-vs-iv-ketamine-clinics`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_is_added_in_the_style_of_her_front_matter() {
        let alias = "/blog/old";
        let none = "---\ntitle: \"T\"\ndraft: true\n---\n\nBody\n";
        assert_eq!(
            with_alias(none, alias).unwrap(),
            "---\ntitle: \"T\"\ndraft: true\naliases: [\"/blog/old\"]\n---\n\nBody\n"
        );
        let flow = "---\ntitle: T\naliases: [/blog/older] # kept\n---\nBody\n";
        assert_eq!(
            with_alias(flow, alias).unwrap(),
            "---\ntitle: T\naliases: [/blog/older, \"/blog/old\"] # kept\n---\nBody\n"
        );
        let empty = "---\naliases: []\ntitle: T\n---\n";
        assert_eq!(
            with_alias(empty, alias).unwrap(),
            "---\naliases: [\"/blog/old\"]\ntitle: T\n---\n"
        );
        let block = "---\r\naliases:\r\n    - /blog/a\r\n    - /blog/b\r\ntitle: T\r\n---\r\n";
        assert_eq!(
            with_alias(block, alias).unwrap(),
            "---\r\naliases:\r\n    - /blog/a\r\n    - /blog/b\r\n    - \"/blog/old\"\r\ntitle: T\r\n---\r\n"
        );
        assert_eq!(with_alias("no front matter\n", alias), None);
        assert_eq!(
            with_slug("---\ntitle: T\n---\nB\n", "new").unwrap(),
            "---\ntitle: T\nslug: \"new\"\n---\nB\n"
        );
        assert_eq!(
            with_slug("---\nslug: old # why\ntitle: T\n---\n", "new").unwrap(),
            "---\nslug: \"new\"\ntitle: T\n---\n"
        );
        assert_eq!(with_alias("---\naliases: [\n  /a,\n]\n---\n", alias), None);
    }

    fn p() -> &'static Path {
        Path::new("x.md")
    }

    #[test]
    fn splits_front_matter_from_body_with_line_numbers() {
        let file = "---\ntitle: A\ndescription: B\n---\n\nBody\n";
        let split = split(p(), file).unwrap();
        assert_eq!(split.yaml, "title: A\ndescription: B\n");
        assert_eq!(split.body, "\nBody\n");
        assert_eq!(split.body_line, 5);
        let (front, _, unknown) = parse(p(), &split).unwrap();
        assert_eq!(front.title.as_deref(), Some("A"));
        assert!(unknown.is_empty());
    }

    #[test]
    fn missing_or_unclosed_front_matter_is_explained() {
        assert!(
            split(p(), "# Title\n")
                .unwrap_err()
                .message
                .contains("must start")
        );
        assert!(
            split(p(), "---\ntitle: A\n")
                .unwrap_err()
                .message
                .contains("never closed")
        );
    }

    #[test]
    fn every_unknown_field_is_named_at_its_line_and_the_rest_is_kept() {
        let file = "---\ntitel: C\ndescription: B\ndat: 2025-01-01\n---\nBody\n";
        let split = split(p(), file).unwrap();
        let (front, _, unknown) = parse(p(), &split).unwrap();
        assert_eq!(front.description.as_deref(), Some("B"));
        let lines: Vec<_> = unknown.iter().map(|p| p.line).collect();
        assert_eq!(lines, [4, 2], "{unknown:?}");
        assert!(
            unknown[1]
                .message
                .contains("`titel`; did you mean `title`?"),
            "{unknown:?}"
        );
        assert!(
            unknown[0].message.contains("`dat`; did you mean `date`?"),
            "{unknown:?}"
        );
        assert!(front.misspelt("title") && !front.misspelt("description"));
        assert_eq!(closest_field("colour"), None);
    }

    #[test]
    fn a_wrong_type_is_one_problem() {
        let file = "---\ntitle: A\ntags:\n  nested: map\n---\nBody\n";
        let problem = parse(p(), &split(p(), file).unwrap()).unwrap_err();
        assert!(
            problem
                .message
                .starts_with("the front matter cannot be read"),
            "{problem:?}"
        );
        assert!(!problem.message.contains(" at line "), "{problem:?}");
    }

    #[test]
    fn yaml_syntax_error_has_a_line() {
        let file = "---\ntitle: A\ndescription: \"unclosed\ntags: [a\n---\nBody\n";
        let split = split(p(), file).unwrap();
        let problem = parse(p(), &split).unwrap_err();
        assert!(problem.line >= 3, "{problem:?}");
    }

    #[test]
    fn dates_and_slugs_are_checked() {
        assert!(parse_date("date", "2025-06-12").is_ok());
        assert!(
            parse_date("date", "June 12")
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
        assert!(parse_date("date", "2025-13-01").is_err());
        assert!(check_slug("kap-guide-2").is_ok());
        for bad in ["", "KAP", "a b", "-a", "a--b", "a/b"] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_from_titles() {
        assert_eq!(
            slug_from_title("What to Expect: Your First KAP Session"),
            "what-to-expect-your-first-kap-session"
        );
        assert_eq!(slug_from_title("  Café & “Déjà vu”?  "), "cafe-deja-vu");
        assert_eq!(slug_from_title("What’s Next"), "whats-next");
        assert!(check_slug(&slug_from_title("KAP vs. IV -- 2025!")).is_ok());
    }

    #[test]
    fn a_new_article_parses() {
        let text = new_article(
            "A \"quoted\" title",
            NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        );
        let split = split(p(), &text).unwrap();
        let (front, _, unknown) = parse(p(), &split).unwrap();
        assert!(unknown.is_empty());
        assert_eq!(front.title.as_deref(), Some("A \"quoted\" title"));
        assert_eq!(front.date.as_deref(), Some("2026-01-02"));
        assert!(front.draft);
        assert!(split.body.contains("{{consultation_minutes}}"));
    }

    #[test]
    fn finds_the_line_of_a_key_from_the_parser() {
        let file =
            "---\ntitle: A\n# a comment\ntags:\n  - slug: no\ndate: x # note\n\"slug\": b\n---\n";
        let split = split(p(), file).unwrap();
        let lines = FieldLines::read(&split);
        assert_eq!(lines.line("title"), 2);
        assert_eq!(lines.line("date"), 6);
        assert_eq!(
            lines.line("slug"),
            7,
            "the top-level key, not the nested one"
        );
        assert_eq!(lines.line("image"), 1);
    }
}
