//! `AgentSession`: one conversation, driven by a background loop that owns the agents.
//!
//! The handle sends commands (user text, reply requests, DTMF, close) to the loop and waits for the
//! turn they start to finish; events stream to subscribers as they happen.
//!
//! The loop, one concern per module: `command` (the protocol between handle and loop),
//! `session_core` (what the loop owns), `frame` (one activity's frame and how it ended), `turn` (the
//! turn and reply loop), `reply` (streaming speech), `tool_call` (tool execution), `hooks`,
//! `task_runner` (tasks run inline), `driver` (agents and handoffs), `recorder` (events and
//! their sensitivity), `erased` (the type-erased activities it runs).

mod builder;
pub(crate) mod command;
pub(crate) mod driver;
pub(crate) mod erased;
pub mod events;
pub(crate) mod frame;
pub(crate) mod hooks;
pub(crate) mod recorder;
pub(crate) mod reply;
pub mod run_result;
pub(crate) mod session_core;
pub(crate) mod task_runner;
pub(crate) mod tool_call;
pub(crate) mod turn;

pub use builder::SessionBuilder;
pub use events::{RunEvent, SessionEvent, REDACTED};
pub use run_result::RunResult;

use crate::agent::Agent;
use crate::error::{Error, Result};
use crate::llm::Llm;
use crate::tools::{IntoToolOutput, ToolOutput};
use command::{clone_userdata, Command, MockFn, Shared, TurnCommand};
use erased::BoxedAgent;
use session_core::SessionCore;
use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How the user's input reached the session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputModality {
    /// Typed text (chat, console).
    #[default]
    Text,
    /// A speech transcript: may hold recognition errors, so values are read back for
    /// confirmation by default.
    Audio,
}

/// Limits and defaults of a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Most LLM↔tool round trips in one reply; after that the LLM must answer without tools.
    pub max_tool_steps: usize,
    /// How long `close` waits for hooks to finish before it aborts the loop.
    pub close_timeout: Duration,
    /// Longest user input kept, in characters; longer input is cut (default 20,000).
    pub max_input_chars: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            max_tool_steps: 5,
            close_timeout: Duration::from_secs(10),
            max_input_chars: 20_000,
        }
    }
}

/// One conversation with a user. Cheap to share behind an `Arc`; every method takes `&self`.
///
/// ```no_run
/// # use agents_core::prelude::*;
/// # async fn demo(llm: impl Llm, agent: impl Agent) -> agents_core::Result<()> {
/// let session = AgentSession::builder(llm).max_tool_steps(3).build();
/// session.start(agent).await?;
/// let turn = session.run("Hello").await?;
/// println!("{}", turn.assistant_text());
/// session.close().await;
/// # Ok(()) }
/// ```
pub struct AgentSession {
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    core: Mutex<Option<SessionCore>>,
    started: AtomicBool,
    join: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl AgentSession {
    /// A builder for a session using `llm`; its `build()` cannot fail.
    pub fn builder(llm: impl Llm) -> SessionBuilder {
        SessionBuilder::new(Arc::new(llm))
    }

    /// [`builder`](Self::builder) for an LLM already shared (one `Arc` for many sessions).
    pub fn builder_shared(llm: Arc<dyn Llm>) -> SessionBuilder {
        SessionBuilder::new(llm)
    }

    /// A session with `llm` and default options.
    pub fn new(llm: impl Llm) -> Self {
        Self::builder(llm).build()
    }

    /// A session from its parts; the builders end here.
    fn from_parts(
        llm: Arc<dyn Llm>,
        options: SessionOptions,
        userdata: Option<(Box<dyn Any + Send>, &'static str)>,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::new(options.close_timeout));
        let core = SessionCore::new(llm, options, rx, shared.clone(), userdata);
        AgentSession {
            commands: tx,
            shared,
            core: Mutex::new(Some(core)),
            started: AtomicBool::new(false),
            join: Mutex::new(None),
        }
    }

    /// Starts the session with `agent` and returns what its `on_enter` did (including any task
    /// it started), once the agent waits for the user. No delay is needed before the first
    /// [`run`](Self::run).
    pub async fn start<A: Agent>(&self, agent: A) -> Result<RunResult> {
        let core = lock(&self.core).take().ok_or_else(|| {
            Error::Usage("this session was already started; start() may be called once".into())
        })?;
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(driver::session_main(
            Box::new(core),
            BoxedAgent::new(agent),
            tx,
        ));
        *lock(&self.join) = Some(handle);
        self.started.store(true, Ordering::SeqCst);
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Sends one user turn and returns its events once the agent has finished responding
    /// (a task started in the turn may still be waiting for the user).
    pub async fn run(&self, user_input: impl Into<String>) -> Result<RunResult> {
        self.run_as(user_input, InputModality::Text).await
    }

    /// Like [`run`](Self::run), for input that came in another way (e.g. a speech
    /// transcript), which tasks may treat differently (voice input is confirmed by default).
    pub async fn run_as(
        &self,
        user_input: impl Into<String>,
        modality: InputModality,
    ) -> Result<RunResult> {
        let text = user_input.into();
        self.send(|reply| TurnCommand::UserInput {
            text,
            modality,
            reply,
        })
        .await
    }

    /// Asks the agent in control to say something, following `instructions`.
    pub async fn generate_reply(&self, instructions: impl Into<String>) -> Result<RunResult> {
        let instructions = instructions.into();
        self.send(|reply| TurnCommand::GenerateReply {
            instructions,
            reply,
        })
        .await
    }

    /// Says `text` as the agent, without the LLM.
    pub async fn say(&self, text: impl Into<String>) -> Result<RunResult> {
        let text = text.into();
        self.send(|reply| TurnCommand::Say { text, reply }).await
    }

    /// Sends keypad digits (`0-9`, `*`, `#`, `A-D`) from the user.
    pub async fn send_dtmf(&self, digits: impl Into<String>) -> Result<RunResult> {
        let digits = digits.into();
        self.send(|reply| TurnCommand::Dtmf { digits, reply }).await
    }

    /// Cuts the latest reply to what the user actually heard, after the reply was interrupted
    /// (see [`interrupt`](Self::interrupt)) while it was being played.
    ///
    /// `heard` is the start of the reply's text as played (e.g. by text-to-speech). The reply
    /// is the latest assistant message after the latest user message in the conversation of
    /// the agent or task in control (a task awaited from a tool, when one runs). An empty
    /// `heard` removes it, since nothing of it reached the user; otherwise its content becomes
    /// `heard` and it is marked interrupted. A [`SessionEvent::ReplyTruncated`] is emitted.
    /// Without such a message nothing changes. The change applies once the turn in progress,
    /// if any, has finished (call [`interrupt`](Self::interrupt) first to end it early).
    pub async fn truncate_reply(&self, heard: impl Into<String>) -> Result<()> {
        if !self.started.load(Ordering::SeqCst) {
            return Err(Error::Usage(
                "the session is not started: call session.start(agent) first".into(),
            ));
        }
        let heard = heard.into();
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Turn(TurnCommand::TruncateReply {
                heard,
                reply: tx,
            }))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Receives every event of the session from now on.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<SessionEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.shared.subscribers).push(tx);
        rx
    }

    /// A clone of the session's userdata, if it is a `T`. Works after `close` too.
    pub async fn userdata<T: Any + Send + Clone>(&self) -> Result<T> {
        if self.started.load(Ordering::SeqCst) {
            let (tx, rx) = oneshot::channel();
            let f = Box::new(
                move |data: Option<&mut (dyn Any + Send)>, held: &'static str| {
                    let _ = tx.send(clone_userdata::<T>(data, held));
                },
            );
            if self.commands.send(Command::WithUserdata(f)).is_ok() {
                if let Ok(result) = rx.await {
                    return result;
                }
            }
        } else if let Some(core) = lock(&self.core).as_mut() {
            return core.userdata_mut::<T>().map(|v| v.clone());
        }
        let mut last = lock(&self.shared.final_userdata);
        match last.as_mut() {
            Some((data, held)) => clone_userdata::<T>(Some(data.as_mut()), held),
            None => clone_userdata::<T>(None, ""),
        }
    }

