//! Taking a card payment with the prebuilt `GetCreditCardTask`, a sensitive task: while it
//! runs, the transcript shows `[redacted]` in place of what is said (the card number, the
//! security code, the task's result), the card never enters the agent's history, and the tool
//! hands the model only the issuer and the last four digits. A user who will not give a card
//! is offered another way to pay.

use agents_core::prelude::*;
use agents_prebuilt::{CaptureDeclined, GetCreditCardTask};

/// `--help` text of the example.
pub const ABOUT: &str = "Takes a card payment with the prebuilt, sensitive GetCreditCardTask.

While the card task runs, the transcript shows [redacted] in place of the card number, security \
code and result; the model only learns the issuer and the last four digits. Try \
`demo --transcript t.jsonl` and read t.jsonl.";

/// You take card payments for Acme orders. Be brief and friendly.
#[agent]
pub struct PaymentAgent;

#[function_tools]
impl PaymentAgent {
    /// Take the card details for the user's order.
    #[function_tool]
    async fn take_payment(&mut self, ctx: &mut AgentContext<'_>) -> Result<String, ToolError> {
        match ctx.run_task(GetCreditCardTask::new()).await {
            // The full details go to the payment processor from here; the model gets what it
            // needs to talk about the card.
            Ok(card) => Ok(format!(
                "Card on file: {} ending in {}.",
                card.issuer,
                card.last4()
            )),
            Err(e) if e.is::<CaptureDeclined>() => Err(ToolError::new(
                "The user declined to give a card; nothing was charged. Offer to pay another way \
                 (an invoice or a payment link) and ask which they prefer.",
            )),
            Err(e) => Err(ToolError::new(format!(
                "The card could not be taken ({e}). Apologise and offer to try again later."
            ))),
        }
    }
}
