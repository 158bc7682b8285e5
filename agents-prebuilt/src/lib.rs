//! Ready-made capture tasks: each takes over the conversation, collects one kind of value,
//! validates it in Rust, and completes with a typed result.
//!
//! | task | result |
//! |---|---|
//! | [`GetEmailTask`] | [`EmailResult`] |
//! | [`GetAddressTask`] | [`AddressResult`] |
//! | [`GetPhoneNumberTask`] | [`PhoneNumberResult`] (E.164) |
//! | [`GetNameTask`] | [`NameResult`] |
//! | [`GetDobTask`] | [`DobResult`] |
//! | [`GetCreditCardTask`] | [`CreditCardResult`] (a [`TaskGroup`](agents_core::workflows::TaskGroup) of four steps) |
//! | [`CollectConsentTask`] | `bool` |
//! | [`GetDtmfTask`] | [`DtmfResult`] (keypad digits) |
//! | [`WarmTransferTask`] | [`WarmTransferResult`], or a [`TransferError`] |
//!
//! The telephony tasks live in `agents-telephony` and are re-exported here, with that crate
//! itself as [`telephony`] (the [`Telephony`](telephony::Telephony) trait, the simulated and
//! LiveKit back ends, the DTMF tone detector), so this crate is the one import path for every
//! prebuilt task.
//!
//! The capture tasks (all but consent and the telephony ones) share one flow: `on_enter` asks;
//! the LLM records each guess with an `update_*` tool; an invalid value goes back to the LLM as a tool error saying why; with confirmation (on by
//! default when the user speaks, off when they type, or set with `.require_confirmation(..)`) the
//! value is read back and a `confirm_*` tool completes the task only with the value recorded
//! last; a `decline_*` tool ends the task with [`CaptureDeclined`].
//!
//! ```no_run
//! use agents_core::prelude::*;
//! use agents_prebuilt::{CaptureDeclined, GetEmailTask};
//!
//! /// You help users sign up for the newsletter.
//! #[agent]
//! struct SignUpAgent;
//!
//! #[function_tools]
//! impl SignUpAgent {
//!     async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
//!         match ctx.run_task(GetEmailTask::new()).await {
//!             Ok(email) => {
//!                 ctx.say(format!("Thanks! We'll write to {}.", email.email_address)).await
//!             }
//!             Err(e) if e.is::<CaptureDeclined>() => {
//!                 ctx.generate_reply("Say that's fine and offer other help.").await
//!             }
//!             Err(e) => Err(e),
//!         }
//!     }
//! }
//! ```
//!
//! Dates use [`chrono`] (re-exported), for its calendar arithmetic and the local date.

#![warn(missing_docs)]

pub mod address;
mod capture;
pub mod confirm;
pub mod consent;
pub mod credit_card;
pub mod dob;
pub mod email;
pub(crate) mod instructions;
pub mod name;
pub mod normalize;
pub mod phone;

pub use address::{AddressResult, GetAddressTask};
pub use confirm::CaptureDeclined;
pub use consent::CollectConsentTask;
pub use credit_card::{CardIssuer, CreditCardResult, GetCreditCardTask};
pub use dob::{DobResult, GetDobTask};
pub use email::{EmailResult, GetEmailTask};
pub use name::{GetNameTask, NameResult};
pub use phone::{GetPhoneNumberTask, PhoneNumberResult};

/// The telephony crate: the [`Telephony`](agents_telephony::Telephony) trait and its back ends,
/// the DTMF tone detector, and the telephony tasks' other types.
pub use agents_telephony as telephony;
pub use agents_telephony::{
    DtmfKey, DtmfResult, GetDtmfTask, HumanBriefingAgent, TransferError, WarmTransferResult,
    WarmTransferTask,
};

/// The date library of [`DobResult`] and of the `today(..)` options.
pub use chrono;
