//! Recording consent before anything else: `CustomerServiceAgent` awaits `CollectConsent` in
//! `on_enter`; on refusal it says goodbye and ends the session.

use agents_core::prelude::*;

/// `--help` text of the example.
pub const ABOUT: &str = "Asks for consent to record the call before anything else.

The agent's on_enter awaits the CollectConsent task; on a yes it offers help, on a no it says \
goodbye and ends the call.";

/// Ask for recording consent and get a clear yes or no answer.
/// Be polite and professional.
#[agent_task(result = bool)]
pub struct CollectConsent;

#[function_tools]
impl CollectConsent {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, bool>) -> Result<()> {
        ctx.generate_reply(
            "Briefly introduce yourself, then ask for permission to record the call for quality \
             assurance and training purposes. Make it clear that they can decline.",
        )
        .await
    }

    /// Use this when the user gives consent to record.
    #[function_tool]
    async fn consent_given(&mut self, ctx: &mut TaskContext<'_, bool>) {
        ctx.complete(true);
    }

    /// Use this when the user denies consent to record.
    #[function_tool]
    async fn consent_denied(&mut self, ctx: &mut TaskContext<'_, bool>) {
        ctx.complete(false);
    }
}

/// You are a friendly customer service representative.
#[agent]
pub struct CustomerServiceAgent;

#[function_tools]
impl CustomerServiceAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        if ctx.run_task(CollectConsent).await? {
            ctx.generate_reply("Offer your assistance to the user.")
                .await
        } else {
            ctx.generate_reply(
                "Inform the user that you are unable to proceed and will end the call.",
            )
            .await?;
            ctx.shutdown();
            Ok(())
        }
    }
}
