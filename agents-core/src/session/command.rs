//! The command protocol between the session handle and its loop: what the handle asks for, the
//! state both sides share, and what wakes an idle activity.

use super::events::SessionEvent;
use super::run_result::RunResult;
use super::InputModality;
use crate::error::{Error, Result};
use crate::tools::ToolOutput;
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};

/// A tool body replaced by `mock_tool`.
pub(crate) type MockFn = Arc<dyn Fn(serde_json::Value) -> ToolOutput + Send + Sync>;
/// Where the result of the turn a command starts goes.
pub(crate) type RunReply = oneshot::Sender<Result<RunResult>>;
/// Code run by the loop with the session's userdata (and the name of its type).
pub(crate) type UserdataFn = Box<dyn FnOnce(Option<&mut (dyn Any + Send)>, &'static str) + Send>;

/// Requests from the session handle to the loop. The innermost activity (a task awaited from a
/// tool, when one runs) reads them whenever it waits for input.
pub(crate) enum Command {
    /// Something the activity in control acts on.
    Turn(TurnCommand),
    /// Run code with the userdata; starts no turn.
    WithUserdata(UserdataFn),
    /// Close the session.
    Close { reply: oneshot::Sender<()> },
}

/// The commands the activity in control acts on; the loop handles the others itself.
pub(crate) enum TurnCommand {
    /// A user turn.
    UserInput {
        text: String,
        modality: InputModality,
        reply: RunReply,
    },
    /// A reply following `instructions`.
    GenerateReply {
        instructions: String,
        reply: RunReply,
    },
    /// Text said as is.
    Say { text: String, reply: RunReply },
    /// Keypad digits.
    Dtmf { digits: String, reply: RunReply },
    /// Cut the reply in progress to what the user heard.
    TruncateReply {
        heard: String,
        reply: oneshot::Sender<Result<()>>,
    },
}

/// What woke an idle activity.
pub(crate) enum Next {
    /// A command that starts a turn (or changes the conversation).
    Command(TurnCommand),
    /// The activity's timer fired.
    Timer,
}

/// State shared between the handle and the loop.
pub(crate) struct Shared {
    pub(crate) subscribers: Mutex<Vec<mpsc::UnboundedSender<SessionEvent>>>,
    pub(crate) mocks: Mutex<HashMap<(Option<&'static str>, String), MockFn>>,
    pub(crate) final_userdata: Mutex<Option<(Box<dyn Any + Send>, &'static str)>>,
    close_timeout: Duration,
    /// Bumped by `interrupt()`; a reply streaming when it changes stops.
    pub(crate) interrupts: AtomicU64,
    pub(crate) interrupt: Notify,
    /// Set by `close()`, so running tools can be given a deadline.
    pub(crate) closing: AtomicBool,
    pub(crate) close_requested: Notify,
}

impl Shared {
    pub(crate) fn new(close_timeout: Duration) -> Self {
        Shared {
            subscribers: Mutex::default(),
            mocks: Mutex::default(),
            final_userdata: Mutex::default(),
            close_timeout,
            interrupts: AtomicU64::default(),
            interrupt: Notify::default(),
            closing: AtomicBool::default(),
            close_requested: Notify::default(),
        }
    }

    /// How long `close` waits for the loop.
    pub(crate) fn close_timeout(&self) -> Duration {
        self.close_timeout
    }
}

/// A clone of the userdata if it is a `T`, or the error naming what is held.
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
