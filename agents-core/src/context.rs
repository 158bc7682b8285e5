//! The handle agent and task code gets in `on_enter`, `on_exit` and tool bodies.
//!
//! Only these places receive a [`Context`], and only a `Context` can run a task, so a task
//! awaited anywhere else does not compile. A task's context is typed by the task's result, so
//! completing it with a value of another type does not compile either.

use crate::agent::{ActivityInfo, AgentTask, NoResult};
use crate::error::{Error, Result};
use crate::llm::{ChatContext, CopyOptions, FunctionCall};
use crate::session::frame::{ActivityState, Frame, Outcome};
use crate::session::reply;
use crate::session::session_core::SessionCore;
use crate::session::task_runner;
use futures::future::BoxFuture;
use std::any::Any;
use std::future::IntoFuture;

/// What agent and task code can do while it is in control of the session.
///
/// `R` is the result type of the task the code belongs to ([`NoResult`] for plain agents). Name
/// it with [`Ctx<'_, Self>`](Ctx), which works in agents and tasks alike.
pub struct Context<'a, R> {
    pub(crate) core: &'a mut SessionCore,
    pub(crate) frame: &'a mut Frame<R>,
    pub(crate) call: Option<&'a FunctionCall>,
}

/// The context of the agent or task `A`, typed by `A`'s result: write `ctx: &mut Ctx<'_, Self>`
/// in the hooks and tools of agents and tasks alike.
pub type Ctx<'a, A> = Context<'a, <A as ActivityInfo>::Result>;

/// The context of a plain agent's hooks and tools: the long form of `Ctx<'_, Self>` in an agent.
pub type AgentContext<'a> = Context<'a, NoResult>;

/// The context of a task's hooks and tools, `R` being the task's result type: the long form
/// of `Ctx<'_, Self>` in a task.
pub type TaskContext<'a, R> = Context<'a, R>;

impl<'a, R: Send + 'static> Context<'a, R> {
    pub(crate) fn new(
        core: &'a mut SessionCore,
        frame: &'a mut Frame<R>,
        call: Option<&'a FunctionCall>,
    ) -> Self {
        Context { core, frame, call }
    }

    /// The conversation of the agent or task in control, instructions first.
    pub fn chat_ctx(&self) -> &ChatContext {
        &self.frame.state.chat_ctx
    }

    /// Mutable access to the conversation, e.g. to add or remove items.
    pub fn chat_ctx_mut(&mut self) -> &mut ChatContext {
        &mut self.frame.state.chat_ctx
    }

    /// Id of the agent or task in control.
    pub fn agent_id(&self) -> &'static str {
        self.frame.state.id
    }

    /// The session's LLM, for work beside the conversation (an evaluation, a classification).
    pub fn llm(&self) -> std::sync::Arc<dyn crate::llm::Llm> {
        self.core.llm.clone()
    }

    /// How the latest user input arrived (text or a speech transcript).
    pub fn input_modality(&self) -> crate::session::InputModality {
        self.core.input_modality
    }

    /// The tool call being handled, when called from a tool body.
    pub fn function_call(&self) -> Option<&FunctionCall> {
        self.call
    }

    /// The session's userdata, if it is a `T`.
    ///
    /// Fails with an error naming the requested and the held type when the session has no
    /// userdata or holds another type.
    pub fn userdata<T: Any + Send>(&mut self) -> Result<&mut T> {
        self.core.userdata_mut::<T>()
    }

    /// Has the LLM say something now, following `instructions`, and waits until it is said.
    ///
    /// From a hook (`on_enter`, `on_exit`, `on_dtmf`, `on_timer`) the LLM is offered the
    /// activity's tools, as in any turn: a task can record at once what the user already said.
    /// The tools it calls run when the hook returns (the hook holds the activity), and the
    /// reply goes on from there; so awaiting this never waits for a tool, and cannot deadlock
    /// on a task a tool awaits. From a tool body the reply is speech only: the LLM's reply to
    /// the tool's output follows anyway, with the tools offered.
    pub async fn generate_reply(&mut self, instructions: impl Into<String>) -> Result<()> {
        let offer_tools =
            self.call.is_none() && self.frame.outcome.is_pending() && !self.core.is_stopping();
        reply::speak(
            self.core,
            &mut self.frame.state,
            Some(instructions.into()),
            offer_tools,
        )
        .await
    }

    /// Says `text` as is (no LLM) and adds it to the conversation.
    pub async fn say(&mut self, text: impl Into<String>) -> Result<()> {
        reply::say(self.core, &mut self.frame.state, text.into());
        Ok(())
    }

    /// Runs the activity's `on_timer` hook once the activity has waited `after` for input.
    /// Setting it again restarts it, and so does every turn: the timer cannot fire while the
    /// agent answers or the user's input is handled, so it measures silence (e.g. a keypad
    /// inter-digit timeout).
    pub fn set_timer(&mut self, after: std::time::Duration) {
        self.frame.state.timer = Some(after);
    }

    /// Cancels the timer set with [`set_timer`](Self::set_timer).
    pub fn cancel_timer(&mut self) {
        self.frame.state.timer = None;
    }

    /// Asks the session to close once the current turn is done. Safe from any hook or tool,
    /// including a task group's callbacks: it takes effect when the running work has stopped.
    pub fn shutdown(&mut self) {
        self.core.shutdown_requested = true;
    }

    /// Runs `task` until it completes and yields its result. The task takes over the
    /// conversation: the following user turns go to it.
    ///
    /// By default the task starts with an empty conversation; see [`TaskRun::with_history`] and
    /// [`TaskRun::with_chat_ctx`]. When it ends, its conversation merges into this one.
    pub fn run_task<T: AgentTask>(&mut self, task: T) -> TaskRun<'_, T> {
        TaskRun {
            core: self.core,
            parent: &mut self.frame.state,
            task,
            chat_ctx: None,
            preserve_function_calls: false,
        }
    }
}

