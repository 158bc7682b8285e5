//! `GetNameTask`: collects a person's first, middle and/or last name.

use crate::capture::{self, capture_tools, option_builders, Capture, CaptureState};
use crate::normalize;
use agents_core::prelude::*;
use serde::Serialize;
use std::borrow::Cow;

/// The name a [`GetNameTask`] collected: the parts it was asked for are set, the others `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NameResult {
    /// Given name.
    pub first_name: Option<String>,
    /// Middle name or initial.
    pub middle_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

impl NameResult {
    /// The parts that are set, joined with spaces (first, middle, last).
    pub fn full_name(&self) -> String {
        [&self.first_name, &self.middle_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether both hold the same name, ignoring letter case.
    fn same_as(&self, other: &NameResult) -> bool {
        let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.to_lowercase() == b.to_lowercase(),
            (None, None) => true,
            _ => false,
        };
        eq(&self.first_name, &other.first_name)
            && eq(&self.middle_name, &other.middle_name)
            && eq(&self.last_name, &other.last_name)
    }
}

/// Collects the user's name: the first name by default, or any of first, middle and last.
/// Placeholders ("n/a", "unknown", "first name"), values without letters and empty parts that
/// were asked for are rejected. With [`verify_spelling`](Self::verify_spelling) the user is asked
/// to spell it and the read-back goes letter by letter.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_prebuilt::GetNameTask;
/// # async fn demo(ctx: &mut AgentContext<'_>) -> Result<()> {
/// let name = ctx.run_task(GetNameTask::new().last_name(true).verify_spelling(true)).await?;
/// # Ok(()) }
/// ```
#[agent_task(result = NameResult)]
#[derive(Debug, Clone)]
pub struct GetNameTask {
    first: bool,
    middle: bool,
    last: bool,
    verify_spelling: bool,
    capture: CaptureState<NameResult>,
}

impl Default for GetNameTask {
    fn default() -> Self {
        GetNameTask {
            first: true,
            middle: false,
            last: false,
            verify_spelling: false,
            capture: CaptureState::default(),
        }
    }
}

impl GetNameTask {
    /// A task asking for the first name only, without spelling, confirming for voice input only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to ask for the first name (default: yes).
    pub fn first_name(mut self, ask: bool) -> Self {
        self.first = ask;
        self
    }

    /// Whether to ask for the middle name (default: no).
    pub fn middle_name(mut self, ask: bool) -> Self {
        self.middle = ask;
        self
    }

    /// Whether to ask for the last name (default: no).
    pub fn last_name(mut self, ask: bool) -> Self {
        self.last = ask;
        self
    }

    /// Ask the user to spell the name, and read it back letter by letter: for names that must
    /// be written exactly (bookings, cards, records).
    pub fn verify_spelling(mut self, on: bool) -> Self {
        self.verify_spelling = on;
        self
    }

    /// Which parts to collect: (first, middle, last). Asking for none falls back to the first
    /// name, so the task always has something to collect.
    fn asked(&self) -> (bool, bool, bool) {
        if self.first || self.middle || self.last {
            (self.first, self.middle, self.last)
        } else {
            (true, false, false)
        }
    }

    /// The parts asked for, in words: "first and last name".
    fn parts_text(&self) -> String {
        let (f, m, l) = self.asked();
        let parts: Vec<&str> = [(f, "first"), (m, "middle"), (l, "last")]
            .into_iter()
            .filter(|(asked, _)| *asked)
            .map(|(_, p)| p)
            .collect();
        let joined = match parts.as_slice() {
            [one] => one.to_string(),
            [a, b] => format!("{a} and {b}"),
            [a, b, c] => format!("{a}, {b} and {c}"),
            _ => "first".to_string(),
        };
        format!("{joined} name")
    }

    fn check(
        &self,
        first: Option<String>,
        middle: Option<String>,
        last: Option<String>,
    ) -> Result<NameResult, ToolError> {
        let (f, m, l) = self.asked();
        let result = (|| {
            Ok::<_, String>(NameResult {
                first_name: clean_part("first name", first, f)?,
                middle_name: clean_part("middle name", middle, m)?,
                last_name: clean_part("last name", last, l)?,
            })
        })();
        result.map_err(|reason| {
            ToolError::new(format!(
                "That name cannot be recorded: {reason}. Ask the user again."
            ))
        })
    }

