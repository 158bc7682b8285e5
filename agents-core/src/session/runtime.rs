//! The session loop: a stack of activities (the agent, the tasks it awaits) run as nested async
//! calls on one tokio task.
//!
//! A task awaited from a tool body runs *inside* that tool's future: it reads the following user
//! commands itself until it completes, then returns its result to the tool. The call stack is the
//! activity stack, so the parent's state stays borrowed by its pending tool without locks, tasks
//! from several tool calls of one reply run one after another, and closing unwinds innermost
//! first. Whenever an activity waits for the next command, the turn in progress is finished and
//! its `RunResult` delivered: that is why `run()` returns while a task waits for the user.

use super::events::{RunEvent, SessionEvent};
use super::run_result::RunResult;
use super::{lock, InputModality, SessionOptions};
use crate::agent::{AgentTask, BoxedAgent, DynActivity, NoResult};
use crate::context::{Context, TaskRun};
use crate::error::{Error, Result};
use crate::llm::{
    AgentHandoff, ChatChunk, ChatContext, ChatMessage, ChatRequest, CopyOptions, FunctionCall,
    FunctionCallOutput, Llm, Role, ToolCallRequest, ToolChoice,
};
use crate::tools::{Handoff, ToolDefinition, ToolOutput};
use futures::{FutureExt, StreamExt};
use std::any::Any;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

