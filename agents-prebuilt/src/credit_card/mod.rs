//! `GetCreditCardTask`: collects a payment card in four steps run as a [`TaskGroup`]: the card
//! number, the expiry date, the security code, and the cardholder's name.
//!
//! Tool outputs never contain the full card number (only its last four digits) or the security
//! code, so they can be logged and shown to the LLM safely.
//!
//! | file | holds |
//! |---|---|
//! | `issuer.rs` | [`CardIssuer`], the card networks |
//! | `result.rs` | [`CreditCardResult`] |
//! | `number.rs`, `expiry.rs`, `security_code.rs` | the first three steps, each a capture task, and their validators |
//! | `mod.rs` | the task running the steps as a [`TaskGroup`] (the name step is [`GetNameTask`]) |

mod expiry;
mod issuer;
mod number;
mod result;
mod security_code;

pub use expiry::validate_expiry;
pub use issuer::CardIssuer;
pub use number::{luhn_valid, validate_card_number, CardNumber};
pub use result::CreditCardResult;
pub use security_code::validate_cvv;

use crate::capture::{self, option_builders};
use crate::confirm::{CaptureDeclined, CaptureOptions};
use crate::name::GetNameTask;
use agents_core::prelude::*;
use chrono::NaiveDate;
use expiry::ExpiryStep;
use issuer::with_article;
use number::CardNumberStep;
use result::last4;
use security_code::SecurityCodeStep;
use std::sync::{Arc, Mutex};

/// What a declined card step names: the whole card.
const CARD_WHAT: &str = "credit card";
/// The decline tool every card step offers.
const CARD_DECLINE: &str = "decline_card_capture";
/// How card values are said, for every step's instructions.
const CARD_SPOKEN_FORMS: &str =
    "Card numbers are read in groups of four (\"four two four two, ...\").";

/// A card step's rules: `rules`, and never saying the card aloud.
fn step_rules(rules: &str) -> String {
    format!(
        "{rules} Never say a full card number or a security code aloud: refer to the card by its \
         network and last four digits."
    )
}

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

option_builders!(GetCreditCardTask, options);

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
            CardNumberStep::new(options.clone())
        });
        let options = self.options.clone();
        let today = self.today;
        let expiry = group.add(
            "card_expiry",
            "Collects the card's expiry date",
            move || ExpiryStep::new(options.clone(), today),
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
        Some(d) if d.what != CARD_WHAT => Error::task(CaptureDeclined {
            what: CARD_WHAT,
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
             cardholder name. If the user will not give their card, call `{CARD_DECLINE}`."
        )
    }

    async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
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
    async fn decline_card_capture(&mut self, ctx: &mut Ctx<'_, Self>, reason: String) -> String {
        capture::decline(ctx, CARD_WHAT, reason)
    }
}
