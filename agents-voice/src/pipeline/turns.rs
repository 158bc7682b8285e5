//! The session side: one task that sends user turns, truncations, `say` and DTMF to the
//! `AgentSession` strictly in order, so a truncation always lands on the reply it is meant
//! for, before the next user turn.

use std::sync::Arc;

use agents_core::session::{AgentSession, InputModality};
use tokio::sync::mpsc;

/// A request to the session.
#[derive(Debug)]
pub(crate) enum Op {
    /// A committed user turn.
    UserTurn {
        text: String,
        modality: InputModality,
    },
    /// Cut the latest reply to what was heard ("" removes it).
    Truncate(String),
    /// Say this text as the agent.
    Say(String),
    /// Keypad digits.
    Dtmf(String),
}

/// The result of an [`Op::UserTurn`].
#[derive(Debug)]
pub(crate) struct TurnDone {
    pub result: Result<(), String>,
}

/// The one place the pipeline cuts a reply to what the user heard.
async fn truncate_reply(session: &AgentSession, heard: String) -> agents_core::Result<()> {
    session.truncate_reply(heard).await
}

/// Runs ops in order until `ops` closes.
pub(crate) async fn run_turns(
    session: Arc<AgentSession>,
    mut ops: mpsc::UnboundedReceiver<Op>,
    done: mpsc::UnboundedSender<TurnDone>,
) {
    while let Some(op) = ops.recv().await {
        match op {
            Op::UserTurn { text, modality } => {
                let result = session
                    .run_as(text, modality)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                if done.send(TurnDone { result }).is_err() {
                    return;
                }
            }
            Op::Truncate(heard) => {
                if let Err(e) = truncate_reply(&session, heard).await {
                    tracing::warn!(error = %e, "could not truncate the interrupted reply");
                }
            }
            Op::Say(text) => {
                if let Err(e) = session.say(text).await {
                    tracing::warn!(error = %e, "say failed");
                }
            }
            Op::Dtmf(digits) => {
                if let Err(e) = session.send_dtmf(digits).await {
                    tracing::warn!(error = %e, "DTMF input failed");
                }
            }
        }
    }
}
