//! Checks for a health site's trustworthiness: which pages discuss
//! medication (and so need a clinician's review date), and paragraphs that
//! claim evidence without citing it. Both read the text blocks the Markdown
//! renderer collects, so words inside code, links' addresses or raw HTML
//! never count. Their findings are warnings (`Diagnostic::warning`, with
//! their wording here): writing advice, never blocking.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use chrono::{Months, NaiveDate};

use std::path::Path;
use std::sync::LazyLock;

use super::markdown::TextBlock;
use crate::diagnostic::Diagnostic;

/// How long a review of a page about medication stays current.
pub const REVIEW_VALID_MONTHS: u32 = 12;

/// Words that make a page one about medication (whole words, any case).
/// Prescribe, prescribed, prescriber, prescription… are matched by their stems.
const MEDICATION_WORDS: [&str; 13] = [
    "ketamine",
    "esketamine",
    "spravato",
    "medication",
    "medications",
    "medicine",
    "medicines",
    "dose",
    "doses",
    "dosed",
    "dosing",
    "dosage",
    "dosages",
];
/// "prescribe", "prescriber", "prescribing"; not "prescription", which the
/// federal cost notice names among the bills it covers.
const PRESCRIBE_STEMS: [&str; 1] = ["prescrib"];

/// The name of a service, not talk of the medicine: the home page, About
/// and the booking form name "Ketamine-Assisted Psychotherapy" without
/// making any claim about ketamine.
const SERVICE_NAMES: [&str; 2] = ["ketamine-assisted", "ketamine assisted"];

/// `text` with every service name blanked out (same length, so the words
/// left keep their places).
fn without_service_names(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut masked = text.to_string();
    for name in SERVICE_NAMES {
        for (at, _) in lower.match_indices(name) {
            masked.replace_range(at..at + name.len(), &" ".repeat(name.len()));
        }
    }
    masked
}

/// Whether `text` may name a medication: it holds one of the words (or the
/// stem) in any ASCII case, or a Kelvin sign (`\u{212A}`, the one
/// character outside ASCII whose lowercase is an ASCII letter of them). One
/// pass of a prebuilt automaton, so the word-by-word reading below runs
/// only for the rare block that can match.
fn may_name_medication(text: &str) -> bool {
    static FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(MEDICATION_WORDS.iter().chain(&PRESCRIBE_STEMS))
            .expect("the medication words are plain words")
    });
    text.contains('\u{212A}') || FINDER.is_match(text)
}

/// The first mention of medication in the blocks: its line and the word as written.
pub fn first_medication_mention(blocks: &[TextBlock]) -> Option<(usize, String)> {
    blocks
        .iter()
        .filter(|block| may_name_medication(&block.text))
        .find_map(|block| {
            let text = without_service_names(&block.text);
            words(&text)
                .find(|word| {
                    let lower = word.to_lowercase();
                    MEDICATION_WORDS.contains(&lower.as_str())
                        || PRESCRIBE_STEMS.iter().any(|stem| lower.starts_with(stem))
                })
                .map(|word| (block.line, word.to_string()))
        })
}

/// The words of `text`: runs of letters and digits, so "dosed" is a word but
/// "overdose" never contains "dose".
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Who says something is shown, and the verbs that say so:
/// "studies show", "research has shown", "evidence suggests".
const EVIDENCE_SUBJECTS: [&str; 6] = [
    "studies", "study", "research", "evidence", "trials", "science",
];
const EVIDENCE_VERBS: [&str; 24] = [
    "show",
    "shows",
    "showed",
    "shown",
    "suggest",
    "suggests",
    "suggested",
    "find",
    "finds",
    "found",
    "prove",
    "proves",
    "proved",
    "proven",
    "demonstrate",
    "demonstrates",
    "demonstrated",
    "confirm",
    "confirms",
    "confirmed",
    "indicate",
    "indicates",
    "indicated",
    "says",
];
/// Words that may stand between the two: "research has consistently shown".
const EVIDENCE_FILLERS: [&str; 8] = [
    "has",
    "have",
    "had",
    "now",
    "also",
    "clearly",
    "consistently",
    "repeatedly",
];
/// Words near a percentage that make it a claim about outcomes:
/// "80% of clients", "improves by 50%", "a 70% success rate".
const OUTCOME_WORDS: [&str; 12] = [
    "clients",
    "patients",
    "people",
    "participants",
    "couples",
    "improve",
    "success",
    "effective",
    "reduc",
    "recover",
    "remission",
    "relief",
];

