//! The recorder: the one place events leave the loop. It streams them to subscribers, collects
//! the turn in progress into its `RunResult`, and applies the sensitivity rule.
//!
//! The rule: an event carrying conversation content is marked sensitive when the activity it
//! comes from is sensitive (or runs inside one), and a tool output is marked too when the tool
//! ran a sensitive task to completion, since it may carry that task's result. Marked events
//! hold the real content; serialising or formatting them shows it redacted (see
//! [`SessionEvent`]), and error messages from them are kept out of logs.

use super::command::{RunReply, Shared};
use super::events::{RunEvent, SessionEvent};
use super::frame::ActivityState;
use super::lock;
use super::run_result::RunResult;
use crate::error::Error;
use crate::llm::{FunctionCallOutput, Role};
use std::any::Any;
use std::sync::Arc;

/// Collects the events of the turn in progress.
struct RunCollector {
    result: RunResult,
    error: Option<Error>,
    reply: Option<RunReply>,
}

/// Owns the session's events: subscribers, the turn in progress, sensitivity.
pub(crate) struct Recorder {
    shared: Arc<Shared>,
    run: Option<RunCollector>,
}

impl Recorder {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Recorder { shared, run: None }
    }

    /// Whether what `from` produces is marked sensitive.
    pub(crate) fn is_sensitive(from: &ActivityState) -> bool {
        from.sensitive
    }

    /// Whether a task started from `parent` is sensitive: when it says so (`own`) or runs
    /// inside a sensitive activity.
    pub(crate) fn task_is_sensitive(parent: &ActivityState, own: bool) -> bool {
        parent.sensitive || own
    }

    /// Notes that `task` ended under `parent`, and returns whether its conversation may merge
    /// into the parent's: what a sensitive task heard stays with it, unless its parent is
    /// sensitive too. A parent that is not sensitive counts the sensitive tasks it ran, since
    /// what it produces next may carry their results.
    pub(crate) fn task_ended(parent: &mut ActivityState, task: &ActivityState) -> bool {
        if task.sensitive && !parent.sensitive {
            parent.sensitive_results += 1;
        }
        !task.sensitive || parent.sensitive
    }

    /// Whether what the agent of `from` heard follows a handoff to an agent that is
    /// (`to_sensitive`) or is not sensitive: not from a sensitive agent to one that is not.
    pub(crate) fn history_follows_handoff(from: &ActivityState, to_sensitive: bool) -> bool {
        !from.sensitive || to_sensitive
    }

    /// Streams an event that carries no conversation content.
    pub(crate) fn emit(&self, event: SessionEvent) {
        self.emit_with(|| event);
    }

    /// Streams an event to subscribers, building it only when there are any (most sessions in a
    /// server have none, and events clone their text).
    pub(crate) fn emit_with(&self, make: impl FnOnce() -> SessionEvent) {
        let mut subs = lock(&self.shared.subscribers);
        if subs.is_empty() {
            return;
        }
        let event = make();
        subs.retain(|s| s.send(event.clone()).is_ok());
    }

    /// Streams an event built with the sensitivity of `from`.
    pub(crate) fn emit_from(&self, from: &ActivityState, make: impl FnOnce(bool) -> SessionEvent) {
        let sensitive = Self::is_sensitive(from);
        self.emit_with(|| make(sensitive));
    }

    /// A user message arrived for `from`.
    pub(crate) fn user_message(&self, from: &ActivityState, content: &str) {
        self.emit_from(from, |sensitive| SessionEvent::Message {
            role: Role::User,
            content: content.to_string(),
            agent: from.id.to_string(),
            sensitive,
        });
    }

    /// Adds an event of `from` to the turn in progress and streams it.
    pub(crate) fn record(&mut self, event: RunEvent, from: &ActivityState) {
        self.record_as(event, from.id, Self::is_sensitive(from));
    }

    /// Records a tool output of `from`; `ran_sensitive_task` when the tool ran a sensitive task
    /// to completion (its output may hold the task's result).
    pub(crate) fn record_tool_output(
        &mut self,
        output: FunctionCallOutput,
        from: &ActivityState,
        ran_sensitive_task: bool,
    ) {
        let sensitive = Self::is_sensitive(from) || ran_sensitive_task;
        self.record_as(RunEvent::FunctionCallOutput(output), from.id, sensitive);
    }

    fn record_as(&mut self, event: RunEvent, agent: &str, sensitive: bool) {
        self.emit_with(|| SessionEvent::from_run_event(&event, agent, sensitive));
        if let Some(run) = self.run.as_mut() {
            run.result.events.push(event);
        }
    }

    /// Records that the task `from` completed with `value`; the result is marked when the task
    /// is sensitive or ran a sensitive task.
    pub(crate) fn task_completed(
        &mut self,
        from: &ActivityState,
        json: serde_json::Value,
        value: Box<dyn Any + Send>,
    ) {
        let sensitive = Self::is_sensitive(from) || from.sensitive_results > 0;
        self.emit_with(|| SessionEvent::TaskCompleted {
            name: from.id.to_string(),
            output: json,
            sensitive,
        });
        if let Some(run) = self.run.as_mut() {
            run.result.final_output = Some((from.id, value));
        }
    }

    /// Reports a failure of the turn in progress; the session goes on. Inside a sensitive
    /// activity the message may quote what was said, so it is marked and not logged.
    pub(crate) fn report_error(&mut self, error: Error, from: &ActivityState) {
        let sensitive = Self::is_sensitive(from);
        if sensitive {
            tracing::warn!("turn failed inside a sensitive activity (message withheld)");
        } else {
            tracing::warn!(%error, "turn failed");
        }
        self.emit(SessionEvent::Error {
            content: error.to_string(),
            sensitive,
        });
        if let Some(run) = self.run.as_mut() {
            run.error.get_or_insert(error);
        }
    }

    /// Starts a turn (finishing the one in progress); its result goes to `reply`.
    pub(crate) fn begin_run(&mut self, reply: Option<RunReply>) {
        self.finish_run();
        self.run = Some(RunCollector {
            result: RunResult::default(),
            error: None,
            reply,
        });
    }

    /// Delivers the turn in progress, if any.
    pub(crate) fn finish_run(&mut self) {
        if let Some(run) = self.run.take() {
            if let Some(reply) = run.reply {
                let _ = reply.send(match run.error {
                    Some(e) => Err(e),
                    None => Ok(run.result),
                });
            }
        }
    }
}
