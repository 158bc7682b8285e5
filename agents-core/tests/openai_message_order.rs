//! A task awaited from a tool, through the OpenAI provider, against a server that enforces the
//! Chat Completions rule on tool messages: an assistant message with `tool_calls` must be
//! followed directly by one `tool` message per call, and a `tool` message may appear nowhere
//! else (the API answers 400 otherwise). The task's conversation happens between the call and
//! its output, so the provider has to put the output first.

mod common;

use agents_core::prelude::*;
use common::*;
use serde_json::Value;

/// Ask for the date.
#[agent_task(result = String)]
struct DateTask;

#[function_tools]
impl DateTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.say("What date?").await
    }

    /// Record the date.
    #[function_tool]
    async fn record_date(&mut self, ctx: &mut TaskContext<'_, String>, date: String) {
        ctx.complete(date);
    }
}

/// Books tables.
#[agent]
struct Booker;

#[function_tools]
impl Booker {
    /// Ask the user for the date.
    #[function_tool]
    async fn ask_date(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        ctx.say("Let me ask.").await?;
        Ok(format!("date={}", ctx.run_task(DateTask).await?))
    }
}

/// Why `messages` breaks the tool-message rule, if it does.
fn tool_rule_violation(messages: &[Value]) -> Option<String> {
    let mut i = 0;
    while i < messages.len() {
        if messages[i]["role"] == "tool" {
            return Some(format!(
                "message {i} is a tool message without its call before it"
            ));
        }
        let calls = messages[i]["tool_calls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        i += 1;
        for call in calls {
            match messages.get(i) {
                Some(m) if m["role"] == "tool" && m["tool_call_id"] == call["id"] => i += 1,
                _ => {
                    return Some(format!(
                        "tool call {} is not answered right after it",
                        call["id"]
                    ))
                }
            }
        }
    }
    None
}

#[tokio::test]
async fn a_task_run_from_a_tool_is_sent_in_an_order_the_api_accepts() {
    let server = FaultServer::start().await;
    server.set_responder(|body| {
        let messages = messages(body);
        if let Some(why) = tool_rule_violation(&messages) {
            return status(400, &[], &format!(r#"{{"error":{{"message":"{why}"}}}}"#));
        }
        let last = messages.last().cloned().unwrap_or(Value::Null);
        match (last["role"].as_str(), last["content"].as_str()) {
            (Some("user"), Some("book a table")) => call_reply("call_1", "ask_date", "{}"),
            (Some("user"), Some("friday")) => {
                call_reply("call_2", "record_date", r#"{"date":"friday"}"#)
            }
            (Some("tool"), _) => text_reply("Booked for friday."),
            _ => text_reply("Hello."),
        }
    });
    let session = AgentSession::builder(server.llm().build().unwrap()).build();
    session.start(Booker).await.unwrap();

    let asked = session.run("book a table").await.unwrap();
    assert_eq!(asked.assistant_text(), "Let me ask. What date?");
    let booked = session.run("friday").await.unwrap();
    assert_eq!(booked.assistant_text(), "Booked for friday.");

    // The agent's follow-up request carried the task's conversation after the output.
    let last = server.last_body();
    assert_eq!(tool_rule_violation(&messages(&last)), None);
    assert_eq!(tool_outputs(&last), vec!["date=friday".to_string()]);
    assert_eq!(user_texts(&last), vec!["book a table", "friday"]);
    assert!(assistant_texts(&last).contains(&"What date?".to_string()));
}
