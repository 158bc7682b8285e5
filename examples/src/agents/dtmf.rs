//! Keypad input: the agent asks for a 6-digit account number, typed on the phone keypad
//! (`/dtmf 123456#` in console mode) or said aloud, and looks the account up.

use agents_core::prelude::*;
use agents_telephony::GetDtmfTask;

/// `--help` text of the example.
pub const ABOUT: &str = "Reads a 6-digit account number from the phone keypad.

The agent runs GetDtmfTask: digits come from the keypad (type `/dtmf 123456#` in console mode) \
or are said aloud; too few digits are asked for again.";

/// You are the automated phone line of Acme Bank. Be brief.
#[agent]
pub struct PhoneBanking;

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