impl<R: Send + 'static> Context<'_, R> {
    /// Completes the task with `value`; the code awaiting the task resumes with it.
    ///
    /// The task stops after the current tool call. Completing again is a mistake: the first
    /// value stands and the tool call is reported to the LLM as failed.
    pub fn complete(&mut self, value: R) {
        let id = self.frame.state.id;
        self.frame.outcome.settle(Outcome::Done(value), id);
    }

    /// Ends the task with an error; the code awaiting the task gets `Err(error)`.
    pub fn fail(&mut self, error: impl Into<Error>) {
        let id = self.frame.state.id;
        self.frame.outcome.settle(Outcome::Failed(error.into()), id);
    }

    /// Whether `complete` or `fail` was called.
    pub fn is_done(&self) -> bool {
        !self.frame.outcome.is_pending()
    }
}

/// A task about to run; `.await` it to run it and get its result.
#[must_use = "a task runs only when awaited"]
pub struct TaskRun<'c, T: AgentTask> {
    pub(crate) core: &'c mut SessionCore,
    pub(crate) parent: &'c mut ActivityState,
    pub(crate) task: T,
    pub(crate) chat_ctx: Option<ChatContext>,
    pub(crate) preserve_function_calls: bool,
}

impl<T: AgentTask> TaskRun<'_, T> {
    /// Starts the task with `chat_ctx` as its history.
    pub fn with_chat_ctx(mut self, chat_ctx: ChatContext) -> Self {
        self.chat_ctx = Some(chat_ctx);
        self
    }

    /// Starts the task with a copy of the current conversation, filtered by `options`
    /// (typically `CopyOptions::all().exclude_instructions()`).
    pub fn with_history(mut self, options: CopyOptions) -> Self {
        self.chat_ctx = Some(self.parent.chat_ctx.copy(&options));
        self
    }

    /// Keeps the task's function calls when its conversation merges back (dropped by default).
    pub fn preserve_function_calls(mut self) -> Self {
        self.preserve_function_calls = true;
        self
    }
}

impl<'c, T: AgentTask> IntoFuture for TaskRun<'c, T> {
    type Output = Result<T::Result>;
    type IntoFuture = BoxFuture<'c, Result<T::Result>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(task_runner::run_task(self))
    }
}
