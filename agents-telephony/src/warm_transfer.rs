//! Warm transfer: hold the caller, call a human, brief them on a second session, then connect
//! them to the caller, or resume the caller with a typed [`TransferError`].

use crate::telephony::{CallLeg, DialError, DialRequest, Telephony, TelephonyError};
use agents_core::llm::ChatItem;
use agents_core::prelude::*;
use agents_core::session::InputModality;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What [`WarmTransferTask`] completes with once the human is connected to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmTransferResult {
    /// Identity of the human agent's leg, now in the caller's room.
    pub human_agent_identity: String,
}

/// Why a warm transfer did not connect the caller to a human. The caller is off hold again and
/// the conversation resumes with the agent.
///
/// The task fails with `Error::task(TransferError::..)`; get it back with
/// `err.downcast_ref::<TransferError>()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The human agent answered and declined.
    #[error("the human agent declined the transfer: {reason}")]
    Declined {
        /// Their reason, as the briefing LLM reported it.
        reason: String,
    },
    /// Nobody answered within the ringing timeout.
    #[error("the human agent did not answer")]
    NoAnswer,
    /// The human agent's line was busy.
    #[error("the human agent's line was busy")]
    Busy,
    /// A voicemail box answered instead of a person.
    #[error("the call reached voicemail")]
    Voicemail,
    /// The call could not be placed.
    #[error("the call to the human agent failed: {reason}")]
    DialFailed {
        /// What the phone system said.
        reason: String,
    },
    /// The human agent hung up before agreeing to take the call.
    #[error("the human agent hung up before accepting the transfer")]
    HumanHungUp,
    /// The caller hung up while on hold, before the human could be connected; the human's leg
    /// is hung up too.
    #[error("the caller hung up before the transfer was connected")]
    CallerHungUp,
    /// The transfer machinery failed: the phone system (hold, bridge) or the briefing LLM, or the
    /// human gave no decision within the turn limit.
    #[error("the transfer failed: {reason}")]
    Failed {
        /// What went wrong.
        reason: String,
    },
}

impl From<DialError> for TransferError {
    fn from(e: DialError) -> Self {
        match e {
            DialError::Busy => TransferError::Busy,
            DialError::NoAnswer => TransferError::NoAnswer,
            DialError::Failed { reason } => TransferError::DialFailed { reason },
        }
    }
}

/// Default ringing timeout of the call to the human.
pub const DEFAULT_RINGING_TIMEOUT: Duration = Duration::from_secs(30);
/// Default most human turns in the briefing before the transfer gives up.
pub const DEFAULT_MAX_BRIEFING_TURNS: usize = 8;
/// Most characters of the caller's conversation put in the briefing instructions (the latest
/// messages are kept).
const MAX_TRANSCRIPT_CHARS: usize = 8000;

