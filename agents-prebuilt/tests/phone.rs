//! `GetPhoneNumberTask` end to end with a scripted LLM.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::{CaptureDeclined, GetPhoneNumberTask, PhoneNumberResult};
use common::call_with_rest;
use serde_json::json;

runner!(PhoneRunner, GetPhoneNumberTask, PhoneNumberResult);

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions("phone number", Reply::text("What's your phone number?"))
        .on_user(
            "number is",
            call_with_rest("number is", "update_phone_number", "phone_number"),
        )
        .on_user(
            "that's right",
            call_with_rest("that's right:", "confirm_phone_number", "phone_number"),
        )
        .on_user(
            "no thanks",
            Reply::call(
                "decline_phone_number_capture",
                json!({"reason": "does not want to be called"}),
            ),
        )
        .after_tool("update_phone_number", Reply::text("Let me read that back."))
}

fn phone(turn: &RunResult) -> Option<&str> {
    turn.final_output::<PhoneNumberResult>()
        .map(|p| p.phone_number.as_str())
}

#[tokio::test]
async fn typed_national_number_gets_the_default_country_code() {
    let llm = llm();
    let (session, outcome) =
        PhoneRunner::start(&llm, GetPhoneNumberTask::new().default_country_code("1")).await;
    let turn = session.run("my number is (415) 555-0123").await.unwrap();
    let mut e = turn.expect();
    e.next_event().is_function_call(
        "update_phone_number",
        json!({"phone_number": "(415) 555-0123"}),
    );
    e.next_event()
        .is_function_call_output()
        .is_error(false)
        .with_output_containing("+14155550123");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("Task finished");
    e.no_more_events();
    assert_eq!(phone(&turn), Some("+14155550123"));
    assert!(common::take(&outcome).unwrap().is_ok());
    assert!(llm.requests()[0].instructions().contains("taken as +1"));
    session.close().await;
}

#[tokio::test]
async fn spoken_number_is_read_back_in_groups_and_confirmed() {
    let llm = llm();
    let (session, _outcome) = PhoneRunner::start(&llm, GetPhoneNumberTask::new()).await;
    let turn = session
        .run_as(
            "my number is plus four four, two oh, seven nine four six, oh nine five eight",
            InputModality::Audio,
        )
        .await
        .unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("\"plus 4 4 2, 0 7 9, 4 6 0, 9 5 8\"")
        .with_output_containing("`confirm_phone_number`");
    assert_eq!(phone(&turn), None);

    let turn = session
        .run_as("yes, that's right: +44 20 7946 0958", InputModality::Audio)
        .await
        .unwrap();
    turn.expect()
        .contains_function_call("confirm_phone_number", None);
    assert_eq!(phone(&turn), Some("+442079460958"));
    session.close().await;
}

#[tokio::test]
async fn confirming_a_superseded_number_is_refused() {
    let llm = llm();
    let (session, outcome) = PhoneRunner::start(&llm, GetPhoneNumberTask::new()).await;
    session
        .run_as("the number is +1 415 555 0123", InputModality::Audio)
        .await
        .unwrap();
    session
        .run_as("sorry, the number is +1 415 555 0199", InputModality::Audio)
        .await
        .unwrap();
    let turn = session
        .run_as("that's right: +1 415 555 0123", InputModality::Audio)
        .await
        .unwrap();
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("changed")
        .with_output_containing("+14155550199");
    assert_eq!(phone(&turn), None);
    assert!(common::take(&outcome).is_none());

    let turn = session
        .run_as("that's right: +1 415 555 0199", InputModality::Audio)
        .await
        .unwrap();
    assert_eq!(phone(&turn), Some("+14155550199"));
    session.close().await;
}

#[tokio::test]
async fn invalid_numbers_go_back_to_the_llm_with_the_reason() {
    let llm = llm();
    let (session, outcome) =
        PhoneRunner::start(&llm, GetPhoneNumberTask::new().default_country_code("44")).await;
    let cases = [
        ("the number is +44 020 7946 0958", "drop that 0"),
        ("the number is +44 1234", "too short"),
        ("the number is +1 415 555 01234", "10 digits after the 1"),
        ("the number is 1-800-FLOWERS", "letters"),
        ("the number is +0 20 7946 0958", "never start with 0"),
    ];
    for (input, reason) in cases {
        let turn = session.run(input).await.unwrap();
        turn.expect()
            .contains_function_call_output(true)
            .with_output_containing(reason);
        assert_eq!(phone(&turn), None, "{input}");
    }
    assert!(common::take(&outcome).is_none());
    // A national number with the trunk 0 takes the default country code.
    let turn = session.run("the number is 020 7946 0958").await.unwrap();
    assert_eq!(phone(&turn), Some("+442079460958"));
    session.close().await;
}

#[tokio::test]
async fn without_a_default_country_the_llm_is_told_to_ask() {
    let llm = llm();
    let (session, _) = PhoneRunner::start(&llm, GetPhoneNumberTask::new()).await;
    let turn = session.run("the number is 415 555 0123").await.unwrap();
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("ask which country");
    session.close().await;
}

#[tokio::test]
async fn declining_fails_the_task_with_a_typed_error() {
    let llm = llm();
    let (session, outcome) = PhoneRunner::start(&llm, GetPhoneNumberTask::new()).await;
    session.run("no thanks").await.unwrap();
    let err = common::take(&outcome).unwrap().unwrap_err();
    let declined = err.downcast_ref::<CaptureDeclined>().unwrap();
    assert_eq!(declined.what, "phone number");
    assert_eq!(declined.reason, "does not want to be called");
    session.close().await;
}