    /// How to read `name` back.
    fn spoken(&self, name: &NameResult) -> String {
        if self.verify_spelling {
            let parts: Vec<String> = [
                ("first name", &name.first_name),
                ("middle name", &name.middle_name),
                ("last name", &name.last_name),
            ]
            .into_iter()
            .filter_map(|(label, v)| {
                v.as_ref()
                    .map(|v| format!("{label} {}", normalize::letter_by_letter(v)))
            })
            .collect();
            format!("letter by letter, like this: \"{}\"", parts.join("; "))
        } else {
            format!("as \"{}\"", name.full_name())
        }
    }
}

impl Capture for GetNameTask {
    const WHAT: &'static str = "name";
    const UPDATE: &'static str = "update_name";
    const CONFIRM: &'static str = "confirm_name";
    const DECLINE: &'static str = "decline_name_capture";
    const SPOKEN_FORMS: &'static str =
        "Names are often spelled out after being said (\"Smith, S M I T H\"): use the spelling.";

    fn subject(&self) -> Cow<'_, str> {
        Cow::Owned(self.parts_text())
    }

    fn rules(&self) -> Cow<'_, str> {
        let spelling = if self.verify_spelling {
            "Ask the user to spell the name letter by letter, and record it exactly as spelled."
        } else {
            "If a name could be written several ways, ask the user to spell it."
        };
        Cow::Owned(format!(
            "Collect the {} only. Pass each part you were asked for as its own argument and \
             null for the others. Record names as people write them, with their usual capital \
             letters. {spelling}",
            self.parts_text()
        ))
    }

    fn ask(&self) -> Cow<'_, str> {
        let spell = if self.verify_spelling {
            ", and to spell it"
        } else {
            ""
        };
        Cow::Owned(format!(
            "Ask the user to provide their {}{spell}.",
            self.parts_text()
        ))
    }

    fn read_back(&self, name: &NameResult) -> String {
        capture::read_back::<Self>(&self.spoken(name), &confirm_args(name))
    }

    fn recorded(&self, name: &NameResult) -> String {
        format!("Recorded the name {}.", name.full_name())
    }

    fn describe(name: &NameResult) -> String {
        name.full_name()
    }

    /// Letter case is not something the user can confirm by ear.
    fn same(a: &NameResult, b: &NameResult) -> bool {
        a.same_as(b)
    }
}

option_builders!(GetNameTask, capture.options);

capture_tools! {
    GetNameTask => NameResult;
    args(
        first_name: Option<String>,
        middle_name: Option<String>,
        last_name: Option<String>,
    ) = check;
    update {
        /// Record the user's name as soon as you have a plausible reading of it. Call it again
        /// with each correction.
        ///
        /// # Arguments
        /// * `first_name` - The first (given) name, or null if you were not asked for it
        /// * `middle_name` - The middle name, or null if you were not asked for it
        /// * `last_name` - The last (family) name, or null if you were not asked for it
        fn update_name;
    }
    confirm {
        /// Confirm the name after the user has heard it read back and agreed it is right.
        ///
        /// # Arguments
        /// * `first_name` - The confirmed first name, or null if not asked for
        /// * `middle_name` - The confirmed middle name, or null if not asked for
        /// * `last_name` - The confirmed last name, or null if not asked for
        fn confirm_name;
    }
    decline {
        /// Call this when the user will not or cannot give their name.
        fn decline_name_capture;
    }
}

/// The confirm tool's arguments for `name`, as the LLM should pass them.
fn confirm_args(name: &NameResult) -> String {
    let show = |v: &Option<String>| match v {
        Some(v) => format!("\"{v}\""),
        None => "null".into(),
    };
    format!(
        "first_name {}, middle_name {} and last_name {}",
        show(&name.first_name),
        show(&name.middle_name),
        show(&name.last_name)
    )
}

/// Words that stand in for a missing name rather than being one (besides the generic ones in
/// [`normalize::is_placeholder`]).
const NAME_PLACEHOLDERS: &[&str] = &[
    "first",
    "first name",
    "firstname",
    "given name",
    "middle",
    "middle name",
    "middlename",
    "last",
    "last name",
    "lastname",
    "surname",
    "family name",
    "name",
    "my name",
    "your name",
    "full name",
    "user",
    "customer",
    "caller",
    "anonymous",
    "no name",
];

/// Characters a name may hold besides letters: spaces, hyphens, apostrophes and the dot of an
/// initial.
const NAME_SYMBOLS: &str = " -'’.";

