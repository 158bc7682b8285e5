//! What the session loop owns besides the activities: the LLM, the options, the command inbox,
//! the userdata and the recorder.

use super::command::{Command, Next, Shared};
use super::recorder::Recorder;
use super::{InputModality, SessionOptions};
use crate::error::{Error, Result};
use crate::llm::Llm;
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Everything the loop owns besides the activities.
pub(crate) struct SessionCore {
    pub(crate) llm: Arc<dyn Llm>,
    pub(crate) options: SessionOptions,
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) userdata: Option<Box<dyn Any + Send>>,
    pub(crate) userdata_type: &'static str,
    pub(crate) recorder: Recorder,
    /// The session is closing: nothing new starts, running work unwinds.
    pub(crate) closing: bool,
    /// `ctx.shutdown()` was called: the session closes once the running work has stopped.
    pub(crate) shutdown_requested: bool,
    pub(crate) input_modality: InputModality,
    pub(crate) close_replies: Vec<oneshot::Sender<()>>,
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
            recorder: Recorder::new(shared.clone()),
            shared,
            userdata,
            userdata_type,
            closing: false,
            shutdown_requested: false,
            input_modality: InputModality::Text,
            close_replies: Vec::new(),
        }
    }

    /// Whether running work should stop: the session is closing or a shutdown was asked for.
    pub(crate) fn is_stopping(&self) -> bool {
        self.closing || self.shutdown_requested
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

    /// Finishes the turn in progress and waits for the next command that starts a turn, or for
    /// the activity's timer. `None` means the session is closing.
    pub(crate) async fn next_command(&mut self, timer: Option<Duration>) -> Option<Next> {
        self.recorder.finish_run();
        let timer = timer.map(|after| tokio::time::Instant::now() + after);
        loop {
            if self.is_stopping() {
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
                Some(Command::Turn(cmd)) => return Some(Next::Command(cmd)),
            }
        }
    }
}
