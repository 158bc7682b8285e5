//! `GetDobTask`: collects a date of birth, and optionally the time of birth.

use crate::capture::{self, capture_tools, option_builders, Capture, CaptureState};
use agents_core::prelude::*;
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use serde::{Serialize, Serializer};
use std::borrow::Cow;

/// The date (and time) a [`GetDobTask`] collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DobResult {
    /// The date of birth; serialised as `YYYY-MM-DD`.
    pub date_of_birth: NaiveDate,
    /// The time of birth, when the task was asked for it; serialised as `HH:MM`.
    #[serde(serialize_with = "hh_mm")]
    pub time_of_birth: Option<NaiveTime>,
}

fn hh_mm<S: Serializer>(time: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(t) => s.serialize_str(&t.format("%H:%M").to_string()),
        None => s.serialize_none(),
    }
}

const UPDATE_TIME: &str = "update_time";
/// Oldest accepted age, in years.
const MAX_AGE: i32 = 130;

/// Collects the user's date of birth (and with [`include_time`](Self::include_time), the time
/// of birth). Two-digit years resolve to the most recent past century (`85` → 1985); invalid
/// dates (30 February), future dates and ages over 130 are rejected.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_prebuilt::GetDobTask;
/// # async fn demo(ctx: &mut AgentContext<'_>) -> Result<()> {
/// let dob = ctx.run_task(GetDobTask::new()).await?.date_of_birth;
/// # Ok(()) }
/// ```
#[agent_task(result = DobResult)]
#[derive(Debug, Clone, Default)]
pub struct GetDobTask {
    include_time: bool,
    today: Option<NaiveDate>,
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    /// How the update tool read the value (a two-digit year), added to its output.
    note: String,
    capture: CaptureState<DobResult>,
}

impl GetDobTask {
    /// A task for the date only, checked against the system's local date, confirming for voice
    /// input only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also ask for the time of birth (hour and minute), e.g. for astrology or neonatal records.
    pub fn include_time(mut self, on: bool) -> Self {
        self.include_time = on;
        self
    }

    /// The date to treat as today (default: the local date when each value is checked); fixes
    /// the two-digit year pivot and the future-date check in tests.
    pub fn today(mut self, date: NaiveDate) -> Self {
        self.today = Some(date);
        self
    }

    fn current_date(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    fn date(&self, year: i64, month: i64, day: i64) -> Result<NaiveDate, ToolError> {
        resolve_date(year, month, day, self.current_date()).map_err(|reason| {
            ToolError::new(format!(
                "That date of birth cannot be right: {reason}. Ask the user again."
            ))
        })
    }

    /// Completes, or asks for the read-back, once everything asked for is known; otherwise says
    /// what is still missing.
    fn finish(&mut self, ctx: &mut Ctx<'_, Self>) -> String {
        let Some(date) = self.date else {
            return format!(
                "Recorded the time of birth. Now ask for the date of birth and call `{}`.",
                Self::UPDATE
            );
        };
        if self.include_time && self.time.is_none() {
            return format!(
                "Recorded the date of birth, {}{}. Now ask for the time of birth and call \
                 `{UPDATE_TIME}`.",
                spoken_date(date),
                self.note
            );
        }
        let result = DobResult {
            date_of_birth: date,
            time_of_birth: self.time.filter(|_| self.include_time),
        };
        capture::record(self, ctx, result)
    }

    /// The value a confirm call names, checked like a new one.
    fn confirmed(
        &self,
        year: i64,
        month: i64,
        day: i64,
        hour: Option<i64>,
        minute: Option<i64>,
    ) -> Result<DobResult, ToolError> {
        let date = self.date(year, month, day)?;
        let time = match (self.include_time, hour, minute) {
            (false, _, _) => None,
            (true, Some(h), Some(m)) => Some(resolve_time(h, m).map_err(ToolError::new)?),
            (true, _, _) => {
                return Err(ToolError::new(
                    "Pass the confirmed hour and minute of birth too.",
                ))
            }
        };
        Ok(DobResult {
            date_of_birth: date,
            time_of_birth: time,
        })
    }
}

impl Capture for GetDobTask {
    const WHAT: &'static str = "date of birth";
    const UPDATE: &'static str = "update_dob";
    const CONFIRM: &'static str = "confirm_dob";
    const DECLINE: &'static str = "decline_dob_capture";
    const SPOKEN_FORMS: &'static str = "Dates are said in many ways: \"March fourteenth, nineteen \
        eighty five\", \"the 14th of March 85\", \"oh three, fourteen, eighty five\".";

    fn subject(&self) -> Cow<'_, str> {
        Cow::Borrowed(if self.include_time {
            "date and time of birth"
        } else {
            Self::WHAT
        })
    }