pub(crate) type MockFn = Arc<dyn Fn(serde_json::Value) -> ToolOutput + Send + Sync>;
type RunReply = oneshot::Sender<Result<RunResult>>;
type UserdataFn = Box<dyn FnOnce(Option<&mut (dyn Any + Send)>, &'static str) + Send>;

/// Requests from the session handle to the loop.
pub(crate) enum Command {
    UserInput {
        text: String,
        modality: InputModality,
        reply: RunReply,
    },
    GenerateReply {
        instructions: String,
        reply: RunReply,
    },
    Say {
        text: String,
        reply: RunReply,
    },
    Dtmf {
        digits: String,
        reply: RunReply,
    },
    WithUserdata(UserdataFn),
    Close {
        reply: oneshot::Sender<()>,
    },
}

/// State shared between the handle and the loop.
pub(crate) struct Shared {
    pub(crate) subscribers: Mutex<Vec<mpsc::UnboundedSender<SessionEvent>>>,
    pub(crate) mocks: Mutex<HashMap<(Option<&'static str>, String), MockFn>>,
    pub(crate) final_userdata: Mutex<Option<(Box<dyn Any + Send>, &'static str)>>,
    close_timeout: std::time::Duration,
    /// Bumped by `interrupt()`; a reply streaming when it changes stops.
    pub(crate) interrupts: std::sync::atomic::AtomicU64,
    pub(crate) interrupt: tokio::sync::Notify,
    /// Set by `close()`, so running tools can be given a deadline.
    pub(crate) closing: std::sync::atomic::AtomicBool,
    pub(crate) close_requested: tokio::sync::Notify,
}

impl Shared {
    pub(crate) fn new(close_timeout: std::time::Duration) -> Self {
        Shared {
            subscribers: Mutex::default(),
            mocks: Mutex::default(),
            final_userdata: Mutex::default(),
            close_timeout,
            interrupts: Default::default(),
            interrupt: Default::default(),
            closing: Default::default(),
            close_requested: Default::default(),
        }
    }

    pub(crate) fn close_timeout(&self) -> std::time::Duration {
        self.close_timeout
    }
}

/// Collects the events of the turn in progress.
struct RunCollector {
    result: RunResult,
    error: Option<Error>,
    reply: Option<RunReply>,
}

/// Handles a call to an [`ExtraTool`]; `Err` ends the activity with that error.
pub(crate) type ExtraToolHandler =
    Arc<dyn Fn(&FunctionCall) -> std::result::Result<ToolOutput, Error> + Send + Sync>;

/// A tool that is not part of the activity's own table (e.g. a task group's `out_of_scope`).
pub(crate) struct ExtraTool {
    pub(crate) definition: Arc<ToolDefinition>,
    pub(crate) handler: ExtraToolHandler,
}

/// The per-activity state the loop keeps beside the user's agent or task value.
pub(crate) struct ActivityState {
    pub(crate) id: &'static str,
    pub(crate) type_name: &'static str,
    pub(crate) chat_ctx: ChatContext,
    pub(crate) tools: Vec<Arc<ToolDefinition>>,
    pub(crate) extra_tools: Vec<ExtraTool>,
    pub(crate) in_on_enter: bool,
    /// When set, the activity's `on_timer` runs once it has waited this long for input. The wait
    /// restarts whenever a turn runs, so the timeout counts silence, not speech.
    pub(crate) timer: Option<std::time::Duration>,
    /// The activity, or one that runs it, is sensitive: its events are marked so.
    pub(crate) sensitive: bool,
    /// Sensitive tasks this (non-sensitive) activity ran to completion: their results may be
    /// in what it produces next (a tool output, a task group's result), which is marked too.
    pub(crate) sensitive_results: u32,
}

impl ActivityState {
    pub(crate) fn new(
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
            chat_ctx,
            tools,
            extra_tools: Vec::new(),
            in_on_enter: false,
            timer: None,
            sensitive: false,
            sensitive_results: 0,
        }
    }

    /// The tools offered to the LLM now.
    fn offered_tools(&self) -> Vec<Arc<ToolDefinition>> {
        self.tools
            .iter()
            .chain(self.extra_tools.iter().map(|t| &t.definition))
            .filter(|t| !(self.in_on_enter && t.ignore_on_enter))
            .cloned()
            .collect()
    }
}

/// Everything the loop owns besides the activities.
pub(crate) struct SessionCore {
    llm: Arc<dyn Llm>,
    options: SessionOptions,
    commands: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
    userdata: Option<Box<dyn Any + Send>>,
    userdata_type: &'static str,
    run: Option<RunCollector>,
    pub(crate) closing: bool,
    pub(crate) shutdown_requested: bool,
    pub(crate) input_modality: InputModality,
    close_replies: Vec<oneshot::Sender<()>>,
}

impl SessionCore {
    pub(crate) fn new(
        llm: Arc<dyn Llm>,
        options: SessionOptions,
        commands: mpsc::UnboundedReceiver<Command>,
        shared: Arc<Shared>,
        userdata: Option<(Box<dyn Any + Send>, &'static str)>,
    ) -> Self {
        let (userdata, userdata_type) = match userdata {
            Some((d, t)) => (Some(d), t),
            None => (None, ""),
        };
        SessionCore {
            llm,
            options,
            commands,
            shared,
            userdata,
            userdata_type,
            run: None,
            closing: false,
            shutdown_requested: false,
            input_modality: InputModality::Text,
            close_replies: Vec::new(),
        }
    }

    /// The session's LLM.
    pub(crate) fn llm(&self) -> &Arc<dyn Llm> {
        &self.llm
    }

    pub(crate) fn userdata_mut<T: Any + Send>(&mut self) -> Result<&mut T> {
        let held = self.userdata_type;
        match self.userdata.as_mut() {
            None => Err(Error::UserdataUnset {
                requested: std::any::type_name::<T>(),
            }),
            Some(data) => data.downcast_mut::<T>().ok_or(Error::UserdataType {
                requested: std::any::type_name::<T>(),
                held,
            }),
        }
    }

    fn emit(&self, event: SessionEvent) {
        self.emit_with(|| event);
    }

    /// Streams an event to subscribers, building it only when there are any (most sessions in a
    /// server have none, and events clone their text).
    fn emit_with(&self, make: impl FnOnce() -> SessionEvent) {
        let mut subs = lock(&self.shared.subscribers);
        if subs.is_empty() {
            return;
        }
        let event = make();
        subs.retain(|s| s.send(event.clone()).is_ok());
    }

    /// Adds an event to the turn in progress and streams it to subscribers.
    pub(crate) fn record(&mut self, event: RunEvent, state: &ActivityState) {
        self.record_as(event, state.id, state.sensitive);
    }

    /// [`record`](Self::record) with the sensitivity given.
    fn record_as(&mut self, event: RunEvent, agent: &str, sensitive: bool) {
        self.emit_with(|| SessionEvent::from_run_event(&event, agent, sensitive));
        if let Some(run) = self.run.as_mut() {
            run.result.events.push(event);
        }
    }

    /// Reports a failure of the turn in progress; the session goes on. Inside a sensitive
    /// activity the message may quote what was said, so it is marked and not logged.
    pub(crate) fn report_error(&mut self, error: Error, sensitive: bool) {
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

    fn begin_run(&mut self, reply: Option<RunReply>) {
        self.finish_run();
        self.run = Some(RunCollector {
            result: RunResult::default(),
            error: None,
            reply,
        });
    }

    fn finish_run(&mut self) {
        if let Some(run) = self.run.take() {
            if let Some(reply) = run.reply {
                let _ = reply.send(match run.error {
                    Some(e) => Err(e),
                    None => Ok(run.result),
                });
            }
        }
    }

    /// Finishes the turn in progress and waits for the next command that starts a turn, or for
    /// the activity's timer. `None` means the session is closing.
    async fn next_command(&mut self, timer: Option<std::time::Duration>) -> Option<Next> {
        self.finish_run();
        let timer = timer.map(|after| tokio::time::Instant::now() + after);
        loop {
            if self.closing || self.shutdown_requested {
                self.closing = true;
                return None;
            }
            let received = match timer {
                Some(deadline) => tokio::select! {
                    cmd = self.commands.recv() => cmd,
                    _ = tokio::time::sleep_until(deadline) => return Some(Next::Timer),
                },
                None => self.commands.recv().await,
            };
            match received {
                None => {
                    self.closing = true;
                    return None;
                }
                Some(Command::WithUserdata(f)) => {
                    let held = self.userdata_type;
                    f(self.userdata.as_deref_mut(), held)
                }
                Some(Command::Close { reply }) => {
                    self.close_replies.push(reply);
                    self.closing = true;
                    return None;
                }
                Some(cmd) => return Some(Next::Command(cmd)),
            }
        }
    }

    fn record_final_output(&mut self, task: &'static str, value: Box<dyn Any + Send>) {
        if let Some(run) = self.run.as_mut() {
            run.result.final_output = Some((task, value));
        }
    }
}

pub(crate) fn clone_userdata<T: Any + Clone>(
    data: Option<&mut (dyn Any + Send)>,
    held: &'static str,
) -> Result<T> {
    match data {
        None => Err(Error::UserdataUnset {
            requested: std::any::type_name::<T>(),
        }),
        Some(d) => (d as &mut dyn Any)
            .downcast_ref::<T>()
            .cloned()
            .ok_or(Error::UserdataType {
                requested: std::any::type_name::<T>(),
                held,
            }),
    }
}

/// What woke an idle activity.
enum Next {
    Command(Command),
    Timer,
}

/// Why an activity's command loop ended.
enum LoopExit {
    Completed,
    Closed,
    Handoff(Handoff),
}

/// The whole session: the current agent, its handoffs, and the final cleanup.
pub(crate) async fn session_main(
    mut core: SessionCore,
    agent: BoxedAgent,
    started: oneshot::Sender<Result<RunResult>>,
) {
    core.begin_run(Some(started));
    let mut agent = agent.0;
    let mut old_id: Option<String> = None;
    let mut history = ChatContext::new();
    loop {
        let mut state = ActivityState::new(
            agent.id(),
            agent.type_name(),
            agent.instructions(),
            agent.tools(),
            history,
        );
        state.sensitive = agent.is_sensitive();
        record_handoff(&mut core, &mut state, old_id.take());
        let mut slot: Option<Result<NoResult>> = None;
        run_hook(&mut core, &mut state, &mut *agent, &mut slot, Hook::Enter).await;
        let exit = activity_loop(&mut core, &mut state, &mut *agent, &mut slot, true).await;
        run_hook(&mut core, &mut state, &mut *agent, &mut slot, Hook::Exit).await;
        match exit {
            LoopExit::Handoff(next) => {
                old_id = Some(agent.id().to_string());
                // What a sensitive agent heard does not follow it to one that is not.
                history = if state.sensitive && !next.agent.0.is_sensitive() {
                    ChatContext::new()
                } else {
                    state
                        .chat_ctx
                        .copy(&CopyOptions::all().exclude_instructions())
                };
                agent = next.agent.0;
            }
            LoopExit::Completed | LoopExit::Closed => break,
        }
    }
    core.emit(SessionEvent::Closed);
    core.finish_run();
    if let Some(data) = core.userdata.take() {
        *lock(&core.shared.final_userdata) = Some((data, core.userdata_type));
    }
    for reply in core.close_replies.drain(..) {
        let _ = reply.send(());
    }
    // Answer commands that arrived after the close with `Closed`.
    core.commands.close();
    while let Ok(cmd) = core.commands.try_recv() {
        drop(cmd);
    }
}

fn record_handoff(core: &mut SessionCore, state: &mut ActivityState, old: Option<String>) {
    let item = AgentHandoff::new(old, state.id);
    state.chat_ctx.push(item.clone());
    core.record(
        RunEvent::AgentHandoff {
            item,
            new_agent_type: state.type_name,
        },
        state,
    );
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hook<'h> {
    Enter,
    Exit,
    Dtmf(&'h str),
    Timer,
}

impl Hook<'_> {
    fn name(&self) -> &'static str {
        match self {
            Hook::Enter => "on_enter",
            Hook::Exit => "on_exit",
            Hook::Dtmf(_) => "on_dtmf",
            Hook::Timer => "on_timer",
        }
    }
}

async fn run_hook<R: Send + 'static>(
    core: &mut SessionCore,
    state: &mut ActivityState,
    act: &mut dyn DynActivity<R>,
    slot: &mut Option<Result<R>>,
    hook: Hook<'_>,
) {
    state.in_on_enter = hook == Hook::Enter;
    let outcome = {
        let mut ctx = Context::new(core, state, slot, None);
        let fut = match hook {
            Hook::Enter => act.on_enter(&mut ctx),
            Hook::Exit => act.on_exit(&mut ctx),
            Hook::Dtmf(digits) => act.on_dtmf(&mut ctx, digits),
            Hook::Timer => act.on_timer(&mut ctx),
        };
        AssertUnwindSafe(fut).catch_unwind().await
    };
    state.in_on_enter = false;
    let name = hook.name();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            if matches!(e, Error::Closed | Error::Cancelled { .. })
                && (core.closing || core.shutdown_requested)
            {
                return;
            }
            // An error from a task's on_enter ends the task with it.
            if hook == Hook::Enter && slot.is_none() && !is_root_slot(slot) {
                *slot = Some(Err(e.clone()));
            }
            core.report_error(
                Error::Usage(format!("{name} of `{}` failed: {e}", state.id)),
                state.sensitive,
            );
        }
        Err(panic) => {
            let msg = panic_message(&panic);
            if !state.sensitive {
                tracing::error!(agent = state.id, "{name} panicked: {msg}");
            }
            core.report_error(
                Error::Usage(format!("{name} of `{}` panicked: {msg}", state.id)),
                state.sensitive,
            );
        }
    }
}

