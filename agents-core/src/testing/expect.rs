//! Assertions over the events of a turn.
//!
//! Every assertion panics on failure with a message naming what was expected and what was found,
//! followed by the turn's events with the event in question marked `>>>`.

use crate::llm::Role;
use crate::session::{RunEvent, RunResult};
use serde_json::Value;
use std::ops::{Bound, RangeBounds};

mod event;
mod matching;
#[cfg(test)]
mod tests;

pub use event::{
    AgentHandoffAssert, EventAssert, FunctionCallAssert, FunctionCallOutputAssert, MessageAssert,
};
use matching::*;

/// Starts assertions over the events of `result`.
pub fn expect(result: &RunResult) -> RunAssert<'_> {
    RunAssert::new(result.events())
}

impl RunResult {
    /// Assertions over the turn's events; see [`RunAssert`].
    pub fn expect(&self) -> RunAssert<'_> {
        expect(self)
    }
}

/// Assertions over a turn's events, with a cursor for checking them in order.
///
/// ```
/// use agents_core::llm::Role;
/// # use agents_core::llm::{ChatMessage, FunctionCall};
/// # use agents_core::session::RunEvent;
/// # let result = agents_core::testing::run_result_from_events(vec![
/// #     RunEvent::FunctionCall(FunctionCall::new("c1", "lookup", r#"{"id":7,"full":true}"#)),
/// #     RunEvent::Message(ChatMessage::new(Role::Assistant, "Found order 7.")),
/// # ]);
/// // `result` is what `session.run("Where is order 7?").await?` returned.
/// let mut turn = result.expect();
/// turn.next_event()
///     .is_function_call("lookup", serde_json::json!({"id": 7}));
/// turn.next_event()
///     .is_message(Role::Assistant)
///     .containing("order 7");
/// turn.no_more_events();
/// ```
#[derive(Debug, Clone)]
pub struct RunAssert<'a> {
    events: &'a [RunEvent],
    cursor: usize,
}

impl<'a> RunAssert<'a> {
    /// Assertions over any list of events, cursor at the start.
    pub fn new(events: &'a [RunEvent]) -> Self {
        RunAssert { events, cursor: 0 }
    }

