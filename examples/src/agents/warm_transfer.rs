//! Escalating to a human: the support agent's `transfer_to_human` tool runs `WarmTransferTask`.
//! The caller is put on hold, a technician is dialled and briefed in a second session, and
//! either takes the call — the agent then leaves the conversation — or the caller resumes with
//! a typed `TransferError`.
//!
//! On a phone call (`sip` mode with `--human-uri`) the transfer is real: the caller hears hold
//! audio, the technician's SIP URI is called from the same server, briefed by voice, and
//! bridged to the caller. Elsewhere the telephony is simulated and `--human` chooses how the
//! technician answers.

use crate::cli::Mode;
use crate::{Call, Calls, Line};
use agents_core::console;
use agents_core::prelude::*;
use agents_telephony::{
    DialOutcome, SimulatedTelephony, Telephony, TransferError, WarmTransferTask,
};
use std::sync::Arc;
use std::time::Duration;

/// `--help` text of the example.
pub const ABOUT: &str = "Hands the caller over to a human with a warm transfer.

The support agent's transfer_to_human tool runs WarmTransferTask: the caller is held, a \
technician dialled and briefed, then bridged in (the agent leaves the call) or the caller \
resumes with the reason it failed. In `sip` mode with --human-uri the technician is called over \
SIP and bridged to the caller; elsewhere (and in `sip` mode without --human-uri) the telephony \
is simulated and --human picks the technician's answer.";

/// Number the simulated telephony dials.
const SIMULATED_NUMBER: &str = "+15105550100";

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

impl Human {
    /// What the technician says when they pick up, one line per utterance.
    fn words(self) -> &'static [&'static str] {
        match self {
            Human::Accept => &["Hi, this is Sam.", "Sure, put them through."],
            Human::Decline => &["This is Sam.", "Sorry, I can't take it now."],
            Human::Busy | Human::NoAnswer => &[],
            Human::Voicemail => &["You've reached Sam, leave a message after the tone."],
        }
    }

    /// The simulated phone line's answer.
    fn outcome(self) -> DialOutcome {
        match self {
            Human::Accept | Human::Decline => DialOutcome::answers(self.words().iter().copied()),
            Human::Busy => DialOutcome::Busy,
            Human::NoAnswer => DialOutcome::NoAnswer,
            Human::Voicemail => DialOutcome::voicemail(self.words()[0]),
        }
    }
}

/// The example's own options.
#[derive(Debug, Clone, clap::Args)]
pub struct TransferArgs {
    /// How the simulated technician answers; with `sip --scripted --human-uri`, what the
    /// scripted recogniser hears the real technician say.
    #[arg(long, global = true, value_enum, default_value = "accept")]
    pub human: Human,
    /// The technician's SIP URI (`sip:sam@pbx.example.com`), called in `sip` mode for a real
    /// transfer [default: none; the transfer is simulated]. Other modes always simulate it.
    #[arg(long, global = true, value_name = "URI", value_parser = sip_uri)]
    pub human_uri: Option<String>,
    /// Seconds to let the technician's phone ring.
    #[arg(long, global = true, default_value_t = 20, value_name = "SECS")]
    pub ringing_timeout: u64,
}

/// You are the support line of an internet provider. Help with simple questions; when the caller
/// needs a technician, transfer them with `transfer_to_human`.
#[agent]
pub struct SupportAgent {
    phone: Phone,
    llm: Arc<dyn Llm>,
    ringing_timeout: Duration,
}

/// The phone system the agent transfers on.
pub enum Phone {
    /// The call's own telephony, and who to dial on it.
    Real {
        /// The call's telephony.
        telephony: Arc<dyn Telephony>,
        /// The technician's address.
        human: String,
    },
    /// Simulated: its log of operations is shown after the transfer.
    Simulated(SimulatedTelephony),
}

impl Phone {
    fn telephony(&self) -> Arc<dyn Telephony> {
        match self {
            Phone::Real { telephony, .. } => telephony.clone(),
            Phone::Simulated(sim) => Arc::new(sim.clone()),
        }
    }

    fn human(&self) -> &str {
        match self {
            Phone::Real { human, .. } => human,
            Phone::Simulated(_) => SIMULATED_NUMBER,
        }
    }
}

impl SupportAgent {
    /// An agent transferring over `phone`, briefing the human with `llm`.
    pub fn new(phone: Phone, llm: Arc<dyn Llm>, ringing_timeout: Duration) -> Self {
        SupportAgent {
            phone,
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
        let task =
            WarmTransferTask::new(self.phone.telephony(), self.llm.clone(), self.phone.human())
                .ringing_timeout(self.ringing_timeout);
        let outcome = ctx
            .run_task(task)
            .with_history(CopyOptions::all().exclude_instructions())
            .await;
        if let Phone::Simulated(sim) = &self.phone {
            console::note(format!("(telephony: {})", sim.labels().join(", "))).await;
        }
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

/// Makes each call's agent: on a phone call with `--human-uri`, transferring over the call's
/// own telephony; otherwise on a simulated line that answers as `--human` says.
pub fn setup(args: &TransferArgs, _mode: Mode) -> Result<Calls<SupportAgent>> {
    let args = args.clone();
    let ringing_timeout = Duration::from_secs(args.ringing_timeout);
    Ok(Box::new(move |llm: &Arc<dyn Llm>| {
        let (llm, args) = (llm.clone(), args.clone());
        Call::on_line(move |line: &mut Line<'_>| {
            let real = args.human_uri.and_then(|human| {
                let telephony = line.telephony(args.human.words())?;
                Some(Phone::Real { telephony, human })
            });
            let phone = real.unwrap_or_else(|| {
                Phone::Simulated(SimulatedTelephony::new().with_outcome(args.human.outcome()))
            });
            SupportAgent::new(phone, llm, ringing_timeout)
        })
    }))
}

/// A `sip:` or `sips:` URI with a user or host after the scheme.
fn sip_uri(text: &str) -> std::result::Result<String, String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("sip:")
        .or_else(|| lower.strip_prefix("sips:"))
        .ok_or_else(|| format!("`{text}` is not a SIP URI (like sip:sam@127.0.0.1:5090)"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) || rest.ends_with('@') {
        return Err(format!(
            "`{text}` is not a SIP URI (like sip:sam@127.0.0.1:5090)"
        ));
    }
    Ok(text.to_string())
}
