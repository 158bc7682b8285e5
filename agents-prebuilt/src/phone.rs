//! `GetPhoneNumberTask`: collects a phone number in E.164 form.

use crate::capture::{self, capture_tools, option_builders, Capture, CaptureState};
use crate::normalize;
use agents_core::prelude::*;
use serde::Serialize;
use std::borrow::Cow;

/// The number a [`GetPhoneNumberTask`] collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhoneNumberResult {
    /// E.164: `+`, the country calling code and the national number, digits only
    /// (`+14155550123`).
    pub phone_number: String,
}

/// Collects the user's phone number and returns it in E.164 form, checked for length and
/// country-code rules; by default for voice, reads it back in groups before completing.
///
/// National numbers (without `+`) need [`default_country_code`](Self::default_country_code);
/// without it the LLM is told to ask for the country.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_prebuilt::GetPhoneNumberTask;
/// # async fn demo(ctx: &mut AgentContext<'_>) -> Result<()> {
/// let phone = ctx.run_task(GetPhoneNumberTask::new().default_country_code("1")).await?;
/// # Ok(()) }
/// ```
#[agent_task(result = PhoneNumberResult)]
#[derive(Debug, Clone, Default)]
pub struct GetPhoneNumberTask {
    default_country_code: Option<String>,
    capture: CaptureState<PhoneNumberResult>,
}

impl GetPhoneNumberTask {
    /// A task with the default options: no default country, confirmation for voice input only.
    pub fn new() -> Self {
        Self::default()
    }

    /// The country calling code for numbers given without one (`"1"` or `"+1"` for the US and
    /// Canada, `"44"` for the UK); a national trunk `0` is dropped when it is applied. A value
    /// that is not 1 to 3 digits is ignored, with a warning in the log.
    pub fn default_country_code(mut self, code: impl AsRef<str>) -> Self {
        let code = code.as_ref().trim();
        let digits = code.strip_prefix('+').unwrap_or(code);
        if (1..=3).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
        {
            self.default_country_code = Some(digits.to_string());
        } else {
            tracing::warn!(
                code,
                "ignored default country code: expected 1 to 3 digits not starting with 0"
            );
        }
        self
    }

    fn check(&self, phone_number: String) -> Result<PhoneNumberResult, ToolError> {
        let phone_number = validate_phone(&phone_number, self.default_country_code.as_deref())
            .map_err(|reason| {
                ToolError::new(format!(
                    "That is not a valid phone number: {reason}. Ask the user to repeat it."
                ))
            })?;
        Ok(PhoneNumberResult { phone_number })
    }
}

impl Capture for GetPhoneNumberTask {
    const WHAT: &'static str = "phone number";
    const UPDATE: &'static str = "update_phone_number";
    const CONFIRM: &'static str = "confirm_phone_number";
    const DECLINE: &'static str = "decline_phone_number_capture";
    const SPOKEN_FORMS: &'static str = "Phone numbers are said in groups (\"four one five, five \
        five five, oh one two three\"), sometimes with \"plus\" and a country code first.";

    fn rules(&self) -> Cow<'_, str> {
        let country = match &self.default_country_code {
            Some(cc) => format!(
                "Numbers without a country code are taken as +{cc}; pass them as the user said them."
            ),
            None => "If the user gives no country code, pass the number as said; the tool will \
                tell you if you need to ask which country it is from."
                .to_string(),
        };
        Cow::Owned(format!(
            "Pass the number with a leading + and its country code when the user gives one. \
             {country} When you read a number back, read the digits in the groups the tool \
             gives you."
        ))
    }

    fn read_back(&self, value: &PhoneNumberResult) -> String {
        let number = &value.phone_number;
        capture::read_back::<Self>(
            &format!(
                "digit by digit in groups, like this: \"{}\"",
                normalize::phone_groups(number)
            ),
            &format!("phone_number \"{number}\""),
        )
    }

    fn recorded(&self, value: &PhoneNumberResult) -> String {
        format!("Recorded the phone number {}.", value.phone_number)
    }

    fn describe(value: &PhoneNumberResult) -> String {
        value.phone_number.clone()
    }
}

option_builders!(GetPhoneNumberTask, capture.options);

