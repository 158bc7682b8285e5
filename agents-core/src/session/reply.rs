//! Producing speech: one LLM request streamed into the conversation, replies from hooks and
//! tool bodies, text said as is, and cutting a reply to what the user heard.

use super::events::{RunEvent, SessionEvent};
use super::frame::{ActivityState, DeferredReply};
use super::session_core::SessionCore;
use crate::error::{Error, Result};
use crate::llm::{
    ChatChunk, ChatMessage, ChatRequest, FunctionCall, Role, ToolCallRequest, ToolChoice,
};
use crate::tools::ToolDefinition;
use futures::StreamExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The request for the activity's next reply: its conversation, plus `instructions` for this
/// reply only.
pub(crate) fn build_request(
    state: &ActivityState,
    instructions: Option<&str>,
    tools: Vec<Arc<ToolDefinition>>,
    tool_choice: ToolChoice,
) -> ChatRequest {
    let mut chat_ctx = state.chat_ctx.clone();
    if let Some(text) = instructions {
        chat_ctx.push(ChatMessage::new(Role::System, text));
    }
    ChatRequest {
        chat_ctx,
        tools,
        tool_choice,
        ..Default::default()
    }
}

/// The LLM's tool call requests as conversation items.
pub(crate) fn to_function_calls(requested: Vec<ToolCallRequest>) -> Vec<FunctionCall> {
    requested
        .into_iter()
        .map(|c| FunctionCall::new(c.call_id, c.name, c.arguments))
        .collect()
}

/// Streams one LLM reply; its text goes out as it arrives and into the conversation at the end.
/// Returns the tool calls it asked for (none when it was interrupted).
pub(crate) async fn stream_reply(
    core: &mut SessionCore,
    state: &mut ActivityState,
    request: ChatRequest,
) -> Result<Vec<ToolCallRequest>> {
    let llm = core.llm.clone();
    let shared = core.shared.clone();
    let epoch = shared.interrupts.load(Ordering::SeqCst);
    // One wait for `interrupt()` serves the whole reply: enabled before the counter is checked,
    // so an interrupt between the two is not missed, and polled beside each chunk.
    let notified = shared.interrupt.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    if shared.interrupts.load(Ordering::SeqCst) != epoch {
        return Ok(Vec::new());
    }
    let mut stream = tokio::select! {
        biased;
        _ = &mut notified => return Ok(Vec::new()),
        stream = llm.chat(request) => stream?,
    };
    let mut text = String::new();
    let mut calls = Vec::new();
    let mut failure = None;
    let mut cut = false;
    loop {
        let chunk = tokio::select! {
            biased;
            _ = &mut notified => {
                cut = true;
                break;
            }
            chunk = stream.next() => chunk,
        };
        let Some(chunk) = chunk else { break };
        match chunk {
            Ok(ChatChunk::Text(delta)) => {
                if !delta.is_empty() {
                    text.push_str(&delta);
                    core.recorder
                        .emit_from(state, |sensitive| SessionEvent::TextDelta {
                            content: delta,
                            sensitive,
                        });
                }
            }
            Ok(ChatChunk::ToolCall(call)) => calls.push(call),
            Ok(ChatChunk::Usage(usage)) => {
                core.recorder.emit_with(|| SessionEvent::Usage {
                    prompt_tokens: usage.prompt_tokens,
                    completion_tokens: usage.completion_tokens,
                    time_to_first_token_ms: usage
                        .time_to_first_token
                        .map(|d| d.as_secs_f64() * 1000.0),
                });
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if cut {
        // An interrupted reply runs none of its tool calls.
        calls.clear();
    }
    drop(stream);
    if !text.trim().is_empty() {
        let mut msg = ChatMessage::new(Role::Assistant, text);
        msg.interrupted = failure.is_some() || cut;
        state.chat_ctx.push(msg.clone());
        core.recorder.record(RunEvent::Message(msg), state);
    }
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(calls),
    }
}

/// A reply generated from a hook (`offer_tools`) or a tool body (speech only).
///
/// A hook's reply is offered the activity's tools, but the hook holds the activity, so the
/// calls cannot run yet: they are kept and run when the hook returns, and the reply goes on
/// from there. That is also why awaiting such a reply cannot deadlock: it never waits for a
/// tool, and a tool that awaits a task runs with the hook already finished.
pub(crate) async fn speak(
    core: &mut SessionCore,
    state: &mut ActivityState,
    instructions: Option<String>,
    offer_tools: bool,
) -> Result<()> {
    if core.closing {
        return Err(Error::Closed);
    }
    let tools = if offer_tools && core.options.max_tool_steps > 0 {
        state.offered_tools()
    } else {
        Vec::new()
    };
    let offer_tools = !tools.is_empty();
    let choice = if offer_tools {
        ToolChoice::Auto
    } else {
        ToolChoice::None
    };
    let request = build_request(state, instructions.as_deref(), tools, choice);
    let calls = stream_reply(core, state, request).await?;
    if calls.is_empty() {
        return Ok(());
    }
    if !offer_tools {
        tracing::warn!(
            agent = state.id,
            "the LLM asked for tools in a speech-only reply; ignored"
        );
        return Ok(());
    }
    state.deferred.push(DeferredReply {
        calls: to_function_calls(calls),
        instructions,
    });
    Ok(())
}

/// Says `text` verbatim as the activity in control.
pub(crate) fn say(core: &mut SessionCore, state: &mut ActivityState, text: String) {
    core.recorder
        .emit_from(state, |sensitive| SessionEvent::TextDelta {
            content: text.clone(),
            sensitive,
        });
    let msg = ChatMessage::new(Role::Assistant, text);
    state.chat_ctx.push(msg.clone());
    core.recorder.record(RunEvent::Message(msg), state);
}

/// Cuts the activity's reply in progress to what the user heard; see
/// [`AgentSession::truncate_reply`](super::AgentSession::truncate_reply).
pub(crate) fn truncate_reply(core: &mut SessionCore, state: &mut ActivityState, heard: String) {
    if state.chat_ctx.truncate_reply(&heard) {
        core.recorder
            .emit_from(state, |sensitive| SessionEvent::ReplyTruncated {
                heard,
                sensitive,
            });
    }
}
