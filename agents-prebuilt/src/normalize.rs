//! Deterministic helpers that turn speech-to-text renderings into the text people meant, and
//! values into forms a voice agent can read back.
//!
//! The capture tasks use the `spoken_*` functions as a fallback: a value that fails validation as
//! given is accepted when its normalised form passes. The read-back helpers give the LLM an
//! unambiguous spelled-out form, so it does not have to invent one.

/// Digit words, in order.
const UNITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
/// Ten to nineteen.
const TEENS: [&str; 10] = [
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
/// Twenty to ninety, by tens.
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// The digit a single spoken digit stands for: a digit word, `oh`/`o`, or the digit itself.
fn digit_word(word: &str) -> Option<char> {
    match word {
        "oh" | "o" => Some('0'),
        w if w.len() == 1 && w.as_bytes()[0].is_ascii_digit() => w.chars().next(),
        w => UNITS
            .iter()
            .position(|u| *u == w)
            .and_then(|i| char::from_digit(i as u32, 10)),
    }
}

/// Lowercase words, split on whitespace and on the given extra separators.
fn words(text: &str, separators: &[char]) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| c.is_whitespace() || separators.contains(&c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// An email address as said aloud, in written form.
///
/// `" at "` becomes `@`, `" dot "` (or `period`, `point`) `.`, `underscore` `_`, `dash` or
/// `hyphen` `-`, `plus` `+`; digit words become digits (`double`/`triple` repeat the next one);
/// `"j as in juliet"` becomes `j`; every space is dropped, so spelled letters join up. The result
/// is lowercase, without trailing dots.
///
/// ```
/// use agents_prebuilt::normalize::spoken_email;
/// assert_eq!(spoken_email("John dot Doe at gmail dot com"), "john.doe@gmail.com");
/// assert_eq!(spoken_email("j o h n underscore d o e at example dot org"), "john_doe@example.org");
/// ```
pub fn spoken_email(text: &str) -> String {
    let words = words(text, &[',', ';']);
    let mut out = String::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        // "j as in juliet" → "j"
        if w.chars().count() == 1
            && next == Some("as")
            && words.get(i + 2).map(String::as_str) == Some("in")
        {
            out.push_str(w);
            i += 4;
            continue;
        }
        match w {
            "at" => {
                out.push('@');
                if matches!(next, Some("sign" | "symbol")) {
                    i += 1;
                }
            }
            "dot" | "period" | "point" => out.push('.'),
            "full" if next == Some("stop") => {
                out.push('.');
                i += 1;
            }
            "underscore" => out.push('_'),
            "under" if next == Some("score") => {
                out.push('_');
                i += 1;
            }
            "dash" | "hyphen" | "minus" => out.push('-'),
            "plus" => out.push('+'),
            "double" | "triple" => match next.and_then(digit_or_letter) {
                Some(c) => {
                    let n = if w == "double" { 2 } else { 3 };
                    out.extend(std::iter::repeat_n(c, n));
                    i += 1;
                }
                None => out.push_str(w),
            },
            w => match UNITS.iter().position(|u| *u == w) {
                Some(d) => out.push_str(&d.to_string()),
                None => out.push_str(w),
            },
        }
        i += 1;
    }
    out.trim_end_matches('.').to_string()
}

/// The character a word after `double`/`triple` repeats: a digit (word) or a single letter.
fn digit_or_letter(word: &str) -> Option<char> {
    if word != "o" && word != "oh" {
        if let Some(d) = digit_word(word) {
            return Some(d);
        }
    }
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_alphanumeric() => Some(c),
        _ => None,
    }
}

/// A number said digit by digit, as digits: `"four one five, double five five"` → `"415555"`.
///
/// Understands digits, digit words, `oh`/`o` for zero, `ten`..`nineteen`, `twenty`..`ninety`
/// (alone or followed by a unit, as in years: `"nineteen eighty five"` → `"1985"`), `double` and
/// `triple`, and a leading `plus` (kept as `+`). Separators (spaces, `-`, `.`, `,`, parentheses,
/// the words `dash`/`hyphen`) are dropped. Returns `None` when any other word appears, or when no
/// digit does: guessing would turn noise into a number.
///
/// ```
/// use agents_prebuilt::normalize::spoken_digits;
/// assert_eq!(spoken_digits("plus one four one five, five five five, oh one two three").as_deref(), Some("+14155550123"));
/// assert_eq!(spoken_digits("double five triple 7").as_deref(), Some("55777"));
/// assert_eq!(spoken_digits("call me maybe"), None);
/// ```
pub fn spoken_digits(text: &str) -> Option<String> {
    let words = words(text, &['-', '.', ',', '(', ')', '/']);
    let mut out = String::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        if w.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(w);
        } else if let Some(rest) = w.strip_prefix('+') {
            if !out.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            out.push('+');
            out.push_str(rest);
        } else if w == "plus" {
            if !out.is_empty() {
                return None;
            }
            out.push('+');
        } else if let Some(d) = digit_word(w) {
            out.push(d);
        } else if let Some(t) = TEENS.iter().position(|t| *t == w) {
            out.push_str(&(10 + t).to_string());
        } else if let Some(t) = TENS.iter().position(|t| *t == w) {
            let tens = t + 2;
            match next
                .and_then(|n| UNITS.iter().position(|u| *u == n))
                .filter(|&u| u > 0)
            {
                Some(unit) => {
                    out.push_str(&(tens * 10 + unit).to_string());
                    i += 1;
                }
                None => out.push_str(&(tens * 10).to_string()),
            }
        } else if w == "double" || w == "triple" {
            let d = next.and_then(digit_word)?;
            let n = if w == "double" { 2 } else { 3 };
            out.extend(std::iter::repeat_n(d, n));
            i += 1;
        } else if !matches!(w, "dash" | "hyphen") {
            return None;
        }
        i += 1;
    }
    out.chars().any(|c| c.is_ascii_digit()).then_some(out)
}