capture_tools! {
    GetPhoneNumberTask => PhoneNumberResult;
    args(phone_number: String) = check;
    update {
        /// Record the phone number the user gave, as soon as you have a plausible reading of it.
        /// Call it again with each correction.
        ///
        /// # Arguments
        /// * `phone_number` - The number as digits, with a leading + and country code if the user gave one, e.g. +1 415 555 0123
        fn update_phone_number;
    }
    confirm {
        /// Confirm the phone number after the user has heard it read back and agreed it is right.
        ///
        /// # Arguments
        /// * `phone_number` - The number the user confirmed, as recorded
        fn confirm_phone_number;
    }
    decline {
        /// Call this when the user will not or cannot give a phone number.
        fn decline_phone_number_capture;
    }
}

/// Fewest and most digits of an E.164 number, country code included.
const MIN_DIGITS: usize = 8;
const MAX_DIGITS: usize = 15;

/// The two-digit country calling codes (ITU-T E.164 assignments). `1` and `7` are the only
/// one-digit codes; every other code has three digits. Codes are prefix-free, so this is enough
/// to split a number into country code and national number.
const TWO_DIGIT_CODES: [&str; 44] = [
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
    "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
];

/// Numbering plans whose international form keeps a leading 0 after the country code (Italy,
/// San Marino, Vatican City, Côte d'Ivoire, Gabon, Republic of the Congo).
const KEEPS_LEADING_ZERO: [&str; 6] = ["39", "378", "379", "225", "241", "242"];

/// The length of the country calling code at the start of `digits`.
fn country_code_len(digits: &str) -> usize {
    match digits.as_bytes().first() {
        Some(b'1' | b'7') => 1,
        _ if digits
            .get(..2)
            .is_some_and(|two| TWO_DIGIT_CODES.contains(&two)) =>
        {
            2
        }
        _ => 3,
    }
}

/// The number in E.164 form, or why it is invalid. A value that fails as given is tried again
/// as spoken digits ("four one five ...").
/// Pure (no state or I/O); public so property tests can check it directly.
pub fn validate_phone(raw: &str, default_cc: Option<&str>) -> Result<String, String> {
    check_phone(raw, default_cc).or_else(|reason| match normalize::spoken_digits(raw) {
        Some(digits) if digits != raw => check_phone(&digits, default_cc).map_err(|_| reason),
        _ => Err(reason),
    })
}

fn check_phone(raw: &str, default_cc: Option<&str>) -> Result<String, String> {
    // "+44 (0)20 ..." marks the trunk 0 as not dialled from abroad; only right after the
    // country code does "(0)" mean that.
    let s = strip_trunk_zero(raw.trim());
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.chars().any(char::is_alphabetic) {
        return Err("it contains letters; a phone number has only digits".into());
    }
    let mut cleaned = String::new();
    for c in s.chars() {
        match c {
            '0'..='9' => cleaned.push(c),
            '+' if cleaned.is_empty() => cleaned.push(c),
            '+' => return Err("a + can only come first".into()),
            '-' | '.' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            c => {
                return Err(format!(
                    "the character `{c}` does not belong in a phone number"
                ))
            }
        }
    }
    let international = cleaned
        .strip_prefix('+')
        .or_else(|| cleaned.strip_prefix("00"))
        .or_else(|| {
            (default_cc == Some("1"))
                .then(|| cleaned.strip_prefix("011"))
                .flatten()
        });
    let digits = match (international, default_cc) {
        (Some(rest), _) => rest.to_string(),
        (None, None) => {
            return Err(
                "it has no country code; ask which country the number is from, or for \
                the number with its country code (for example +44 for the United Kingdom)"
                    .into(),
            )
        }
        (None, Some("1")) => {
            let national = match cleaned.strip_prefix('1') {
                Some(rest) if cleaned.len() == 11 => rest,
                _ => cleaned.as_str(),
            };
            if national.len() != 10 {
                return Err(format!(
                    "a US or Canadian number has 10 digits (area code and number), this one has {}",
                    national.len()
                ));
            }
            format!("1{national}")
        }
        (None, Some(cc)) => {
            let national = if KEEPS_LEADING_ZERO.contains(&cc) {
                cleaned.as_str()
            } else {
                cleaned.strip_prefix('0').unwrap_or(&cleaned)
            };
            format!("{cc}{national}")
        }
    };
    check_e164(&digits)?;
    Ok(format!("+{digits}"))
}

