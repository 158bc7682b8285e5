//! Keypad input: the sixteen DTMF keys and [`GetDtmfTask`], which collects a fixed number of
//! digits from key presses or from digits the user says aloud.
//!
//! Key presses reach the task through the activity's `on_dtmf` hook (from
//! `AgentSession::send_dtmf`, a telephony transport, or the [`crate::DtmfDetector`]). The keys
//! themselves are in `keypad.rs`.

mod keypad;

pub use keypad::{DtmfKey, ParseDtmfError, COLUMN_FREQUENCIES, ROW_FREQUENCIES};

use agents_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What [`GetDtmfTask`] completes with: the collected digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DtmfResult {
    /// The digits, without separators, e.g. `"1234"`.
    pub digits: String,
}

impl DtmfResult {
    /// The digits separated by spaces (`"1 2 3 4"`), the reference's format and the way to read
    /// them back one by one.
    pub fn spaced(&self) -> String {
        spaced(&self.digits)
    }
}

fn spaced(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() * 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Default time without a key press after which the entered digits are evaluated.
pub const DEFAULT_INTER_DIGIT_TIMEOUT: Duration = Duration::from_secs(4);

/// Collects exactly `num_digits` keypad digits and completes with them.
///
/// Key presses arrive through `on_dtmf`. Each digit restarts an inter-digit timer (4 s by
/// default); when it fires, or when the stop key (`#` by default) is pressed, the entered digits
/// are evaluated: the wrong number makes the LLM tell the user how many were entered and how many
/// are needed, and clears them; the right number completes the task, or with
/// [`with_confirmation`](Self::with_confirmation) has the LLM read them back digit by digit and
/// waits for a `confirm_inputs` call with the same digits. Keys other than digits and the stop
/// key are ignored. Digits the user says aloud are taken through the `record_inputs` tool, where a
/// wrong count is a tool error the LLM sees.
///
/// **Timer and speech.** The session fires timers only while the task waits for input, never
/// during a turn, so the timeout cannot cut the user or the agent off. A turn that happens after
/// the last key press (the user says something, the agent answers) restarts the full timeout when
/// the timer would have fired: the timeout measures silence after the conversation settles, the
/// text-mode equivalent of the reference's timer that pauses while either side speaks.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_telephony::{GetDtmfTask, DtmfKey};
/// # async fn tool(ctx: &mut AgentContext<'_>) -> agents_core::Result<()> {
/// let pin = ctx
///     .run_task(
///         GetDtmfTask::new(4)
///             .sensitive()
///             .stop_key(Some(DtmfKey::Pound))
///             .extra_instructions("Ask for the 4-digit PIN of their bank card."),
///     )
///     .await?;
/// ctx.say("Thanks, checking your PIN.").await
/// # }
/// ```
#[agent_task(
    result = DtmfResult,
    instructions = "Collect keypad (DTMF) digits from the user."
)]
#[derive(Debug, Clone)]
pub struct GetDtmfTask {
    num_digits: usize,
    stop_key: Option<DtmfKey>,
    timeout: Duration,
    confirm: bool,
    sensitive: bool,
    extra_instructions: String,
    /// Digits pressed since the last evaluation.
    buffer: String,
    /// Id of the last conversation item when the timer was armed; a different one when it fires
    /// means someone spoke since, so the timer restarts.
    armed_at: Option<String>,
    /// Digits read back and waiting for `confirm_inputs`.
    pending: Option<String>,
}

impl GetDtmfTask {
    /// A task collecting exactly `num_digits` digits (at least 1; 0 is raised to 1), ended by
    /// `#`, with a 4 s inter-digit timeout and no confirmation.
    pub fn new(num_digits: usize) -> Self {
        if num_digits == 0 {
            tracing::warn!("GetDtmfTask::new(0): at least one digit is needed; using 1");
        }
        GetDtmfTask {
            num_digits: num_digits.max(1),
            stop_key: Some(DtmfKey::Pound),
            timeout: DEFAULT_INTER_DIGIT_TIMEOUT,
            confirm: false,
            sensitive: false,
            extra_instructions: String::new(),
            buffer: String::new(),
            armed_at: None,
            pending: None,
        }
    }

    /// The key that ends the input at once (`#` by default); `None` leaves only the timeout.
    /// The stop key is never part of the digits.
    pub fn stop_key(mut self, key: Option<DtmfKey>) -> Self {
        self.stop_key = key;
        self
    }