    /// Replaces the body of every tool named `name` (of any agent or task) for this session.
    /// The closure gets the call's arguments as JSON.
    pub fn mock_tool<F, O>(&self, name: &str, f: F)
    where
        F: Fn(serde_json::Value) -> O + Send + Sync + 'static,
        O: IntoToolOutput,
    {
        self.mock(None, name, f)
    }

    /// Replaces the body of tool `name` of the agent or task `A` only.
    pub fn mock_tool_of<A: crate::agent::ActivityInfo, F, O>(&self, name: &str, f: F)
    where
        F: Fn(serde_json::Value) -> O + Send + Sync + 'static,
        O: IntoToolOutput,
    {
        self.mock(Some(A::ID), name, f)
    }

    fn mock<F, O>(&self, agent: Option<&'static str>, name: &str, f: F)
    where
        F: Fn(serde_json::Value) -> O + Send + Sync + 'static,
        O: IntoToolOutput,
    {
        let f: MockFn = Arc::new(move |args| -> ToolOutput { f(args).into_tool_output() });
        lock(&self.shared.mocks).insert((agent, name.to_string()), f);
    }

    /// Removes all tool mocks.
    pub fn clear_mocks(&self) {
        lock(&self.shared.mocks).clear();
    }

    /// Closes the session: running tasks are cancelled innermost first, `on_exit` hooks run, and
    /// the loop ends. Waits at most `close_timeout`, then aborts the loop.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        let _ = self.commands.send(Command::Close { reply: tx });
        // A reply in progress would delay the close until the LLM finishes; stop it. A running
        // tool gets a short grace period, then is dropped so the hooks still run.
        self.interrupt();
        self.shared
            .closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shared.close_requested.notify_waiters();
        let handle = lock(&self.join).take();
        if let Some(mut handle) = handle {
            let timeout = self.shared.close_timeout();
            if tokio::time::timeout(timeout, &mut handle).await.is_err() {
                tracing::warn!("session loop did not stop within {timeout:?}; aborting it");
                handle.abort();
                let _ = handle.await;
            }
        }
        drop(rx);
    }

    /// Stops the reply being streamed now, if any: its text so far stays in the conversation
    /// marked as interrupted, and its tool calls do not run. The session goes on.
    pub fn interrupt(&self) {
        self.shared
            .interrupts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.shared.interrupt.notify_waiters();
    }

    /// Whether the session loop has ended.
    pub fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }

    async fn send(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<RunResult>>) -> TurnCommand,
    ) -> Result<RunResult> {
        if !self.started.load(Ordering::SeqCst) {
            return Err(Error::Usage(
                "the session is not started: call session.start(agent) first".into(),
            ));
        }
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Turn(make(tx)))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }
}

impl Drop for AgentSession {
    fn drop(&mut self) {
        // The loop sees the command channel close and unwinds on its own.
        let _ = self.commands.send(Command::Close {
            reply: oneshot::channel().0,
        });
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
