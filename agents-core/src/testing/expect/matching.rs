//! Matching events against what an assertion expects, and the failure listing.

use crate::llm::{AgentHandoff, ChatMessage, FunctionCall, FunctionCallOutput, Role};
use crate::session::RunEvent;
use serde_json::Value;
use std::fmt::Write as _;

/// Why an event did not match, beyond its description.
pub(super) struct Mismatch(pub(super) Option<String>);

impl Mismatch {
    pub(super) fn kind() -> Self {
        Mismatch(None)
    }
    pub(super) fn detail(d: impl Into<String>) -> Self {
        Mismatch(Some(d.into()))
    }
}

pub(super) fn match_message(e: &RunEvent, role: Role) -> Result<&ChatMessage, Mismatch> {
    match e {
        RunEvent::Message(m) if m.role == role => Ok(m),
        _ => Err(Mismatch::kind()),
    }
}

pub(super) fn match_function_call<'e>(
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

pub(super) fn match_output(
    e: &RunEvent,
    is_error: Option<bool>,
) -> Result<&FunctionCallOutput, Mismatch> {
    match e {
        RunEvent::FunctionCallOutput(o) if is_error.is_none_or(|want| o.is_error == want) => Ok(o),
        _ => Err(Mismatch::kind()),
    }
}

#[derive(Clone, Copy)]
pub(super) enum HandoffTarget<'t> {
    Id(&'t str),
    Type(&'t str),
}

pub(super) fn match_handoff<'e>(
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

pub(super) fn what_message(role: Role) -> String {
    let article = match role {
        Role::Assistant => "an",
        Role::System | Role::Developer | Role::User => "a",
    };
    format!("{article} {role} message")
}

pub(super) fn what_function_call(name: &str, arguments: Option<&Value>) -> String {
    match arguments {
        Some(args) => format!("a function call `{name}` with arguments {args}"),
        None => format!("a function call `{name}`"),
    }
}

pub(super) fn what_output(is_error: Option<bool>) -> String {
    match is_error {
        None => "a function call output".to_string(),
        Some(true) => "a function call output that is an error".to_string(),
        Some(false) => "a function call output that is not an error".to_string(),
    }
}

pub(super) fn what_handoff_id(id: &str) -> String {
    format!("an agent handoff to `{id}`")
}

pub(super) fn what_handoff_type(type_name: &str) -> String {
    format!("an agent handoff to an agent of type `{type_name}`")
}

pub(super) fn parse_arguments(arguments: &str) -> Result<Value, serde_json::Error> {
    let text = arguments.trim();
    serde_json::from_str(if text.is_empty() { "{}" } else { text })
}

/// Whether `expected` is a subset of `actual`; on mismatch, says where.
pub(super) fn json_subset(
    expected: &Value,
    actual: &Value,
    path: &mut String,
) -> Result<(), String> {
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

pub(super) fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

pub(super) fn count(n: usize) -> String {
    match n {
        1 => "1 event".to_string(),
        n => format!("{n} events"),
    }
}

/// The turn's events, one per line, `marker` flagged with `>>>`.
pub(super) fn listing(events: &[RunEvent], marker: Option<usize>) -> String {
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
pub(super) fn fail(
    events: &[RunEvent],
    marker: Option<usize>,
    headline: impl std::fmt::Display,
) -> ! {
    panic!("{headline}\n{}", listing(events, marker))
}