    fn rules(&self) -> Cow<'_, str> {
        let time_rule = if self.include_time {
            format!(
                " Record the time with `{UPDATE_TIME}`, as hour 0 to 23 and minute (3:30 pm is \
                 hour 15, minute 30); ask whether it was morning or afternoon if unclear."
            )
        } else {
            String::new()
        };
        Cow::Owned(format!(
            "Pass the year, month (1 to 12) and day as numbers; pass a two-digit year as the user \
             said it (85), and the tool resolves the century. If the user gives the date as \
             digits only (03/04/85), ask which is the month and which the day unless it is \
             clear.{time_rule} When you read the date back, say the month by its name."
        ))
    }

    fn ask(&self) -> Cow<'_, str> {
        Cow::Borrowed(if self.include_time {
            "Ask the user to provide their date of birth and the time they were born."
        } else {
            "Ask the user to provide their date of birth."
        })
    }

    fn read_back(&self, result: &DobResult) -> String {
        let date = result.date_of_birth;
        let time_args = match result.time_of_birth {
            Some(t) => format!(", hour {} and minute {}", t.hour(), t.minute()),
            None => ", hour null and minute null".into(),
        };
        capture::read_back::<Self>(
            &format!("as \"{}\"{}", spoken(result), self.note),
            &format!(
                "year {}, month {}, day {}{time_args}",
                date.year(),
                date.month(),
                date.day()
            ),
        )
    }

    fn recorded(&self, result: &DobResult) -> String {
        format!(
            "Recorded the date of birth, {}{}.",
            spoken(result),
            self.note
        )
    }

    fn describe(result: &DobResult) -> String {
        spoken(result)
    }
}

option_builders!(GetDobTask, capture.options);

capture_tools! {
    GetDobTask => DobResult;
    confirm {
        /// Confirm the date of birth after the user has heard it read back and agreed it is right.
        ///
        /// # Arguments
        /// * `year` - The confirmed year
        /// * `month` - The confirmed month, 1 to 12
        /// * `day` - The confirmed day
        /// * `hour` - The confirmed hour of birth, or null if the time was not asked for
        /// * `minute` - The confirmed minute of birth, or null if the time was not asked for
        fn confirm_dob(
            year: i64,
            month: i64,
            day: i64,
            hour: Option<i64>,
            minute: Option<i64>,
        ) = confirmed;
    }
    decline {
        /// Call this when the user will not or cannot give their date of birth.
        fn decline_dob_capture;
    }
    more {
        /// `update_time` is offered only when the time of birth is asked for.
        fn tool_enabled(&self, name: &str) -> bool {
            name != UPDATE_TIME || self.include_time
        }

        /// Record the user's date of birth as soon as you have a plausible reading of it. Call it
        /// again with each correction.
        ///
        /// # Arguments
        /// * `year` - The year, four digits, or two digits as the user said them (85)
        /// * `month` - The month, 1 to 12
        /// * `day` - The day of the month, 1 to 31
        #[function_tool]
        async fn update_dob(
            &mut self,
            ctx: &mut Ctx<'_, Self>,
            year: i64,
            month: i64,
            day: i64,
        ) -> Result<String, ToolError> {
            let date = self.date(year, month, day)?;
            self.date = Some(date);
            self.note = if (0..100).contains(&year) {
                format!(
                    " (the two-digit year {year:02} was taken as {})",
                    date.year()
                )
            } else {
                String::new()
            };
            Ok(self.finish(ctx))
        }

        /// Record the user's time of birth, when it was asked for.
        ///
        /// # Arguments
        /// * `hour` - The hour, 0 to 23 (3 pm is 15)
        /// * `minute` - The minute, 0 to 59
        #[function_tool]
        async fn update_time(
            &mut self,
            ctx: &mut Ctx<'_, Self>,
            hour: i64,
            minute: i64,
        ) -> Result<String, ToolError> {
            if !self.include_time {
                return Err(ToolError::new(
                    "Only the date of birth is needed, not the time: do not ask for it.",
                ));
            }
            self.time = Some(resolve_time(hour, minute).map_err(ToolError::new)?);
            self.note.clear();
            Ok(self.finish(ctx))
        }
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The name of month `m` (1 to 12).
pub(crate) fn month_name(m: u32) -> &'static str {
    MONTHS
        .get((m as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("?")
}

/// "14 March 1985": unambiguous when read aloud, whatever the listener's date order.
fn spoken_date(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        date.day(),
        month_name(date.month()),
        date.year()
    )
}

/// The result as read back: "14 March 1985", with " at 15:30" when a time is set.
fn spoken(result: &DobResult) -> String {
    match result.time_of_birth {
        Some(t) => format!(
            "{} at {}",
            spoken_date(result.date_of_birth),
            t.format("%H:%M")
        ),
        None => spoken_date(result.date_of_birth),
    }
}

/// Days in `month` of `year`.
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    match (
        NaiveDate::from_ymd_opt(year, month, 1),
        NaiveDate::from_ymd_opt(ny, nm, 1),
    ) {
        (Some(a), Some(b)) => (b - a).num_days() as u32,
        _ => 31,
    }
}

/// A birth date from what the user said, or why it cannot be one. A year of 0 to 99 is taken in
/// the latest century that does not put the date after `today`.
/// Pure (no state or I/O; `today` is passed in); public so property tests can check it directly.
pub fn resolve_date(
    year: i64,
    month: i64,
    day: i64,
    today: NaiveDate,
) -> Result<NaiveDate, String> {
    if !(1..=12).contains(&month) {
        return Err(format!("the month must be 1 to 12, not {month}"));
    }
    if !(1..=31).contains(&day) {
        return Err(format!("the day must be 1 to 31, not {day}"));
    }
    let (m, d) = (month as u32, day as u32);
    let this_year = i64::from(today.year());
    let year = match year {
        0..=99 => {
            let mut y = this_year / 100 * 100 + year;
            if (y, m, d) > (this_year, today.month(), today.day()) {
                y -= 100;
            }
            y
        }
        y if y > this_year => {
            return Err(format!(
                "{y} is in the future (today is {today}); ask for the year again"
            ))
        }
        y if y < 1000 => {
            return Err(format!(
                "{y} is not a plausible birth year; ask for all four digits"
            ))
        }
        y => y,
    };
    let y = year as i32;
    let date = NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| {
        format!(
            "{} {y} has only {} days",
            month_name(m),
            days_in_month(y, m)
        )
    })?;
    if date > today {
        return Err(format!(
            "{} is in the future (today is {today})",
            spoken_date(date)
        ));
    }
    let age = today.year() - date.year() - i32::from((today.month(), today.day()) < (m, d));
    if age > MAX_AGE {
        return Err(format!(
            "that would make the person {age} years old; the year is probably misheard"
        ));
    }
    Ok(date)
}

