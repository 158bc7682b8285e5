//! Step 3 of a card: the security code, whose length depends on the network. It is never read
//! back: the user says it a second time instead.

use super::{step_rules, with_article, CardIssuer, CARD_DECLINE, CARD_SPOKEN_FORMS, CARD_WHAT};
use crate::capture::{capture_tools, Capture, CaptureState};
use crate::confirm::CaptureOptions;
use crate::normalize;
use agents_core::prelude::*;
use std::borrow::Cow;

/// Step 3: the security code.
#[agent_task(result = String)]
pub(super) struct SecurityCodeStep {
    issuer: Option<CardIssuer>,
    capture: CaptureState<String>,
}

impl SecurityCodeStep {
    pub(super) fn new(options: CaptureOptions, issuer: Option<CardIssuer>) -> Self {
        SecurityCodeStep {
            issuer,
            capture: CaptureState::with_options(options),
        }
    }

    fn check(&self, security_code: String) -> Result<String, ToolError> {
        validate_cvv(&security_code, self.issuer).map_err(|reason| {
            ToolError::new(format!(
                "That security code is not valid: {reason}. Ask the user to read it again."
            ))
        })
    }

    /// Where the code is printed, for the ask.
    fn where_printed(&self) -> &'static str {
        match self.issuer {
            Some(CardIssuer::AmericanExpress) => {
                "the 4-digit code printed on the front of the card"
            }
            Some(_) => "the 3-digit code on the back of the card",
            None => "the 3- or 4-digit code printed on the card",
        }
    }
}

impl Capture for SecurityCodeStep {
    const WHAT: &'static str = "security code";
    const UPDATE: &'static str = "update_security_code";
    const CONFIRM: &'static str = "confirm_security_code";
    const DECLINE: &'static str = CARD_DECLINE;
    const DECLINED: &'static str = CARD_WHAT;
    const SPOKEN_FORMS: &'static str = CARD_SPOKEN_FORMS;

    fn subject(&self) -> Cow<'_, str> {
        Cow::Borrowed("card's security code")
    }

    fn rules(&self) -> Cow<'_, str> {
        Cow::Owned(step_rules(&format!(
            "The security code (CVV) is {}.",
            self.where_printed()
        )))
    }

    fn ask(&self) -> Cow<'_, str> {
        Cow::Owned(format!(
            "Ask the user for the card's security code: {}.",
            self.where_printed()
        ))
    }

    /// A security code is never read back: the user says it once more instead.
    fn read_back(&self, code: &String) -> String {
        let confirm = Self::CONFIRM;
        format!(
            "Recorded a {}-digit code, but not confirmed yet. Do not say the code aloud. Ask the \
             user to say the security code once more, to make sure it was heard right, then call \
             `{confirm}` with what they say. Do not call `{confirm}` before the user has answered.",
            code.len()
        )
    }

    fn recorded(&self, code: &String) -> String {
        format!("Recorded the {}-digit security code.", code.len())
    }

    fn describe(code: &String) -> String {
        format!("a different {}-digit code", code.len())
    }
}

capture_tools! {
    SecurityCodeStep => String;
    args(security_code: String) = check;
    update {
        /// Record the card's security code as soon as you have a plausible reading of it.
        ///
        /// # Arguments
        /// * `security_code` - The digits of the security code
        fn update_security_code;
    }
    confirm {
        /// Confirm the security code with the digits the user said the second time.
        ///
        /// # Arguments
        /// * `security_code` - The digits the user repeated
        fn confirm_security_code;
    }
    decline {
        /// Call this when the user will not or cannot give their card.
        fn decline_card_capture;
    }
}

/// The security code's digits, or why they do not fit the network (never quoting the code).
/// Pure (no state or I/O); public so applications and property tests can check a code the same
/// way.
pub fn validate_cvv(raw: &str, issuer: Option<CardIssuer>) -> Result<String, String> {
    let digits: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let digits = if digits.chars().all(|c| c.is_ascii_digit()) {
        digits
    } else {
        match normalize::spoken_digits(raw) {
            Some(d) if !d.starts_with('+') => d,
            _ => return Err("a security code has only digits".into()),
        }
    };
    let n = digits.len();
    match issuer {
        Some(issuer) if n != issuer.security_code_len() => Err(format!(
            "{} security code has {} digits, and this one has {n}",
            with_article(issuer.name()),
            issuer.security_code_len()
        )),
        None if !(3..=4).contains(&n) => Err(format!(
            "a security code has 3 or 4 digits, and this one has {n}"
        )),
        _ => Ok(digits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_codes_fit_the_network() {
        assert_eq!(
            validate_cvv("123", Some(CardIssuer::Visa)).as_deref(),
            Ok("123")
        );
        assert_eq!(
            validate_cvv("one two three four", Some(CardIssuer::AmericanExpress)).as_deref(),
            Ok("1234")
        );
        assert!(validate_cvv("123", Some(CardIssuer::AmericanExpress))
            .unwrap_err()
            .contains("an American Express security code has 4 digits"));
        assert!(validate_cvv("1234", Some(CardIssuer::Mastercard))
            .unwrap_err()
            .contains("3 digits"));
        assert!(validate_cvv("12a", None)
            .unwrap_err()
            .contains("only digits"));
        assert_eq!(validate_cvv("0123", None).as_deref(), Ok("0123"));
    }
}