    /// Time without a key press after which the digits are evaluated (default 4 s).
    pub fn inter_digit_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Have the LLM read the digits back and complete only once the user confirms them.
    pub fn with_confirmation(mut self) -> Self {
        self.confirm = true;
        self
    }

    /// Sets whether the digits are read back for confirmation (off by default).
    pub fn confirmation(mut self, confirm: bool) -> Self {
        self.confirm = confirm;
        self
    }

    /// Keep the digits out of transcripts and logs, and out of the parent's history: for PINs
    /// and account numbers. See [`Activity::is_sensitive`](agents_core::agent::Activity::is_sensitive).
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// More instructions for the LLM, typically what the digits are ("your 6-digit account
    /// number"), appended to the task's own.
    pub fn extra_instructions(mut self, text: impl Into<String>) -> Self {
        self.extra_instructions = text.into();
        self
    }

    /// The number of digits the task completes with.
    pub fn num_digits(&self) -> usize {
        self.num_digits
    }

    fn stop_phrase(&self) -> String {
        match self.stop_key {
            Some(k) => format!(", then press {k}"),
            None => String::new(),
        }
    }

    fn last_item_id(ctx: &Ctx<'_, Self>) -> Option<String> {
        ctx.chat_ctx().items().last().map(|i| i.id().to_string())
    }

    fn arm_timer(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(self.timeout);
        self.armed_at = Self::last_item_id(ctx);
    }

    /// Evaluates the keypad buffer: wrong count → the LLM says so; right count → complete or
    /// read back.
    async fn evaluate(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
        ctx.cancel_timer();
        self.armed_at = None;
        let digits = std::mem::take(&mut self.buffer);
        let got = digits.chars().count();
        if got != self.num_digits {
            tracing::debug!(
                got,
                needed = self.num_digits,
                "wrong number of keypad digits"
            );
            let what = if got == 0 {
                "The user ended the keypad input without entering any digits".to_string()
            } else {
                format!(
                    "The user entered {got} digit{} on the keypad",
                    if got == 1 { "" } else { "s" }
                )
            };
            return ctx
                .generate_reply(format!(
                    "{what}, but exactly {n} are needed. Tell them how many digits they entered \
                     and that {n} are needed, and ask them to enter all {n} digits again{stop}. \
                     Do not repeat the digits.",
                    n = self.num_digits,
                    stop = self.stop_phrase()
                ))
                .await;
        }
        if self.confirm {
            let instructions = self.read_back_instructions(&digits, "on the keypad");
            self.pending = Some(digits);
            ctx.generate_reply(instructions).await
        } else {
            ctx.complete(DtmfResult { digits });
            Ok(())
        }
    }

    fn read_back_instructions(&self, digits: &str, source: &str) -> String {
        format!(
            "The user entered <dtmf_inputs>{spaced}</dtmf_inputs> {source}. Read these digits \
             back to the user one by one and ask whether they are correct. Do not call \
             `confirm_inputs` until the user says they are correct; then call it with digits \
             \"{digits}\". If they are wrong, ask the user to enter them again.",
            spaced = spaced(digits)
        )
    }

    /// Keeps the digits of `raw` (ignoring spaces, dashes, dots and commas); an error for the LLM
    /// on anything else.
    fn clean_digits(raw: &str) -> std::result::Result<String, ToolError> {
        let mut digits = String::new();
        for c in raw.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else if !(c.is_whitespace() || matches!(c, '-' | '.' | ',')) {
                return Err(ToolError::new(format!(
                    "`{c}` is not a digit. Pass only the digits 0-9 the user gave, e.g. \"1234\"."
                )));
            }
        }
        Ok(digits)
    }
}

#[function_tools]
impl GetDtmfTask {
    fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    fn instructions(&self) -> String {
        let n = self.num_digits;
        let stop = match self.stop_key {
            Some(k) => format!(" Pressing {k} ends their input."),
            None => String::new(),
        };
        let confirm = if self.confirm {
            " Digits are read back to the user before they count: after reading them back, wait \
             for the user to say they are correct, then call `confirm_inputs` with those digits."
        } else {
            ""
        };
        let mut text = format!(
            "You are one step of a larger system: you collect exactly {n} digits from the user, \
             entered on their phone keypad (DTMF).{stop} Key presses are handled for you; you \
             hear about them only when something is wrong or needs confirming. If the user says \
             the digits aloud or types them instead, call `record_inputs` with the digits only, \
             e.g. \"1234\". Never invent or guess digits, and do not repeat digits unless asked \
             to read them back.{confirm} You are on the phone: no markdown, short sentences."
        );
        if !self.extra_instructions.trim().is_empty() {
            text.push_str("\n\n");
            text.push_str(self.extra_instructions.trim());
        }
        text
    }

