//! The seed's consent flow: `CustomerServiceAgent` awaits `CollectConsent` in `on_enter`.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};

/// Ask for recording consent and get a clear yes or no answer.
/// Be polite and professional.
#[agent_task(result = bool)]
struct CollectConsent;

#[function_tools]
impl CollectConsent {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, bool>) -> Result<()> {
        ctx.generate_reply(
            "Briefly introduce yourself, then ask for permission to record the call for quality \
             assurance and training purposes. Make it clear that they can decline.",
        )
        .await
    }

    /// Use this when the user gives consent to record.
    #[function_tool]
    async fn consent_given(&mut self, ctx: &mut TaskContext<'_, bool>) {
        ctx.complete(true);
    }

    /// Use this when the user denies consent to record.
    #[function_tool]
    async fn consent_denied(&mut self, ctx: &mut TaskContext<'_, bool>) {
        ctx.complete(false);
    }
}

/// You are a friendly customer service representative.
#[agent]
struct CustomerServiceAgent;

#[function_tools]
impl CustomerServiceAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        if ctx.run_task(CollectConsent).await? {
            ctx.generate_reply("Offer your assistance to the user.")
                .await
        } else {
            ctx.generate_reply(
                "Inform the user that you are unable to proceed and will end the call.",
            )
            .await?;
            ctx.shutdown();
            Ok(())
        }
    }
}

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions(
            "ask for permission to record",
            Reply::text("Hi, I'm Sam. May I record this call for quality purposes?"),
        )
        .on_user("yes", Reply::call("consent_given", serde_json::json!({})))
        .on_user("no", Reply::call("consent_denied", serde_json::json!({})))
        .on_instructions(
            "offer your assistance",
            Reply::text("Thanks! How can I help you today?"),
        )
        .on_instructions(
            "unable to proceed",
            Reply::text("I understand. I can't proceed without consent, goodbye."),
        )
}

#[tokio::test]
async fn consent_given_continues_the_conversation() {
    let llm = llm();
    let session = AgentSession::builder().llm(llm.clone()).build().unwrap();
    let start = session.start(CustomerServiceAgent).await.unwrap();
    let mut e = start.expect();
    e.next_event().is_agent_handoff("customer_service_agent");
    e.next_event().is_agent_handoff_to::<CollectConsent>();
    e.next_event()
        .is_message(Role::Assistant)
        .containing("record this call");
    e.no_more_events();

    let turn = session.run("Yes, that's fine").await.unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("consent_given", serde_json::json!({}));
    e.next_event().is_function_call_output();
    e.next_event()
        .is_message(Role::Assistant)
        .containing("How can I help");
    e.no_more_events();
    assert_eq!(turn.final_output::<bool>(), Some(&true));

    // The consent task saw its own instructions and tools, not the agent's.
    let requests = llm.requests();
    let first = &requests[0];
    assert!(first.instructions().contains("Ask for recording consent"));
    assert!(
        first.offers_tool("consent_given") && first.offers_tool("consent_denied"),
        "on_enter replies offer the task's tools"
    );
    let answer = &requests[1];
    assert!(answer.offers_tool("consent_given") && answer.offers_tool("consent_denied"));
    // The task's conversation merged back into the agent's: the user's answer is there, the
    // task's instructions and function calls are not.
    let offer = requests
        .iter()
        .find(|r| r.instructions().contains("Offer your assistance"))
        .unwrap();
    assert!(offer
        .chat_ctx
        .messages()
        .any(|m| m.content == "Yes, that's fine"));
    assert!(!offer.instructions().contains("Ask for recording consent"));
    assert!(!offer
        .chat_ctx
        .items()
        .iter()
        .any(|i| matches!(i, agents_core::llm::ChatItem::FunctionCall(_))));
    assert!(!session.is_closed());
    session.close().await;
}

#[tokio::test]
async fn consent_denied_ends_the_session() {
    let session = AgentSession::builder().llm(llm()).build().unwrap();
    session.start(CustomerServiceAgent).await.unwrap();
    let turn = session.run("No, I don't want that").await.unwrap();
    turn.expect().contains_function_call("consent_denied", None);
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("can't proceed");
    assert_eq!(turn.final_output::<bool>(), Some(&false));
    // The agent asked the session to end: the next turn finds it closed.
    let next = session.run("hello?").await;
    assert!(matches!(next, Err(Error::Closed)), "{next:?}");
}