/// Paragraphs that assert evidence but cite nothing inside them (no
/// footnote reference, no link), as advice at their lines.
pub fn unsourced_claims(path: &Path, blocks: &[TextBlock]) -> Vec<Diagnostic> {
    blocks
        .iter()
        .filter(|block| !block.sourced && !block.in_source)
        .filter_map(|block| {
            let claim = evidence_claim(&block.text)?;
            Some(Diagnostic::warning(
                path,
                block.line,
                format!(
                    "this paragraph says “{claim}” but cites nothing; add a footnote with the study ([^1] here, and a line `[^1]: Author, “Title”, Journal (Year), https://…`) or link to it, or describe what you see in your own work instead"
                ),
            ))
        })
        .collect()
}

/// Whether `text` may claim evidence: every claim below needs one of the
/// subjects, "proven", "%" or "percent" (in any ASCII case: no other
/// character lowercases into them). One pass of a prebuilt automaton, so
/// most paragraphs are not lowercased and split into words.
fn may_claim_evidence(text: &str) -> bool {
    static FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(EVIDENCE_SUBJECTS.iter().chain(&["proven", "%", "percent"]))
            .expect("the evidence words are plain words")
    });
    FINDER.is_match(text)
}

/// The first phrase of `text` that claims evidence, as written (lowercase).
pub fn evidence_claim(text: &str) -> Option<String> {
    if !may_claim_evidence(text) {
        return None;
    }
    let lower = text.to_lowercase();
    // '%' is a token of its own, so "80%" reads as "80 %".
    let tokens: Vec<&str> = lower
        .split_inclusive(|c: char| !c.is_alphanumeric())
        .flat_map(|piece| {
            let word = piece.trim_end_matches(|c: char| !c.is_alphanumeric());
            let percent = piece.ends_with('%').then_some("%");
            [Some(word), percent]
        })
        .flatten()
        .filter(|t| !t.is_empty())
        .collect();
    for (i, &token) in tokens.iter().enumerate() {
        let next = |k: usize| tokens.get(i + k).copied().unwrap_or("");
        if EVIDENCE_SUBJECTS.contains(&token) {
            let mut j = 1;
            while EVIDENCE_FILLERS.contains(&next(j)) && j < 3 {
                j += 1;
            }
            if EVIDENCE_VERBS.contains(&next(j)) {
                return Some(tokens[i..=i + j].join(" "));
            }
        }
        if matches!(token, "clinically" | "scientifically") && next(1) == "proven" {
            return Some(format!("{token} proven"));
        }
        if token == "proven" && next(1) == "to" {
            return Some("proven to".to_string());
        }
        let is_number = token.chars().all(|c| c.is_ascii_digit());
        if is_number && matches!(next(1), "%" | "percent") {
            let window = &tokens[i.saturating_sub(4)..(i + 6).min(tokens.len())];
            if window
                .iter()
                .any(|w| OUTCOME_WORDS.iter().any(|outcome| w.starts_with(outcome)))
            {
                return Some(format!("{token}%"));
            }
        }
    }
    None
}

/// Advice on a page about medication whose review is missing or old.
/// `mention` is where it first names a medication; `reviewed_line` is the
/// `reviewed:` line, `title_line` the `title:` line (where to add it).
pub fn review_advice(
    path: &Path,
    mention: Option<&(usize, String)>,
    reviewed: Option<NaiveDate>,
    reviewed_line: usize,
    title_line: usize,
    today: NaiveDate,
) -> Option<Diagnostic> {
    let (line, word) = mention?;
    let (at, message) = match reviewed {
        None => return Some(missing_review(path, (*line, word), title_line)),
        Some(day) if day > today => Some((
            reviewed_line,
            format!(
                "`reviewed: {day}` is after today ({today}); write the day the review actually happened"
            ),
        )),
        Some(day) if is_stale(day, today) => Some((
            reviewed_line,
            format!(
                "`reviewed: {day}` is more than {REVIEW_VALID_MONTHS} months ago and this page discusses medication (“{word}”, line {line}); check its health facts again (dosing, safety, approvals change), then update `reviewed:` to the day of that check"
            ),
        )),
        Some(_) => None,
    }?;
    Some(Diagnostic::warning(path, at, message))
}

/// The advice for a page that names a medication (`word` at `line`) and has
/// no `reviewed:` date, at its `title:` line (where to add one). `check`
/// advises it; `check --launch` makes this same diagnostic a blocker.
pub fn missing_review(path: &Path, (line, word): (usize, &str), title_line: usize) -> Diagnostic {
    Diagnostic::warning(
        path,
        title_line,
        format!(
            "this page discusses medication (“{word}”, line {line}) but has no `reviewed:` date; have its health facts checked by a qualified clinician, then add `reviewed: YYYY-MM-DD` (and `reviewed_by: \"Name, credential\"` when it was not you) to the front matter"
        ),
    )
}