/// Transfers the caller to a human after briefing them, like a receptionist would.
///
/// Everything happens in `on_enter`, while the caller's own turns wait:
/// 1. the caller is put on hold with the hold audio;
/// 2. the human is dialed (with the ringing timeout) into a consultation room;
/// 3. a second [`AgentSession`] on the same LLM runs a [`HumanBriefingAgent`] whose instructions
///    hold the caller's conversation; each thing the human says (from
///    [`Telephony::next_utterance`]) is one turn, and the agent's replies are spoken back with
///    [`Telephony::say`], until the LLM calls `connect_to_caller`, `decline_transfer` or
///    `voicemail_detected`, or the human hangs up;
/// 4. accepted: the human is bridged into the caller's room, the caller taken off hold, and the
///    agent's leg hung up; the task completes with the human's identity. Otherwise the human's
///    leg is hung up, the caller taken off hold, and the task fails with a [`TransferError`], so
///    the code that awaited it can tell the caller what happened and carry on.
///
/// The caller's conversation comes from the task's own context: run the task with
/// `.with_history(CopyOptions::all().exclude_instructions())`, or pass it with
/// [`caller_history`](Self::caller_history). The LLM is passed in because `agents-core`'s
/// context does not expose the session's LLM.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # use agents_telephony::{TransferError, WarmTransferTask, Telephony};
/// # use std::sync::Arc;
/// # async fn tool(ctx: &mut AgentContext<'_>, tel: Arc<dyn Telephony>, llm: Arc<dyn Llm>) -> String {
/// let task = WarmTransferTask::new(tel, llm, "+15105550100");
/// match ctx.run_task(task).with_history(CopyOptions::all().exclude_instructions()).await {
///     Ok(done) => format!("Connected to {}.", done.human_agent_identity),
///     Err(e) => match e.downcast_ref::<TransferError>() {
///         Some(TransferError::Busy | TransferError::NoAnswer) => "Nobody is free right now.".into(),
///         Some(other) => format!("The transfer did not work: {other}."),
///         None => format!("Error: {e}"),
///     },
/// }
/// # }
/// ```
#[agent_task(
    result = WarmTransferResult,
    instructions = "You are transferring the caller to a human agent. The caller is on hold."
)]
pub struct WarmTransferTask {
    telephony: Arc<dyn Telephony>,
    llm: Arc<dyn Llm>,
    to: String,
    ringing_timeout: Duration,
    hold_audio: String,
    extra_instructions: String,
    human_identity: String,
    consultation_room: Option<String>,
    trunk_id: Option<String>,
    headers: BTreeMap<String, String>,
    dtmf: Option<String>,
    max_briefing_turns: usize,
    caller_history: Option<ChatContext>,
}

impl WarmTransferTask {
    /// A transfer to `to` (a number or SIP URI) through `telephony`, briefed by `llm` (normally
    /// the session's own). Defaults: 30 s ringing timeout, hold audio `"hold_music"`, human
    /// identity `"human_agent"`, consultation room `<caller room>-human-agent`, 8 briefing turns.
    pub fn new(telephony: Arc<dyn Telephony>, llm: Arc<dyn Llm>, to: impl Into<String>) -> Self {
        WarmTransferTask {
            telephony,
            llm,
            to: to.into(),
            ringing_timeout: DEFAULT_RINGING_TIMEOUT,
            hold_audio: "hold_music".into(),
            extra_instructions: String::new(),
            human_identity: "human_agent".into(),
            consultation_room: None,
            trunk_id: None,
            headers: BTreeMap::new(),
            dtmf: None,
            max_briefing_turns: DEFAULT_MAX_BRIEFING_TURNS,
            caller_history: None,
        }
    }

    /// How long the human's phone may ring before the transfer fails with
    /// [`TransferError::NoAnswer`].
    pub fn ringing_timeout(mut self, timeout: Duration) -> Self {
        self.ringing_timeout = timeout;
        self
    }

    /// What the caller hears while on hold (a name or URL the [`Telephony`] resolves).
    pub fn hold_audio(mut self, audio: impl Into<String>) -> Self {
        self.hold_audio = audio.into();
        self
    }

    /// More instructions for the briefing (e.g. "Mention the caller's account tier.").
    pub fn extra_instructions(mut self, text: impl Into<String>) -> Self {
        self.extra_instructions = text.into();
        self
    }

    /// Identity of the human's leg (default `"human_agent"`).
    pub fn human_identity(mut self, identity: impl Into<String>) -> Self {
        self.human_identity = identity.into();
        self
    }

    /// Room the human is dialed into for the briefing (default `<caller room>-human-agent`).
    pub fn consultation_room(mut self, room: impl Into<String>) -> Self {
        self.consultation_room = Some(room.into());
        self
    }

    /// Outbound SIP trunk to dial through.
    pub fn trunk_id(mut self, trunk: impl Into<String>) -> Self {
        self.trunk_id = Some(trunk.into());
        self
    }

    /// An extra SIP header on the call to the human.
    pub fn sip_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Digits to send once the human's line answers (an extension; `w` pauses 0.5 s).
    pub fn dtmf(mut self, digits: impl Into<String>) -> Self {
        self.dtmf = Some(digits.into());
        self
    }