/// Agents (result type `NoResult`) are never "completed" by an error; tasks are.
fn is_root_slot<R: 'static>(_: &Option<Result<R>>) -> bool {
    std::any::TypeId::of::<R>() == std::any::TypeId::of::<NoResult>()
}

fn panic_message(panic: &Box<dyn Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Serves commands to one activity until it completes, hands off, or the session closes.
async fn activity_loop<R: Send + 'static>(
    core: &mut SessionCore,
    state: &mut ActivityState,
    act: &mut dyn DynActivity<R>,
    slot: &mut Option<Result<R>>,
    is_root: bool,
) -> LoopExit {
    loop {
        if slot.is_some() {
            return LoopExit::Completed;
        }
        let cmd = match core.next_command(state.timer).await {
            None => return LoopExit::Closed,
            Some(Next::Timer) => {
                state.timer = None;
                core.begin_run(None);
                run_hook(core, state, act, slot, Hook::Timer).await;
                continue;
            }
            Some(Next::Command(cmd)) => cmd,
        };
        let handoff = match cmd {
            Command::UserInput {
                text,
                modality,
                reply,
            } => {
                core.begin_run(Some(reply));
                core.input_modality = modality;
                let text = sanitize_input(&text, core.options.max_input_chars);
                let msg = ChatMessage::new(Role::User, text);
                state.chat_ctx.push(msg.clone());
                core.emit(SessionEvent::Message {
                    role: Role::User,
                    content: msg.content,
                    agent: state.id.to_string(),
                    sensitive: state.sensitive,
                });
                reply_loop(core, state, act, slot, None, is_root).await
            }
            Command::GenerateReply {
                instructions,
                reply,
            } => {
                core.begin_run(Some(reply));
                reply_loop(core, state, act, slot, Some(instructions), is_root).await
            }
            Command::Say { text, reply } => {
                core.begin_run(Some(reply));
                say(core, state, text);
                None
            }
            Command::Dtmf { digits, reply } => {
                core.begin_run(Some(reply));
                core.emit(SessionEvent::Dtmf {
                    digits: digits.clone(),
                    sensitive: state.sensitive,
                });
                run_hook(core, state, act, slot, Hook::Dtmf(&digits)).await;
                None
            }
            Command::WithUserdata(_) | Command::Close { .. } => None,
        };
        if let Some(h) = handoff {
            return LoopExit::Handoff(h);
        }
    }
}

