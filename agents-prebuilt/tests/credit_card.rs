//! `GetCreditCardTask` end to end with a scripted LLM: four steps in a task group, with "today"
//! fixed at 2024-06-01.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::chrono::NaiveDate;
use agents_prebuilt::{CardIssuer, CreditCardResult, GetCreditCardTask};
use common::{call_with_rest, CaptureScript};
use serde_json::json;

runner!(CardRunner, GetCreditCardTask, CreditCardResult, scripted by llm);

const VISA: &str = "4242424242424242";

fn task() -> GetCreditCardTask {
    GetCreditCardTask::new().today(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap())
}

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions("number on their payment card", Reply::text("What's the card number?"))
        .on_instructions("expiry date", Reply::text("When does the card expire?"))
        .on_instructions("security code", Reply::text("What's the security code?"))
        .on_instructions("first and last name", Reply::text("And the name on the card?"))
        .on_user(
            "change the card",
            Reply::call("out_of_scope", json!({"task_ids": ["card_number"]})),
        )
        .on_user(
            "yes, card",
            call_with_rest("yes, card", "confirm_card_number", "card_number"),
        )
        .on_user("card is", call_with_rest("card is", "update_card_number", "card_number"))
        .on_user(
            "expires",
            Reply::dynamic(|req| {
                let text = req.last_user_text().unwrap_or_default();
                let date = text.rsplit(' ').next().unwrap_or_default();
                let (m, y) = date.split_once('/').unwrap_or(("0", "0"));
                Reply::call(
                    "update_expiry_date",
                    json!({"month": m.parse::<i64>().unwrap_or(0), "year": y.parse::<i64>().unwrap_or(0)}),
                )
            }),
        )
        .on_user(
            "code is",
            call_with_rest("code is", "update_security_code", "security_code"),
        )
        .on_user(
            "name is jane doe",
            Reply::call(
                "update_name",
                json!({"first_name": "Jane", "middle_name": null, "last_name": "Doe"}),
            ),
        )
        .declines_on("want to stop", "decline_card_capture", "changed their mind")
        .declines_on("not saying my name", "decline_name_capture", "will not say the name")
        .after_tool("update_card_number", Reply::text("Thanks."))
        // Back at the number step: its first reply follows the `out_of_scope` output.
        .after_tool("out_of_scope", Reply::text("Sure. What's the new card number?"))
}

/// The card number, expiry and security code steps, typed: leaves the task at the name step.
const FIRST_THREE_STEPS: [&str; 3] = [
    "my card is 4242 4242 4242 4242",
    "it expires 12/30",
    "the code is 123",
];

/// The card the task completed with in this turn, asserting it is an American Express card.
#[track_caller]
fn amex(turn: &RunResult) -> &CreditCardResult {
    let card = turn
        .final_output::<CreditCardResult>()
        .expect("the task completed");
    assert_eq!(card.issuer, CardIssuer::AmericanExpress);
    card
}

/// Every tool output of the turns.
fn all_outputs(turns: &[&RunResult]) -> Vec<(String, String, bool)> {
    turns.iter().flat_map(|t| common::outputs(t)).collect()
}

#[tokio::test]
async fn full_flow_through_the_four_steps() {
    let (llm, session, outcome) = CardRunner::scripted(task()).await;
    assert!(llm
        .requests()
        .iter()
        .any(|r| r.instructions().contains("number on their payment card")));

    let t1 = session.run("my card is 4242 4242 4242 4242").await.unwrap();
    let mut e = t1.expect();
    common::next_call_and_output(
        &mut e,
        "update_card_number",
        json!({"card_number": "4242 4242 4242 4242"}),
        false,
        &["Visa ending in 4242"],
    );
    e.next_event().is_agent_handoff("expiry_step");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("When does the card expire?");
    e.no_more_events();
    assert!(t1.final_output::<CreditCardResult>().is_none());

    let t2 = session.run("it expires 12/30").await.unwrap();
    t2.expect()
        .contains_function_call("update_expiry_date", json!({"month": 12, "year": 30}));
    common::assert_says(&t2, "security code");
    let cvv_request = llm.last_request().unwrap();
    assert!(cvv_request
        .instructions()
        .contains("the 3-digit code on the back of the card"));

    let t3 = session.run("the code is 123").await.unwrap();
    // Earlier steps can be revisited while a later one runs.
    let cvv_answer = common::request_answering(&llm, "the code is 123");
    assert!(cvv_answer.offers_tool("update_security_code"));
    assert!(cvv_answer.offers_tool("out_of_scope"));
    common::assert_says(&t3, "name on the card");

    let t4 = session.run("my name is Jane Doe").await.unwrap();
    common::assert_says(&t4, "Task finished");
    let expected = CreditCardResult {
        cardholder_name: "Jane Doe".into(),
        issuer: CardIssuer::Visa,
        card_number: VISA.into(),
        expiry: "12/30".into(),
        cvv: "123".into(),
    };
    assert_eq!(t4.final_output::<CreditCardResult>(), Some(&expected));
    assert_eq!(common::take(&outcome).unwrap().unwrap(), expected);

    // No tool output ever held the card number or the security code.
    for (tool, output, _) in all_outputs(&[&t1, &t2, &t3, &t4]) {
        assert!(!output.contains(VISA), "{tool}: {output}");
        assert!(!output.contains("123"), "{tool}: {output}");
    }
    session.close().await;
}

