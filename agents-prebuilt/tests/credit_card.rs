//! `GetCreditCardTask` end to end with a scripted LLM: four steps in a task group, with "today"
//! fixed at 2024-06-01.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::chrono::NaiveDate;
use agents_prebuilt::{CaptureDeclined, CardIssuer, CreditCardResult, GetCreditCardTask};
use common::call_with_rest;
use serde_json::json;

runner!(CardRunner, GetCreditCardTask, CreditCardResult);

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
        .on_user(
            "want to stop",
            Reply::call("decline_card_capture", json!({"reason": "changed their mind"})),
        )
        .on_user(
            "not saying my name",
            Reply::call("decline_name_capture", json!({"reason": "will not say the name"})),
        )
        .after_tool("update_card_number", Reply::text("Thanks."))
        // Back at the number step: its first reply follows the `out_of_scope` output.
        .after_tool("out_of_scope", Reply::text("Sure. What's the new card number?"))
}

/// Every tool output of the turns.
fn all_outputs(turns: &[&RunResult]) -> Vec<(String, String, bool)> {
    turns.iter().flat_map(|t| common::outputs(t)).collect()
}

#[tokio::test]
async fn full_flow_through_the_four_steps() {
    let llm = llm();
    let (session, outcome) = CardRunner::start(&llm, task()).await;
    assert!(llm
        .requests()
        .iter()
        .any(|r| r.instructions().contains("number on their payment card")));

    let t1 = session.run("my card is 4242 4242 4242 4242").await.unwrap();
    let mut e = t1.expect();
    e.next_event().is_function_call(
        "update_card_number",
        json!({"card_number": "4242 4242 4242 4242"}),
    );
    e.next_event()
        .is_function_call_output()
        .is_error(false)
        .with_output_containing("Visa ending in 4242");
    e.next_event().is_agent_handoff("expiry_step");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("When does the card expire?");
    e.no_more_events();
    assert!(t1.final_output::<CreditCardResult>().is_none());

    let t2 = session.run("it expires 12/30").await.unwrap();
    t2.expect()
        .contains_function_call("update_expiry_date", json!({"month": 12, "year": 30}));
    t2.expect()
        .contains_message(Role::Assistant)
        .containing("security code");
    let cvv_request = llm.last_request().unwrap();
    assert!(cvv_request
        .instructions()
        .contains("the 3-digit code on the back of the card"));

    let t3 = session.run("the code is 123").await.unwrap();
    // Earlier steps can be revisited while a later one runs.
    let cvv_answer = llm
        .requests()
        .into_iter()
        .find(|r| r.last_user_text() == Some("the code is 123"))
        .unwrap();
    assert!(cvv_answer.offers_tool("update_security_code"));
    assert!(cvv_answer.offers_tool("out_of_scope"));
    t3.expect()
        .contains_message(Role::Assistant)
        .containing("name on the card");

    let t4 = session.run("my name is Jane Doe").await.unwrap();
    t4.expect()
        .contains_message(Role::Assistant)
        .containing("Task finished");
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
    let llm = llm();
    let (session, outcome) = CardRunner::start(&llm, task()).await;
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
    for (input, reason) in cases {
        let turn = session.run(input).await.unwrap();
        turn.expect()
            .contains_function_call_output(true)
            .with_output_containing(reason);
        for (_, output, _) in common::outputs(&turn) {
            assert!(!output.contains("424242424242"), "{output}");
        }
    }
    session.run("my card is 4242 4242 4242 4242").await.unwrap();
    for (input, reason) in [
        ("it expires 05/24", "expired at the end of May 2024"),
        ("it expires 13/30", "month must be 1 to 12"),
    ] {
        let turn = session.run(input).await.unwrap();
        turn.expect()
            .contains_function_call_output(true)
            .with_output_containing(reason);
    }
    // The current month is still valid.
    let turn = session.run("it expires 06/24").await.unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("06/24");
    assert!(common::take(&outcome).is_none());
    session.close().await;
}

