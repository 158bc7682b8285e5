//! `GetPhoneNumberTask` end to end with a scripted LLM.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::{GetPhoneNumberTask, PhoneNumberResult};
use common::{call_with_rest, CaptureScript};
use serde_json::json;

runner!(PhoneRunner, GetPhoneNumberTask, PhoneNumberResult, scripted by llm);

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
        .declines_on(
            "no thanks",
            "decline_phone_number_capture",
            "does not want to be called",
        )
        .after_tool("update_phone_number", Reply::text("Let me read that back."))
}

fn phone(turn: &RunResult) -> Option<&str> {
    turn.final_output::<PhoneNumberResult>()
        .map(|p| p.phone_number.as_str())
}

#[tokio::test]
async fn typed_national_number_gets_the_default_country_code() {
    let (llm, session, outcome) =
        PhoneRunner::scripted(GetPhoneNumberTask::new().default_country_code("1")).await;
    let turn = session.run("my number is (415) 555-0123").await.unwrap();
    common::assert_completes_at_once(
        &turn,
        "update_phone_number",
        json!({"phone_number": "(415) 555-0123"}),
        &["+14155550123"],
    );
    assert_eq!(phone(&turn), Some("+14155550123"));
    assert!(common::take(&outcome).unwrap().is_ok());
    assert!(llm.requests()[0].instructions().contains("taken as +1"));
    session.close().await;
}

#[tokio::test]
async fn spoken_number_is_read_back_in_groups_and_confirmed() {
    let (_, session, _outcome) = PhoneRunner::scripted(GetPhoneNumberTask::new()).await;
    let turn = common::speak(
        &session,
        "my number is plus four four, two oh, seven nine four six, oh nine five eight",
    )
    .await;
    common::assert_output(
        &turn,
        false,
        &[
            "\"plus 4 4 2, 0 7 9, 4 6 0, 9 5 8\"",
            "`confirm_phone_number`",
        ],
    );
    assert_eq!(phone(&turn), None);

    let turn = common::speak(&session, "yes, that's right: +44 20 7946 0958").await;
    turn.expect()
        .contains_function_call("confirm_phone_number", None);
    assert_eq!(phone(&turn), Some("+442079460958"));
    session.close().await;
}

#[tokio::test]
async fn confirming_a_superseded_number_is_refused() {
    let (_, session, outcome) = PhoneRunner::scripted(GetPhoneNumberTask::new()).await;
    let turn = common::assert_superseded_refused(
        &session,
        InputModality::Audio,
        [
            "the number is +1 415 555 0123",
            "sorry, the number is +1 415 555 0199",
            "that's right: +1 415 555 0123",
        ],
        "+14155550199",
    )
    .await;
    assert_eq!(phone(&turn), None);
    assert!(common::take(&outcome).is_none());

    let turn = common::speak(&session, "that's right: +1 415 555 0199").await;
    assert_eq!(phone(&turn), Some("+14155550199"));
    session.close().await;
}

#[tokio::test]
async fn invalid_numbers_go_back_to_the_llm_with_the_reason() {
    let (_, session, outcome) =
        PhoneRunner::scripted(GetPhoneNumberTask::new().default_country_code("44")).await;
    let cases = [
        ("the number is +44 020 7946 0958", "drop that 0"),
        ("the number is +44 1234", "too short"),
        ("the number is +1 415 555 01234", "10 digits after the 1"),
        ("the number is 1-800-FLOWERS", "letters"),
        ("the number is +0 20 7946 0958", "never start with 0"),
    ];
    let turns = common::assert_each_refused(&session, &cases).await;
    for (turn, (input, _)) in turns.iter().zip(cases) {
        assert_eq!(phone(turn), None, "{input}");
    }
    assert!(common::take(&outcome).is_none());
    // A national number with the trunk 0 takes the default country code.
    let turn = session.run("the number is 020 7946 0958").await.unwrap();
    assert_eq!(phone(&turn), Some("+442079460958"));
    session.close().await;
}

#[tokio::test]
async fn without_a_default_country_the_llm_is_told_to_ask() {
    let (_, session, _) = PhoneRunner::scripted(GetPhoneNumberTask::new()).await;
    let turn = session.run("the number is 415 555 0123").await.unwrap();
    common::assert_output(&turn, true, &["ask which country"]);
    session.close().await;
}

declining_test!(
    PhoneRunner,
    GetPhoneNumberTask::new(),
    "no thanks",
    "phone number",
    Some("does not want to be called"),
);