/// Checks the digits after the `+`.
fn check_e164(digits: &str) -> Result<(), String> {
    if digits.is_empty() {
        return Err("it has no digits".into());
    }
    if digits.starts_with('0') {
        return Err("country codes never start with 0".into());
    }
    let n = digits.len();
    if n < MIN_DIGITS {
        return Err(format!(
            "it is too short: {n} digits with the country code, and a full number has at least {MIN_DIGITS}"
        ));
    }
    if n > MAX_DIGITS {
        return Err(format!(
            "it is too long: {n} digits with the country code, and a number has at most {MAX_DIGITS}"
        ));
    }
    let (cc, national) = digits.split_at(country_code_len(digits));
    if national.starts_with('0') && !KEEPS_LEADING_ZERO.contains(&cc) {
        return Err(format!(
            "after the country code +{cc} comes a 0, which is only dialled inside the country; \
             drop that 0"
        ));
    }
    if cc == "1" {
        if national.len() != 10 {
            return Err(format!(
                "a +1 number has 10 digits after the 1, this one has {}",
                national.len()
            ));
        }
        if national.starts_with('1') {
            return Err("US and Canadian area codes never start with 0 or 1".into());
        }
    }
    Ok(())
}

/// Removes "(0)" when it directly follows an international country code ("+44 (0)20 ...");
/// anywhere else the 0 is part of the number.
fn strip_trunk_zero(s: &str) -> String {
    if let Some(pos) = s.find("(0)") {
        let before = s[..pos].trim_end();
        let code = before
            .strip_prefix('+')
            .or_else(|| before.strip_prefix("00"))
            .unwrap_or("");
        if (1..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_digit()) {
            return format!("{}{}", before, &s[pos + 3..]);
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_e164() {
        let ok = [
            ("+1 (415) 555-0123", None, "+14155550123"),
            ("(415) 555-0123", Some("1"), "+14155550123"),
            ("1-415-555-0123", Some("1"), "+14155550123"),
            ("011 44 20 7946 0958", Some("1"), "+442079460958"),
            ("+44 20 7946 0958", None, "+442079460958"),
            ("+44 (0)20 7946 0958", None, "+442079460958"),
            ("020 7946 0958", Some("44"), "+442079460958"),
            ("0044 20 7946 0958", Some("1"), "+442079460958"),
            ("+39 06 6982 1234", None, "+390669821234"),
            ("06 6982 1234", Some("39"), "+390669821234"),
            ("+49 30 1234567", None, "+49301234567"),
            ("+380 44 123 4567", None, "+380441234567"),
            ("030.123.4567", Some("49"), "+49301234567"),
            (
                "plus one four one five five five five oh one two three",
                None,
                "+14155550123",
            ),
            (
                "four one five, double five five, oh one two three",
                Some("1"),
                "+14155550123",
            ),
        ];
        for (input, cc, expected) in ok {
            assert_eq!(
                validate_phone(input, cc).as_deref(),
                Ok(expected),
                "{input:?} with {cc:?}"
            );
        }
    }

    #[test]
    fn invalid_numbers_say_why() {
        let bad = [
            ("", None, "empty"),
            ("555-CALL-NOW", Some("1"), "letters"),
            ("415 555 0123", None, "no country code"),
            ("+44 020 7946 0958", None, "drop that 0"),
            ("+44 12345", None, "too short"),
            ("+1234567890123456", None, "too long"),
            ("+0 123 456 789", None, "never start with 0"),
            ("555 0123", Some("1"), "10 digits"),
            ("+1 415 555 012", None, "10 digits after the 1"),
            ("+1 115 555 0123", None, "area codes"),
            ("415 555 0123 #2", Some("1"), "`#`"),
            ("415+5550123", Some("1"), "+ can only come first"),
        ];
        for (input, cc, reason) in bad {
            let err = validate_phone(input, cc).unwrap_err();
            assert!(err.contains(reason), "{input:?}: {err}");
        }
    }

    #[test]
    fn country_codes_split_correctly() {
        assert_eq!(country_code_len("14155550123"), 1);
        assert_eq!(country_code_len("74951234567"), 1);
        assert_eq!(country_code_len("442079460958"), 2);
        assert_eq!(country_code_len("353123456789"), 3);
        assert_eq!(country_code_len("2125123456"), 3);
    }

    #[test]
    fn bad_default_country_codes_are_ignored() {
        assert_eq!(
            GetPhoneNumberTask::new()
                .default_country_code("+44")
                .default_country_code,
            Some("44".into())
        );
        for bad in ["", "0", "1234", "abc", "+"] {
            assert_eq!(
                GetPhoneNumberTask::new()
                    .default_country_code(bad)
                    .default_country_code,
                None,
                "{bad:?}"
            );
        }
    }
}
