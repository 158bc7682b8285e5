//! Assertions over the events of a turn.
//!
//! Every assertion panics on failure with a message naming what was expected and what was found,
//! followed by the turn's events with the event in question marked `>>>`.

use crate::llm::{AgentHandoff, ChatMessage, FunctionCall, FunctionCallOutput, Llm, Role};
use crate::session::{RunEvent, RunResult};
use serde_json::Value;
use std::fmt::Write as _;
use std::ops::{Bound, RangeBounds};

/// Starts assertions over the events of `result`.
pub fn expect(result: &RunResult) -> RunAssert<'_> {
    RunAssert::new(result.events())
}

/// Adds `result.expect()` to [`RunResult`].
pub trait RunResultExt {
    /// Starts assertions over the events of the turn.
    fn expect(&self) -> RunAssert<'_>;
}

impl RunResultExt for RunResult {
    fn expect(&self) -> RunAssert<'_> {
        expect(self)
    }
}

/// Assertions over a turn's events, with a cursor for checking them in order.
///
/// ```
/// use agents_core::llm::Role;
/// use agents_core::testing::RunResultExt;
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

/// One event of a turn, to assert what it is.
#[derive(Debug, Clone, Copy)]
pub struct EventAssert<'a> {
    events: &'a [RunEvent],
    index: usize,
}

impl<'a> EventAssert<'a> {
    fn new(events: &'a [RunEvent], index: usize) -> Self {
        EventAssert { events, index }
    }

    /// The event.
    pub fn event(&self) -> &'a RunEvent {
        &self.events[self.index]
    }

    /// Its index in the turn.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Asserts that the event is a message by `role`.
    #[track_caller]
    pub fn is_message(self, role: Role) -> MessageAssert<'a> {
        match match_message(self.event(), role) {
            Ok(message) => MessageAssert {
                event: self,
                message,
            },
            Err(m) => self.mismatch(&what_message(role), m),
        }
    }

    /// Asserts that the event is a call of tool `name`. With `Some(arguments)`, the call's
    /// arguments must include them: every key of an expected object must be present with a
    /// matching value (recursively), arrays match element by element and must have the same
    /// length, and numbers match by value (`1` matches `1.0`).
    #[track_caller]
    pub fn is_function_call(
        self,
        name: &str,
        arguments: impl Into<Option<Value>>,
    ) -> FunctionCallAssert<'a> {
        let arguments = arguments.into();
        match match_function_call(self.event(), name, arguments.as_ref()) {
            Ok(call) => FunctionCallAssert { event: self, call },
            Err(m) => self.mismatch(&what_function_call(name, arguments.as_ref()), m),
        }
    }

    /// Asserts that the event is a tool output.
    #[track_caller]
    pub fn is_function_call_output(self) -> FunctionCallOutputAssert<'a> {
        match match_output(self.event(), None) {
            Ok(output) => FunctionCallOutputAssert {
                event: self,
                output,
            },
            Err(m) => self.mismatch(&what_output(None), m),
        }
    }

    /// Asserts that the event is a handoff to the agent or task with id `new_agent_id`.
    #[track_caller]
    pub fn is_agent_handoff(self, new_agent_id: &str) -> AgentHandoffAssert<'a> {
        match match_handoff(self.event(), HandoffTarget::Id(new_agent_id)) {
            Ok(handoff) => AgentHandoffAssert {
                event: self,
                handoff,
            },
            Err(m) => self.mismatch(&what_handoff_id(new_agent_id), m),
        }
    }

    /// Asserts that the event is a handoff to an agent or task of type `T`.
    #[track_caller]
    pub fn is_agent_handoff_to<T: ?Sized>(self) -> AgentHandoffAssert<'a> {
        let type_name = std::any::type_name::<T>();
        match match_handoff(self.event(), HandoffTarget::Type(type_name)) {
            Ok(handoff) => AgentHandoffAssert {
                event: self,
                handoff,
            },
            Err(m) => self.mismatch(&what_handoff_type(type_name), m),
        }
    }

    /// Panics with `headline` and the turn's events, this one marked.
    #[track_caller]
    pub fn fail(&self, headline: impl std::fmt::Display) -> ! {
        fail(self.events, Some(self.index), headline)
    }

    #[track_caller]
    fn mismatch(&self, what: &str, m: Mismatch) -> ! {
        let detail = m.0.map(|d| format!(" ({d})")).unwrap_or_default();
        self.fail(format!(
            "expected {what}, found {}{detail}",
            self.event().describe()
        ))
    }
}