/// A word spelled out letter by letter, joined: `"j o h n"`, `"J-O-H-N"` or
/// `"J as in Juliet, O, H, N"` → `"john"`.
///
/// Returns `None` unless the text is at least two single letters (any script), optionally in the
/// `"X as in Word"` form: text that is not a spelling is left to the caller.
///
/// ```
/// use agents_prebuilt::normalize::spelled_letters;
/// assert_eq!(spelled_letters("S as in Sierra, M I T H").as_deref(), Some("smith"));
/// assert_eq!(spelled_letters("Smith"), None);
/// ```
pub fn spelled_letters(text: &str) -> Option<String> {
    let words = words(text, &['-', ',', '.']);
    let mut out = String::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let mut chars = w.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return None;
        };
        if !c.is_alphabetic() {
            return None;
        }
        out.push(c);
        let next = words.get(i + 1).map(String::as_str);
        let after = words.get(i + 2).map(String::as_str);
        i += if next == Some("as") && after == Some("in") && words.len() > i + 3 {
            4
        } else if next == Some("for") && words.len() > i + 2 {
            3
        } else {
            1
        };
    }
    (out.chars().count() >= 2).then_some(out)
}

/// The spoken name of a symbol in a read-back.
fn symbol_name(c: char) -> Option<&'static str> {
    Some(match c {
        '.' => "dot",
        '@' => "at",
        '_' => "underscore",
        '-' => "dash",
        '+' => "plus",
        '/' => "slash",
        '\'' | '’' => "apostrophe",
        '&' => "ampersand",
        '#' => "hash",
        ' ' => "space",
        _ => return None,
    })
}

/// A value spelled out for reading back: letters and digits one by one, symbols by name, runs
/// separated by commas.
///
/// ```
/// use agents_prebuilt::normalize::spell_out;
/// assert_eq!(spell_out("jo.doe@gmail.com"), "j o, dot, d o e, at, g m a i l, dot, c o m");
/// ```
pub fn spell_out(text: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            if !run.is_empty() {
                run.push(' ');
            }
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            parts.push(std::mem::take(&mut run));
        }
        match symbol_name(c) {
            Some(name) => parts.push(name.to_string()),
            None => parts.push(c.to_string()),
        }
    }
    if !run.is_empty() {
        parts.push(run);
    }
    parts.join(", ")
}

