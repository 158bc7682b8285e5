//! `GetDobTask` end to end with a scripted LLM, with "today" fixed at 2024-06-01.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, Rule, ScriptedLlm};
use agents_prebuilt::chrono::{NaiveDate, NaiveTime};
use agents_prebuilt::{DobResult, GetDobTask};
use common::CaptureScript;
use serde_json::json;

runner!(DobRunner, GetDobTask, DobResult, scripted by llm);

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
        .declines_on("prefer not", "decline_dob_capture", "privacy")
        .after_tool("update_dob", Reply::text("Thanks."))
}

fn result(turn: &RunResult) -> Option<&DobResult> {
    turn.final_output::<DobResult>()
}

#[tokio::test]
async fn typed_date_completes_and_serialises_as_iso() {
    let (_, session, outcome) = DobRunner::scripted(GetDobTask::new().today(today())).await;
    let turn = session.run("March 14th 1985").await.unwrap();
    common::assert_completes_at_once(
        &turn,
        "update_dob",
        json!({"year": 1985, "month": 3, "day": 14}),
        &["14 March 1985"],
    );
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
    let (llm, session, _) = DobRunner::scripted(GetDobTask::new().today(today())).await;
    let turn = session.run("March 14th 85").await.unwrap();
    common::assert_output(&turn, false, &["the two-digit year 85 was taken as 1985"]);
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
    let (_, session, outcome) = DobRunner::scripted(GetDobTask::new().today(today())).await;
    let cases = [
        (
            "new year 2030",
            "2030 is in the future (today is 2024-06-01)",
        ),
        ("February 30th", "February 1990 has only 28 days"),
        ("1880", "144 years old"),
    ];
    for turn in common::assert_each_refused(&session, &cases).await {
        assert!(result(&turn).is_none());
    }
    common::close_while_pending(session, &outcome).await;
}

#[tokio::test]
async fn date_and_time_are_read_back_and_confirmed_together() {
    let task = GetDobTask::new().today(today()).include_time(true);
    let (llm, session, _) = DobRunner::scripted(task).await;
    assert!(llm.requests()[0]
        .instructions()
        .contains("the time they were born"));

    let turn = common::speak(&session, "March 14th 1985").await;
    common::assert_output(&turn, false, &["Now ask for the time of birth"]);
    assert!(result(&turn).is_none());

    let turn = common::speak(&session, "at 3:30 pm").await;
    common::assert_output(
        &turn,
        false,
        &["\"14 March 1985 at 15:30\"", "hour 15 and minute 30"],
    );
    assert!(result(&turn).is_none());

    let turn = common::speak(&session, "yes, the 14th at half three").await;
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
    let request = common::request_answering(&llm, "3:30 pm");
    assert!(request.offers_tool("update_dob") && !request.offers_tool("update_time"));
    common::assert_output(&turn, true, &["Unknown tool `update_time`"]);
    session.close().await;
}

#[tokio::test]
async fn confirming_a_superseded_date_is_refused() {
    let (_, session, _) = DobRunner::scripted(GetDobTask::new().today(today())).await;
    let turn = common::assert_superseded_refused(
        &session,
        InputModality::Audio,
        ["March 14th 1985", "no, March 15th 1985", "yes, the 14th"],
        "15 March 1985",
    )
    .await;
    assert!(result(&turn).is_none());
    session.close().await;
}

declining_test!(
    DobRunner,
    GetDobTask::new(),
    "I'd prefer not to",
    "date of birth",
    Some("privacy"),
);
