//! `GetNameTask` end to end with a scripted LLM.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::{CaptureDeclined, GetNameTask, NameResult};
use serde_json::json;

runner!(NameRunner, GetNameTask, NameResult);

fn name(first: &str, last: Option<&str>) -> serde_json::Value {
    json!({"first_name": first, "middle_name": null, "last_name": last})
}

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions("first and last name", Reply::text("May I have your name?"))
        .on_instructions("first name", Reply::text("What's your first name?"))
        .on_user(
            "ada lovelace",
            Reply::call("update_name", name("Ada", Some("Lovelace"))),
        )
        .on_user("just ada", Reply::call("update_name", name("Ada", None)))
        .on_user(
            "j o h n",
            Reply::call("update_name", name("J O H N", Some("S M I T H"))),
        )
        .on_user(
            "jon",
            Reply::call("update_name", name("Jon", Some("Smith"))),
        )
        .on_user(
            "yes john",
            Reply::call("confirm_name", name("john", Some("SMITH"))),
        )
        .on_user(
            "placeholder",
            Reply::call("update_name", name("N/A", Some("Unknown"))),
        )
        .on_user(
            "digits",
            Reply::call("update_name", name("1234", Some("Smith"))),
        )
        .on_user("no last", Reply::call("update_name", name("Ada", None)))
        .on_user(
            "first name only",
            Reply::call("update_name", name("first name", None)),
        )
        .on_user(
            "won't say",
            Reply::call(
                "decline_name_capture",
                json!({"reason": "wants to stay anonymous"}),
            ),
        )
        .after_tool("update_name", Reply::text("Got it."))
}

#[tokio::test]
async fn first_name_only_by_default() {
    let llm = llm();
    let (session, _) = NameRunner::start(&llm, GetNameTask::new()).await;
    let start = llm.requests()[0].clone();
    assert!(start.instructions().contains("Collect the first name only"));
    // The LLM passes a last name it was not asked for: it is dropped.
    let turn = session.run("Ada Lovelace").await.unwrap();
    assert_eq!(
        turn.final_output::<NameResult>(),
        Some(&NameResult {
            first_name: Some("Ada".into()),
            middle_name: None,
            last_name: None,
        })
    );
    session.close().await;
}

#[tokio::test]
async fn first_and_last_name_typed_completes_at_once() {
    let llm = llm();
    let (session, outcome) = NameRunner::start(&llm, GetNameTask::new().last_name(true)).await;
    let turn = session.run("It's Ada Lovelace").await.unwrap();
    let mut e = turn.expect();
    e.next_event().is_function_call("update_name", None);
    e.next_event()
        .is_function_call_output()
        .is_error(false)
        .with_output_containing("Ada Lovelace");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("Task finished");
    e.no_more_events();
    let result = common::take(&outcome).unwrap().unwrap();
    assert_eq!(result.full_name(), "Ada Lovelace");
    session.close().await;
}

#[tokio::test]
async fn spelled_name_is_read_back_letter_by_letter_and_confirmed() {
    let llm = llm();
    let task = GetNameTask::new().last_name(true).verify_spelling(true);
    let (session, _) = NameRunner::start(&llm, task).await;
    let ask = llm.requests()[0].instructions();
    assert!(ask.contains("to spell it"), "{ask}");

    let turn = session
        .run_as("J O H N, S M I T H", InputModality::Audio)
        .await
        .unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("letter by letter")
        .with_output_containing("\"first name J O H N; last name S M I T H\"");
    assert!(turn.final_output::<NameResult>().is_none());

    // Confirmed with other capitals: case is not something the user can hear.
    let turn = session
        .run_as("yes John Smith", InputModality::Audio)
        .await
        .unwrap();
    turn.expect().contains_function_call("confirm_name", None);
    let result = turn.final_output::<NameResult>().unwrap();
    assert_eq!(result.first_name.as_deref(), Some("John"));
    assert_eq!(result.last_name.as_deref(), Some("Smith"));
    session.close().await;
}

#[tokio::test]
async fn confirming_a_superseded_name_is_refused() {
    let llm = llm();
    let (session, outcome) = NameRunner::start(
        &llm,
        GetNameTask::new()
            .last_name(true)
            .require_confirmation(true),
    )
    .await;
    session.run("j o h n s m i t h").await.unwrap();
    session.run("sorry, it's Jon").await.unwrap();
    let turn = session.run("yes John").await.unwrap();
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("changed")
        .with_output_containing("Jon Smith");
    assert!(common::take(&outcome).is_none());
    session.close().await;
}

#[tokio::test]
async fn placeholders_missing_parts_and_non_names_are_refused() {
    let llm = llm();
    let (session, outcome) = NameRunner::start(&llm, GetNameTask::new().last_name(true)).await;
    let cases = [
        ("placeholder please", "`N/A` is a placeholder"),
        ("digits", "`1234` has no letters"),
        ("no last name", "the last name is missing"),
    ];
    for (input, reason) in cases {
        let turn = session.run(input).await.unwrap();
        turn.expect()
            .contains_function_call_output(true)
            .with_output_containing(reason);
        assert!(turn.final_output::<NameResult>().is_none());
    }
    assert!(common::take(&outcome).is_none());
    session.close().await;

    let (session, _) = NameRunner::start(&llm, GetNameTask::new()).await;
    let turn = session.run("first name only").await.unwrap();
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("placeholder");
    session.close().await;
}

#[tokio::test]
async fn declining_fails_the_task_with_a_typed_error() {
    let llm = llm();
    let (session, outcome) = NameRunner::start(&llm, GetNameTask::new()).await;
    session.run("I won't say").await.unwrap();
    let err = common::take(&outcome).unwrap().unwrap_err();
    let declined = err.downcast_ref::<CaptureDeclined>().unwrap();
    assert_eq!(declined.what, "name");
    assert_eq!(declined.reason, "wants to stay anonymous");
    session.close().await;
}
