//! `GetCreditCardTask`: collects a payment card in four steps run as a [`TaskGroup`]: the card
//! number, the expiry date, the security code, and the cardholder's name.
//!
//! Tool outputs never contain the full card number (only its last four digits) or the security
//! code, so they can be logged and shown to the LLM safely.

use crate::confirm::{CaptureDeclined, CaptureOptions, Labels, PendingValue};
use crate::dob::month_name;
use crate::instructions::{self, Spec, Tools};
use crate::name::GetNameTask;
use crate::normalize;
use agents_core::prelude::*;
use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::{Arc, Mutex};

/// The card network, from the number's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CardIssuer {
    /// Starts with 4.
    Visa,
    /// 51–55 or 2221–2720.
    Mastercard,
    /// 34 or 37; 15 digits and a 4-digit security code.
    #[serde(rename = "American Express")]
    AmericanExpress,
    /// 6011, 644–649, 65, 622126–622925.
    Discover,
    /// 3528–3589.
    #[serde(rename = "JCB")]
    Jcb,
    /// 300–305, 36, 38, 39.
    #[serde(rename = "Diners Club")]
    DinersClub,
    /// 62 (outside Discover's range).
    UnionPay,
    /// A Luhn-valid number of a network not listed here.
    Other,
}

impl CardIssuer {
    /// The network a card number belongs to, from its leading digits.
    pub fn from_number(digits: &str) -> CardIssuer {
        let prefix =
            |n: usize| -> u32 { digits.get(..n).and_then(|p| p.parse().ok()).unwrap_or(0) };
        match (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6)) {
            (4, ..) => CardIssuer::Visa,
            (_, 34 | 37, ..) => CardIssuer::AmericanExpress,
            (_, 51..=55, ..) | (_, _, _, 2221..=2720, _) => CardIssuer::Mastercard,
            (_, 65, ..) | (_, _, 644..=649, ..) | (_, _, _, 6011, _) => CardIssuer::Discover,
            (_, _, _, _, 622126..=622925) => CardIssuer::Discover,
            (_, _, _, 3528..=3589, _) => CardIssuer::Jcb,
            (_, 36 | 38 | 39, ..) | (_, _, 300..=305, ..) => CardIssuer::DinersClub,
            (_, 62, ..) => CardIssuer::UnionPay,
            _ => CardIssuer::Other,
        }
    }

    /// The name people use for the network; `"card"` for [`CardIssuer::Other`], so messages
    /// still read naturally ("card ending in 1234").
    pub fn name(self) -> &'static str {
        match self {
            CardIssuer::Visa => "Visa",
            CardIssuer::Mastercard => "Mastercard",
            CardIssuer::AmericanExpress => "American Express",
            CardIssuer::Discover => "Discover",
            CardIssuer::Jcb => "JCB",
            CardIssuer::DinersClub => "Diners Club",
            CardIssuer::UnionPay => "UnionPay",
            CardIssuer::Other => "card",
        }
    }

    /// Digits in the security code: 4 for American Express (on the front), 3 for the others.
    pub fn security_code_len(self) -> usize {
        if self == CardIssuer::AmericanExpress {
            4
        } else {
            3
        }
    }

    /// The card number lengths this network issues.
    fn lengths(self) -> &'static [usize] {
        match self {
            CardIssuer::Visa => &[13, 16, 19],
            CardIssuer::Mastercard => &[16],
            CardIssuer::AmericanExpress => &[15],
            CardIssuer::DinersClub => &[14, 15, 16, 17, 18, 19],
            CardIssuer::Discover | CardIssuer::Jcb | CardIssuer::UnionPay => &[16, 17, 18, 19],
            CardIssuer::Other => &[13, 14, 15, 16, 17, 18, 19],
        }
    }
}

