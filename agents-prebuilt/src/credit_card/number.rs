//! Step 1 of a card: the card number, checked with the Luhn sum and the network's lengths.

use super::{
    last4, step_rules, with_article, CardIssuer, CARD_DECLINE, CARD_SPOKEN_FORMS, CARD_WHAT,
};
use crate::capture::{capture_tools, Capture, CaptureState};
use crate::confirm::CaptureOptions;
use crate::instructions::{self, Tools};
use crate::normalize;
use agents_core::prelude::*;
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// A checked card number and its network. `Debug` and `Serialize` show it masked (network and
/// last four digits), since step results appear in task-group events and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    pub(super) number: String,
    pub(super) issuer: CardIssuer,
}

impl CardNumber {
    /// The digits, in full.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The network, from the leading digits.
    pub fn issuer(&self) -> CardIssuer {
        self.issuer
    }

    /// "Visa ending in 4242": safe to show or say.
    pub fn masked(&self) -> String {
        format!("{} ending in {}", self.issuer.name(), last4(&self.number))
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

impl Serialize for CardNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.masked().serialize(s)
    }
}

/// Step 1: the card number.
#[agent_task(result = CardNumber)]
pub(super) struct CardNumberStep {
    capture: CaptureState<CardNumber>,
}

impl CardNumberStep {
    pub(super) fn new(options: CaptureOptions) -> Self {
        CardNumberStep {
            capture: CaptureState::with_options(options),
        }
    }

    fn check(&self, card_number: String) -> Result<CardNumber, ToolError> {
        validate_card_number(&card_number).map_err(|reason| {
            ToolError::new(format!(
                "That card number is not valid: {reason}. Ask the user to read the number again, \
                 slowly."
            ))
        })
    }
}

impl Capture for CardNumberStep {
    const WHAT: &'static str = "card number";
    const UPDATE: &'static str = "update_card_number";
    const CONFIRM: &'static str = "confirm_card_number";
    const DECLINE: &'static str = CARD_DECLINE;
    const DECLINED: &'static str = CARD_WHAT;
    const SPOKEN_FORMS: &'static str = CARD_SPOKEN_FORMS;

    fn rules(&self) -> Cow<'_, str> {
        Cow::Owned(step_rules(
            "Pass the digits of the long number on the front of the card.",
        ))
    }

    fn ask(&self) -> Cow<'_, str> {
        Cow::Borrowed("Ask the user for the number on their payment card.")
    }

    /// Read back by network and last four digits only: the full number is never said.
    fn read_back(&self, card: &CardNumber) -> String {
        instructions::read_back(
            "card",
            &format!(
                "by its network and last four digits only, like this: \"{} ending in {}\"; \
                 never read the full number aloud",
                card.issuer.name(),
                normalize::one_by_one(last4(&card.number))
            ),
            "the full card number the user gave",
            &Tools {
                update: Self::UPDATE,
                confirm: Self::CONFIRM,
            },
        )
    }

    fn recorded(&self, card: &CardNumber) -> String {
        format!("Recorded the {}.", card.masked())
    }

    fn describe(card: &CardNumber) -> String {
        card.masked()
    }
}

capture_tools! {
    CardNumberStep => CardNumber;
    args(card_number: String) = check;
    update {
        /// Record the card number as soon as you have a plausible reading of it. Call it again with
        /// each correction.
        ///
        /// # Arguments
        /// * `card_number` - The card number's digits
        fn update_card_number;
    }
    confirm {
        /// Confirm the card number after the user has agreed that the card read back is right.
        ///
        /// # Arguments
        /// * `card_number` - The full card number, as recorded
        fn confirm_card_number;
    }
    decline {
        /// Call this when the user will not or cannot give their card.
        fn decline_card_capture;
    }
}

/// Whether `digits` passes the Luhn checksum every card number carries.
/// Pure (no state or I/O); public so property tests can check it directly.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// The card number's digits and network, or why it is invalid (never quoting the number). A
/// value that fails as given is tried again as spoken digits.
/// Pure (no state or I/O); public so applications and property tests can check a number the
/// same way.
pub fn validate_card_number(raw: &str) -> Result<CardNumber, String> {
    check_card_number(raw).or_else(|reason| match normalize::spoken_digits(raw) {
        Some(digits) if digits != raw && !digits.starts_with('+') => {
            check_card_number(&digits).map_err(|_| reason)
        }
        _ => Err(reason),
    })
}

fn check_card_number(raw: &str) -> Result<CardNumber, String> {
    if raw.chars().any(char::is_alphabetic) {
        return Err("it contains letters; a card number has only digits".into());
    }
    let mut digits = String::new();
    for c in raw.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            '-' | '.' => {}
            c if c.is_whitespace() => {}
            c => {
                return Err(format!(
                    "the character `{c}` does not belong in a card number"
                ))
            }
        }
    }
    let n = digits.len();
    if !(13..=19).contains(&n) {
        return Err(format!(
            "a card number has 13 to 19 digits, and this one has {n}"
        ));
    }
    let issuer = CardIssuer::from_number(&digits);
    if !issuer.lengths().contains(&n) {
        let lengths = issuer
            .lengths()
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(format!(
            "{} number has {lengths} digits, and this one has {n}",
            with_article(issuer.name())
        ));
    }
    if !luhn_valid(&digits) {
        return Err(
            "its check digit does not match, so at least one digit was probably misheard".into(),
        );
    }
    Ok(CardNumber {
        number: digits,
        issuer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_checked() {
        let ok = validate_card_number("4242 4242 4242 4242").unwrap();
        assert_eq!(ok.number, "4242424242424242");
        assert_eq!(ok.masked(), "Visa ending in 4242");
        assert_eq!(
            validate_card_number("3782-822463-10005").unwrap().issuer,
            CardIssuer::AmericanExpress
        );
        let spoken = "four two four two four two four two four two four two four two four two";
        assert_eq!(
            validate_card_number(spoken).unwrap().number,
            "4242424242424242"
        );
        let cases = [
            ("4242 4242 4242 4241", "check digit"),
            ("4242 4242 4242", "13 to 19 digits"),
            ("4242 4242 4242 4242 4242", "13 to 19 digits"),
            ("37828224631000", "an American Express number has 15 digits"),
            ("4242-4242-4242-424X", "letters"),
            ("4242#4242#4242#4242", "`#`"),
        ];
        for (number, reason) in cases {
            let err = validate_card_number(number).unwrap_err();
            assert!(err.contains(reason), "{number}: {err}");
            assert!(
                !err.contains("4242424242"),
                "never echoes the number: {err}"
            );
        }
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid(""));
    }
}
