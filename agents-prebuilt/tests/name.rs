//! `GetNameTask` end to end with a scripted LLM.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::{GetNameTask, NameResult};
use common::CaptureScript;
use serde_json::json;

runner!(NameRunner, GetNameTask, NameResult, scripted by llm);

fn name(first: &str, last: Option<&str>) -> serde_json::Value {
    json!({"first_name": first, "middle_name": null, "last_name": last})
}

/// What the script's `update_name` call passes for each user input: (input, first, last).
const UPDATES: [(&str, &str, Option<&str>); 8] = [
    ("ada lovelace", "Ada", Some("Lovelace")),
    ("just ada", "Ada", None),
    ("j o h n", "J O H N", Some("S M I T H")),
    ("jon", "Jon", Some("Smith")),
    ("placeholder", "N/A", Some("Unknown")),
    ("digits", "1234", Some("Smith")),
    ("no last", "Ada", None),
    ("first name only", "first name", None),
];

fn llm() -> ScriptedLlm {
    let llm = ScriptedLlm::new()
        .on_instructions("first and last name", Reply::text("May I have your name?"))
        .on_instructions("first name", Reply::text("What's your first name?"));
    UPDATES
        .into_iter()
        .fold(llm, |llm, (input, first, last)| {
            llm.on_user(input, Reply::call("update_name", name(first, last)))
        })
        .on_user(
            "yes john",
            Reply::call("confirm_name", name("john", Some("SMITH"))),
        )
        .declines_on(
            "won't say",
            "decline_name_capture",
            "wants to stay anonymous",
        )
        .after_tool("update_name", Reply::text("Got it."))
}

#[tokio::test]
async fn first_name_only_by_default() {
    let (llm, session, _) = NameRunner::scripted(GetNameTask::new()).await;
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
    let (_, session, outcome) = NameRunner::scripted(GetNameTask::new().last_name(true)).await;
    let turn = session.run("It's Ada Lovelace").await.unwrap();
    common::assert_completes_at_once(&turn, "update_name", None, &["Ada Lovelace"]);
    let result = common::take(&outcome).unwrap().unwrap();
    assert_eq!(result.full_name(), "Ada Lovelace");
    session.close().await;
}

#[tokio::test]
async fn spelled_name_is_read_back_letter_by_letter_and_confirmed() {
    let task = GetNameTask::new().last_name(true).verify_spelling(true);
    let (llm, session, _) = NameRunner::scripted(task).await;
    let ask = llm.requests()[0].instructions();
    assert!(ask.contains("to spell it"), "{ask}");

    let turn = common::speak(&session, "J O H N, S M I T H").await;
    common::assert_output(
        &turn,
        false,
        &[
            "letter by letter",
            "\"first name J O H N; last name S M I T H\"",
        ],
    );
    assert!(turn.final_output::<NameResult>().is_none());

    // Confirmed with other capitals: case is not something the user can hear.
    let turn = common::speak(&session, "yes John Smith").await;
    turn.expect().contains_function_call("confirm_name", None);
    let result = turn.final_output::<NameResult>().unwrap();
    assert_eq!(result.first_name.as_deref(), Some("John"));
    assert_eq!(result.last_name.as_deref(), Some("Smith"));
    session.close().await;
}

superseded_test!(
    confirming_a_superseded_name_is_refused,
    NameRunner,
    GetNameTask::new()
        .last_name(true)
        .require_confirmation(true),
    ["j o h n s m i t h", "sorry, it's Jon", "yes John"],
    "Jon Smith",
);

#[tokio::test]
async fn placeholders_missing_parts_and_non_names_are_refused() {
    let (llm, session, outcome) = NameRunner::scripted(GetNameTask::new().last_name(true)).await;
    let cases = [
        ("placeholder please", "`N/A` is a placeholder"),
        ("digits", "`1234` has no letters"),
        ("no last name", "the last name is missing"),
    ];
    for turn in common::assert_each_refused(&session, &cases).await {
        assert!(turn.final_output::<NameResult>().is_none());
    }
    common::close_while_pending(session, &outcome).await;

    let (session, _) = NameRunner::start(&llm, GetNameTask::new()).await;
    let turn = session.run("first name only").await.unwrap();
    common::assert_output(&turn, true, &["placeholder"]);
    session.close().await;
}

declining_test!(
    NameRunner,
    GetNameTask::new(),
    "I won't say",
    "name",
    Some("wants to stay anonymous"),
);