    /// Most things the human may say before the transfer gives up with
    /// [`TransferError::Failed`] (default 8).
    pub fn max_briefing_turns(mut self, turns: usize) -> Self {
        self.max_briefing_turns = turns.max(1);
        self
    }

    /// The caller's conversation to brief the human with, instead of the task's own context.
    pub fn caller_history(mut self, chat_ctx: ChatContext) -> Self {
        self.caller_history = Some(chat_ctx);
        self
    }

    async fn transfer(
        &mut self,
        transcript: String,
    ) -> std::result::Result<WarmTransferResult, TransferError> {
        let tel = self.telephony.clone();
        let caller = tel.caller();
        tel.hold(&caller, &self.hold_audio)
            .await
            .map_err(|e| TransferError::Failed {
                reason: e.to_string(),
            })?;
        let human = match self.consult(&caller, transcript).await {
            Ok(human) => human,
            Err((error, leg)) => {
                if let Some(leg) = leg {
                    log_failure("hang up the human leg", tel.hang_up(&leg).await);
                }
                log_failure("take the caller off hold", tel.unhold(&caller).await);
                return Err(error);
            }
        };
        let connected = match tel.bridge(&human, &caller).await {
            Ok(leg) => leg,
            Err(e) => {
                log_failure("hang up the human leg", tel.hang_up(&human).await);
                if matches!(&e, TelephonyError::LegGone { leg } if *leg == caller) {
                    return Err(TransferError::CallerHungUp);
                }
                log_failure("take the caller off hold", tel.unhold(&caller).await);
                return Err(TransferError::Failed {
                    reason: e.to_string(),
                });
            }
        };
        log_failure("take the caller off hold", tel.unhold(&caller).await);
        log_failure("hang up the agent's leg", tel.hang_up(&tel.agent()).await);
        tracing::info!(human = %connected, "warm transfer connected");
        Ok(WarmTransferResult {
            human_agent_identity: connected.identity,
        })
    }

    /// Dials the human and runs the briefing. On failure, also returns the human's leg if it
    /// was answered, so it can be hung up.
    async fn consult(
        &self,
        caller: &CallLeg,
        transcript: String,
    ) -> std::result::Result<CallLeg, (TransferError, Option<CallLeg>)> {
        let tel = &self.telephony;
        let room = self
            .consultation_room
            .clone()
            .unwrap_or_else(|| format!("{}-human-agent", caller.room));
        let mut request =
            DialRequest::new(&self.to, room, &self.human_identity, self.ringing_timeout);
        request.trunk_id = self.trunk_id.clone();
        request.headers = self.headers.clone();
        request.dtmf = self.dtmf.clone();
        let leg = tel.dial(request).await.map_err(|e| {
            tracing::info!(error = %e, to = %self.to, "warm transfer: dial failed");
            (TransferError::from(e), None)
        })?;
        match self.brief(&leg, transcript).await {
            Ok(()) => Ok(leg),
            Err(e) => Err((e, Some(leg))),
        }
    }

    /// Runs the briefing session until the human accepts (`Ok`) or something else happens.
    async fn brief(
        &self,
        leg: &CallLeg,
        transcript: String,
    ) -> std::result::Result<(), TransferError> {
        let decision = Arc::new(Mutex::new(None));
        let agent = HumanBriefingAgent {
            instructions: briefing_instructions(&transcript, &self.extra_instructions),
            decision: decision.clone(),
        };
        let session = AgentSession::builder_shared(self.llm.clone()).build();
        let outcome = self.briefing_loop(&session, agent, leg, &decision).await;
        session.close().await;
        outcome
    }