/// One part of a name (`label` is e.g. `"first name"`), cleaned as [`GetNameTask`] records it
/// (spaces folded, a spelled-out name joined: "J O H N" → "John"), or why it cannot be a name
/// (missing, a placeholder such as "n/a", no letters, digits or symbols).
/// Pure (no state or I/O); public so applications and property tests can check a name the same
/// way.
pub fn validate_name_part(label: &str, value: &str) -> Result<String, String> {
    clean_part(label, Some(value.to_string()), true).map(Option::unwrap_or_default)
}

/// One part of the name, cleaned: `None` when it was not asked for, else the value or why it
/// cannot be recorded.
fn clean_part(label: &str, value: Option<String>, asked: bool) -> Result<Option<String>, String> {
    if !asked {
        return Ok(None);
    }
    let raw = value.unwrap_or_default();
    let mut v = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.is_empty() {
        return Err(format!("the {label} is missing"));
    }
    if normalize::is_placeholder(&v, NAME_PLACEHOLDERS) {
        return Err(format!(
            "`{v}` is a placeholder, not a {label}; ask for the user's real {label}"
        ));
    }
    if let Some(joined) = normalize::spelled_letters(&v) {
        v = capitalize(&joined);
    }
    if !v.chars().any(char::is_alphabetic) {
        return Err(format!("`{v}` has no letters, so it is not a {label}"));
    }
    if v.chars().any(|c| c.is_ascii_digit()) {
        return Err(format!("`{v}` contains digits, which a {label} does not"));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !c.is_alphabetic() && !is_combining_mark(*c) && !NAME_SYMBOLS.contains(*c))
    {
        return Err(format!("the character `{c}` does not belong in a {label}"));
    }
    if v.chars().count() > 100 {
        return Err(format!("that {label} is longer than 100 characters"));
    }
    Ok(Some(v))
}

/// Whether `c` is a combining mark (an accent written as its own code point), part of a name.
fn is_combining_mark(c: char) -> bool {
    matches!(
        c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
    )
}

/// `word` with its first letter in upper case.
fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn parts_are_cleaned() {
        assert_eq!(
            clean_part("first name", s("  Mary   Ann "), true),
            Ok(s("Mary Ann"))
        );
        assert_eq!(clean_part("first name", s("J O H N"), true), Ok(s("John")));
        assert_eq!(
            clean_part("last name", s("O'Neil-Smith"), true),
            Ok(s("O'Neil-Smith"))
        );
        assert_eq!(clean_part("middle name", s("J."), true), Ok(s("J.")));
        assert_eq!(clean_part("last name", s("Zoë"), true), Ok(s("Zoë")));
        assert_eq!(
            clean_part("last name", s("Zoe\u{0308}"), true),
            Ok(s("Zoe\u{0308}"))
        );
        assert_eq!(clean_part("first name", s("李"), true), Ok(s("李")));
        assert_eq!(clean_part("middle name", s("whatever"), false), Ok(None));
    }

    #[test]
    fn the_public_validator_cleans_like_the_task() {
        assert_eq!(
            validate_name_part("first name", " J O H N ").as_deref(),
            Ok("John")
        );
        let err = validate_name_part("last name", "n/a").unwrap_err();
        assert!(err.contains("placeholder, not a last name"), "{err}");
    }

    #[test]
    fn bad_parts_say_why() {
        let cases = [
            (None, "missing"),
            (s("   "), "missing"),
            (s("N/A"), "placeholder"),
            (s("null"), "placeholder"),
            (s("<first name>"), "placeholder"),
            (s("Unknown"), "placeholder"),
            (s("test"), "placeholder"),
            (s("..."), "placeholder"),
            (s("123"), "no letters"),
            (s("John2"), "digits"),
            (s("john@x"), "`@`"),
        ];
        for (value, reason) in cases {
            let err = clean_part("first name", value.clone(), true).unwrap_err();
            assert!(err.contains(reason), "{value:?}: {err}");
        }
    }

    #[test]
    fn asked_parts_are_described() {
        assert_eq!(GetNameTask::new().parts_text(), "first name");
        assert_eq!(
            GetNameTask::new().last_name(true).parts_text(),
            "first and last name"
        );
        assert_eq!(
            GetNameTask::new()
                .middle_name(true)
                .last_name(true)
                .parts_text(),
            "first, middle and last name"
        );
        assert_eq!(
            GetNameTask::new().first_name(false).parts_text(),
            "first name"
        );
    }

    #[test]
    fn full_name_joins_the_set_parts() {
        let name = NameResult {
            first_name: s("Ada"),
            middle_name: None,
            last_name: s("Lovelace"),
        };
        assert_eq!(name.full_name(), "Ada Lovelace");
    }
}