    async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
        ctx.generate_reply(format!(
            "Ask the user to enter their {n}-digit input on the phone keypad{stop}.",
            n = self.num_digits,
            stop = self.stop_phrase()
        ))
        .await
    }

    async fn on_dtmf(&mut self, ctx: &mut Ctx<'_, Self>, digits: &str) -> Result<()> {
        for c in digits.chars() {
            if ctx.is_done() {
                tracing::debug!(keys = digits.len(), "task done; remaining keys ignored");
                break;
            }
            let Some(key) = DtmfKey::from_char(c) else {
                tracing::debug!(key = ?c, "not a keypad key; ignored");
                continue;
            };
            if Some(key) == self.stop_key {
                self.evaluate(ctx).await?;
            } else if key.is_digit() {
                self.buffer.push(key.as_char());
                self.arm_timer(ctx);
            } else {
                tracing::debug!(%key, "keypad key other than a digit or the stop key; ignored");
            }
        }
        Ok(())
    }

    async fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        if Self::last_item_id(ctx) != self.armed_at {
            // Someone spoke since the last key: the timeout counts from now.
            tracing::debug!(
                "conversation moved on since the last key; inter-digit timer restarted"
            );
            self.arm_timer(ctx);
            return Ok(());
        }
        self.evaluate(ctx).await
    }

    /// Record the digits the user said aloud or typed instead of pressing keys. Call it as soon
    /// as the user has said all the digits.
    ///
    /// # Arguments
    /// * `digits` - The digits the user gave, digits only, e.g. "1234".
    #[function_tool]
    async fn record_inputs(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        digits: String,
    ) -> std::result::Result<String, ToolError> {
        let digits = Self::clean_digits(&digits)?;
        let got = digits.len();
        if got != self.num_digits {
            return Err(ToolError::new(format!(
                "{got} digit{} given, but exactly {n} are needed. Tell the user and ask for all \
                 {n} digits again.",
                if got == 1 { " was" } else { "s were" },
                n = self.num_digits
            )));
        }
        // Spoken input replaces anything half-typed on the keypad.
        self.buffer.clear();
        self.armed_at = None;
        ctx.cancel_timer();
        if self.confirm {
            let instructions = self.read_back_instructions(&digits, "by voice");
            self.pending = Some(digits);
            Ok(instructions)
        } else {
            ctx.complete(DtmfResult { digits });
            Ok(String::new())
        }
    }

    /// Confirm the digits you read back, after the user said they are correct. Never call it
    /// before the user confirmed.
    ///
    /// # Arguments
    /// * `digits` - The digits you read back, digits only, e.g. "1234".
    #[function_tool]
    async fn confirm_inputs(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        digits: String,
    ) -> std::result::Result<(), ToolError> {
        if !self.confirm {
            return Err(ToolError::new(
                "No confirmation is needed for this input; call `record_inputs` with the digits \
                 instead.",
            ));
        }
        let Some(pending) = self.pending.clone() else {
            return Err(ToolError::new(
                "No digits are waiting for confirmation. Ask the user to enter the digits first.",
            ));
        };
        let given = Self::clean_digits(&digits)?;
        if given != pending {
            return Err(ToolError::new(format!(
                "The digits waiting for confirmation are {} (\"{pending}\"), not \"{given}\". \
                 Read {} back to the user and call `confirm_inputs` with \"{pending}\" only if \
                 they confirm.",
                spaced(&pending),
                spaced(&pending)
            )));
        }
        self.pending = None;
        ctx.complete(DtmfResult { digits: pending });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaced_digits() {
        let r = DtmfResult {
            digits: "1234".into(),
        };
        assert_eq!(r.spaced(), "1 2 3 4");
        assert_eq!(spaced(""), "");
    }

    #[test]
    fn cleaning_spoken_digits() {
        assert_eq!(GetDtmfTask::clean_digits(" 12-34 ").unwrap(), "1234");
        assert!(GetDtmfTask::clean_digits("12a4").is_err());
    }
}