/// A message event, to assert on its text.
#[derive(Debug, Clone, Copy)]
pub struct MessageAssert<'a> {
    event: EventAssert<'a>,
    message: &'a ChatMessage,
}

impl<'a> MessageAssert<'a> {
    /// The message.
    pub fn message(&self) -> &'a ChatMessage {
        self.message
    }

    /// The message text.
    pub fn content(&self) -> &'a str {
        &self.message.content
    }

    /// The event this message is.
    pub fn event(&self) -> EventAssert<'a> {
        self.event
    }

    /// Asserts that the text contains `needle`, ignoring case.
    #[track_caller]
    pub fn containing(self, needle: &str) -> Self {
        if !contains_ci(&self.message.content, needle) {
            self.event.fail(format!(
                "expected the {} message to contain {needle:?}, found {}",
                self.message.role,
                self.event.event().describe()
            ));
        }
        self
    }

    /// Asks `llm` whether the message fulfils `intent` (see [`judge`](super::judge)).
    ///
    /// # Panics
    /// When the judge rejects the message or cannot give a verdict; the reason is in the message.
    pub async fn judge(self, llm: &dyn Llm, intent: &str) -> Self {
        if let Err(failure) = super::judge(llm, &self.message.content, intent).await {
            self.event.fail(format!(
                "expected a message that fulfils the intent {intent:?}: {failure}"
            ));
        }
        self
    }
}

/// A tool call event, to inspect it further.
#[derive(Debug, Clone, Copy)]
pub struct FunctionCallAssert<'a> {
    event: EventAssert<'a>,
    call: &'a FunctionCall,
}

impl<'a> FunctionCallAssert<'a> {
    /// The call.
    pub fn call(&self) -> &'a FunctionCall {
        self.call
    }

    /// The event this call is.
    pub fn event(&self) -> EventAssert<'a> {
        self.event
    }

    /// The call's arguments, parsed (an empty string counts as `{}`).
    ///
    /// # Panics
    /// When the arguments are not valid JSON.
    #[track_caller]
    pub fn arguments(&self) -> Value {
        match parse_arguments(&self.call.arguments) {
            Ok(v) => v,
            Err(e) => self.event.fail(format!(
                "expected the arguments of `{}` to be JSON, found {} ({e})",
                self.call.name,
                self.event.event().describe()
            )),
        }
    }
}

/// A tool output event, to assert on its text and error flag.
#[derive(Debug, Clone, Copy)]
pub struct FunctionCallOutputAssert<'a> {
    event: EventAssert<'a>,
    output: &'a FunctionCallOutput,
}

impl<'a> FunctionCallOutputAssert<'a> {
    /// The output.
    pub fn output(&self) -> &'a FunctionCallOutput {
        self.output
    }

    /// The event this output is.
    pub fn event(&self) -> EventAssert<'a> {
        self.event
    }

    /// Asserts that the output text contains `needle`, ignoring case.
    #[track_caller]
    pub fn with_output_containing(self, needle: &str) -> Self {
        if !contains_ci(&self.output.output, needle) {
            self.event.fail(format!(
                "expected the output of `{}` to contain {needle:?}, found {}",
                self.output.name,
                self.event.event().describe()
            ));
        }
        self
    }

    /// Asserts that the tool did (`true`) or did not (`false`) fail.
    #[track_caller]
    pub fn is_error(self, is_error: bool) -> Self {
        if self.output.is_error != is_error {
            self.event.fail(format!(
                "expected the output of `{}` {}, found {}",
                self.output.name,
                if is_error {
                    "to be an error"
                } else {
                    "not to be an error"
                },
                self.event.event().describe()
            ));
        }
        self
    }
}

/// A handoff event, to inspect it further.
#[derive(Debug, Clone, Copy)]
pub struct AgentHandoffAssert<'a> {
    event: EventAssert<'a>,
    handoff: &'a AgentHandoff,
}

