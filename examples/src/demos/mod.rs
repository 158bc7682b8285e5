//! The scripted conversations of `demo` mode, one module per example: the scripted model's
//! replies and the user's lines. The replies several scripts share (the answer after a capture
//! task, a task group's summary, the read-back and confirmation of a value heard by voice) are
//! built here.
//!
//! The prebuilt capture tasks read a value back and wait for the user to confirm it when it
//! was spoken, not when it was typed. A demo with such a task therefore has spoken lines of its
//! own ([`Demo::spoken`](crate::Demo::spoken)), with the confirmations, and the script's rules
//! for them, which typed input never reaches.

pub mod consent;
pub mod contact_info;
pub mod dtmf;
pub mod intake;
pub mod interview;
pub mod onboarding;
pub mod payment;
pub mod survey;
pub mod warm_transfer;

use agents_core::llm::{ChatItem, ChatRequest};
use agents_core::testing::{Reply, Rule, ScriptedLlm};

/// The latest item of the request's history that `pick` accepts, as `pick` maps it.
fn latest<'a, T>(request: &'a ChatRequest, pick: impl Fn(&'a ChatItem) -> Option<T>) -> Option<T> {
    request.chat_ctx.items().iter().rev().find_map(pick)
}

/// The output of the latest tool call in the request's history: what the model just read.
pub(super) fn last_tool_output(request: &ChatRequest) -> Option<&str> {
    latest(request, |item| match item {
        ChatItem::FunctionCallOutput(o) => Some(o.output.as_str()),
        _ => None,
    })
}

/// The model's answer right after a tool that ran a capture task: `declined` when the tool's
/// output says the user declined, otherwise `done` of that output.
fn after_capture(
    declined: &'static str,
    done: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> Reply {
    Reply::dynamic(move |request| {
        let output = last_tool_output(request).unwrap_or_default();
        if output.contains("declined") {
            Reply::text(declined)
        } else {
            done(output)
        }
    })
}

/// Answers a task group's summary request (the group merges its conversation into the agent's
/// as this summary).
fn group_summary(summary: &'static str) -> Rule {
    Rule::when(|r| r.instructions().contains("You summarise a conversation"))
        .reply(Reply::text(summary))
}

/// The read-back and confirmation of a value a capture task heard.
struct Confirmation {
    /// The task's tool that records the value.
    update: &'static str,
    /// What the model says after recording it.
    read_back: &'static str,
    /// A part of the user's answer that confirms it.
    agreed: &'static str,
    /// The task's tool that confirms the value.
    confirm: &'static str,
    /// The confirm tool's arguments: the value as recorded.
    value: serde_json::Value,
}

/// Adds the rules a spoken value's confirmation needs; both fire only while the task offers
/// its confirm tool. A typed value completes the task at once, so the read-back is never
/// reached by typed input, and the answer's pattern is one the typed lines do not say while
/// the task runs: `demo` mode plays exactly as without these rules.
trait ConfirmsByVoice {
    /// The script with `confirmation`'s two rules added.
    fn confirms(self, confirmation: Confirmation) -> Self;
}

impl ConfirmsByVoice for ScriptedLlm {
    fn confirms(self, c: Confirmation) -> Self {
        self.rule(
            Rule::after_tool(c.update)
                .if_tool_offered(c.confirm)
                .reply(Reply::text(c.read_back)),
        )
        .rule(
            Rule::on_user(c.agreed)
                .if_tool_offered(c.confirm)
                .reply(Reply::call(c.confirm, c.value)),
        )
    }
}
