//! Step 2 of a card: the expiry date, as `MM/YY`, not in the past.

use super::{step_rules, CARD_DECLINE, CARD_SPOKEN_FORMS, CARD_WHAT};
use crate::capture::{self, capture_tools, Capture, CaptureState};
use crate::confirm::CaptureOptions;
use crate::dob::month_name;
use agents_core::prelude::*;
use chrono::{Datelike, NaiveDate};
use std::borrow::Cow;

/// Step 2: the expiry date.
#[agent_task(result = String)]
pub(super) struct ExpiryStep {
    today: Option<NaiveDate>,
    capture: CaptureState<String>,
}

impl ExpiryStep {
    pub(super) fn new(options: CaptureOptions, today: Option<NaiveDate>) -> Self {
        ExpiryStep {
            today,
            capture: CaptureState::with_options(options),
        }
    }

    fn check(&self, month: i64, year: i64) -> Result<String, ToolError> {
        let today = self
            .today
            .unwrap_or_else(|| chrono::Local::now().date_naive());
        validate_expiry(month, year, today).map_err(|reason| {
            ToolError::new(format!(
                "That expiry date cannot be used: {reason}. Ask the user to check the date on the card."
            ))
        })
    }
}

impl Capture for ExpiryStep {
    const WHAT: &'static str = "expiry date";
    const UPDATE: &'static str = "update_expiry_date";
    const CONFIRM: &'static str = "confirm_expiry_date";
    const DECLINE: &'static str = CARD_DECLINE;
    const DECLINED: &'static str = CARD_WHAT;
    const SPOKEN_FORMS: &'static str = CARD_SPOKEN_FORMS;

    fn subject(&self) -> Cow<'_, str> {
        Cow::Borrowed("card's expiry date")
    }

    fn rules(&self) -> Cow<'_, str> {
        Cow::Owned(step_rules(
            "The expiry date is printed as MM/YY; pass the month and the year as numbers.",
        ))
    }

    fn ask(&self) -> Cow<'_, str> {
        Cow::Borrowed("Ask the user for the card's expiry date.")
    }

    fn read_back(&self, expiry: &String) -> String {
        let (month, year) = expiry.split_once('/').unwrap_or((expiry, ""));
        let month = month.trim_start_matches('0');
        capture::read_back::<Self>(
            &format!("as \"{}\"", spoken_expiry(expiry)),
            &format!("month {month} and year {year}"),
        )
    }

    fn recorded(&self, expiry: &String) -> String {
        format!("Recorded the expiry date {expiry}.")
    }

    fn describe(expiry: &String) -> String {
        spoken_expiry(expiry)
    }
}

capture_tools! {
    ExpiryStep => String;
    args(month: i64, year: i64) = check;
    update {
        /// Record the card's expiry date as soon as you have a plausible reading of it.
        ///
        /// # Arguments
        /// * `month` - The expiry month, 1 to 12
        /// * `year` - The expiry year, two or four digits (27 or 2027)
        fn update_expiry_date;
    }
    confirm {
        /// Confirm the expiry date after the user has heard it read back and agreed it is right.
        ///
        /// # Arguments
        /// * `month` - The confirmed month
        /// * `year` - The confirmed year
        fn confirm_expiry_date;
    }
    decline {
        /// Call this when the user will not or cannot give their card.
        fn decline_card_capture;
    }
}

/// How far ahead an expiry date may be before it is taken as misheard.
const MAX_YEARS_AHEAD: i32 = 20;

/// `MM/YY`, or why the date cannot be a valid card's expiry on `today`. Cards are valid through
/// the end of their expiry month. Pure (`today` is passed in); public so applications and
/// property tests can check a date the same way.
pub fn validate_expiry(month: i64, year: i64, today: NaiveDate) -> Result<String, String> {
    if !(1..=12).contains(&month) {
        return Err(format!("the month must be 1 to 12, not {month}"));
    }
    let year = match year {
        0..=99 => 2000 + year,
        2000..=2099 => year,
        y => return Err(format!("{y} is not a card expiry year")),
    } as i32;
    let month = month as u32;
    if (year, month) < (today.year(), today.month()) {
        return Err(format!(
            "the card expired at the end of {} {year} (today is {today})",
            month_name(month)
        ));
    }
    if year > today.year() + MAX_YEARS_AHEAD {
        return Err(format!(
            "{year} is more than {MAX_YEARS_AHEAD} years away, so the year was probably misheard"
        ));
    }
    Ok(format!("{month:02}/{:02}", year % 100))
}

/// "March 2027 (03/27)".
fn spoken_expiry(mm_yy: &str) -> String {
    let (m, y) = mm_yy.split_once('/').unwrap_or((mm_yy, ""));
    let month = m.parse().map(month_name).unwrap_or("?");
    format!("{month} 20{y} ({mm_yy})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_dates() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
        assert_eq!(validate_expiry(6, 24, today).as_deref(), Ok("06/24"));
        assert_eq!(validate_expiry(3, 2027, today).as_deref(), Ok("03/27"));
        let cases = [
            ((5, 24), "expired at the end of May 2024"),
            ((12, 2023), "expired"),
            ((13, 27), "1 to 12"),
            ((0, 27), "1 to 12"),
            ((1, 1999), "not a card expiry year"),
            ((1, 2050), "probably misheard"),
        ];
        for ((m, y), reason) in cases {
            let err = validate_expiry(m, y, today).unwrap_err();
            assert!(err.contains(reason), "{m}/{y}: {err}");
        }
        assert_eq!(spoken_expiry("03/27"), "March 2027 (03/27)");
    }
}
