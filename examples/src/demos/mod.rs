//! The scripted conversations of `demo` mode, one module per example: the scripted model's
//! replies and the user's lines. The replies several scripts share (the answer after a capture
//! task, a task group's summary) are built here.

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
use agents_core::testing::{Reply, Rule};

/// The latest item of the request's history that `pick` accepts, as `pick` maps it.
fn latest<'a, T>(request: &'a ChatRequest, pick: impl Fn(&'a ChatItem) -> Option<T>) -> Option<T> {
    request.chat_ctx.items().iter().rev().find_map(pick)
}

/// The output of the latest tool call in the request's history: what the model just read.
fn last_tool_output(request: &ChatRequest) -> Option<&str> {
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
