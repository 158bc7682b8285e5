//! The seed's snippets as the examples implement them (imported, not copied): consent awaited
//! in `on_enter`, a contact task awaited from a tool, and the unordered behavioural interview.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_examples::agents::consent::{CollectConsent, CustomerServiceAgent};
use agents_examples::agents::contact_info::{
    ContactInfoResult, CustomerServiceAgent as ContactAgent, GetContactInfoTask,
};
use agents_examples::agents::interview::{BehavioralResults, Interviewer};
use agents_examples::demos;
use serde_json::json;

/// The consent demo's scripted model.
fn llm() -> ScriptedLlm {
    demos::consent::demo().llm
}

#[tokio::test]
async fn consent_given_continues_the_conversation() {
    let llm = llm();
    let session = AgentSession::builder(llm.clone()).build();
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
    let session = AgentSession::builder(llm()).build();
    session.start(CustomerServiceAgent).await.unwrap();
    let turn = session.run("No, I don't want that").await.unwrap();
    turn.expect().contains_function_call("consent_denied", None);
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("can't continue without consent");
    assert_eq!(turn.final_output::<bool>(), Some(&false));
    // The agent asked the session to end: the next turn finds it closed.
    let next = session.run("hello?").await;
    assert!(matches!(next, Err(Error::Closed)), "{next:?}");
}

#[tokio::test]
async fn contact_info_task_runs_from_a_tool_with_the_parent_history() {
    // The contact_info demo's scripted model.
    let llm = demos::contact_info::demo().llm;
    let session = AgentSession::builder(llm.clone()).build();
    session.start(ContactAgent).await.unwrap();

    // The tool starts the task; the turn ends while the task waits for the user.
    let turn = session.run("I'd like to update my details").await.unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("collect_contact_info", None);
    e.next_event().is_agent_handoff_to::<GetContactInfoTask>();
    e.next_event()
        .is_message(Role::Assistant)
        .containing("name, email address and phone number");
    e.no_more_events();

    let turn = session
        .run("I'm Jane Doe, jane.doe@example.com, plus one 555 010 0199.")
        .await
        .unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("record_contact_info", json!({"name": "Jane Doe"}));
    e.next_event().is_function_call_output();
    e.next_event()
        .is_function_call_output()
        .with_output_containing("Recorded contact info for Jane Doe.");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("details are saved");
    e.no_more_events();
    assert_eq!(
        turn.final_output::<ContactInfoResult>()
            .map(|r| r.email_address.as_str()),
        Some("jane.doe@example.com")
    );

    // The task saw the parent's history without the parent's instructions.
    let task_request = llm
        .requests()
        .into_iter()
        .find(|r| r.offers_tool("record_contact_info"))
        .unwrap();
    let instructions = task_request.instructions();
    assert!(instructions.contains("Collect the user's name"));
    assert!(!instructions.contains("customer service representative"));
    assert!(task_request
        .chat_ctx
        .messages()
        .any(|m| m.content.contains("update my details")));
    // The parent's tool call is not in the task's history (only the task's own tools are).
    assert!(!task_request.chat_ctx.items().iter().any(
        |i| matches!(i, agents_core::llm::ChatItem::FunctionCall(c) if c.name == "collect_contact_info")
    ));
    session.close().await;
}

#[tokio::test]
async fn behavioural_task_completes_only_when_all_three_are_in() {
    let llm = ScriptedLlm::new()
        .on_user(
            "i work best",
            Reply::call("record_work_style", json!({"work_style": "async, written"})),
        )
        .on_user(
            "strength",
            Reply::calls(vec![
                ("record_strengths", json!({"strengths_summary": "focus"})),
                (
                    "record_weaknesses",
                    json!({"weaknesses_summary": "delegation"}),
                ),
            ]),
        )
        // The thanks repeats what the agent passed on from the task's result.
        .on_instructions(
            "thank the candidate",
            Reply::dynamic(|r| Reply::text(r.instructions())),
        )
        .after_tool(
            "record_work_style",
            Reply::text("Got it. What are your strengths and weaknesses?"),
        );
    let session = AgentSession::builder(llm).build();
    session.start(Interviewer).await.unwrap();

    let turn = session.run("I work best async, in writing").await.unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("strengths, weaknesses");
    assert!(turn.final_output::<BehavioralResults>().is_none());

    let turn = session
        .run("My strength is focus, my weakness is delegation")
        .await
        .unwrap();
    let mut e = turn.expect();
    e.next_event().is_function_call("record_strengths", None);
    e.next_event().is_function_call("record_weaknesses", None);
    e.next_event()
        .is_function_call_output()
        .with_output_containing("Continue collecting: weaknesses.");
    e.next_event()
        .is_function_call_output()
        .with_output_containing("Recorded.");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("async, written");
    e.no_more_events();
    assert_eq!(
        turn.final_output::<BehavioralResults>(),
        Some(&BehavioralResults {
            strengths: "focus".into(),
            weaknesses: "delegation".into(),
            work_style: "async, written".into(),
        })
    );
    session.close().await;
}