    /// All events of the turn.
    pub fn events(&self) -> &'a [RunEvent] {
        self.events
    }

    /// The index of the event [`next_event`](Self::next_event) returns next.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The event at the cursor; moves the cursor past it.
    ///
    /// # Panics
    /// When there are no more events.
    #[track_caller]
    pub fn next_event(&mut self) -> EventAssert<'a> {
        if self.cursor >= self.events.len() {
            fail(
                self.events,
                None,
                format!(
                    "expected another event, but the turn has only {}",
                    count(self.events.len())
                ),
            );
        }
        let event = EventAssert::new(self.events, self.cursor);
        self.cursor += 1;
        event
    }

    /// Moves the cursor past the next `n` events, whatever they are.
    ///
    /// # Panics
    /// When fewer than `n` events are left.
    #[track_caller]
    pub fn skip_next(&mut self, n: usize) -> &mut Self {
        let left = self.events.len() - self.cursor;
        if n > left {
            fail(
                self.events,
                None,
                format!("expected at least {n} more events to skip, found {left}"),
            );
        }
        self.cursor += n;
        self
    }

    /// Asserts that the cursor is past the last event.
    ///
    /// # Panics
    /// When events are left; the first one is marked.
    #[track_caller]
    pub fn no_more_events(&self) {
        if let Some(event) = self.events.get(self.cursor) {
            fail(
                self.events,
                Some(self.cursor),
                format!("expected no more events, found {}", event.describe()),
            );
        }
    }

    /// The event at `index` (the cursor does not move).
    ///
    /// # Panics
    /// When `index` is out of range.
    #[track_caller]
    pub fn at(&self, index: usize) -> EventAssert<'a> {
        if index >= self.events.len() {
            fail(
                self.events,
                None,
                format!(
                    "expected an event at index {index}, but the turn has only {}",
                    count(self.events.len())
                ),
            );
        }
        EventAssert::new(self.events, index)
    }

    /// The `n`-th event from the end: `at_back(0)` is the last event.
    ///
    /// # Panics
    /// When there are not that many events.
    #[track_caller]
    pub fn at_back(&self, n: usize) -> EventAssert<'a> {
        if n >= self.events.len() {
            fail(
                self.events,
                None,
                format!(
                    "expected an event at {n} from the end, but the turn has only {}",
                    count(self.events.len())
                ),
            );
        }
        EventAssert::new(self.events, self.events.len() - 1 - n)
    }

    /// The events in `range` (the cursor does not move).
    ///
    /// # Panics
    /// When the range is out of bounds.
    #[track_caller]
    pub fn range(&self, range: impl RangeBounds<usize>) -> Vec<EventAssert<'a>> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.saturating_add(1),
            Bound::Excluded(&e) => e,
            Bound::Unbounded => self.events.len(),
        };
        if start > end || end > self.events.len() {
            fail(
                self.events,
                None,
                format!(
                    "expected events {start}..{end}, but the turn has only {}",
                    count(self.events.len())
                ),
            );
        }
        (start..end)
            .map(|i| EventAssert::new(self.events, i))
            .collect()
    }

    /// The first call of tool `name` in the turn whose arguments include `arguments`
    /// (a JSON subset match, see [`EventAssert::is_function_call`]).
    ///
    /// # Panics
    /// When there is none.
    #[track_caller]
    pub fn contains_function_call(
        &self,
        name: &str,
        arguments: impl Into<Option<Value>>,
    ) -> FunctionCallAssert<'a> {
        let arguments = arguments.into();
        self.find(&what_function_call(name, arguments.as_ref()), |e| {
            match_function_call(e, name, arguments.as_ref()).is_ok()
        })
        .is_function_call(name, arguments)
    }

    /// The first message by `role` in the turn.
    ///
    /// # Panics
    /// When there is none.
    #[track_caller]
    pub fn contains_message(&self, role: Role) -> MessageAssert<'a> {
        self.find(&what_message(role), |e| match_message(e, role).is_ok())
            .is_message(role)
    }

    /// The first tool output in the turn; with `Some(is_error)`, the first that is (or is not)
    /// an error.
    ///
    /// # Panics
    /// When there is none.
    #[track_caller]
    pub fn contains_function_call_output(
        &self,
        is_error: impl Into<Option<bool>>,
    ) -> FunctionCallOutputAssert<'a> {
        let is_error = is_error.into();
        self.find(&what_output(is_error), |e| {
            match_output(e, is_error).is_ok()
        })
        .is_function_call_output()
    }

    /// The first handoff to the agent or task with id `new_agent_id`.
    ///
    /// # Panics
    /// When there is none.
    #[track_caller]
    pub fn contains_agent_handoff(&self, new_agent_id: &str) -> AgentHandoffAssert<'a> {
        self.find(&what_handoff_id(new_agent_id), |e| {
            match_handoff(e, HandoffTarget::Id(new_agent_id)).is_ok()
        })
        .is_agent_handoff(new_agent_id)
    }

    /// The first handoff to an agent or task of type `T`.
    ///
    /// # Panics
    /// When there is none.
    #[track_caller]
    pub fn contains_agent_handoff_to<T: ?Sized>(&self) -> AgentHandoffAssert<'a> {
        let type_name = std::any::type_name::<T>();
        self.find(&what_handoff_type(type_name), |e| {
            match_handoff(e, HandoffTarget::Type(type_name)).is_ok()
        })
        .is_agent_handoff_to::<T>()
    }

    #[track_caller]
    fn find(&self, what: &str, matches: impl Fn(&RunEvent) -> bool) -> EventAssert<'a> {
        match self.events.iter().position(matches) {
            Some(i) => EventAssert::new(self.events, i),
            None => fail(
                self.events,
                None,
                format!("expected {what} in the turn, found none"),
            ),
        }
    }
}

impl std::ops::Index<usize> for RunAssert<'_> {
    type Output = RunEvent;

    #[track_caller]
    fn index(&self, index: usize) -> &RunEvent {
        self.at(index).event()
    }
}