#[tokio::test]
async fn bad_numbers_and_past_expiry_dates_are_refused() {
    let (_, session, outcome) = CardRunner::scripted(task()).await;
    let cases = [
        (
            "my card is 4242 4242 4242 4241",
            "check digit does not match",
        ),
        ("my card is 4242 4242 4242", "13 to 19 digits"),
        (
            "my card is 3782 822463 1000",
            "an American Express number has 15 digits",
        ),
    ];
    let turns = common::assert_each_refused(&session, &cases).await;
    for (_, output, _) in turns.iter().flat_map(common::outputs) {
        assert!(!output.contains("424242424242"), "{output}");
    }
    session.run("my card is 4242 4242 4242 4242").await.unwrap();
    common::assert_each_refused(
        &session,
        &[
            ("it expires 05/24", "expired at the end of May 2024"),
            ("it expires 13/30", "month must be 1 to 12"),
        ],
    )
    .await;
    // The current month is still valid.
    let turn = session.run("it expires 06/24").await.unwrap();
    common::assert_output(&turn, false, &["06/24"]);
    common::close_while_pending(session, &outcome).await;
}

#[tokio::test]
async fn american_express_needs_a_four_digit_code() {
    let (llm, session, _) = CardRunner::scripted(task()).await;
    session.run("my card is 3782 822463 10005").await.unwrap();
    let turn = session.run("it expires 01/27").await.unwrap();
    common::assert_says(&turn, "security code");
    assert!(llm
        .last_request()
        .unwrap()
        .instructions()
        .contains("4-digit code printed on the front"));
    let turn = session.run("the code is 123").await.unwrap();
    common::assert_output(
        &turn,
        true,
        &["an American Express security code has 4 digits"],
    );
    session.run("the code is 1234").await.unwrap();
    let turn = session.run("my name is Jane Doe").await.unwrap();
    let card = amex(&turn);
    assert_eq!(card.cvv, "1234");
    assert_eq!(card.expiry, "01/27");
    session.close().await;
}

#[tokio::test]
async fn switching_to_american_express_later_asks_for_the_code_again() {
    let (_, session, _) = CardRunner::scripted(task()).await;
    common::send_all(&session, InputModality::Text, &FIRST_THREE_STEPS).await;
    // At the name step, the user goes back to the card number.
    let turn = session.run("wait, change the card please").await.unwrap();
    turn.expect()
        .contains_function_call("out_of_scope", json!({"task_ids": ["card_number"]}));
    common::assert_says(&turn, "card number");
    let turn = session.run("my card is 3782 822463 10005").await.unwrap();
    common::assert_says(&turn, "name on the card");
    // The 3-digit code no longer fits: the task asks for it again before completing.
    let turn = session.run("my name is Jane Doe").await.unwrap();
    assert!(turn.final_output::<CreditCardResult>().is_none());
    common::assert_says(&turn, "security code");
    let turn = session.run("the code is 4321").await.unwrap();
    let card = amex(&turn);
    assert_eq!(card.card_number, "378282246310005");
    assert_eq!(card.cvv, "4321");
    session.close().await;
}

#[tokio::test]
async fn spoken_card_number_is_confirmed_by_its_last_four_digits_then_declined() {
    let (_, session, outcome) = CardRunner::scripted(task()).await;
    let t1 = common::speak(&session, "my card is 4242 4242 4242 4242").await;
    common::assert_output(
        &t1,
        false,
        &[
            "\"Visa ending in 4 2 4 2\"",
            "never read the full number aloud",
        ],
    );
    let t2 = common::speak(&session, "yes, card 4242 4242 4242 4242").await;
    common::assert_output(&t2, false, &["confirmed"]);
    t2.expect().contains_agent_handoff("expiry_step");
    for (tool, output, _) in all_outputs(&[&t1, &t2]) {
        assert!(!output.contains(VISA), "{tool}: {output}");
    }

    common::speak(&session, "actually I want to stop").await;
    common::assert_declined(&outcome, "credit card", Some("changed their mind"));
    session.close().await;
}

#[tokio::test]
async fn declining_the_name_step_declines_the_card() {
    let (_, session, outcome) = CardRunner::scripted(task()).await;
    common::send_all(&session, InputModality::Text, &FIRST_THREE_STEPS).await;
    let turn = session.run("I'm not saying my name").await.unwrap();
    common::assert_says(&turn, "Task finished");
    common::assert_declined(&outcome, "credit card", Some("will not say the name"));
    session.close().await;
}
