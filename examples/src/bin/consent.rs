//! Recording consent before anything else: `CustomerServiceAgent` awaits `CollectConsent` in
//! `on_enter`; on refusal it says goodbye and ends the session.
//!
//! `cargo run -p agents-examples --bin consent -- demo` (scripted model) or `-- console`.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};

/// Ask for recording consent and get a clear yes or no answer.
/// Be polite and professional.
#[agent_task(result = bool)]
struct CollectConsent;

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
struct CustomerServiceAgent;

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

/// The model `demo` mode plays against.
fn demo_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions(
            "ask for permission to record",
            Reply::text("Hi, I'm Sam from Acme support. May I record this call for quality and training? You can say no."),
        )
        .on_user("no", Reply::call("consent_denied", serde_json::json!({})))
        .on_user("yes", Reply::call("consent_given", serde_json::json!({})))
        .on_instructions("offer your assistance", Reply::text("Thank you! How can I help you today?"))
        .on_instructions(
            "unable to proceed",
            Reply::text("I understand. I can't continue without consent, so I'll end the call. Goodbye!"),
        )
        .otherwise(Reply::text("Happy to help with that."))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    agents_core::console::run_agent(
        CustomerServiceAgent,
        demo_llm,
        &["Yes, that's fine.", "What are your opening hours?"],
    )
    .await
}
