//! Escalating to a human: the support agent's `transfer_to_human` tool runs `WarmTransferTask`
//! on simulated telephony. The caller is put on hold, a technician is dialled and briefed in a
//! second session, and either takes the call — the agent then leaves the conversation — or the
//! caller resumes with a typed `TransferError`. `--human` chooses how the (simulated)
//! technician answers.

use crate::cli::Mode;
use crate::{Call, Calls};
use agents_core::console;
use agents_core::prelude::*;
use agents_telephony::{DialOutcome, SimulatedTelephony, TransferError, WarmTransferTask};
use std::sync::Arc;
use std::time::Duration;

/// `--help` text of the example.
pub const ABOUT: &str = "Hands the caller over to a human with a warm transfer.

The support agent's transfer_to_human tool runs WarmTransferTask on simulated telephony: the \
caller is held, a technician dialled and briefed, then bridged in (the agent leaves the call) \
or the caller resumes with the reason it failed. --human picks the technician's answer.";

/// How the simulated technician answers.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Human {
    /// Takes the call.
    Accept,
    /// Says they cannot take it.
    Decline,
    /// The line is busy.
    Busy,
    /// Nobody picks up.
    NoAnswer,
    /// A voicemail greeting answers.
    Voicemail,
}

/// The example's own options.
#[derive(Debug, Clone, clap::Args)]
pub struct TransferArgs {
    /// How the simulated technician answers.
    #[arg(long, global = true, value_enum, default_value = "accept")]
    pub human: Human,
    /// Seconds to let the technician's phone ring.
    #[arg(long, global = true, default_value_t = 20, value_name = "SECS")]
    pub ringing_timeout: u64,
}

/// You are the support line of an internet provider. Help with simple questions; when the caller
/// needs a technician, transfer them with `transfer_to_human`.
#[agent]
pub struct SupportAgent {
    telephony: SimulatedTelephony,
    llm: Arc<dyn Llm>,
    ringing_timeout: Duration,
}

impl SupportAgent {
    /// An agent transferring over `telephony`, briefing the human with `llm`.
    pub fn new(
        telephony: SimulatedTelephony,
        llm: Arc<dyn Llm>,
        ringing_timeout: Duration,
    ) -> Self {
        SupportAgent {
            telephony,
            llm,
            ringing_timeout,
        }
    }
}

#[function_tools]
impl SupportAgent {
    /// Transfer the caller to a human technician.
    #[function_tool]
    async fn transfer_to_human(
        &mut self,
        ctx: &mut AgentContext<'_>,
    ) -> Result<StopResponse, ToolError> {
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
        console::note(format!(
            "(telephony: {})",
            self.telephony.labels().join(", ")
        ))
        .await;
        match outcome {
            Ok(done) => {
                // The caller now talks to the human; the agent has hung up its leg and says
                // nothing more.
                console::note(format!(
                    "(the caller is with {}; the agent has left the call)",
                    done.human_agent_identity
                ))
                .await;
                ctx.shutdown();
                Ok(StopResponse)
            }
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

/// Makes each call's simulated phone line answer as `--human` says.
pub fn setup(args: &TransferArgs, _mode: Mode) -> Result<Calls<SupportAgent>> {
    let outcome = match args.human {
        Human::Accept => DialOutcome::answers(["Hi, this is Sam.", "Sure, put them through."]),
        Human::Decline => DialOutcome::answers(["This is Sam.", "Sorry, I can't take it now."]),
        Human::Busy => DialOutcome::Busy,
        Human::NoAnswer => DialOutcome::NoAnswer,
        Human::Voicemail => {
            DialOutcome::voicemail("You've reached Sam, leave a message after the tone.")
        }
    };
    let ringing_timeout = Duration::from_secs(args.ringing_timeout);
    Ok(Box::new(move |llm: &Arc<dyn Llm>| {
        Call::new(SupportAgent::new(
            SimulatedTelephony::new().with_outcome(outcome.clone()),
            llm.clone(),
            ringing_timeout,
        ))
    }))
}
