//! `GetAddressTask` end to end with a scripted LLM.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::{AddressResult, CaptureDeclined, GetAddressTask};
use serde_json::{json, Value};

runner!(AddressRunner, GetAddressTask, AddressResult);

fn fields(zip: &str) -> Value {
    json!({
        "street_address": "742 Evergreen Terrace",
        "unit_number": null,
        "locality": "Springfield",
        "region": "Oregon",
        "postal_code": zip,
        "country": "United States",
    })
}

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions("address", Reply::text("What's your address?"))
        .on_user("yes, 97403", {
            // The LLM confirms with other capitals: still the same address.
            let mut f = fields("97403");
            f["locality"] = json!("SPRINGFIELD");
            Reply::call("confirm_address", f)
        })
        .on_user("97403", Reply::call("update_address", fields("97403")))
        .on_user("97404", Reply::call("update_address", fields("97404")))
        .on_user(
            "spoken zip",
            Reply::call("update_address", fields("nine seven four oh three")),
        )
        .on_user("bad zip", Reply::call("update_address", fields("9740")))
        .on_user(
            "no city",
            Reply::call(
                "update_address",
                json!({
                    "street_address": "742 Evergreen Terrace", "unit_number": null,
                    "locality": "", "region": null, "postal_code": "97403",
                    "country": "USA",
                }),
            ),
        )
        .on_user(
            "flat in london",
            Reply::call(
                "update_address",
                json!({
                    "street_address": "221B Baker Street", "unit_number": "Flat 2",
                    "locality": "London", "region": null, "postal_code": "nw1 6xe",
                    "country": "United Kingdom",
                }),
            ),
        )
        .on_user(
            "not telling",
            Reply::call("decline_address_capture", json!({"reason": "privacy"})),
        )
        .after_tool("update_address", Reply::text("Let me check that."))
}

#[tokio::test]
async fn typed_address_completes_and_formats_on_one_line() {
    let llm = llm();
    let (session, outcome) = AddressRunner::start(&llm, GetAddressTask::new()).await;
    let turn = session
        .run("221B Baker Street, flat 2, flat in London NW1 6XE")
        .await
        .unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("221B Baker Street, Flat 2, London, NW1 6XE, United Kingdom");
    let r = common::take(&outcome).unwrap().unwrap();
    assert_eq!(r.unit_number.as_deref(), Some("Flat 2"));
    assert_eq!(r.postal_code.as_deref(), Some("NW1 6XE"));
    assert_eq!(r.region, None);
    assert_eq!(
        turn.final_output::<AddressResult>()
            .map(AddressResult::formatted),
        Some("221B Baker Street, Flat 2, London, NW1 6XE, United Kingdom".into())
    );
    session.close().await;
}

#[tokio::test]
async fn spoken_address_is_read_back_with_the_postal_code_digit_by_digit() {
    let llm = llm();
    let (session, _) = AddressRunner::start(&llm, GetAddressTask::new()).await;
    let turn = session
        .run_as(
            "742 Evergreen Terrace, Springfield, spoken zip",
            InputModality::Audio,
        )
        .await
        .unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing(
            "\"742 Evergreen Terrace, Springfield, Oregon 97403, United States\"",
        )
        .with_output_containing("digit by digit: \"9 7 4 0 3\"");
    assert!(turn.final_output::<AddressResult>().is_none());

    let turn = session
        .run_as("yes, 97403", InputModality::Audio)
        .await
        .unwrap();
    let r = turn.final_output::<AddressResult>().unwrap();
    assert_eq!(r.locality, "Springfield", "the recorded spelling stands");
    assert_eq!(r.postal_code.as_deref(), Some("97403"));
    session.close().await;
}

#[tokio::test]
async fn confirming_a_superseded_address_is_refused() {
    let llm = llm();
    let (session, outcome) =
        AddressRunner::start(&llm, GetAddressTask::new().require_confirmation(true)).await;
    session.run("... 97403").await.unwrap();
    session.run("oops, it's 97404").await.unwrap();
    let turn = session.run("yes, 97403").await.unwrap();
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("changed")
        .with_output_containing("97404");
    assert!(common::take(&outcome).is_none());
    session.close().await;
}

#[tokio::test]
async fn invalid_addresses_go_back_to_the_llm_with_the_reason() {
    let llm = llm();
    let (session, outcome) = AddressRunner::start(&llm, GetAddressTask::new()).await;
    for (input, reason) in [
        ("bad zip", "not a US ZIP code"),
        ("no city", "the city or town is missing"),
    ] {
        let turn = session.run(input).await.unwrap();
        turn.expect()
            .contains_function_call_output(true)
            .with_output_containing(reason);
    }
    assert!(common::take(&outcome).is_none());
    session.close().await;
}

#[tokio::test]
async fn declining_fails_the_task_with_a_typed_error() {
    let llm = llm();
    let (session, outcome) = AddressRunner::start(&llm, GetAddressTask::new()).await;
    session.run("I'm not telling you").await.unwrap();
    let err = common::take(&outcome).unwrap().unwrap_err();
    assert_eq!(
        err.downcast_ref::<CaptureDeclined>().unwrap().what,
        "address"
    );
    session.close().await;
}
