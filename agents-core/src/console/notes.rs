//! Lines an application prints into the console's output, in order with the session's events.
//!
//! A tool or a task-group callback that prints directly races the console, which prints events
//! as they arrive from the session: the line could appear before the tool call that caused it,
//! and differently from one run to the next. [`note`] instead hands the line to the console,
//! which first prints every event emitted before it, then the line, and only then lets the
//! caller go on.

use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

/// A line waiting to be printed, and who to tell once it is.
pub(crate) type Note = (String, oneshot::Sender<()>);

/// Where notes go while a console runs (one console per process).
static SINK: Mutex<Option<mpsc::UnboundedSender<Note>>> = Mutex::new(None);

/// Prints `line` in the console's output after the events so far (e.g. "(telephony: dialled
/// +1...)"). Without a console running, the line is logged at `info` level instead.
///
/// Call it from the session's own work (tools, hooks, task-group callbacks); it returns once
/// the line is printed.
pub async fn note(line: impl Into<String>) {
    let line = line.into();
    let sink = SINK.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (done, printed) = oneshot::channel();
    match sink {
        Some(sink) if sink.send((line.clone(), done)).is_ok() => {
            let _ = printed.await;
        }
        _ => tracing::info!(target: "agents_core::console", "{line}"),
    }
}

/// Sends notes to the returned receiver until [`close`] is called.
pub(crate) fn open() -> mpsc::UnboundedReceiver<Note> {
    let (tx, rx) = mpsc::unbounded_channel();
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    rx
}

/// Stops sending notes to the console.
pub(crate) fn close() {
    SINK.lock().unwrap_or_else(|e| e.into_inner()).take();
}