impl<'a> AgentHandoffAssert<'a> {
    /// The handoff record.
    pub fn handoff(&self) -> &'a AgentHandoff {
        self.handoff
    }

    /// Full Rust type name of the new agent or task.
    pub fn new_agent_type(&self) -> &'static str {
        match self.event.event() {
            RunEvent::AgentHandoff { new_agent_type, .. } => new_agent_type,
            _ => unreachable!("an AgentHandoffAssert wraps a handoff event"),
        }
    }

    /// The event this handoff is.
    pub fn event(&self) -> EventAssert<'a> {
        self.event
    }

    /// Asserts that control came from the agent or task with id `old_agent_id`.
    #[track_caller]
    pub fn from_agent(self, old_agent_id: &str) -> Self {
        if self.handoff.old_agent_id.as_deref() != Some(old_agent_id) {
            self.event.fail(format!(
                "expected a handoff from `{old_agent_id}`, found {}",
                self.event.event().describe()
            ));
        }
        self
    }
}

/// Why an event did not match, beyond its description.
struct Mismatch(Option<String>);

impl Mismatch {
    fn kind() -> Self {
        Mismatch(None)
    }
    fn detail(d: impl Into<String>) -> Self {
        Mismatch(Some(d.into()))
    }
}

fn match_message(e: &RunEvent, role: Role) -> Result<&ChatMessage, Mismatch> {
    match e {
        RunEvent::Message(m) if m.role == role => Ok(m),
        _ => Err(Mismatch::kind()),
    }
}

fn match_function_call<'e>(
    e: &'e RunEvent,
    name: &str,
    arguments: Option<&Value>,
) -> Result<&'e FunctionCall, Mismatch> {
    let RunEvent::FunctionCall(call) = e else {
        return Err(Mismatch::kind());
    };
    if call.name != name {
        return Err(Mismatch::kind());
    }
    if let Some(expected) = arguments {
        let actual = parse_arguments(&call.arguments)
            .map_err(|e| Mismatch::detail(format!("its arguments are not valid JSON: {e}")))?;
        let mut path = "arguments".to_string();
        json_subset(expected, &actual, &mut path).map_err(Mismatch::detail)?;
    }
    Ok(call)
}

fn match_output(e: &RunEvent, is_error: Option<bool>) -> Result<&FunctionCallOutput, Mismatch> {
    match e {
        RunEvent::FunctionCallOutput(o) if is_error.is_none_or(|want| o.is_error == want) => Ok(o),
        _ => Err(Mismatch::kind()),
    }
}

#[derive(Clone, Copy)]
enum HandoffTarget<'t> {
    Id(&'t str),
    Type(&'t str),
}

fn match_handoff<'e>(
    e: &'e RunEvent,
    target: HandoffTarget<'_>,
) -> Result<&'e AgentHandoff, Mismatch> {
    let RunEvent::AgentHandoff {
        item,
        new_agent_type,
    } = e
    else {
        return Err(Mismatch::kind());
    };
    match target {
        HandoffTarget::Id(id) if item.new_agent_id == id => Ok(item),
        HandoffTarget::Type(t) if *new_agent_type == t => Ok(item),
        HandoffTarget::Type(_) => Err(Mismatch::detail(format!(
            "the new agent's type is `{new_agent_type}`"
        ))),
        HandoffTarget::Id(_) => Err(Mismatch::kind()),
    }
}

fn what_message(role: Role) -> String {
    let article = match role {
        Role::Assistant => "an",
        Role::System | Role::Developer | Role::User => "a",
    };
    format!("{article} {role} message")
}

fn what_function_call(name: &str, arguments: Option<&Value>) -> String {
    match arguments {
        Some(args) => format!("a function call `{name}` with arguments {args}"),
        None => format!("a function call `{name}`"),
    }
}

fn what_output(is_error: Option<bool>) -> String {
    match is_error {
        None => "a function call output".to_string(),
        Some(true) => "a function call output that is an error".to_string(),
        Some(false) => "a function call output that is not an error".to_string(),
    }
}

fn what_handoff_id(id: &str) -> String {
    format!("an agent handoff to `{id}`")
}

fn what_handoff_type(type_name: &str) -> String {
    format!("an agent handoff to an agent of type `{type_name}`")
}

