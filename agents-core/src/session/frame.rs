//! One activity's frame: what the loop keeps beside the user's agent or task value while it
//! runs (its conversation, tools, timer, sensitivity) and how it ended.

use crate::error::Error;
use crate::llm::{ChatContext, ChatMessage, FunctionCall, Role};
use crate::tools::{ToolDefinition, ToolOutput};
use std::sync::Arc;
use std::time::Duration;

/// Whether an activity is the session's agent or a task it awaits; decided when its frame is
/// made. Agents may hand off and are never ended by an error; tasks complete or fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActivityKind {
    Agent,
    Task,
}

/// How a task's frame stands: the one place "done" is decided.
#[derive(Debug)]
pub(crate) enum Outcome<R> {
    /// Still running.
    Pending,
    /// Completed with a value.
    Done(R),
    /// Ended with an error.
    Failed(Error),
    /// The user asked to go back to these earlier steps of the task group running the task.
    Regressed(Vec<String>),
    /// Completed again during the current tool call; the first outcome (kept here) stands and
    /// the call is reported to the LLM as failed.
    CompletedTwice(Box<Outcome<R>>),
}

impl<R> Outcome<R> {
    /// Still running.
    pub(crate) fn is_pending(&self) -> bool {
        matches!(self, Outcome::Pending)
    }

    /// Ends the task with `next`, unless it has already ended.
    pub(crate) fn settle(&mut self, next: Outcome<R>, task: &str) {
        match self {
            Outcome::Pending => *self = next,
            Outcome::CompletedTwice(_) => {}
            _ => {
                tracing::error!(task, "task completed twice; the first result stands");
                let first = std::mem::replace(self, Outcome::Pending);
                *self = Outcome::CompletedTwice(Box::new(first));
            }
        }
    }

    /// Takes back the first outcome after a double completion; `true` if there was one.
    pub(crate) fn clear_completed_twice(&mut self) -> bool {
        match std::mem::replace(self, Outcome::Pending) {
            Outcome::CompletedTwice(first) => {
                *self = *first;
                true
            }
            other => {
                *self = other;
                false
            }
        }
    }
}

/// How an [`ExtraTool`] ends the task it is offered to.
pub(crate) enum EndTask {
    /// The task fails with this error.
    Fail(Error),
    /// The task ends so the task group can go back to these earlier steps.
    Regress(Vec<String>),
}

/// Handles a call to an [`ExtraTool`]: an output for the LLM, or the end of the task.
pub(crate) type ExtraToolHandler =
    Arc<dyn Fn(&FunctionCall) -> std::result::Result<ToolOutput, EndTask> + Send + Sync>;

/// A tool that is not part of the activity's own table (e.g. a task group's `out_of_scope`).
#[derive(Clone)]
pub(crate) struct ExtraTool {
    pub(crate) definition: Arc<ToolDefinition>,
    pub(crate) handler: ExtraToolHandler,
}

/// The hook an activity is running, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookKind {
    Enter,
    Exit,
    Dtmf,
    Timer,
}

impl HookKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            HookKind::Enter => "on_enter",
            HookKind::Exit => "on_exit",
            HookKind::Dtmf => "on_dtmf",
            HookKind::Timer => "on_timer",
        }
    }
}

/// Tool calls the LLM made in a reply generated from a hook. They run once the hook returns
/// (the hook holds the activity, which runs them), then the reply goes on as after any tool,
/// under the instructions of the reply that asked for them.
pub(crate) struct DeferredReply {
    pub(crate) calls: Vec<FunctionCall>,
    pub(crate) instructions: Option<String>,
}

/// The per-activity state the loop keeps beside the user's agent or task value.
pub(crate) struct ActivityState {
    pub(crate) id: &'static str,
    pub(crate) type_name: &'static str,
    pub(crate) kind: ActivityKind,
    pub(crate) chat_ctx: ChatContext,
    pub(crate) tools: Vec<Arc<ToolDefinition>>,
    pub(crate) extra_tools: Vec<ExtraTool>,
    /// The hook running now, if any.
    pub(crate) hook: Option<HookKind>,
    /// When set, the activity's `on_timer` runs once it has waited this long for input. The wait
    /// restarts whenever a turn runs, so the timeout counts silence, not speech.
    pub(crate) timer: Option<Duration>,
    /// The activity, or one that runs it, is sensitive: its events are marked so.
    pub(crate) sensitive: bool,
    /// Sensitive tasks this (non-sensitive) activity ran to completion: their results may be
    /// in what it produces next (a tool output, a task group's result), which is marked too.
    pub(crate) sensitive_results: u32,
    /// Tool calls of a hook's reply, run when the hook returns.
    pub(crate) deferred: Vec<DeferredReply>,
}

impl ActivityState {
    /// A frame whose conversation is the instructions followed by `history`.
    pub(crate) fn new(
        kind: ActivityKind,
        id: &'static str,
        type_name: &'static str,
        instructions: String,
        tools: Vec<Arc<ToolDefinition>>,
        history: ChatContext,
    ) -> Self {
        let mut chat_ctx = ChatContext::new();
        if !instructions.trim().is_empty() {
            let mut msg = ChatMessage::new(Role::System, instructions);
            msg.id = format!("{id}.instructions");
            chat_ctx.push(msg);
        }
        for item in history.items() {
            chat_ctx.push(item.clone());
        }
        ActivityState {
            id,
            type_name,
            kind,
            chat_ctx,
            tools,
            extra_tools: Vec::new(),
            hook: None,
            timer: None,
            sensitive: false,
            sensitive_results: 0,
            deferred: Vec::new(),
        }
    }

    /// The tools offered to the LLM now (`ignore_on_enter` ones are hidden in `on_enter`).
    pub(crate) fn offered_tools(&self) -> Vec<Arc<ToolDefinition>> {
        let in_on_enter = self.hook == Some(HookKind::Enter);
        self.tools
            .iter()
            .chain(self.extra_tools.iter().map(|t| &t.definition))
            .filter(|t| !(in_on_enter && t.ignore_on_enter))
            .cloned()
            .collect()
    }
}

/// One activity's frame: its state and how it ended.
pub(crate) struct Frame<R> {
    pub(crate) state: ActivityState,
    pub(crate) outcome: Outcome<R>,
}

impl<R> Frame<R> {
    pub(crate) fn new(state: ActivityState) -> Self {
        Frame {
            state,
            outcome: Outcome::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;
    use crate::error::Error;

    #[test]
    fn the_first_outcome_stands_and_a_second_is_reported_once() {
        let mut outcome: Outcome<u8> = Outcome::Pending;
        assert!(outcome.is_pending());
        outcome.settle(Outcome::Done(1), "t");
        assert!(matches!(outcome, Outcome::Done(1)));
        assert!(!outcome.clear_completed_twice());

        outcome.settle(Outcome::Failed(Error::Closed), "t");
        outcome.settle(Outcome::Done(3), "t");
        assert!(matches!(outcome, Outcome::CompletedTwice(_)));
        assert!(!outcome.is_pending());
        assert!(outcome.clear_completed_twice());
        assert!(matches!(outcome, Outcome::Done(1)));
    }

    #[test]
    fn a_regression_ends_a_pending_task() {
        let mut outcome: Outcome<u8> = Outcome::Pending;
        outcome.settle(Outcome::Regressed(vec!["name".into()]), "t");
        assert!(matches!(&outcome, Outcome::Regressed(ids) if ids == &["name"]));
    }
}