/// Says `text` verbatim as the activity in control.
pub(crate) fn say(core: &mut SessionCore, state: &mut ActivityState, text: String) {
    core.emit_with(|| SessionEvent::TextDelta {
        content: text.clone(),
        sensitive: state.sensitive,
    });
    let msg = ChatMessage::new(Role::Assistant, text);
    state.chat_ctx.push(msg.clone());
    core.record(RunEvent::Message(msg), state);
}

fn build_request(
    state: &ActivityState,
    instructions: Option<&str>,
    tools: Vec<Arc<ToolDefinition>>,
    tool_choice: ToolChoice,
) -> ChatRequest {
    let mut chat_ctx = state.chat_ctx.clone();
    if let Some(text) = instructions {
        chat_ctx.push(ChatMessage::new(Role::System, text));
    }
    ChatRequest {
        chat_ctx,
        tools,
        tool_choice,
        ..Default::default()
    }
}

/// Streams one LLM reply; its text goes out as it arrives and into the conversation at the end.
async fn stream_reply(
    core: &mut SessionCore,
    state: &mut ActivityState,
    request: ChatRequest,
) -> Result<Vec<ToolCallRequest>> {
    let llm = core.llm.clone();
    let shared = core.shared.clone();
    let epoch = shared.interrupts.load(std::sync::atomic::Ordering::SeqCst);
    let interrupted = || shared.interrupts.load(std::sync::atomic::Ordering::SeqCst) != epoch;
    let mut stream = {
        let notified = shared.interrupt.notified();
        if interrupted() {
            return Ok(Vec::new());
        }
        tokio::select! {
            biased;
            _ = notified => return Ok(Vec::new()),
            stream = llm.chat(request) => stream?,
        }
    };
    let mut text = String::new();
    let mut calls = Vec::new();
    let mut failure = None;
    let mut cut = false;
    loop {
        let notified = shared.interrupt.notified();
        if interrupted() {
            cut = true;
            break;
        }
        let chunk = tokio::select! {
            biased;
            _ = notified => {
                cut = true;
                break;
            }
            chunk = stream.next() => chunk,
        };
        let Some(chunk) = chunk else { break };
        match chunk {
            Ok(ChatChunk::Text(delta)) => {
                if !delta.is_empty() {
                    text.push_str(&delta);
                    core.emit_with(|| SessionEvent::TextDelta {
                        content: delta,
                        sensitive: state.sensitive,
                    });
                }
            }
            Ok(ChatChunk::ToolCall(call)) => calls.push(call),
            Ok(ChatChunk::Usage(usage)) => {
                core.emit_with(|| SessionEvent::Usage {
                    prompt_tokens: usage.prompt_tokens,
                    completion_tokens: usage.completion_tokens,
                    time_to_first_token_ms: usage
                        .time_to_first_token
                        .map(|d| d.as_secs_f64() * 1000.0),
                });
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if cut {
        // An interrupted reply runs none of its tool calls.
        calls.clear();
    }
    drop(stream);
    if !text.trim().is_empty() {
        let mut msg = ChatMessage::new(Role::Assistant, text);
        msg.interrupted = failure.is_some() || cut;
        state.chat_ctx.push(msg.clone());
        core.record(RunEvent::Message(msg), state);
    }
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(calls),
    }
}

/// A speech-only reply (no tools offered), used from hooks and tool bodies.
pub(crate) async fn speak(
    core: &mut SessionCore,
    state: &mut ActivityState,
    instructions: Option<String>,
) -> Result<()> {
    if core.closing {
        return Err(Error::Closed);
    }
    let request = build_request(state, instructions.as_deref(), Vec::new(), ToolChoice::None);
    let calls = stream_reply(core, state, request).await?;
    if !calls.is_empty() {
        tracing::warn!(
            agent = state.id,
            "the LLM asked for tools in a speech-only reply; ignored"
        );
    }
    Ok(())
}

/// One reply: LLM, tools, LLM again with their outputs, until the LLM answers without tool
/// calls, a tool stops the reply, the task completes, or `max_tool_steps` is reached.
async fn reply_loop<R: Send + 'static>(
    core: &mut SessionCore,
    state: &mut ActivityState,
    act: &mut dyn DynActivity<R>,
    slot: &mut Option<Result<R>>,
    instructions: Option<String>,
    allow_handoff: bool,
) -> Option<Handoff> {
    let max_steps = core.options.max_tool_steps;
    for step in 0..=max_steps {
        let last = step == max_steps;
        // Tools may be switched on and off by the activity's state (`tool_enabled`).
        state.tools = act.tools();
        let (tools, choice) = if last {
            (Vec::new(), ToolChoice::None)
        } else {
            (state.offered_tools(), ToolChoice::Auto)
        };
        let request = build_request(state, instructions.as_deref(), tools, choice);
        let calls = match stream_reply(core, state, request).await {
            Ok(calls) => calls,
            Err(e) => {
                core.report_error(e, state.sensitive);
                return None;
            }
        };
        if calls.is_empty() {
            return None;
        }
        if last {
            core.report_error(
                Error::Usage(format!(
                    "the LLM kept calling tools after {max_steps} steps; the turn was stopped (raise max_tool_steps if the flow needs more)"
                )),
                state.sensitive,
            );
            return None;
        }
        let mut wants_reply = false;
        let mut handoff = None;
        // All calls of the reply go into the conversation first (as the LLM sent them in one
        // message), then each runs in order and its output follows.
        let calls: Vec<FunctionCall> = calls
            .into_iter()
            .map(|c| FunctionCall::new(c.call_id, c.name, c.arguments))
            .collect();
        for call in &calls {
            state.chat_ctx.push(call.clone());
            core.record(RunEvent::FunctionCall(call.clone()), state);
        }
        for call in calls {
            let sensitive_before = state.sensitive_results;
            let output = if slot.is_some() || handoff.is_some() {
                ToolOutput::Error("Not run: control has already moved on.".into())
            } else {
                execute_tool(core, state, act, slot, &call).await
            };
            let (text, is_error, reply) = match output {
                ToolOutput::Text(s) => (s, false, true),
                ToolOutput::Error(s) => (s, true, true),
                ToolOutput::Stop(s) => (s, false, false),
                ToolOutput::Handoff(h) if allow_handoff => {
                    let text = h.message.clone();
                    handoff = Some(h);
                    (text, false, false)
                }
                ToolOutput::Handoff(h) => (
                    format!(
                        "Cannot hand off to `{}` while the task `{}` runs; complete the task first.",
                        h.agent_id(),
                        state.id
                    ),
                    true,
                    true,
                ),
            };
            wants_reply |= reply;
            let out = FunctionCallOutput::new(&call, text, is_error);
            state.chat_ctx.push(out.clone());
            // A tool that ran a sensitive task may return its result.
            let sensitive = state.sensitive || state.sensitive_results > sensitive_before;
            core.record_as(RunEvent::FunctionCallOutput(out), state.id, sensitive);
        }
        if slot.is_some() || handoff.is_some() || !wants_reply || core.closing {
            return handoff;
        }
    }
    None
}

/// Runs one tool call. Every failure (unknown tool, bad arguments, tool error, panic) becomes an
/// error output for the LLM; nothing here ends the session.
async fn execute_tool<R: Send + 'static>(
    core: &mut SessionCore,
    state: &mut ActivityState,
    act: &mut dyn DynActivity<R>,
    slot: &mut Option<Result<R>>,
    call: &FunctionCall,
) -> ToolOutput {
    let mock = {
        let mocks = lock(&core.shared.mocks);
        if mocks.is_empty() {
            None
        } else {
            mocks
                .get(&(Some(state.id), call.name.clone()))
                .or_else(|| mocks.get(&(None, call.name.clone())))
                .cloned()
        }
    };
    if let Some(mock) = mock {
        let args = serde_json::from_str(&call.arguments).unwrap_or(serde_json::Value::Null);
        return mock(args);
    }
    if let Some(extra) = state
        .extra_tools
        .iter()
        .find(|t| t.definition.name == call.name)
    {
        let handler = extra.handler.clone();
        return match handler(call) {
            Ok(out) => out,
            Err(e) => {
                if slot.is_none() {
                    *slot = Some(Err(e));
                }
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
    let shared = core.shared.clone();
    let (outcome, twice) = {
        let mut ctx = Context::new(core, state, slot, Some(call));
        let fut = AssertUnwindSafe(act.call_tool(&mut ctx, call)).catch_unwind();
        let outcome = race_with_close(&shared, fut).await;
        (outcome, ctx.completed_twice)
    };
    let Some(outcome) = outcome else {
        core.closing = true;
        return ToolOutput::Error(format!(
            "Tool `{}` was cancelled: the session is closing.",
            call.name
        ));
    };
    match outcome {
        Ok(_) if twice => ToolOutput::Error(format!(
            "`{}` is already done: it was completed twice; the first result stands.",
            state.id
        )),
        Ok(out) => out,
        Err(panic) => {
            let msg = panic_message(&panic);
            tracing::error!(tool = %call.name, agent = state.id, "tool panicked: {msg}");
            ToolOutput::Error(format!(
                "An internal error occurred in tool `{}`; it did not finish.",
                call.name
            ))
        }
    }
}

/// How long a running tool may still take once the session is closing: at most a second, and
/// half the close timeout. A tool awaiting a task finishes well within it (the task unwinds on
/// the close); a slow tool is then dropped so the hooks still run before the close times out.
fn tool_close_grace(shared: &Shared) -> std::time::Duration {
    (shared.close_timeout() / 2).min(std::time::Duration::from_secs(1))
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

/// Runs a task inline: it takes over the conversation, serves user turns until it completes,
/// then merges its conversation into the parent's and yields its result.
pub(crate) async fn run_task<T: AgentTask>(run: TaskRun<'_, T>) -> Result<T::Result> {
    let TaskRun {
        core,
        parent,
        mut task,
        chat_ctx,
        preserve_function_calls,
    } = run;
    run_task_inline(
        core,
        parent,
        &mut task,
        chat_ctx.unwrap_or_default(),
        preserve_function_calls || T::PRESERVE_FUNCTION_CALLS,
        Vec::new(),
    )
    .await
}

/// The body of [`run_task`], also used by task groups (which add tools such as `out_of_scope`).
pub(crate) async fn run_task_inline<T: AgentTask>(
    core: &mut SessionCore,
    parent: &mut ActivityState,
    task: &mut T,
    history: ChatContext,
    preserve_function_calls: bool,
    extra_tools: Vec<ExtraTool>,
) -> Result<T::Result> {
    if core.closing {
        return Err(Error::Cancelled {
            task: T::ID.to_string(),
        });
    }
    let tools = task.tools();
    let own: Vec<String> = tools
        .iter()
        .map(|t| t.name.to_string())
        .chain(extra_tools.iter().map(|t| t.definition.name.to_string()))
        .collect();
    let history = history.copy(&CopyOptions::all().only_tools(own));
    let mut state = ActivityState::new(
        T::ID,
        std::any::type_name::<T>(),
        task.instructions(),
        tools,
        history,
    );
    state.extra_tools = extra_tools;
    state.sensitive = parent.sensitive || task.is_sensitive();
    record_handoff(core, &mut state, Some(parent.id.to_string()));
    let mut slot: Option<Result<T::Result>> = None;
    run_hook(core, &mut state, task, &mut slot, Hook::Enter).await;
    activity_loop(core, &mut state, task, &mut slot, false).await;
    run_hook(core, &mut state, task, &mut slot, Hook::Exit).await;

    if state.sensitive && !parent.sensitive {
        parent.sensitive_results += 1;
    }
    // What a sensitive task heard stays with it, unless its parent is sensitive too.
    if !state.sensitive || parent.sensitive {
        let mut merge = CopyOptions::all().exclude_instructions();
        merge.exclude_function_calls = !preserve_function_calls;
        parent.chat_ctx.merge(&state.chat_ctx, &merge);
    }

    match slot {
        Some(Ok(value)) => {
            let json = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
            core.emit(SessionEvent::TaskCompleted {
                name: T::ID.to_string(),
                output: json,
                sensitive: state.sensitive || state.sensitive_results > 0,
            });
            core.record_final_output(T::ID, Box::new(value.clone()));
            Ok(value)
        }
        Some(Err(e)) => Err(e),
        None => Err(Error::Cancelled {
            task: T::ID.to_string(),
        }),
    }
}

/// Makes user input safe to keep and send: control characters other than newline and tab are
/// dropped, and text beyond `max_chars` characters is cut (with a warning) so one huge input
/// cannot blow up every later request.
pub(crate) fn sanitize_input(text: &str, max_chars: usize) -> String {
    let mut kept = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t');
    let mut out: String = kept.by_ref().take(max_chars).collect();
    if kept.next().is_some() {
        tracing::warn!(
            max_chars,
            "user input was cut to the session's max_input_chars"
        );
        out.push_str(" [cut]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sanitize_input;

    #[test]
    fn input_is_cleaned_and_bounded() {
        assert_eq!(
            sanitize_input("a\u{0}b\u{1b}[31mc\nd\te", 100),
            "ab[31mc\nd\te"
        );
        assert_eq!(sanitize_input("héllo wörld", 5), "héllo [cut]");
        assert_eq!(sanitize_input("", 5), "");
    }
}
