//! The outcome of one turn: its events and the result of a task completed in it.

use super::events::RunEvent;
use std::any::Any;
use std::fmt;

/// Everything that happened in one turn (`session.run(...)`), in order.
///
/// Assert on it with `result.expect()` (from the `testing` toolkit). Its events hold the real
/// content even inside a sensitive task (tests assert on it); for logs and transcripts use the
/// session's events (`subscribe`), which redact it.
#[derive(Default)]
pub struct RunResult {
    pub(crate) events: Vec<RunEvent>,
    pub(crate) final_output: Option<(&'static str, Box<dyn Any + Send>)>,
}

impl RunResult {
    /// The events of the turn, oldest first. The user's input is not an event.
    pub fn events(&self) -> &[RunEvent] {
        &self.events
    }

    /// The result of the last task completed in this turn, if it is a `T`.
    pub fn final_output<T: 'static>(&self) -> Option<&T> {
        self.final_output
            .as_ref()
            .and_then(|(_, v)| v.downcast_ref::<T>())
    }

    /// Id of the task whose result is the final output.
    pub fn final_output_task(&self) -> Option<&'static str> {
        self.final_output.as_ref().map(|(id, _)| *id)
    }

    /// The text of all assistant messages of the turn, joined with spaces.
    pub fn assistant_text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Message(m) if m.role == crate::llm::Role::Assistant => {
                    Some(m.content.as_str())
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Debug for RunResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunResult")
            .field("events", &self.events)
            .field("final_output_task", &self.final_output_task())
            .finish()
    }
}