/// A time of day from an hour (0–23) and minute, or why not.
pub(crate) fn resolve_time(hour: i64, minute: i64) -> Result<NaiveTime, String> {
    if !(0..=23).contains(&hour) {
        return Err(format!(
            "The hour must be 0 to 23 (3 pm is 15), not {hour}."
        ));
    }
    if !(0..=59).contains(&minute) {
        return Err(format!("The minute must be 0 to 59, not {minute}."));
    }
    NaiveTime::from_hms_opt(hour as u32, minute as u32, 0)
        .ok_or_else(|| format!("{hour}:{minute:02} is not a time of day."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn two_digit_years_take_the_latest_past_century() {
        let today = d(2024, 6, 1);
        assert_eq!(resolve_date(85, 3, 14, today), Ok(d(1985, 3, 14)));
        assert_eq!(resolve_date(5, 3, 14, today), Ok(d(2005, 3, 14)));
        assert_eq!(resolve_date(24, 5, 31, today), Ok(d(2024, 5, 31)));
        assert_eq!(resolve_date(24, 6, 2, today), Ok(d(1924, 6, 2)));
        assert_eq!(resolve_date(0, 2, 29, today), Ok(d(2000, 2, 29)));
        assert_eq!(resolve_date(5, 3, 14, d(2004, 1, 1)), Ok(d(1905, 3, 14)));
    }

    #[test]
    fn impossible_dates_say_why() {
        let today = d(2024, 6, 1);
        let cases = [
            ((1985, 2, 30), "February 1985 has only 28 days"),
            ((1984, 2, 30), "February 1984 has only 29 days"),
            ((1985, 4, 31), "April 1985 has only 30 days"),
            ((1985, 13, 1), "month must be 1 to 12"),
            ((1985, 0, 1), "month must be 1 to 12"),
            ((1985, 1, 0), "day must be 1 to 31"),
            ((2025, 1, 1), "in the future"),
            ((2024, 6, 2), "in the future"),
            ((1890, 1, 1), "134 years old"),
            ((850, 1, 1), "all four digits"),
            ((-5, 1, 1), "all four digits"),
        ];
        for ((y, m, day), reason) in cases {
            let err = resolve_date(y, m, day, today).unwrap_err();
            assert!(err.contains(reason), "{y}-{m}-{day}: {err}");
        }
        assert_eq!(resolve_date(1894, 6, 1, today), Ok(d(1894, 6, 1)));
        assert_eq!(resolve_date(2024, 6, 1, today), Ok(d(2024, 6, 1)));
    }

    #[test]
    fn times_and_serialisation() {
        assert!(resolve_time(24, 0).unwrap_err().contains("0 to 23"));
        assert!(resolve_time(12, 60).unwrap_err().contains("0 to 59"));
        let result = DobResult {
            date_of_birth: d(1985, 3, 4),
            time_of_birth: Some(resolve_time(7, 5).unwrap()),
        };
        assert_eq!(
            serde_json::to_string(&result).unwrap(),
            r#"{"date_of_birth":"1985-03-04","time_of_birth":"07:05"}"#
        );
        assert_eq!(spoken(&result), "4 March 1985 at 07:05");
        assert_eq!(days_in_month(2023, 12), 31);
    }
}