#[tokio::test]
async fn american_express_needs_a_four_digit_code() {
    let llm = llm();
    let (session, _) = CardRunner::start(&llm, task()).await;
    session.run("my card is 3782 822463 10005").await.unwrap();
    let turn = session.run("it expires 01/27").await.unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("security code");
    assert!(llm
        .last_request()
        .unwrap()
        .instructions()
        .contains("4-digit code printed on the front"));
    let turn = session.run("the code is 123").await.unwrap();
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("an American Express security code has 4 digits");
    session.run("the code is 1234").await.unwrap();
    let turn = session.run("my name is Jane Doe").await.unwrap();
    let card = turn.final_output::<CreditCardResult>().unwrap();
    assert_eq!(card.issuer, CardIssuer::AmericanExpress);
    assert_eq!(card.cvv, "1234");
    assert_eq!(card.expiry, "01/27");
    session.close().await;
}

#[tokio::test]
async fn switching_to_american_express_later_asks_for_the_code_again() {
    let llm = llm();
    let (session, _) = CardRunner::start(&llm, task()).await;
    session.run("my card is 4242 4242 4242 4242").await.unwrap();
    session.run("it expires 12/30").await.unwrap();
    session.run("the code is 123").await.unwrap();
    // At the name step, the user goes back to the card number.
    let turn = session.run("wait, change the card please").await.unwrap();
    turn.expect()
        .contains_function_call("out_of_scope", json!({"task_ids": ["card_number"]}));
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("card number");
    let turn = session.run("my card is 3782 822463 10005").await.unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("name on the card");
    // The 3-digit code no longer fits: the task asks for it again before completing.
    let turn = session.run("my name is Jane Doe").await.unwrap();
    assert!(turn.final_output::<CreditCardResult>().is_none());
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("security code");
    let turn = session.run("the code is 4321").await.unwrap();
    let card = turn.final_output::<CreditCardResult>().unwrap();
    assert_eq!(card.issuer, CardIssuer::AmericanExpress);
    assert_eq!(card.card_number, "378282246310005");
    assert_eq!(card.cvv, "4321");
    session.close().await;
}

#[tokio::test]
async fn spoken_card_number_is_confirmed_by_its_last_four_digits_then_declined() {
    let llm = llm();
    let (session, outcome) = CardRunner::start(&llm, task()).await;
    let t1 = session
        .run_as("my card is 4242 4242 4242 4242", InputModality::Audio)
        .await
        .unwrap();
    t1.expect()
        .contains_function_call_output(false)
        .with_output_containing("\"Visa ending in 4 2 4 2\"")
        .with_output_containing("never read the full number aloud");
    let t2 = session
        .run_as("yes, card 4242 4242 4242 4242", InputModality::Audio)
        .await
        .unwrap();
    t2.expect()
        .contains_function_call_output(false)
        .with_output_containing("confirmed");
    t2.expect().contains_agent_handoff("expiry_step");
    for (tool, output, _) in all_outputs(&[&t1, &t2]) {
        assert!(!output.contains(VISA), "{tool}: {output}");
    }

    session
        .run_as("actually I want to stop", InputModality::Audio)
        .await
        .unwrap();
    let err = common::take(&outcome).unwrap().unwrap_err();
    assert_eq!(
        err.downcast_ref::<CaptureDeclined>(),
        Some(&CaptureDeclined {
            what: "credit card",
            reason: "changed their mind".into()
        })
    );
    session.close().await;
}

#[tokio::test]
async fn declining_the_name_step_declines_the_card() {
    let llm = llm();
    let (session, outcome) = CardRunner::start(&llm, task()).await;
    session.run("my card is 4242 4242 4242 4242").await.unwrap();
    session.run("it expires 12/30").await.unwrap();
    session.run("the code is 123").await.unwrap();
    let turn = session.run("I'm not saying my name").await.unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("Task finished");
    let err = common::take(&outcome).unwrap().unwrap_err();
    let declined = err.downcast_ref::<CaptureDeclined>().unwrap();
    assert_eq!(declined.what, "credit card");
    assert_eq!(declined.reason, "will not say the name");
    session.close().await;
}