    async fn briefing_loop(
        &self,
        session: &AgentSession,
        agent: HumanBriefingAgent,
        leg: &CallLeg,
        decision: &Arc<Mutex<Option<BriefingDecision>>>,
    ) -> std::result::Result<(), TransferError> {
        let tel = &self.telephony;
        let start = session.start(agent).await.map_err(briefing_failed)?;
        speak(tel.as_ref(), leg, &start.assistant_text()).await?;
        for _ in 0..self.max_briefing_turns {
            let line = match tel.next_utterance(leg).await {
                Ok(Some(line)) => line,
                Ok(None) | Err(TelephonyError::LegGone { .. }) => {
                    return Err(TransferError::HumanHungUp)
                }
                Err(e) => {
                    return Err(TransferError::Failed {
                        reason: e.to_string(),
                    })
                }
            };
            tracing::debug!(%line, "human agent said");
            let turn = session
                .run_as(line, InputModality::Audio)
                .await
                .map_err(briefing_failed)?;
            speak(tel.as_ref(), leg, &turn.assistant_text()).await?;
            let decided = lock(decision).take();
            match decided {
                Some(BriefingDecision::Accepted) => return Ok(()),
                Some(BriefingDecision::Declined(reason)) => {
                    return Err(TransferError::Declined { reason })
                }
                Some(BriefingDecision::Voicemail) => return Err(TransferError::Voicemail),
                None => {}
            }
        }
        Err(TransferError::Failed {
            reason: format!(
                "the human agent gave no decision within {} turns",
                self.max_briefing_turns
            ),
        })
    }
}

#[function_tools]
impl WarmTransferTask {
    async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
        let history = self.caller_history.as_ref().unwrap_or(ctx.chat_ctx());
        let transcript = render_transcript(history);
        match self.transfer(transcript).await {
            Ok(result) => ctx.complete(result),
            Err(error) => {
                tracing::info!(%error, "warm transfer did not connect");
                ctx.fail(Error::task(error));
            }
        }
        Ok(())
    }
}

/// Says `text` on `leg` if there is any; a leg that is gone means the human hung up.
async fn speak(
    tel: &dyn Telephony,
    leg: &CallLeg,
    text: &str,
) -> std::result::Result<(), TransferError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    match tel.say(leg, text).await {
        Ok(()) => Ok(()),
        Err(TelephonyError::LegGone { .. }) => Err(TransferError::HumanHungUp),
        Err(e) => Err(TransferError::Failed {
            reason: e.to_string(),
        }),
    }
}

fn briefing_failed(e: Error) -> TransferError {
    TransferError::Failed {
        reason: format!("the briefing session failed: {e}"),
    }
}

fn log_failure(what: &str, result: std::result::Result<(), TelephonyError>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "warm transfer: could not {what}");
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The caller's conversation as plain lines (`Caller: ...` / `Agent: ...`), latest messages
/// kept within [`MAX_TRANSCRIPT_CHARS`].
fn render_transcript(chat_ctx: &ChatContext) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut total = 0;
    for item in chat_ctx.items().iter().rev() {
        let ChatItem::Message(m) = item else { continue };
        let who = match m.role {
            Role::User => "Caller",
            Role::Assistant => "Agent",
            _ => continue,
        };
        let text = m.content.trim();
        if text.is_empty() {
            continue;
        }
        let line = format!("{who}: {text}");
        total += line.len() + 1;
        if total > MAX_TRANSCRIPT_CHARS && !lines.is_empty() {
            break;
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return "(no conversation with the caller yet)".into();
    }
    lines.reverse();
    lines.join("\n")
}

fn briefing_instructions(transcript: &str, extra: &str) -> String {
    let mut text = format!(
        "You are an assistant calling a human agent to hand a caller over to them (a warm \
         transfer). The caller is on hold. When the human agent answers, introduce yourself in \
         one sentence, summarise who the caller is and what they need from the conversation \
         below, and ask whether they can take the call now.\n\
         - Call `connect_to_caller` as soon as they agree.\n\
         - If they decline or cannot take the call, call `decline_transfer` with their reason.\n\
         - If a voicemail greeting or an answering machine answers instead of a person, call \
         `voicemail_detected` at once and leave no message.\n\
         Answer their questions about the caller only from the conversation below and never \
         invent details. You are on the phone: no markdown, short sentences.\n\n\
         <caller_conversation>\n{transcript}\n</caller_conversation>"
    );
    if !extra.trim().is_empty() {
        text.push_str("\n\n");
        text.push_str(extra.trim());
    }
    text
}