/// Letters spelled one by one, words separated by commas: `"Mary Ann"` → `"M A R Y, A N N"`.
/// Used to read names back when their spelling matters.
pub fn letter_by_letter(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            word.chars()
                .map(|c| match symbol_name(c) {
                    Some(name) => name.to_string(),
                    None => c.to_uppercase().to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each character of a code separated by spaces, words by commas: postal codes are read back
/// digit by digit (`"94107"` → `"9 4 1 0 7"`, `"SW1A 1AA"` → `"S W 1 A, 1 A A"`).
pub fn one_by_one(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            word.chars()
                .map(|c| c.to_uppercase().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An E.164 number grouped for reading back: `+1` numbers as `1, 415, 555, 0123`; others as the
/// digits in groups of three, the last group taking four rather than leaving one alone. Each
/// group's digits are spaced so a voice reads them one by one.
///
/// ```
/// use agents_prebuilt::normalize::phone_groups;
/// assert_eq!(phone_groups("+14155550123"), "plus 1, 4 1 5, 5 5 5, 0 1 2 3");
/// assert_eq!(phone_groups("+442079460958"), "plus 4 4 2, 0 7 9, 4 6 0, 9 5 8");
/// ```
pub fn phone_groups(number: &str) -> String {
    let plus = number.starts_with('+');
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let mut groups: Vec<&[char]> = Vec::new();
    let rest: &[char] = if plus && digits.len() == 11 && digits[0] == '1' {
        groups.push(&digits[..1]);
        groups.push(&digits[1..4]);
        groups.push(&digits[4..7]);
        &digits[7..]
    } else {
        let mut rest = &digits[..];
        while rest.len() > 4 {
            groups.push(&rest[..3]);
            rest = &rest[3..];
        }
        rest
    };
    if !rest.is_empty() {
        groups.push(rest);
    }
    let spoken = groups
        .iter()
        .map(|g| g.iter().map(char::to_string).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ");
    if plus {
        format!("plus {spoken}")
    } else {
        spoken
    }
}

/// Words that stand in for a missing value in any field.
const PLACEHOLDERS: &[&str] = &[
    "null",
    "nil",
    "none",
    "n/a",
    "na",
    "n.a",
    "unknown",
    "not known",
    "test",
    "testing",
    "tbd",
    "undefined",
    "not provided",
    "not given",
    "placeholder",
    "redacted",
    "blank",
    "empty",
    "asdf",
    "xxx",
];

/// Whether `value` is a placeholder rather than a value: empty once brackets and punctuation
/// are trimmed, or (ignoring case) one of the generic placeholder words or of `extra`.
pub(crate) fn is_placeholder(value: &str, extra: &[&str]) -> bool {
    let v = value
        .trim_matches(|c: char| "<>[](){}\"'`*_-?!.,".contains(c) || c.is_whitespace())
        .to_lowercase();
    v.is_empty() || PLACEHOLDERS.contains(&v.as_str()) || extra.contains(&v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_said_aloud() {
        assert_eq!(
            spoken_email("john dot doe at gmail dot com"),
            "john.doe@gmail.com"
        );
        assert_eq!(
            spoken_email("J O H N at example dot co dot uk."),
            "john@example.co.uk"
        );
        assert_eq!(
            spoken_email("mary underscore ann dash smith at sign work dot io"),
            "mary_ann-smith@work.io"
        );
        assert_eq!(
            spoken_email("J as in Juliet, A, N, E at mail dot com"),
            "jane@mail.com"
        );
        assert_eq!(spoken_email("bob double seven at x dot org"), "bob77@x.org");
        assert_eq!(
            spoken_email("anna plus news at under score dot dev"),
            "anna+news@_.dev"
        );
        assert_eq!(spoken_email("a.b@c.com"), "a.b@c.com");
    }

    #[test]
    fn digits_said_aloud() {
        assert_eq!(spoken_digits("oh five").as_deref(), Some("05"));
        assert_eq!(
            spoken_digits("nineteen eighty five").as_deref(),
            Some("1985")
        );
        assert_eq!(spoken_digits("twenty twenty").as_deref(), Some("2020"));
        assert_eq!(spoken_digits("double five").as_deref(), Some("55"));
        assert_eq!(spoken_digits("triple oh").as_deref(), Some("000"));
        assert_eq!(
            spoken_digits("(415) 555-0123").as_deref(),
            Some("4155550123")
        );
        assert_eq!(
            spoken_digits("+44 20 dash 7946").as_deref(),
            Some("+44207946")
        );
        assert_eq!(
            spoken_digits("nine four one oh seven").as_deref(),
            Some("94107")
        );
        assert_eq!(spoken_digits("five and six"), None);
        assert_eq!(spoken_digits("one plus two"), None);
        assert_eq!(spoken_digits("double"), None);
        assert_eq!(spoken_digits("dash"), None);
        assert_eq!(spoken_digits(""), None);
    }

    #[test]
    fn spelled_words() {
        assert_eq!(spelled_letters("j o h n").as_deref(), Some("john"));
        assert_eq!(spelled_letters("J-O-H-N").as_deref(), Some("john"));
        assert_eq!(
            spelled_letters("Z as in Zulu, o, e").as_deref(),
            Some("zoe")
        );
        assert_eq!(spelled_letters("B for Bravo O B").as_deref(), Some("bob"));
        assert_eq!(spelled_letters("Zoë"), None);
        assert_eq!(spelled_letters("J"), None);
        assert_eq!(spelled_letters("J 0 E"), None);
    }

    #[test]
    fn placeholders() {
        for p in ["N/A", "null", "<unknown>", "[TEST]", "...", "", "n.a."] {
            assert!(is_placeholder(p, &[]), "{p:?}");
        }
        assert!(is_placeholder("First Name", &["first name"]));
        assert!(!is_placeholder("Nadia", &[]));
    }

    #[test]
    fn read_backs() {
        assert_eq!(
            spell_out("mary_ann-smith+x@work.io"),
            "m a r y, underscore, a n n, dash, s m i t h, plus, x, at, w o r k, dot, i o"
        );
        assert_eq!(
            letter_by_letter("Mary-Ann O'Neil"),
            "M A R Y dash A N N, O apostrophe N E I L"
        );
        assert_eq!(one_by_one("94107"), "9 4 1 0 7");
        assert_eq!(one_by_one("sw1a 1aa"), "S W 1 A, 1 A A");
        assert_eq!(phone_groups("+4930123456"), "plus 4 9 3, 0 1 2, 3 4 5 6");
        assert_eq!(phone_groups("+12345678"), "plus 1 2 3, 4 5 6, 7 8");
    }
}
