//! `AgentSession::truncate_reply`: after a voice interruption the conversation keeps only what
//! the user heard of the reply.

use agents_core::llm::{ChatItem, ChatMessage, ChatRequest};
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

#[macro_use]
mod common;

use common::{drain, user_lines};

/// Helps the user.
#[agent]
struct Helper;

#[function_tools]
impl Helper {
    /// Use this when the user wants to sign up.
    #[function_tool]
    async fn sign_up(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let email = ctx.run_task(GetEmail { sensitive: false }).await?;
        Ok(format!("Signed up {email}."))
    }

    /// Use this when the user wants to pay.
    #[function_tool]
    async fn pay(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let email = ctx.run_task(GetEmail { sensitive: true }).await?;
        Ok(format!("Paid for {email}."))
    }
}

ask_task!(
    GetEmail { sensitive },
    "Collect the user's email address.",
    generate_reply("Ask for the email address."),
    record_email(email)
);

/// The assistant messages of a request, in order.
fn assistant_messages(request: &ChatRequest) -> Vec<ChatMessage> {
    request
        .chat_ctx
        .items()
        .iter()
        .filter_map(|i| match i {
            ChatItem::Message(m) if m.role == Role::Assistant => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user(
            "hello",
            Reply::text("Hello there, how can I help you today?"),
        )
        .on_user("sign me up", Reply::call("sign_up", json!({})))
        .on_user("pay", Reply::call("pay", json!({})))
        .on_instructions(
            "ask for the email",
            Reply::text("What is your email address, please?"),
        )
        .on_user(
            "@",
            Reply::dynamic(|req| {
                let email = req.last_user_text().unwrap_or_default().to_string();
                Reply::call("record_email", json!({ "email": email }))
            }),
        )
        .otherwise(Reply::text("Sure."))
}

/// A session with the helper started, its model, and the session's events from then on.
async fn start() -> (AgentSession, ScriptedLlm, UnboundedReceiver<SessionEvent>) {
    let llm = llm();
    let session = AgentSession::new(llm.clone());
    session.start(Helper).await.unwrap();
    let events = session.subscribe();
    (session, llm, events)
}

#[tokio::test]
async fn the_reply_is_cut_to_what_was_heard_and_marked_interrupted() {
    let (session, llm, mut events) = start().await;
    session.run("hello").await.unwrap();
    session.truncate_reply("Hello there,").await.unwrap();
    session.run("what time is it").await.unwrap();

    let request = llm.last_request().unwrap();
    let said = assistant_messages(&request);
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0].content, "Hello there,");
    assert!(said[0].interrupted);

    let seen = drain(&mut events);
    let truncated: Vec<_> = seen
        .iter()
        .filter(|e| matches!(e, SessionEvent::ReplyTruncated { .. }))
        .collect();
    assert_eq!(truncated.len(), 1);
    assert_eq!(
        serde_json::to_value(truncated[0]).unwrap(),
        json!({"type": "reply_truncated", "heard": "Hello there,"})
    );
    session.close().await;
}

#[tokio::test]
async fn nothing_heard_removes_the_reply() {
    let (session, llm, _events) = start().await;
    session.run("hello").await.unwrap();
    session.truncate_reply("").await.unwrap();
    session.run("what time is it").await.unwrap();
    let request = llm.last_request().unwrap();
    assert!(assistant_messages(&request).is_empty());
    // The user's first message is still there: only the reply went.
    assert_eq!(user_lines(&request), ["hello", "what time is it"]);
    session.close().await;
}

#[tokio::test]
async fn an_earlier_turn_is_never_cut() {
    let (session, llm, mut events) = start().await;
    session.run("hello").await.unwrap();
    // The user speaks again, but the reply to it is interrupted before any text: the earlier
    // reply was heard in full and stays.
    let _ = llm
        .clone()
        .fail_next(1, agents_core::llm::LlmError::Connection("reset".into()));
    assert!(session.run("and another thing").await.is_err());
    session.truncate_reply("").await.unwrap();
    session.run("what time is it").await.unwrap();
    let said = assistant_messages(&llm.last_request().unwrap());
    assert_eq!(said.len(), 1);
    assert_eq!(said[0].content, "Hello there, how can I help you today?");
    assert!(!said[0].interrupted);
    for ev in drain(&mut events) {
        assert!(!matches!(ev, SessionEvent::ReplyTruncated { .. }));
    }
    session.close().await;
}

#[tokio::test]
async fn a_task_awaited_from_a_tool_gets_its_own_reply_cut() {
    let (session, llm, _events) = start().await;
    let turn = session.run("sign me up").await.unwrap();
    assert!(turn
        .expect()
        .contains_message(Role::Assistant)
        .message()
        .content
        .contains("email"));
    // The task asked for the email; the user cut it off after "What is".
    session.truncate_reply("What is").await.unwrap();
    let turn = session.run("alice@example.com").await.unwrap();
    assert_eq!(
        turn.final_output::<String>().map(String::as_str),
        Some("alice@example.com")
    );
    // The task's request had the cut reply; so does the agent's history after the merge.
    let task_request = llm
        .requests()
        .into_iter()
        .find(|r| r.last_user_text() == Some("alice@example.com"))
        .unwrap();
    let said = assistant_messages(&task_request);
    assert_eq!(said.last().unwrap().content, "What is");
    assert!(said.last().unwrap().interrupted);
    session.run("thanks").await.unwrap();
    let said = assistant_messages(&llm.last_request().unwrap());
    assert!(said.iter().any(|m| m.content == "What is" && m.interrupted));
    assert!(!said.iter().any(|m| m.content.contains("email address")));
    session.close().await;
}

#[tokio::test]
async fn inside_a_sensitive_task_the_event_is_redacted() {
    let (session, _llm, mut events) = start().await;
    session.run("pay").await.unwrap();
    session.truncate_reply("What is your").await.unwrap();
    let mut found = false;
    for ev in drain(&mut events) {
        if let SessionEvent::ReplyTruncated { heard, sensitive } = &ev {
            assert_eq!(heard, "What is your");
            assert!(*sensitive);
            assert_eq!(
                serde_json::to_value(&ev).unwrap(),
                json!({"type": "reply_truncated", "heard": "[redacted]", "sensitive": true})
            );
            found = true;
        }
    }
    assert!(found);
    session.close().await;
}

#[tokio::test]
async fn before_start_it_is_a_usage_error_and_after_close_closed() {
    let session = AgentSession::new(llm());
    assert!(matches!(
        session.truncate_reply("x").await,
        Err(Error::Usage(_))
    ));
    session.start(Helper).await.unwrap();
    session.close().await;
    assert!(matches!(
        session.truncate_reply("x").await,
        Err(Error::Closed)
    ));
}
