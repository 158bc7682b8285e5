//! A hook that generates two replies, each asking for a tool: after the hook returns, each
//! reply's tool calls run and that reply goes on under its own instructions, in order.

use agents_core::llm::{ChatItem, ChatRequest, Role};
use agents_core::prelude::*;
use agents_core::testing::{Reply, Rule, ScriptedLlm};
use serde_json::json;

/// Greet the user.
#[agent]
struct Greeter;

#[function_tools]
impl Greeter {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        ctx.generate_reply("FIRST: welcome the caller.").await?;
        ctx.generate_reply("SECOND: ask how to help.").await
    }

    /// Note something about the conversation.
    #[function_tool]
    async fn note(&mut self, what: String) -> String {
        format!("noted {what}")
    }
}

/// The instructions of this request only (the system message after the last conversation item
/// that is not a system message).
fn reply_instructions(req: &ChatRequest) -> Option<String> {
    match req.chat_ctx.items().last()? {
        ChatItem::Message(m) if m.role == Role::System => Some(m.content.clone()),
        _ => None,
    }
}

/// The output of the last tool call the request carries, if any.
fn last_tool_output(req: &ChatRequest) -> Option<String> {
    req.chat_ctx
        .items()
        .iter()
        .rev()
        .find_map(|item| match item {
            ChatItem::FunctionCallOutput(out) => Some(out.output.clone()),
            _ => None,
        })
}

#[tokio::test]
async fn each_hook_reply_goes_on_under_its_own_instructions() {
    let llm = ScriptedLlm::new()
        .after_tool("note", Reply::text("Done."))
        .rule(
            Rule::on_instructions("FIRST")
                .reply(Reply::call("note", json!({"what": "first"})).with_text("Welcome."))
                .times(1),
        )
        .rule(
            Rule::on_instructions("SECOND")
                .reply(Reply::call("note", json!({"what": "second"})).with_text("How can I help?"))
                .times(1),
        );
    let session = AgentSession::builder(llm.clone()).build();
    session.start(Greeter).await.unwrap();

    let requests = llm.requests();
    let follow_ups: Vec<(Option<String>, Option<String>)> = requests
        .iter()
        .filter(|r| last_tool_output(r).is_some())
        .map(|r| (reply_instructions(r), last_tool_output(r)))
        .collect();
    assert_eq!(
        follow_ups,
        vec![
            (
                Some("FIRST: welcome the caller.".to_string()),
                Some("noted first".to_string())
            ),
            (
                Some("SECOND: ask how to help.".to_string()),
                Some("noted second".to_string())
            ),
        ],
        "each reply's tool output is followed up under that reply's instructions"
    );
    assert_eq!(requests.len(), 4, "two hook replies and two follow-ups");
    session.close().await;
}
