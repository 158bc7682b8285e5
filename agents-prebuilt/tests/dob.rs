//! `GetDobTask` end to end with a scripted LLM, with "today" fixed at 2024-06-01.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, Rule, ScriptedLlm};
use agents_prebuilt::chrono::{NaiveDate, NaiveTime};
use agents_prebuilt::{CaptureDeclined, DobResult, GetDobTask};
use serde_json::json;

runner!(DobRunner, GetDobTask, DobResult);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn dob(year: i64, month: i64, day: i64) -> Reply {
    Reply::call(
        "update_dob",
        json!({"year": year, "month": month, "day": day}),
    )
}

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions("date of birth", Reply::text("What's your date of birth?"))
        .on_user("march 14th 1985", dob(1985, 3, 14))
        .on_user("march 15th 1985", dob(1985, 3, 15))
        .on_user("march 14th 85", dob(85, 3, 14))
        .on_user("march 14th oh five", dob(5, 3, 14))
        .on_user("new year 2030", dob(2030, 1, 1))
        .on_user("february 30th", dob(1990, 2, 30))
        .on_user("1880", dob(1880, 5, 5))
        .on_user(
            "3:30 pm",
            Reply::call("update_time", json!({"hour": 15, "minute": 30})),
        )
        .on_user(
            "yes, the 14th at half three",
            Reply::call(
                "confirm_dob",
                json!({"year": 1985, "month": 3, "day": 14, "hour": 15, "minute": 30}),
            ),
        )
        .on_user(
            "yes, the 14th",
            Reply::call(
                "confirm_dob",
                json!({"year": 1985, "month": 3, "day": 14, "hour": null, "minute": null}),
            ),
        )
        .on_user(
            "prefer not",
            Reply::call("decline_dob_capture", json!({"reason": "privacy"})),
        )
        .after_tool("update_dob", Reply::text("Thanks."))
}

fn result(turn: &RunResult) -> Option<&DobResult> {
    turn.final_output::<DobResult>()
}

#[tokio::test]
async fn typed_date_completes_and_serialises_as_iso() {
    let llm = llm();
    let (session, outcome) = DobRunner::start(&llm, GetDobTask::new().today(today())).await;
    let turn = session.run("March 14th 1985").await.unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("update_dob", json!({"year": 1985, "month": 3, "day": 14}));
    e.next_event()
        .is_function_call_output()
        .is_error(false)
        .with_output_containing("14 March 1985");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("Task finished");
    e.no_more_events();
    let r = common::take(&outcome).unwrap().unwrap();
    assert_eq!(r.date_of_birth, date(1985, 3, 14));
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"date_of_birth": "1985-03-14", "time_of_birth": null})
    );
    session.close().await;
}

#[tokio::test]
async fn two_digit_years_resolve_to_the_latest_past_century() {
    let llm = llm();
    let (session, _) = DobRunner::start(&llm, GetDobTask::new().today(today())).await;
    let turn = session.run("March 14th 85").await.unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("the two-digit year 85 was taken as 1985");
    assert_eq!(result(&turn).unwrap().date_of_birth, date(1985, 3, 14));
    session.close().await;

    let (session, _) = DobRunner::start(&llm, GetDobTask::new().today(today())).await;
    let turn = session.run("March 14th oh five").await.unwrap();
    assert_eq!(result(&turn).unwrap().date_of_birth, date(2005, 3, 14));
    session.close().await;

    // Twenty years earlier, 05 would be in the future: it means 1905.
    let (session, _) = DobRunner::start(&llm, GetDobTask::new().today(date(2004, 6, 1))).await;
    let turn = session.run("March 14th oh five").await.unwrap();
    assert_eq!(result(&turn).unwrap().date_of_birth, date(1905, 3, 14));
    session.close().await;
}

