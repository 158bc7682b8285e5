//! What a task's conversation leaves in its caller's history: its messages always, its tool
//! calls only when the caller asks (`.preserve_function_calls()`) or the task declares it
//! (`#[agent_task(..., preserve_function_calls)]`).

use agents_core::llm::{ChatItem, ChatRequest};
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

#[macro_use]
mod common;

ask_task!(
    AskColour,
    "Ask for a colour.",
    say("Which colour?"),
    record_colour(colour)
);
ask_task!(
    AskColourKept[preserve_function_calls],
    "Ask for a colour, keeping the tool calls in the caller's history.",
    say("Which colour?"),
    record_colour(colour)
);

/// Paints things.
#[agent]
struct Painter;

#[function_tools]
impl Painter {
    /// Ask for a colour (`how`: "plain", "caller" or "task").
    #[function_tool]
    async fn ask(&mut self, ctx: &mut AgentContext<'_>, how: String) -> Result<String> {
        let colour = match how.as_str() {
            "caller" => ctx.run_task(AskColour).preserve_function_calls().await?,
            "task" => ctx.run_task(AskColourKept).await?,
            _ => ctx.run_task(AskColour).await?,
        };
        Ok(format!("colour={colour}"))
    }
}

/// Whether the agent's last request held the task's `record_colour` call, and its answer.
async fn run_with(how: &str) -> (bool, bool) {
    let llm = ScriptedLlm::new()
        .on_user("paint", Reply::call("ask", json!({"how": how})))
        .on_user(
            "blue",
            Reply::call("record_colour", json!({"colour": "blue"})),
        )
        .after_tool("ask", Reply::text("Painting it blue."));
    let session = AgentSession::new(llm.clone());
    session.start(Painter).await.unwrap();
    session.run("paint the fence").await.unwrap();
    let done = session.run("blue").await.unwrap();
    assert_eq!(done.assistant_text(), "Painting it blue.");
    let requests = llm.requests();
    let last: &ChatRequest = requests.last().unwrap();
    assert!(
        last.tools.iter().any(|t| t.name == "ask"),
        "the agent's request"
    );
    let items = last.chat_ctx.items();
    let call = items
        .iter()
        .any(|i| matches!(i, ChatItem::FunctionCall(c) if c.name == "record_colour"));
    let said = items
        .iter()
        .any(|i| matches!(i, ChatItem::Message(m) if m.role == Role::User && m.content == "blue"));
    (call, said)
}

#[tokio::test]
async fn tool_calls_merge_back_only_when_asked() {
    assert_eq!(run_with("plain").await, (false, true));
    assert_eq!(run_with("caller").await, (true, true));
    assert_eq!(run_with("task").await, (true, true));
}
