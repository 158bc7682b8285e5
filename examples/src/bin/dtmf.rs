//! Keypad input: the agent asks for a 6-digit account number, typed on the phone keypad
//! (`/dtmf 123456#` in console mode) or said aloud, and looks the account up.
//!
//! `cargo run -p agents-examples --bin dtmf -- demo` (scripted model) or `-- console`.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_telephony::GetDtmfTask;

/// You are the automated phone line of Acme Bank. Be brief.
#[agent]
struct PhoneBanking;

#[function_tools]
impl PhoneBanking {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let account = ctx.run_task(GetDtmfTask::new(6)).await?;
        ctx.generate_reply(format!(
            "Tell the caller account {} was found and ask how you can help.",
            account.spaced()
        ))
        .await
    }
}

/// The model `demo` mode plays against.
fn demo_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions(
            "6-digit input",
            Reply::text(
                "Welcome to Acme Bank. Please enter your 6-digit account number, then press pound.",
            ),
        )
        .on_instructions(
            "exactly 6 are needed",
            Reply::text(
                "You entered 2 digits, but I need 6. Please enter all 6 digits, then press pound.",
            ),
        )
        .on_instructions(
            "was found",
            Reply::text("Thank you, I found account 4 0 7 1 2 9. How can I help you today?"),
        )
        .otherwise(Reply::text(
            "Please use the keypad to enter your account number.",
        ))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    agents_core::console::run_agent(
        PhoneBanking,
        demo_llm,
        &["/dtmf 40#", "/dtmf 4071", "/dtmf 29#"],
    )
    .await
}