#[tokio::test]
async fn future_impossible_and_too_old_dates_are_refused() {
    let llm = llm();
    let (session, outcome) = DobRunner::start(&llm, GetDobTask::new().today(today())).await;
    let cases = [
        (
            "new year 2030",
            "2030 is in the future (today is 2024-06-01)",
        ),
        ("February 30th", "February 1990 has only 28 days"),
        ("1880", "144 years old"),
    ];
    for (input, reason) in cases {
        let turn = session.run(input).await.unwrap();
        turn.expect()
            .contains_function_call_output(true)
            .with_output_containing(reason);
        assert!(result(&turn).is_none());
    }
    assert!(common::take(&outcome).is_none());
    session.close().await;
}

#[tokio::test]
async fn date_and_time_are_read_back_and_confirmed_together() {
    let llm = llm();
    let task = GetDobTask::new().today(today()).include_time(true);
    let (session, _) = DobRunner::start(&llm, task).await;
    assert!(llm.requests()[0]
        .instructions()
        .contains("the time they were born"));

    let turn = session
        .run_as("March 14th 1985", InputModality::Audio)
        .await
        .unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("Now ask for the time of birth");
    assert!(result(&turn).is_none());

    let turn = session
        .run_as("at 3:30 pm", InputModality::Audio)
        .await
        .unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("\"14 March 1985 at 15:30\"")
        .with_output_containing("hour 15 and minute 30");
    assert!(result(&turn).is_none());

    let turn = session
        .run_as("yes, the 14th at half three", InputModality::Audio)
        .await
        .unwrap();
    let r = result(&turn).unwrap();
    assert_eq!(r.time_of_birth, NaiveTime::from_hms_opt(15, 30, 0));
    assert_eq!(
        serde_json::to_value(r).unwrap(),
        json!({"date_of_birth": "1985-03-14", "time_of_birth": "15:30"})
    );
    session.close().await;
}

#[tokio::test]
async fn the_time_is_refused_when_not_asked_for() {
    // `update_time` is not even offered; a model that calls it anyway gets an error.
    let llm = ScriptedLlm::new()
        .rule(
            Rule::on_user("3:30 pm")
                .reply(Reply::call(
                    "update_time",
                    json!({"hour": 15, "minute": 30}),
                ))
                .allow_unoffered_tools(),
        )
        .otherwise(Reply::text("What's your date of birth?"));
    let (session, _) = DobRunner::start(&llm, GetDobTask::new().today(today())).await;
    let turn = session.run("3:30 pm").await.unwrap();
    let request = llm
        .requests()
        .into_iter()
        .find(|r| r.last_user_text() == Some("3:30 pm"))
        .unwrap();
    assert!(request.offers_tool("update_dob") && !request.offers_tool("update_time"));
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("Unknown tool `update_time`");
    session.close().await;
}

#[tokio::test]
async fn confirming_a_superseded_date_is_refused() {
    let llm = llm();
    let (session, _) = DobRunner::start(&llm, GetDobTask::new().today(today())).await;
    session
        .run_as("March 14th 1985", InputModality::Audio)
        .await
        .unwrap();
    session
        .run_as("no, March 15th 1985", InputModality::Audio)
        .await
        .unwrap();
    let turn = session
        .run_as("yes, the 14th", InputModality::Audio)
        .await
        .unwrap();
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("changed")
        .with_output_containing("15 March 1985");
    assert!(result(&turn).is_none());
    session.close().await;
}

#[tokio::test]
async fn declining_fails_the_task_with_a_typed_error() {
    let llm = llm();
    let (session, outcome) = DobRunner::start(&llm, GetDobTask::new()).await;
    session.run("I'd prefer not to").await.unwrap();
    let err = common::take(&outcome).unwrap().unwrap_err();
    assert_eq!(
        err.downcast_ref::<CaptureDeclined>(),
        Some(&CaptureDeclined {
            what: "date of birth",
            reason: "privacy".into()
        })
    );
    session.close().await;
}