fn parse_arguments(arguments: &str) -> Result<Value, serde_json::Error> {
    let text = arguments.trim();
    serde_json::from_str(if text.is_empty() { "{}" } else { text })
}

/// Whether `expected` is a subset of `actual`; on mismatch, says where.
fn json_subset(expected: &Value, actual: &Value, path: &mut String) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(exp), Value::Object(act)) => {
            for (key, exp_value) in exp {
                let len = path.len();
                let _ = write!(path, ".{key}");
                match act.get(key) {
                    Some(act_value) => json_subset(exp_value, act_value, path)?,
                    None => return Err(format!("`{path}` is missing")),
                }
                path.truncate(len);
            }
            Ok(())
        }
        (Value::Array(exp), Value::Array(act)) => {
            if exp.len() != act.len() {
                return Err(format!(
                    "`{path}` has {} elements, expected {}",
                    act.len(),
                    exp.len()
                ));
            }
            for (i, (e, a)) in exp.iter().zip(act).enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                json_subset(e, a, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) => {
            let equal = match (e.as_i64(), a.as_i64(), e.as_u64(), a.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => e.as_f64() == a.as_f64(),
            };
            if equal {
                Ok(())
            } else {
                Err(format!("`{path}` is {actual}, expected {expected}"))
            }
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("`{path}` is {actual}, expected {expected}")),
    }
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn count(n: usize) -> String {
    match n {
        1 => "1 event".to_string(),
        n => format!("{n} events"),
    }
}

/// The turn's events, one per line, `marker` flagged with `>>>`.
fn listing(events: &[RunEvent], marker: Option<usize>) -> String {
    let mut out = String::from("events of the turn:");
    if events.is_empty() {
        out.push_str("\n    (none)");
    }
    for (i, event) in events.iter().enumerate() {
        let prefix = if marker == Some(i) { ">>> " } else { "    " };
        let _ = write!(out, "\n{prefix}[{i}] {}", event.describe());
    }
    out
}