impl fmt::Display for CardIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The card a [`GetCreditCardTask`] collected.
///
/// `Debug` masks the number and the security code; `Serialize` writes them in full, since the
/// serialised result is what a payment call would send.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CreditCardResult {
    /// The name on the card ("Jane Doe").
    pub cardholder_name: String,
    /// The card network.
    pub issuer: CardIssuer,
    /// The card number, digits only.
    pub card_number: String,
    /// The expiry date as `MM/YY`.
    pub expiry: String,
    /// The security code (CVV/CVC/CID), digits only.
    pub cvv: String,
}

impl CreditCardResult {
    /// The last four digits of the card number, safe to show or say.
    pub fn last4(&self) -> &str {
        last4(&self.card_number)
    }
}

impl fmt::Debug for CreditCardResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreditCardResult")
            .field("cardholder_name", &self.cardholder_name)
            .field("issuer", &self.issuer)
            .field("card_number", &format_args!("**** {}", self.last4()))
            .field("expiry", &self.expiry)
            .field("cvv", &"***")
            .finish()
    }
}

/// "a Visa", "an American Express".
fn with_article(name: &str) -> String {
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

fn last4(number: &str) -> &str {
    number.get(number.len().saturating_sub(4)..).unwrap_or("")
}

const WHAT: &str = "credit card";
const DECLINE: &str = "decline_card_capture";

/// Collects a payment card: number (Luhn check, 13–19 digits, network from the prefix), expiry
/// (`MM/YY`, not in the past), security code (3 digits, or 4 for American Express) and the
/// cardholder's first and last name, each as one step of a [`TaskGroup`] so the user can go back
/// to an earlier step.
///
/// Fails with [`CaptureDeclined`] (`what: "credit card"`) when the user will not give the card.
///
/// The task is sensitive: while it runs, session events are marked so that transcripts and
/// logs show `[redacted]` instead of what is said, its result included, and its conversation is
/// not merged into the calling agent's history (the LLM sees the card only while the task
/// runs). The typed result reaches the caller's code in full.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_prebuilt::GetCreditCardTask;
/// # async fn demo(ctx: &mut AgentContext<'_>) -> Result<()> {
/// let card = ctx.run_task(GetCreditCardTask::new()).await?;
/// ctx.say(format!("Thanks, your {} ending in {} is saved.", card.issuer, card.last4())).await?;
/// # Ok(()) }
/// ```
#[agent_task(result = CreditCardResult, sensitive)]
#[derive(Debug, Clone, Default)]
pub struct GetCreditCardTask {
    today: Option<NaiveDate>,
    options: CaptureOptions,
}

impl GetCreditCardTask {
    /// A task checking expiry against the local date, confirming each step for voice input only.
    pub fn new() -> Self {
        Self::default()
    }

    /// The date to treat as today for the expiry check (default: the local date).
    pub fn today(mut self, date: NaiveDate) -> Self {
        self.today = Some(date);
        self
    }

    /// Always (`true`) or never (`false`) confirm each step, instead of deciding by the input
    /// modality.
    pub fn require_confirmation(mut self, on: bool) -> Self {
        self.options.require_confirmation = Some(on);
        self
    }

    /// Adds the application's own instructions to every step's.
    pub fn extra_instructions(mut self, text: impl Into<String>) -> Self {
        self.options.extra_instructions = text.into();
        self
    }

    /// The four steps, sharing the issuer found in the first with the security-code step.
    fn group(&self, issuer: &Arc<Mutex<Option<CardIssuer>>>) -> (TaskGroup, Keys) {
        let seen = issuer.clone();
        let mut group = TaskGroup::new()
            // The steps' conversation (card digits included) is not sent to a summariser.
            .summarize_chat_ctx(false)
            .on_task_completed(move |event| {
                if let Some(card) = event.result::<CardNumber>() {
                    *lock(&seen) = Some(card.issuer);
                }
                async { Ok(()) }
            });
        let options = self.options.clone();
        let number = group.add("card_number", "Collects the card number", move || {
            CardNumberStep {
                options: options.clone(),
                pending: PendingValue::default(),
            }
        });
        let options = self.options.clone();
        let today = self.today;
        let expiry = group.add(
            "card_expiry",
            "Collects the card's expiry date",
            move || ExpiryStep {
                options: options.clone(),
                today,
                pending: PendingValue::default(),
            },
        );
        let options = self.options.clone();
        let issuer = issuer.clone();
        let cvv = group.add(
            "card_security_code",
            "Collects the card's security code",
            move || SecurityCodeStep::new(options.clone(), *lock(&issuer)),
        );
        let options = self.options.clone();
        let name = group.add(
            "cardholder_name",
            "Collects the cardholder's name as printed on the card",
            move || {
                let mut task = GetNameTask::new()
                    .first_name(true)
                    .last_name(true)
                    .extra_instructions(format!(
                        "This is the cardholder's name, as printed on the payment card.\n\n{}",
                        options.extra_instructions
                    ));
                if let Some(on) = options.require_confirmation {
                    task = task.require_confirmation(on);
                }
                task
            },
        );
        (
            group,
            Keys {
                number,
                expiry,
                cvv,
                name,
            },
        )
    }
}

/// Typed handles to the group's results.
struct Keys {
    number: TaskKey<CardNumber>,
    expiry: TaskKey<String>,
    cvv: TaskKey<String>,
    name: TaskKey<crate::NameResult>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A declined step (of this task, or the name step's own decline) as the card being declined.
fn as_card_error(e: Error) -> Error {
    match e.downcast_ref::<CaptureDeclined>() {
        Some(d) if d.what != WHAT => Error::task(CaptureDeclined {
            what: WHAT,
            reason: d.reason.clone(),
        }),
        _ => e,
    }
}

#[function_tools]
impl GetCreditCardTask {
    fn instructions(&self) -> String {
        format!(
            "You collect the user's payment card in steps: number, expiry date, security code, \
             cardholder name. If the user will not give their card, call `{DECLINE}`."
        )
    }

    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, CreditCardResult>) -> Result<()> {
        let issuer = Arc::new(Mutex::new(None));
        let (group, keys) = self.group(&issuer);
        let results = match ctx
            .run_task(group)
            .with_history(CopyOptions::all().exclude_instructions())
            .await
        {
            Ok(results) => results,
            Err(e) => {
                ctx.fail(as_card_error(e));
                return Ok(());
            }
        };
        let (Some(number), Some(expiry), Some(cvv), Some(name)) = (
            results.get(keys.number).cloned(),
            results.get(keys.expiry).cloned(),
            results.get(keys.cvv).cloned(),
            results.get(keys.name).cloned(),
        ) else {
            ctx.fail(Error::Usage(
                "the card steps ended without every result".into(),
            ));
            return Ok(());
        };
        // Going back to change the number (say, to an American Express card) does not re-run the
        // security-code step: ask again when its length no longer fits.
        let mut cvv = cvv;
        while cvv.len() != number.issuer.security_code_len() {
            let step = SecurityCodeStep::new(self.options.clone(), Some(number.issuer));
            match ctx
                .run_task(step)
                .with_history(CopyOptions::all().exclude_instructions())
                .await
            {
                Ok(code) => cvv = code,
                Err(e) => {
                    ctx.fail(as_card_error(e));
                    return Ok(());
                }
            }
        }
        ctx.complete(CreditCardResult {
            cardholder_name: name.full_name(),
            issuer: number.issuer,
            card_number: number.number,
            expiry,
            cvv,
        });
        Ok(())
    }

    /// Call this when the user will not or cannot give their card.
    ///
    /// # Arguments
    /// * `reason` - Why, in a few words
    #[function_tool]
    async fn decline_card_capture(
        &mut self,
        ctx: &mut TaskContext<'_, CreditCardResult>,
        reason: String,
    ) -> String {
        decline(ctx, reason)
    }
}

/// Ends a card step (or the card task) with [`CaptureDeclined`].
fn decline<R: Send + 'static>(ctx: &mut TaskContext<'_, R>, reason: String) -> String {
    ctx.fail(Error::task(CaptureDeclined { what: WHAT, reason }));
    "Card capture declined.".into()
}

/// The instructions of one card step.
fn step_instructions(what: &str, update_tool: &str, rules: &str, extra: &str) -> String {
    instructions::capture(&Spec {
        what,
        update_tool,
        decline_tool: DECLINE,
        spoken_forms: "Card numbers are read in groups of four (\"four two four two, ...\").",
        rules: &format!(
            "{rules} Never say a full card number or a security code aloud: refer to the card by \
             its network and last four digits."
        ),
        extra,
    })
}

/// A card number and its network, the result of the first step. Serialises masked (network and
/// last four digits), since step results appear in task-group events.
#[derive(Clone, PartialEq, Eq)]
struct CardNumber {
    number: String,
    issuer: CardIssuer,
}

impl CardNumber {
    /// "Visa ending in 4242".
    fn masked(&self) -> String {
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

const UPDATE_NUMBER: &str = "update_card_number";
const CONFIRM_NUMBER: &str = "confirm_card_number";

/// Step 1: the card number.
#[agent_task(result = CardNumber)]
struct CardNumberStep {
    options: CaptureOptions,
    pending: PendingValue<CardNumber>,
}

#[function_tools]
impl CardNumberStep {
    fn instructions(&self) -> String {
        step_instructions(
            "card number",
            UPDATE_NUMBER,
            "Pass the digits of the long number on the front of the card.",
            &self.options.extra_instructions,
        )
    }

    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, CardNumber>) -> Result<()> {
        ctx.generate_reply("Ask the user for the number on their payment card.")
            .await
    }

    /// Record the card number as soon as you have a plausible reading of it. Call it again with
    /// each correction.
    ///
    /// # Arguments
    /// * `card_number` - The card number's digits
    #[function_tool]
    async fn update_card_number(
        &mut self,
        ctx: &mut TaskContext<'_, CardNumber>,
        card_number: String,
    ) -> Result<String, ToolError> {
        let card = validate_card_number(&card_number).map_err(invalid_number)?;
        if self.options.confirm(ctx.input_modality()) {
            self.pending.record(card.clone(), ctx.chat_ctx());
            return Ok(instructions::read_back(
                "card",
                &format!(
                    "by its network and last four digits only, like this: \"{} ending in {}\"; \
                     never read the full number aloud",
                    card.issuer.name(),
                    normalize::one_by_one(last4(&card.number))
                ),
                "the full card number the user gave",
                &Tools {
                    update: UPDATE_NUMBER,
                    confirm: CONFIRM_NUMBER,
                },
            ));
        }
        let masked = card.masked();
        ctx.complete(card);
        Ok(format!("Recorded the {masked}."))
    }

    /// Confirm the card number after the user has agreed that the card read back is right.
    ///
    /// # Arguments
    /// * `card_number` - The full card number, as recorded
    #[function_tool]
    async fn confirm_card_number(
        &mut self,
        ctx: &mut TaskContext<'_, CardNumber>,
        card_number: String,
    ) -> Result<String, ToolError> {
        let claimed = validate_card_number(&card_number).map_err(invalid_number)?;
        let card = self.pending.confirm(
            &claimed,
            ctx.chat_ctx(),
            &Labels {
                what: "card number",
                update_tool: UPDATE_NUMBER,
                confirm_tool: CONFIRM_NUMBER,
            },
            CardNumber::masked,
        )?;
        ctx.complete(card);
        Ok("The card number is confirmed.".into())
    }

    /// Call this when the user will not or cannot give their card.
    ///
    /// # Arguments
    /// * `reason` - Why, in a few words
    #[function_tool]
    async fn decline_card_capture(
        &mut self,
        ctx: &mut TaskContext<'_, CardNumber>,
        reason: String,
    ) -> String {
        decline(ctx, reason)
    }
}

fn invalid_number(reason: String) -> ToolError {
    ToolError::new(format!(
        "That card number is not valid: {reason}. Ask the user to read the number again, slowly."
    ))
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
fn validate_card_number(raw: &str) -> Result<CardNumber, String> {
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

const UPDATE_EXPIRY: &str = "update_expiry_date";
const CONFIRM_EXPIRY: &str = "confirm_expiry_date";

/// Step 2: the expiry date.
#[agent_task(result = String)]
struct ExpiryStep {
    options: CaptureOptions,
    today: Option<NaiveDate>,
    pending: PendingValue<String>,
}

impl ExpiryStep {
    fn expiry(&self, month: i64, year: i64) -> Result<String, ToolError> {
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

#[function_tools]
impl ExpiryStep {
    fn instructions(&self) -> String {
        step_instructions(
            "card's expiry date",
            UPDATE_EXPIRY,
            "The expiry date is printed as MM/YY; pass the month and the year as numbers.",
            &self.options.extra_instructions,
        )
    }

    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply("Ask the user for the card's expiry date.")
            .await
    }

    /// Record the card's expiry date as soon as you have a plausible reading of it.
    ///
    /// # Arguments
    /// * `month` - The expiry month, 1 to 12
    /// * `year` - The expiry year, two or four digits (27 or 2027)
    #[function_tool]
    async fn update_expiry_date(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        month: i64,
        year: i64,
    ) -> Result<String, ToolError> {
        let expiry = self.expiry(month, year)?;
        if self.options.confirm(ctx.input_modality()) {
            self.pending.record(expiry.clone(), ctx.chat_ctx());
            return Ok(instructions::read_back(
                "expiry date",
                &format!("as \"{}\"", spoken_expiry(&expiry)),
                &format!("month {month} and year {year}"),
                &Tools {
                    update: UPDATE_EXPIRY,
                    confirm: CONFIRM_EXPIRY,
                },
            ));
        }
        ctx.complete(expiry.clone());
        Ok(format!("Recorded the expiry date {expiry}."))
    }

    /// Confirm the expiry date after the user has heard it read back and agreed it is right.
    ///
    /// # Arguments
    /// * `month` - The confirmed month
    /// * `year` - The confirmed year
    #[function_tool]
    async fn confirm_expiry_date(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        month: i64,
        year: i64,
    ) -> Result<String, ToolError> {
        let claimed = self.expiry(month, year)?;
        let expiry = self.pending.confirm(
            &claimed,
            ctx.chat_ctx(),
            &Labels {
                what: "expiry date",
                update_tool: UPDATE_EXPIRY,
                confirm_tool: CONFIRM_EXPIRY,
            },
            |v| spoken_expiry(v),
        )?;
        ctx.complete(expiry);
        Ok("The expiry date is confirmed.".into())
    }

    /// Call this when the user will not or cannot give their card.
    ///
    /// # Arguments
    /// * `reason` - Why, in a few words
    #[function_tool]
    async fn decline_card_capture(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        reason: String,
    ) -> String {
        decline(ctx, reason)
    }
}

/// How far ahead an expiry date may be before it is taken as misheard.
const MAX_YEARS_AHEAD: i32 = 20;

/// `MM/YY`, or why the date cannot be a valid card's expiry on `today`. Cards are valid through
/// the end of their expiry month.
pub(crate) fn validate_expiry(month: i64, year: i64, today: NaiveDate) -> Result<String, String> {
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

const UPDATE_CVV: &str = "update_security_code";
const CONFIRM_CVV: &str = "confirm_security_code";

/// Step 3: the security code, whose length depends on the network.
#[agent_task(result = String)]
struct SecurityCodeStep {
    options: CaptureOptions,
    issuer: Option<CardIssuer>,
    pending: PendingValue<String>,
}

impl SecurityCodeStep {
    fn new(options: CaptureOptions, issuer: Option<CardIssuer>) -> Self {
        SecurityCodeStep {
            options,
            issuer,
            pending: PendingValue::default(),
        }
    }

    fn code(&self, raw: &str) -> Result<String, ToolError> {
        validate_cvv(raw, self.issuer).map_err(|reason| {
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

#[function_tools]
impl SecurityCodeStep {
    fn instructions(&self) -> String {
        step_instructions(
            "card's security code",
            UPDATE_CVV,
            &format!("The security code (CVV) is {}.", self.where_printed()),
            &self.options.extra_instructions,
        )
    }

    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply(format!(
            "Ask the user for the card's security code: {}.",
            self.where_printed()
        ))
        .await
    }

    /// Record the card's security code as soon as you have a plausible reading of it.
    ///
    /// # Arguments
    /// * `security_code` - The digits of the security code
    #[function_tool]
    async fn update_security_code(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        security_code: String,
    ) -> Result<String, ToolError> {
        let code = self.code(&security_code)?;
        if self.options.confirm(ctx.input_modality()) {
            let n = code.len();
            self.pending.record(code, ctx.chat_ctx());
            // A security code is never read back: the user says it once more instead.
            return Ok(format!(
                "Recorded a {n}-digit code, but not confirmed yet. Do not say the code aloud. \
                 Ask the user to say the security code once more, to make sure it was heard \
                 right, then call `{CONFIRM_CVV}` with what they say. Do not call \
                 `{CONFIRM_CVV}` before the user has answered."
            ));
        }
        let n = code.len();
        ctx.complete(code);
        Ok(format!("Recorded the {n}-digit security code."))
    }

    /// Confirm the security code with the digits the user said the second time.
    ///
    /// # Arguments
    /// * `security_code` - The digits the user repeated
    #[function_tool]
    async fn confirm_security_code(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        security_code: String,
    ) -> Result<String, ToolError> {
        let claimed = self.code(&security_code)?;
        let code = self.pending.confirm(
            &claimed,
            ctx.chat_ctx(),
            &Labels {
                what: "security code",
                update_tool: UPDATE_CVV,
                confirm_tool: CONFIRM_CVV,
            },
            |v| format!("a different {}-digit code", v.len()),
        )?;
        ctx.complete(code);
        Ok("The security code is confirmed.".into())
    }

    /// Call this when the user will not or cannot give their card.
    ///
    /// # Arguments
    /// * `reason` - Why, in a few words
    #[function_tool]
    async fn decline_card_capture(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        reason: String,
    ) -> String {
        decline(ctx, reason)
    }
}

/// The security code's digits, or why they do not fit the network (never quoting the code).
pub(crate) fn validate_cvv(raw: &str, issuer: Option<CardIssuer>) -> Result<String, String> {
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
    fn issuers_from_prefixes() {
        let cases = [
            ("4242424242424242", CardIssuer::Visa),
            ("5555555555554444", CardIssuer::Mastercard),
            ("2223003122003222", CardIssuer::Mastercard),
            ("2720990000000000", CardIssuer::Mastercard),
            ("378282246310005", CardIssuer::AmericanExpress),
            ("341111111111111", CardIssuer::AmericanExpress),
            ("6011111111111117", CardIssuer::Discover),
            ("6500000000000000", CardIssuer::Discover),
            ("6445000000000000", CardIssuer::Discover),
            ("6221260000000000", CardIssuer::Discover),
            ("6200000000000005", CardIssuer::UnionPay),
            ("3530111333300000", CardIssuer::Jcb),
            ("30569309025904", CardIssuer::DinersClub),
            ("36227206271667", CardIssuer::DinersClub),
            ("2721000000000000", CardIssuer::Other),
            ("1234567890123", CardIssuer::Other),
        ];
        for (number, issuer) in cases {
            assert_eq!(CardIssuer::from_number(number), issuer, "{number}");
        }
    }

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

    #[test]
    fn debug_masks_the_card() {
        let card = CreditCardResult {
            cardholder_name: "Jane Doe".into(),
            issuer: CardIssuer::Visa,
            card_number: "4242424242424242".into(),
            expiry: "12/30".into(),
            cvv: "123".into(),
        };
        let debug = format!("{card:?}");
        assert!(debug.contains("**** 4242"), "{debug}");
        assert!(
            !debug.contains("4242424242424242") && !debug.contains("123\""),
            "{debug}"
        );
        assert_eq!(card.last4(), "4242");
        let json = serde_json::to_value(&card).unwrap();
        assert_eq!(json["issuer"], "Visa");
        assert_eq!(json["card_number"], "4242424242424242");
    }
}