/// What the human decided during the briefing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BriefingDecision {
    Accepted,
    Declined(String),
    Voicemail,
}

/// The agent of the briefing session [`WarmTransferTask`] runs with the human: it summarises
/// the caller's conversation and reports the human's decision through its tools
/// (`connect_to_caller`, `decline_transfer`, `voicemail_detected`).
///
/// Public so tests can name it (e.g. `is_agent_handoff_to::<HumanBriefingAgent>()`); only the
/// task creates it.
#[agent(instructions = "Brief a human agent about a caller on hold and ask them to take the call.")]
pub struct HumanBriefingAgent {
    instructions: String,
    decision: Arc<Mutex<Option<BriefingDecision>>>,
}

impl HumanBriefingAgent {
    /// Records the first decision; later ones are ignored.
    fn decide(&self, decision: BriefingDecision) {
        let mut slot = lock(&self.decision);
        if slot.is_none() {
            *slot = Some(decision);
        }
    }
}

#[function_tools]
impl HumanBriefingAgent {
    fn instructions(&self) -> String {
        self.instructions.clone()
    }

    /// Connect the human agent to the caller. Call it as soon as the human agent agrees to take
    /// the call.
    #[function_tool]
    async fn connect_to_caller(&mut self) -> StopResponse {
        self.decide(BriefingDecision::Accepted);
        StopResponse
    }

    /// The human agent declined or cannot take the call.
    ///
    /// # Arguments
    /// * `reason` - Their reason, in a few words.
    #[function_tool]
    async fn decline_transfer(&mut self, reason: String) -> String {
        let reason = if reason.trim().is_empty() {
            "no reason given".to_string()
        } else {
            reason.trim().to_string()
        };
        self.decide(BriefingDecision::Declined(reason));
        "Noted; the caller will be told. Thank the human agent in one short sentence and say \
         goodbye."
            .into()
    }

    /// A voicemail greeting or an answering machine answered instead of a person. Call it at
    /// once; leave no message.
    #[function_tool]
    async fn voicemail_detected(&mut self) -> StopResponse {
        self.decide(BriefingDecision::Voicemail);
        StopResponse
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_keeps_user_and_assistant_lines() {
        let mut ctx = ChatContext::new();
        ctx.add_message(Role::System, "secret instructions");
        ctx.add_message(Role::User, "My router is broken.");
        ctx.add_message(Role::Assistant, "Let me get a technician.");
        let t = render_transcript(&ctx);
        assert_eq!(
            t,
            "Caller: My router is broken.\nAgent: Let me get a technician."
        );
        assert!(render_transcript(&ChatContext::new()).contains("no conversation"));
    }

    #[test]
    fn long_transcripts_keep_the_latest_messages() {
        let mut ctx = ChatContext::new();
        for i in 0..2000 {
            ctx.add_message(Role::User, format!("message number {i}"));
        }
        let t = render_transcript(&ctx);
        assert!(t.len() <= MAX_TRANSCRIPT_CHARS);
        assert!(t.ends_with("message number 1999"));
        assert!(!t.contains("message number 0\n"));
    }

    #[test]
    fn dial_errors_map_to_transfer_errors() {
        assert_eq!(TransferError::from(DialError::Busy), TransferError::Busy);
        assert_eq!(
            TransferError::from(DialError::NoAnswer),
            TransferError::NoAnswer
        );
        assert_eq!(
            TransferError::from(DialError::Failed {
                reason: "404".into()
            }),
            TransferError::DialFailed {
                reason: "404".into()
            }
        );
    }
}