#[track_caller]
fn fail(events: &[RunEvent], marker: Option<usize>, headline: impl std::fmt::Display) -> ! {
    panic!("{headline}\n{}", listing(events, marker))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_result_from_events;
    use serde_json::json;

    struct CollectConsent;

    fn handoff(old: Option<&str>, new: &str, ty: &'static str) -> RunEvent {
        RunEvent::AgentHandoff {
            item: AgentHandoff::new(old.map(String::from), new),
            new_agent_type: ty,
        }
    }

    fn message(role: Role, text: &str) -> RunEvent {
        RunEvent::Message(ChatMessage::new(role, text))
    }

    fn call(name: &str, args: &str) -> RunEvent {
        RunEvent::FunctionCall(FunctionCall::new("c1", name, args))
    }

    fn output(name: &str, text: &str, is_error: bool) -> RunEvent {
        let call = FunctionCall::new("c1", name, "{}");
        RunEvent::FunctionCallOutput(FunctionCallOutput::new(&call, text, is_error))
    }

    fn consent_turn() -> RunResult {
        run_result_from_events(vec![
            handoff(
                Some("customer_service"),
                "collect_consent",
                std::any::type_name::<CollectConsent>(),
            ),
            message(Role::Assistant, "Hi there"),
            call("consent_given", "{}"),
        ])
    }

    fn full_turn() -> RunResult {
        run_result_from_events(vec![
            message(Role::Assistant, "Let me check."),
            call(
                "lookup",
                r#"{"id": 7, "when": {"day": "mon", "hour": 9.0}, "tags": ["a", {"k": 1}], "n": null}"#,
            ),
            output("lookup", "Order 7 SHIPPED", false),
            call("cancel", ""),
            output("cancel", "not allowed", true),
            handoff(
                Some("support"),
                "collect_consent",
                std::any::type_name::<CollectConsent>(),
            ),
            message(Role::Assistant, "Your order has shipped."),
        ])
    }

    #[track_caller]
    fn panic_message(f: impl FnOnce()) -> String {
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .expect_err("the assertion should have failed");
        match payload.downcast::<String>() {
            Ok(s) => *s,
            Err(payload) => payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn failure_listing_is_exact() {
        let result = consent_turn();
        let msg = panic_message(|| {
            let mut turn = result.expect();
            turn.skip_next(1);
            turn.next_event().is_function_call("consent_given", None);
        });
        assert_eq!(
            msg,
            r#"expected a function call `consent_given`, found message assistant: "Hi there"
events of the turn:
    [0] agent_handoff customer_service -> collect_consent
>>> [1] message assistant: "Hi there"
    [2] function_call consent_given({})"#
        );
    }

    #[test]
    fn next_event_walks_in_order() {
        let result = consent_turn();
        let mut turn = expect(&result);
        turn.next_event().is_agent_handoff("collect_consent");
        assert_eq!(turn.cursor(), 1);
        let m = turn.next_event().is_message(Role::Assistant);
        assert_eq!(m.content(), "Hi there");
        assert_eq!(m.event().index(), 1);
        turn.next_event()
            .is_function_call("consent_given", json!({}));
        turn.no_more_events();

        let msg = panic_message(|| {
            turn.next_event();
        });
        assert!(
            msg.starts_with("expected another event, but the turn has only 3 events\n"),
            "{msg}"
        );
        assert!(!msg.contains(">>>"), "{msg}");
    }

    #[test]
    fn no_more_events_marks_the_first_extra_event() {
        let result = consent_turn();
        let mut turn = result.expect();
        turn.skip_next(2);
        let msg = panic_message(|| turn.no_more_events());
        assert!(
            msg.starts_with("expected no more events, found function_call consent_given({})\n"),
            "{msg}"
        );
        assert!(msg.contains(">>> [2]"), "{msg}");
        let msg = panic_message(|| {
            turn.skip_next(2);
        });
        assert!(
            msg.starts_with("expected at least 2 more events to skip, found 1\n"),
            "{msg}"
        );
    }

    #[test]
    fn empty_turn_listing() {
        let result = run_result_from_events(Vec::new());
        result.expect().no_more_events();
        let msg = panic_message(|| {
            result.expect().next_event();
        });
        assert_eq!(
            msg,
            "expected another event, but the turn has only 0 events\nevents of the turn:\n    (none)"
        );
    }

    #[test]
    fn is_message_pass_and_fail() {
        let result = full_turn();
        let turn = result.expect();
        turn.at(0)
            .is_message(Role::Assistant)
            .containing("LET ME")
            .containing("check");
        let msg = panic_message(|| {
            turn.at(0).is_message(Role::User);
        });
        assert!(
            msg.starts_with(r#"expected a user message, found message assistant: "Let me check.""#),
            "{msg}"
        );
        let msg = panic_message(|| {
            turn.at(1).is_message(Role::Assistant);
        });
        assert!(msg.starts_with("expected an assistant message, found function_call lookup("));
        let msg = panic_message(|| {
            turn.at(0).is_message(Role::Assistant).containing("shipped");
        });
        assert!(
            msg.starts_with(r#"expected the assistant message to contain "shipped", found message assistant: "Let me check.""#),
            "{msg}"
        );
        assert!(msg.contains(">>> [0]"), "{msg}");
    }

    #[test]
    fn is_function_call_subset_matching() {
        let result = full_turn();
        let turn = result.expect();
        let ev = turn.at(1);
        ev.is_function_call("lookup", None);
        ev.is_function_call("lookup", json!({}));
        ev.is_function_call("lookup", json!({"id": 7}));
        ev.is_function_call("lookup", json!({"id": 7.0}));
        ev.is_function_call("lookup", json!({"when": {"hour": 9}}));
        ev.is_function_call("lookup", json!({"tags": ["a", {}]}));
        ev.is_function_call("lookup", json!({"tags": ["a", {"k": 1}], "n": null}));
        let args = ev.is_function_call("lookup", None).arguments();
        assert_eq!(args["when"]["day"], "mon");
        // Empty arguments count as {}.
        turn.at(3).is_function_call("cancel", json!({}));
        assert_eq!(
            turn.at(3).is_function_call("cancel", None).arguments(),
            json!({})
        );

        let cases = [
            (json!({"id": 8}), "(`arguments.id` is 7, expected 8)"),
            (json!({"id": "7"}), "(`arguments.id` is 7, expected \"7\")"),
            (
                json!({"when": {"minute": 0}}),
                "(`arguments.when.minute` is missing)",
            ),
            (
                json!({"when": {"hour": 9.5}}),
                "(`arguments.when.hour` is 9.0, expected 9.5)",
            ),
            (
                json!({"tags": ["a"]}),
                "(`arguments.tags` has 2 elements, expected 1)",
            ),
            (
                json!({"tags": ["a", {"k": 2}]}),
                "(`arguments.tags[1].k` is 1, expected 2)",
            ),
            (json!({"n": 0}), "(`arguments.n` is null, expected 0)"),
            (json!([]), "(`arguments` is {"),
        ];
        for (expected, detail) in cases {
            let msg = panic_message(|| {
                ev.is_function_call("lookup", expected.clone());
            });
            let headline = msg.lines().next().unwrap();
            assert!(
                headline.starts_with(&format!(
                    "expected a function call `lookup` with arguments {expected}, found function_call lookup("
                )),
                "{msg}"
            );
            assert!(headline.contains(detail), "{expected}: {msg}");
        }
        let msg = panic_message(|| {
            ev.is_function_call("other", None);
        });
        assert!(msg.starts_with("expected a function call `other`, found function_call lookup("));
    }

    #[test]
    fn invalid_json_arguments() {
        let result = run_result_from_events(vec![call("f", "{not json")]);
        let turn = result.expect();
        turn.at(0).is_function_call("f", None);
        let msg = panic_message(|| {
            turn.at(0).is_function_call("f", json!({}));
        });
        assert!(msg.contains("its arguments are not valid JSON"), "{msg}");
        let msg = panic_message(|| {
            turn.at(0).is_function_call("f", None).arguments();
        });
        assert!(
            msg.starts_with("expected the arguments of `f` to be JSON"),
            "{msg}"
        );
    }

    #[test]
    fn function_call_output_checks() {
        let result = full_turn();
        let turn = result.expect();
        let out = turn
            .at(2)
            .is_function_call_output()
            .with_output_containing("shipped")
            .is_error(false);
        assert_eq!(out.output().name, "lookup");
        turn.at(4).is_function_call_output().is_error(true);

        let msg = panic_message(|| {
            turn.at(0).is_function_call_output();
        });
        assert!(
            msg.starts_with("expected a function call output, found message"),
            "{msg}"
        );
        let msg = panic_message(|| {
            turn.at(2)
                .is_function_call_output()
                .with_output_containing("lost");
        });
        assert!(
            msg.starts_with(r#"expected the output of `lookup` to contain "lost", found function_call_output lookup: "Order 7 SHIPPED""#),
            "{msg}"
        );
        let msg = panic_message(|| {
            turn.at(2).is_function_call_output().is_error(true);
        });
        assert!(
            msg.starts_with("expected the output of `lookup` to be an error"),
            "{msg}"
        );
        let msg = panic_message(|| {
            turn.at(4).is_function_call_output().is_error(false);
        });
        assert!(
            msg.starts_with(r#"expected the output of `cancel` not to be an error, found function_call_output cancel [error]: "not allowed""#),
            "{msg}"
        );
    }

    #[test]
    fn agent_handoff_checks() {
        let result = full_turn();
        let turn = result.expect();
        let h = turn.at(5).is_agent_handoff("collect_consent");
        assert_eq!(h.handoff().old_agent_id.as_deref(), Some("support"));
        assert_eq!(h.new_agent_type(), std::any::type_name::<CollectConsent>());
        assert_eq!(h.event().index(), 5);
        turn.at(5)
            .is_agent_handoff_to::<CollectConsent>()
            .from_agent("support");
        let msg = panic_message(|| {
            turn.at(5)
                .is_agent_handoff_to::<CollectConsent>()
                .from_agent("billing");
        });
        assert!(
            msg.starts_with("expected a handoff from `billing`, found agent_handoff support -> collect_consent\n"),
            "{msg}"
        );

        let msg = panic_message(|| {
            turn.at(5).is_agent_handoff("billing");
        });
        assert!(
            msg.starts_with("expected an agent handoff to `billing`, found agent_handoff support -> collect_consent\n"),
            "{msg}"
        );
        let msg = panic_message(|| {
            turn.at(5).is_agent_handoff_to::<String>();
        });
        assert!(
            msg.starts_with("expected an agent handoff to an agent of type `alloc::string::String`, found agent_handoff support -> collect_consent (the new agent's type is `"),
            "{msg}"
        );
        let msg = panic_message(|| {
            turn.at(0).is_agent_handoff("collect_consent");
        });
        assert!(msg.starts_with("expected an agent handoff to `collect_consent`, found message"));
    }

    #[test]
    fn contains_searches_the_whole_turn() {
        let result = full_turn();
        let mut turn = result.expect();
        turn.skip_next(7);
        assert_eq!(
            turn.contains_function_call("lookup", None).event().index(),
            1
        );
        assert_eq!(
            turn.contains_function_call("lookup", json!({"when": {"day": "mon"}}))
                .event()
                .index(),
            1
        );
        assert_eq!(
            turn.contains_function_call("cancel", json!({}))
                .event()
                .index(),
            3
        );
        assert_eq!(turn.contains_message(Role::Assistant).event().index(), 0);
        assert_eq!(turn.contains_function_call_output(None).event().index(), 2);
        assert_eq!(turn.contains_function_call_output(true).event().index(), 4);
        assert_eq!(turn.contains_function_call_output(false).event().index(), 2);
        assert_eq!(
            turn.contains_agent_handoff("collect_consent")
                .event()
                .index(),
            5
        );
        assert_eq!(
            turn.contains_agent_handoff_to::<CollectConsent>()
                .event()
                .index(),
            5
        );

        let fails: [(&dyn Fn(), &str); 6] = [
            (&|| { turn.contains_function_call("lookup", json!({"id": 1})); },
             "expected a function call `lookup` with arguments {\"id\":1} in the turn, found none\n"),
            (&|| { turn.contains_function_call("missing", None); },
             "expected a function call `missing` in the turn, found none\n"),
            (&|| { turn.contains_message(Role::User); },
             "expected a user message in the turn, found none\n"),
            (&|| { turn.contains_agent_handoff("other"); },
             "expected an agent handoff to `other` in the turn, found none\n"),
            (&|| { turn.contains_agent_handoff_to::<u8>(); },
             "expected an agent handoff to an agent of type `u8` in the turn, found none\n"),
            (&|| {
                run_result_from_events(vec![output("x", "", false)])
                    .expect()
                    .contains_function_call_output(true);
            },
             "expected a function call output that is an error in the turn, found none\n"),
        ];
        for (f, start) in fails {
            let msg = panic_message(f);
            assert!(msg.starts_with(start), "{msg}");
            assert!(!msg.contains(">>>"), "{msg}");
        }
    }

    #[test]
    fn indexing_and_ranges() {
        let result = full_turn();
        let turn = result.expect();
        assert!(matches!(turn[1], RunEvent::FunctionCall(_)));
        assert_eq!(turn.at_back(0).index(), 6);
        turn.at_back(1).is_agent_handoff("collect_consent");
        let evs = turn.range(2..4);
        assert_eq!(evs.len(), 2);
        evs[0].is_function_call_output();
        evs[1].is_function_call("cancel", None);
        assert_eq!(turn.range(..).len(), 7);
        assert_eq!(turn.range(5..=6).len(), 2);
        assert_eq!(turn.range(7..).len(), 0);
        assert_eq!(turn.events().len(), 7);

        let msg = panic_message(|| {
            let _ = &turn[7];
        });
        assert!(
            msg.starts_with("expected an event at index 7, but the turn has only 7 events\n"),
            "{msg}"
        );
        let msg = panic_message(|| {
            turn.at_back(7);
        });
        assert!(
            msg.starts_with("expected an event at 7 from the end"),
            "{msg}"
        );
        let msg = panic_message(|| {
            turn.range(3..9);
        });
        assert!(
            msg.starts_with("expected events 3..9, but the turn has only 7 events"),
            "{msg}"
        );
        #[allow(clippy::reversed_empty_ranges)]
        let msg = panic_message(|| {
            turn.range(4..2);
        });
        assert!(msg.starts_with("expected events 4..2"), "{msg}");
    }
}
