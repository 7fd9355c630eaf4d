//! The consultation's length as a page states it, however it is phrased
//! ("thirty-minute call", "lasts 20 minutes", "half an hour"), so that a
//! length other than the setting is refused and one setting decides it.

/// Numbers written as the length of a consultation (or the call it is), in
/// minutes: "30-minute consultation", "30 min call", "thirty-minute
/// consultation", "a half-hour call", "the consultation lasts 20 minutes",
/// "consultations take half an hour", "an hour-long consultation". Other
/// durations ("the infusion lasts 30–60 minutes", "a session lasts about
/// three hours") are not the consultation's and are left alone. A phrase
/// never crosses punctuation, so a duration in one clause is not taken for
/// the consultation named in the next.
pub fn stated_consultation_lengths(text: &str) -> Vec<u32> {
    let lower = text.to_lowercase();
    if !lower.contains("consult") && !lower.contains("call") {
        return Vec::new();
    }
    let tokens = length_tokens(&lower);
    let mut found: Vec<(usize, u32)> = Vec::new();
    // Where the last duration read ends: "forty-five minutes" holds "five
    // minutes", which must not be read again.
    let mut covered = 0;
    for i in 0..tokens.len() {
        // "the consultation lasts 20 minutes": the consultation, a few
        // linking words, then a duration.
        if tokens[i].is_some_and(is_consultation) {
            let mut j = i + 1;
            while j < tokens.len()
                && j - i <= 4
                && tokens[j].is_some_and(|w| LINKING_WORDS.contains(&w))
            {
                j += 1;
            }
            if let Some((minutes, used)) = duration_at(&tokens, j) {
                found.push((j, minutes));
                covered = covered.max(j + used);
            }
        }
        // "30-minute consultation": a duration, then within three words the consultation.
        if i >= covered
            && let Some((minutes, used)) = duration_at(&tokens, i)
        {
            covered = i + used;
            let names_consultation = tokens[covered..]
                .iter()
                .take(3)
                .map_while(|t| *t)
                .any(is_consultation);
            if names_consultation {
                found.push((i, minutes));
            }
        }
    }
    found.sort_unstable();
    found.dedup_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, minutes)| minutes).collect()
}

/// Words that may join "consultation" to its length: "lasts about", "is only", "takes".
const LINKING_WORDS: [&str; 22] = [
    "lasts",
    "last",
    "lasting",
    "takes",
    "take",
    "is",
    "are",
    "will",
    "be",
    "runs",
    "run",
    "of",
    "about",
    "around",
    "approximately",
    "roughly",
    "only",
    "just",
    "usually",
    "typically",
    "for",
    "generally",
];

fn is_consultation(word: &str) -> bool {
    word.starts_with("consult") || matches!(word, "call" | "calls")
}

/// Lowercased words (a digit run is a word of its own: "30min" is "30",
/// "min"); `None` stands for punctuation, which ends a phrase. Hyphens and
/// spaces only separate words ("thirty-minute", "half-hour").
fn length_tokens(lower: &str) -> Vec<Option<&str>> {
    let mut tokens = Vec::new();
    let mut start: Option<usize> = None;
    let mut previous_digit = false;
    for (at, c) in lower.char_indices() {
        if c.is_alphanumeric() {
            let digit = c.is_ascii_digit();
            if let Some(from) = start.filter(|_| digit != previous_digit) {
                tokens.push(Some(&lower[from..at]));
                start = None;
            }
            start.get_or_insert(at);
            previous_digit = digit;
        } else {
            if let Some(from) = start.take() {
                tokens.push(Some(&lower[from..at]));
            }
            if !(c.is_whitespace() || matches!(c, '-' | '\u{2011}')) {
                tokens.push(None);
            }
        }
    }
    if let Some(from) = start {
        tokens.push(Some(&lower[from..]));
    }
    tokens
}

/// A length starting at `tokens[i]`: (minutes, tokens used).
fn duration_at(tokens: &[Option<&str>], i: usize) -> Option<(u32, usize)> {
    let word = |k: usize| tokens.get(i + k).copied().flatten().unwrap_or("");
    let long = |used: usize| used + usize::from(word(used) == "long");
    match (word(0), word(1), word(2)) {
        ("half", "hour", _) => return Some((30, long(2))),
        ("half", "an", "hour") => return Some((30, long(3))),
        ("an", "hour", _) => return Some((60, long(2))),
        _ => {}
    }
    let (number, used) = number_at(tokens, i)?;
    match word(used) {
        "minutes" | "minute" | "mins" | "min" => Some((number, used + 1)),
        "hours" | "hour" => Some((number * 60, long(used + 1))),
        _ => None,
    }
}

/// A number written in digits or in words ("five" to "ninety", "forty
/// five"): (value, tokens used).
fn number_at(tokens: &[Option<&str>], i: usize) -> Option<(u32, usize)> {
    const UNITS: [&str; 19] = [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let word = tokens.get(i).copied().flatten()?;
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok().map(|n| (n, 1));
    }
    let value = |list: &[&str], w: &str| list.iter().position(|x| *x == w);
    if let Some(unit) = value(&UNITS, word) {
        return Some((unit as u32 + 1, 1));
    }
    let tens = value(&TENS, word)? as u32 * 10 + 20;
    match tokens
        .get(i + 1)
        .copied()
        .flatten()
        .and_then(|w| value(&UNITS[..9], w))
    {
        Some(unit) => Some((tens + unit as u32 + 1, 2)),
        None => Some((tens, 1)),
    }
}

#[cfg(test)]
mod length_tests {
    use super::stated_consultation_lengths as lengths;

    #[test]
    fn each_phrasing_of_a_consultation_length_is_read() {
        for (text, expected) in [
            ("Book a free 30-minute consultation.", vec![30]),
            ("a 30 minute free consultation", vec![30]),
            ("a 30-min consult", vec![30]),
            ("a 30min call", vec![30]),
            ("a 30 min call with me", vec![30]),
            ("a free thirty-minute consultation", vec![30]),
            ("a forty-five minute phone consultation", vec![45]),
            ("a Twenty Five minute call", vec![25]),
            ("a five-minute call", vec![5]),
            ("a ninety-minute consultation", vec![90]),
            ("a half-hour consultation", vec![30]),
            ("a half hour call", vec![30]),
            ("an hour-long consultation", vec![60]),
            ("a one-hour consultation", vec![60]),
            ("The consultation lasts 20 minutes.", vec![20]),
            ("Consultations take about twenty minutes.", vec![20]),
            ("The call lasts half an hour.", vec![30]),
            ("The consultation is an hour.", vec![60]),
            ("a consultation of 45 minutes", vec![45]),
            ("a 15–20 minute consultation", vec![20]),
            (
                "A 15-minute consultation; the call lasts 20 minutes.",
                vec![15, 20],
            ),
        ] {
            assert_eq!(lengths(text), expected, "{text}");
        }
    }

    #[test]
    fn other_durations_are_not_the_consultation() {
        for text in [
            "The infusion typically lasts 30–60 minutes, and patients are often cleared.",
            "Each dosing session lasts about three hours and includes:",
            "A dosing session usually lasts around three hours.",
            "the effects of the medicine lasting between 45 minutes and 1.5 hours",
            "Choose a time below: it takes about a minute, needs no account.",
            "After 20 minutes, call me.",
            "I’ll call you in 5 minutes.",
            "Call or text 988, or call 911.",
            "a 90-minute session, then a consultation",
            "calls to action take an hour to write",
            "Sessions are 50 minutes.",
        ] {
            assert_eq!(lengths(text), Vec::<u32>::new(), "{text}");
        }
    }
}
