//! Escalating to a human: the support agent's `transfer_to_human` tool runs `WarmTransferTask`
//! on simulated telephony. The caller is put on hold, a technician is dialled and briefed in a
//! second session, and either takes the call or the caller resumes with a typed `TransferError`.
//! `--human` chooses how the (simulated) technician answers.
//!
//! `cargo run -p agents-examples --bin warm_transfer -- demo [--human decline]` (scripted model)
//! or `-- console --human accept`.

use agents_core::console::{self, Cli};
use agents_core::llm::ChatItem;
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_telephony::{DialOutcome, SimulatedTelephony, TransferError, WarmTransferTask};
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// You are the support line of an internet provider. Help with simple questions; when the caller
/// needs a technician, transfer them with `transfer_to_human`.
#[agent]
struct SupportAgent {
    telephony: SimulatedTelephony,
    llm: Arc<dyn Llm>,
    ringing_timeout: Duration,
}

#[function_tools]
impl SupportAgent {
    /// Transfer the caller to a human technician.
    #[function_tool]
    async fn transfer_to_human(&mut self, ctx: &mut AgentContext<'_>) -> Result<String, ToolError> {
        let task = WarmTransferTask::new(
            Arc::new(self.telephony.clone()),
            self.llm.clone(),
            "+15105550100",
        )
        .ringing_timeout(self.ringing_timeout);
        let outcome = ctx
            .run_task(task)
            .with_history(CopyOptions::all().exclude_instructions())
            .await;
        println!("  (telephony: {})", self.telephony.labels().join(", "));
        match outcome {
            Ok(done) => Ok(format!(
                "Connected the caller to {}.",
                done.human_agent_identity
            )),
            Err(e) => {
                let why = match e.downcast_ref::<TransferError>() {
                    Some(TransferError::Declined { reason }) => {
                        format!("the technician declined ({reason})")
                    }
                    Some(TransferError::Busy) => "the line was busy".into(),
                    Some(TransferError::NoAnswer) => "nobody answered".into(),
                    Some(TransferError::Voicemail) => "it went to voicemail".into(),
                    _ => e.to_string(),
                };
                Err(ToolError::new(format!(
                    "The transfer failed: {why}. Apologise and offer to take a message."
                )))
            }
        }
    }
}

/// One script for both sides: the caller's session and the briefing with the technician.
fn demo_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user(
            "internet is down",
            Reply::text("Sorry to hear that. Shall I connect you to a technician?"),
        )
        .on_user("yes", Reply::call("transfer_to_human", json!({})))
        .after_tool(
            "transfer_to_human",
            // The model reads the output's text (the wire has no error flag).
            Reply::dynamic(|req| {
                let failed = req.chat_ctx.items().iter().rev().find_map(|i| match i {
                    ChatItem::FunctionCallOutput(o) => Some(o.output.contains("failed")),
                    _ => None,
                });
                if failed == Some(true) {
                    Reply::text("I'm sorry, I couldn't reach a technician. Can I take a message?")
                } else {
                    Reply::text("You're now connected to a technician. Goodbye!")
                }
            }),
        )
        // The technician's side.
        .on_user(
            "this is sam",
            Reply::text("Hi Sam, I have a caller whose internet is down. Can you take the call?"),
        )
        .on_user(
            "put them through",
            Reply::call("connect_to_caller", json!({})),
        )
        .on_user(
            "can't take",
            Reply::call("decline_transfer", json!({"reason": "in a meeting"})),
        )
        .after_tool("decline_transfer", Reply::text("No problem, thanks Sam."))
        .on_user(
            "after the tone",
            Reply::call("voicemail_detected", json!({})),
        )
        .otherwise(Reply::text("How can I help?"))
}

/// How the simulated technician answers.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Human {
    Accept,
    Decline,
    Busy,
    NoAnswer,
    Voicemail,
}

/// The example's own flags.
#[derive(Debug, clap::Args)]
struct TransferArgs {
    /// How the simulated technician answers.
    #[arg(long, global = true, value_enum, default_value = "accept")]
    human: Human,
    /// Seconds to let the technician's phone ring.
    #[arg(long, global = true, default_value_t = 20)]
    ringing_timeout: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli<TransferArgs> = Cli::parse_args();
    let outcome = match cli.extra.human {
        Human::Accept => DialOutcome::answers(["Hi, this is Sam.", "Sure, put them through."]),
        Human::Decline => DialOutcome::answers(["This is Sam.", "Sorry, I can't take it now."]),
        Human::Busy => DialOutcome::Busy,
        Human::NoAnswer => DialOutcome::NoAnswer,
        Human::Voicemail => {
            DialOutcome::voicemail("You've reached Sam, leave a message after the tone.")
        }
    };
    let llm = match cli.llm(demo_llm) {
        Ok(llm) => llm,
        Err(e) => return console::fail(e),
    };
    let session = match AgentSession::builder().llm_arc(llm.clone()).build() {
        Ok(session) => session,
        Err(e) => return console::fail(e),
    };
    let agent = SupportAgent {
        telephony: SimulatedTelephony::new().with_outcome(outcome),
        llm,
        ringing_timeout: Duration::from_secs(cli.extra.ringing_timeout),
    };
    console::run(
        &cli,
        session,
        agent,
        &["My internet is down.", "Yes, please."],
    )
    .await
}
