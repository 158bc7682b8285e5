//! Tool execution: the calls of one LLM step, each run in order (mocks, task-group tools, the
//! activity's own tools), their outputs added to the conversation.

use super::command::Shared;
use super::frame::{ActivityKind, ActivityState, EndTask, Outcome};
use super::lock;
use super::turn::ActivityRun;
use crate::context::Context;
use crate::llm::{FunctionCall, FunctionCallOutput};
use crate::tools::{Handoff, ToolOutput};
use futures::FutureExt;
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

/// What running the calls of one step led to.
pub(crate) struct CallsRun {
    /// Some output asks the LLM for a follow-up reply.
    pub(crate) wants_reply: bool,
    /// A tool handed off to another agent.
    pub(crate) handoff: Option<Handoff>,
}

impl<R: Send + 'static> ActivityRun<'_, R> {
    /// Adds all `calls` to the conversation (as the LLM sent them in one message), then runs
    /// each in order and adds its output.
    pub(crate) async fn run_calls(&mut self, calls: Vec<FunctionCall>) -> CallsRun {
        for call in &calls {
            self.frame.state.chat_ctx.push(call.clone());
            self.core.recorder.record(
                crate::session::RunEvent::FunctionCall(call.clone()),
                &self.frame.state,
            );
        }
        let may_hand_off = self.may_hand_off();
        let mut ran = CallsRun {
            wants_reply: false,
            handoff: None,
        };
        for call in calls {
            let sensitive_before = self.frame.state.sensitive_results;
            let output = if !self.frame.outcome.is_pending() || ran.handoff.is_some() {
                ToolOutput::Error("Not run: control has already moved on.".into())
            } else {
                self.execute(&call).await
            };
            let (text, is_error, reply) = match output {
                ToolOutput::Text(s) => (s, false, true),
                ToolOutput::Error(s) => (s, true, true),
                ToolOutput::Stop(s) => (s, false, false),
                ToolOutput::Handoff(h) if may_hand_off => {
                    let text = h.message.clone();
                    ran.handoff = Some(h);
                    (text, false, false)
                }
                ToolOutput::Handoff(h) => (refused_handoff(&h, &self.frame.state), true, true),
            };
            ran.wants_reply |= reply;
            let out = FunctionCallOutput::new(&call, text, is_error);
            self.frame.state.chat_ctx.push(out.clone());
            let ran_sensitive_task = self.frame.state.sensitive_results > sensitive_before;
            self.core
                .recorder
                .record_tool_output(out, &self.frame.state, ran_sensitive_task);
        }
        ran
    }

    /// Runs one tool call. Every failure (unknown tool, bad arguments, tool error, panic)
    /// becomes an error output for the LLM; nothing here ends the session.
    async fn execute(&mut self, call: &FunctionCall) -> ToolOutput {
        let id = self.frame.state.id;
        if let Some(mock) = find_mock(&self.core.shared, id, &call.name) {
            let args = serde_json::from_str(&call.arguments).unwrap_or(serde_json::Value::Null);
            return mock(args);
        }
        let state = &self.frame.state;
        if let Some(extra) = state
            .extra_tools
            .iter()
            .find(|t| t.definition.name == call.name)
        {
            let handler = extra.handler.clone();
            return match handler(call) {
                Ok(out) => out,
                Err(end) => {
                    let end = match end {
                        EndTask::Fail(e) => Outcome::Failed(e),
                        EndTask::Regress(ids) => Outcome::Regressed(ids),
                    };
                    self.frame.outcome.settle(end, id);
                    self.frame.outcome.clear_completed_twice();
                    ToolOutput::Text(String::new())
                }
            };
        }
        if !state.tools.iter().any(|t| t.name == call.name) {
            let available = state
                .offered_tools()
                .iter()
                .map(|t| t.name.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return ToolOutput::Error(format!(
                "Unknown tool `{}`. Available tools: {}.",
                call.name,
                if available.is_empty() {
                    "none"
                } else {
                    &available
                }
            ));
        }
        let shared = self.core.shared.clone();
        let outcome = {
            let mut ctx = Context::new(self.core, self.frame, Some(call));
            let fut = AssertUnwindSafe(self.act.call_tool(&mut ctx, call)).catch_unwind();
            race_with_close(&shared, fut).await
        };
        let twice = self.frame.outcome.clear_completed_twice();
        let Some(outcome) = outcome else {
            self.core.closing = true;
            return ToolOutput::Error(format!(
                "Tool `{}` was cancelled: the session is closing.",
                call.name
            ));
        };
        match outcome {
            Ok(_) if twice => ToolOutput::Error(format!(
                "`{id}` is already done: it was completed twice; the first result stands."
            )),
            Ok(out) => out,
            Err(panic) => {
                let msg = panic_message(&panic);
                tracing::error!(tool = %call.name, agent = id, "tool panicked: {msg}");
                ToolOutput::Error(format!(
                    "An internal error occurred in tool `{}`; it did not finish.",
                    call.name
                ))
            }
        }
    }
}

/// The error output for a handoff the activity may not make now.
fn refused_handoff(h: &Handoff, state: &ActivityState) -> String {
    match state.kind {
        ActivityKind::Task => format!(
            "Cannot hand off to `{}` while the task `{}` runs; complete the task first.",
            h.agent_id(),
            state.id
        ),
        ActivityKind::Agent => format!(
            "Cannot hand off to `{}`: `{}` is already giving up control.",
            h.agent_id(),
            state.id
        ),
    }
}

/// The mock replacing tool `name` of activity `id`, if any (one for `id` first, then one for
/// every activity).
fn find_mock(shared: &Shared, id: &'static str, name: &str) -> Option<super::command::MockFn> {
    let mocks = lock(&shared.mocks);
    if mocks.is_empty() {
        return None;
    }
    mocks
        .get(&(Some(id), name.to_string()))
        .or_else(|| mocks.get(&(None, name.to_string())))
        .cloned()
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &Box<dyn Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// How long a running tool may still take once the session is closing: at most a second, and
/// half the close timeout. A tool awaiting a task finishes well within it (the task unwinds on
/// the close); a slow tool is then dropped so the hooks still run before the close times out.
fn tool_close_grace(shared: &Shared) -> Duration {
    (shared.close_timeout() / 2).min(Duration::from_secs(1))
}

/// Polls `fut` to completion, unless the session starts closing and `fut` then takes longer than
/// [`tool_close_grace`]: `None`.
async fn race_with_close<F: std::future::Future>(shared: &Shared, fut: F) -> Option<F::Output> {
    tokio::pin!(fut);
    let closing = shared.close_requested.notified();
    tokio::pin!(closing);
    if !shared.closing.load(std::sync::atomic::Ordering::SeqCst) {
        tokio::select! {
            out = &mut fut => return Some(out),
            _ = &mut closing => {}
        }
    }
    tokio::time::timeout(tool_close_grace(shared), fut)
        .await
        .ok()
}
