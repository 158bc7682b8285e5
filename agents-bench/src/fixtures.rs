//! The agent, tasks and in-process LLM the workloads share.
//!
//! `IntakeAgent` runs a two-task `TaskGroup`; its first task, `IntakeTask`, greets the caller in
//! `on_enter` and then records details with the three-parameter tool `record_detail`, which
//! returns a string and never completes the task, so every user turn stays in that task.

use agents_core::llm::{
    ChatChunk, ChatItem, ChatRequest, ChatStream, Llm, LlmError, Role, ToolCallRequest,
};
use agents_core::prelude::*;
use futures::future::BoxFuture;
use futures::FutureExt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Name of the three-parameter tool.
pub const TOOL: &str = "record_detail";
/// Arguments the LLMs send to [`TOOL`].
pub const TOOL_ARGS: &str = r#"{"name":"Alex Martin","count":3,"urgent":false}"#;
/// The user's line in every turn.
pub const USER_TEXT: &str = "My name is Alex Martin, three items, not urgent.";
/// Greeting the LLMs answer to reply instructions.
pub const GREETING: &str = "Hello! What's your name?";
/// Reply the LLMs give after a tool output.
pub const AFTER_TOOL: &str = "Noted, thank you.";

/// Collect the caller's details for a support ticket, one question at a time.
#[agent_task(result = String)]
#[derive(Default)]
pub struct IntakeTask {
    /// How many details were recorded.
    pub recorded: u64,
}

#[function_tools]
impl IntakeTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply("Greet the caller and ask for their name.")
            .await
    }

    /// Record one detail of the ticket.
    ///
    /// # Arguments
    /// * `name` - The caller's full name
    /// * `count` - How many items the ticket is about
    /// * `urgent` - Whether the caller says it is urgent
    #[function_tool]
    pub async fn record_detail(&mut self, name: String, count: i64, urgent: bool) -> String {
        self.recorded += 1;
        format!(
            "Recorded {name}: {count} item(s){}.",
            if urgent { ", urgent" } else { "" }
        )
    }

    /// Call when the caller confirms every detail is right.
    #[function_tool]
    async fn details_confirmed(&mut self, ctx: &mut TaskContext<'_, String>) {
        ctx.complete(format!("{} detail(s)", self.recorded));
    }
}

/// Ask whether the caller wants a callback.
#[agent_task(result = bool)]
pub struct CallbackTask;

#[function_tools]
impl CallbackTask {
    /// Call with the caller's answer.
    #[function_tool]
    async fn callback_answer(&mut self, ctx: &mut TaskContext<'_, bool>, wanted: bool) {
        ctx.complete(wanted);
    }
}

/// You answer a support line.
#[agent]
pub struct IntakeAgent;

#[function_tools]
impl IntakeAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let mut group = TaskGroup::new();
        group.add("intake", "Collects the ticket details", IntakeTask::default);
        group.add("callback", "Asks about a callback", || CallbackTask);
        ctx.run_task(group).await?;
        ctx.say("Thanks, goodbye.").await
    }
}

/// [`IntakeTask`] whose tool also trims the conversation to its last `keep` items (what an
/// application can do with `ctx.chat_ctx_mut()`), so the history stays short however many
/// turns there are.
#[agent_task(result = String)]
pub struct BoundedIntakeTask {
    /// Items kept (besides the leading instructions).
    pub keep: usize,
}

#[function_tools]
impl BoundedIntakeTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply("Greet the caller and ask for their name.")
            .await
    }

    /// Record one detail of the ticket.
    ///
    /// # Arguments
    /// * `name` - The caller's full name
    /// * `count` - How many items the ticket is about
    /// * `urgent` - Whether the caller says it is urgent
    #[function_tool]
    async fn record_detail(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        name: String,
        count: i64,
        urgent: bool,
    ) -> String {
        ctx.chat_ctx_mut().truncate(self.keep);
        format!(
            "Recorded {name}: {count} item(s){}.",
            if urgent { ", urgent" } else { "" }
        )
    }
}

/// [`IntakeAgent`] whose group's first task keeps only the last `keep` conversation items.
#[agent]
pub struct BoundedIntakeAgent {
    /// Items the task keeps.
    pub keep: usize,
}

#[function_tools]
impl BoundedIntakeAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let keep = self.keep;
        let mut group = TaskGroup::new();
        group.add("intake", "Collects the ticket details", move || {
            BoundedIntakeTask { keep }
        });
        group.add("callback", "Asks about a callback", || CallbackTask);
        ctx.run_task(group).await?;
        ctx.say("Thanks, goodbye.").await
    }
}

/// An LLM that answers at once by looking at the request's last item: a user message gets a
/// call of [`TOOL`], a tool output gets [`AFTER_TOOL`], anything else (reply instructions) gets
/// [`GREETING`]. No rules, no request log: cheaper than `ScriptedLlm`.
pub struct InstantLlm {
    next_call: AtomicU64,
    calls: usize,
}

impl Default for InstantLlm {
    fn default() -> Self {
        Self::with_calls(1)
    }
}

impl InstantLlm {
    /// An LLM that answers a user message with `calls` calls of [`TOOL`] in one reply.
    pub fn with_calls(calls: usize) -> Self {
        InstantLlm {
            next_call: AtomicU64::new(0),
            calls,
        }
    }

    /// The chunks of the reply to `request`.
    pub fn reply_to(&self, request: &ChatRequest) -> Vec<Result<ChatChunk, LlmError>> {
        match request.last_item() {
            Some(ChatItem::Message(m)) if m.role == Role::User => (0..self.calls)
                .map(|_| {
                    let n = self.next_call.fetch_add(1, Ordering::Relaxed);
                    Ok(ChatChunk::ToolCall(ToolCallRequest {
                        call_id: format!("call_{n}"),
                        name: TOOL.to_string(),
                        arguments: TOOL_ARGS.to_string(),
                    }))
                })
                .collect(),
            Some(ChatItem::FunctionCallOutput(_)) => {
                vec![Ok(ChatChunk::Text(AFTER_TOOL.to_string()))]
            }
            _ => vec![Ok(ChatChunk::Text(GREETING.to_string()))],
        }
    }
}

impl Llm for InstantLlm {
    fn chat(
        &self,
        request: ChatRequest,
    ) -> BoxFuture<'_, std::result::Result<ChatStream, LlmError>> {
        let chunks = self.reply_to(&request);
        drop(request);
        futures::future::ready(Ok(Box::pin(futures::stream::iter(chunks)) as ChatStream)).boxed()
    }

    fn label(&self) -> String {
        "instant".into()
    }
}

/// Checks that a turn went user → tool call → tool output → reply, so a broken fixture cannot
/// pass for a fast one.
pub fn check_tool_turn(turn: &RunResult) {
    let calls = turn
        .events()
        .iter()
        .filter(|e| matches!(e, RunEvent::FunctionCall(c) if c.name == TOOL))
        .count();
    let outputs = turn
        .events()
        .iter()
        .filter(|e| matches!(e, RunEvent::FunctionCallOutput(o) if o.name == TOOL && !o.is_error))
        .count();
    assert!(
        calls >= 1 && calls == outputs,
        "expected successful {TOOL} calls, got {:?}",
        turn.events()
    );
    assert!(
        turn.assistant_text().contains(AFTER_TOOL) || turn.assistant_text().contains("Done"),
        "expected a reply after the tool, got {:?}",
        turn.events()
    );
}