/// Whether a review on `reviewed` is too old on `today`.
pub fn is_stale(reviewed: NaiveDate, today: NaiveDate) -> bool {
    today
        .checked_sub_months(Months::new(REVIEW_VALID_MONTHS))
        .is_some_and(|limit| reviewed < limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str, sourced: bool) -> TextBlock {
        TextBlock {
            line: 7,
            text: text.to_string(),
            sourced,
            in_source: false,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn medication_words_are_found_whole_and_in_any_case() {
        for text in [
            "We use Ketamine here.",
            "ESKETAMINE is different.",
            "Spravato, a nasal spray",
            "your medication",
            "the medicine",
            "a doctor prescribes it",
            "ketamine-assisted therapy with ketamine",
            "one dose",
            "the dosing session",
            // A Kelvin sign lowercases to "k".
            "\u{212A}etamine",
        ] {
            assert!(
                first_medication_mention(&[block(text, false)]).is_some(),
                "{text}"
            );
        }
        for text in [
            "an overdose of kindness",
            "dosex",
            "medicinal herbs",
            "prescient words",
            "closed doors",
            // A bill's items and a service's name are not talk of medicine.
            "related costs like prescription drugs",
            "Ketamine-Assisted Psychotherapy (KAP)",
            "ketamine assisted psychotherapy",
        ] {
            assert_eq!(
                first_medication_mention(&[block(text, false)]),
                None,
                "{text}"
            );
        }
        assert_eq!(
            first_medication_mention(&[block("No.", false), block("Take a Dose.", false)]),
            Some((7, "Dose".to_string()))
        );
    }

    #[test]
    fn each_claim_of_evidence_is_caught() {
        for (text, claim) in [
            ("Studies show that it works.", "studies show"),
            ("Recent studies suggest relief.", "studies suggest"),
            ("Two studies found it helps.", "studies found"),
            ("Research shows lasting change.", "research shows"),
            ("Research proves it.", "research proves"),
            ("Research suggests so.", "research suggests"),
            (
                "More recently, research has shown effects.",
                "research has shown",
            ),
            ("Studies demonstrate that:", "studies demonstrate"),
            ("It is clinically proven.", "clinically proven"),
            ("Scientifically proven methods.", "scientifically proven"),
            ("KAP is proven to help.", "proven to"),
            ("The evidence shows it.", "evidence shows"),
            ("80% of clients feel better.", "80%"),
            ("Mood improves by 50% in weeks.", "50%"),
            ("A 70 percent success rate.", "70%"),
        ] {
            assert_eq!(evidence_claim(text).as_deref(), Some(claim), "{text}");
        }
    }

    #[test]
    fn words_inside_other_words_and_other_numbers_are_not_claims() {
        for text in [
            "Case studies showcase stories.",
            "It remains unproven to many.",
            "My research-minded clients ask questions.",
            "We studied together; the studio shows art.",
            "A 50% deposit holds your time.",
            "Sessions are 90 minutes.",
            "It’s where you take what you’ve been shown.",
        ] {
            assert_eq!(evidence_claim(text), None, "{text}");
        }
    }

    #[test]
    fn a_source_in_the_paragraph_answers_the_claim() {
        let blocks = [
            block("Studies show it helps.", true),
            block("Studies show it helps.", false),
            TextBlock {
                in_source: true,
                ..block("Studies show it helps.", false)
            },
        ];
        let advice = unsourced_claims(Path::new("x.md"), &blocks);
        assert_eq!(advice.len(), 1, "{advice:?}");
        assert_eq!(advice[0].line, 7);
        assert!(
            advice[0]
                .message
                .contains("says “studies show” but cites nothing")
        );
    }

    #[test]
    fn a_page_about_medication_needs_a_current_review() {
        let x = Path::new("x.md");
        let mention = (12, "ketamine".to_string());
        let today = day(2026, 6, 1);
        let missing = review_advice(x, Some(&mention), None, 4, 2, today).unwrap();
        assert_eq!(missing.line, 2);
        assert!(
            missing.message.contains("no `reviewed:` date"),
            "{missing:?}"
        );
        assert!(
            missing.message.contains("“ketamine”, line 12"),
            "{missing:?}"
        );
        let old = review_advice(x, Some(&mention), Some(day(2025, 5, 31)), 4, 2, today).unwrap();
        assert_eq!(old.line, 4);
        assert!(old.message.contains("more than 12 months ago"), "{old:?}");
        assert_eq!(
            review_advice(x, Some(&mention), Some(day(2025, 6, 1)), 4, 2, today),
            None,
            "exactly 12 months is still current"
        );
        let future = review_advice(x, Some(&mention), Some(day(2026, 7, 1)), 4, 2, today).unwrap();
        assert!(future.message.contains("after today"), "{future:?}");
        assert_eq!(review_advice(x, None, None, 4, 2, today), None);
    }
}
