//! `GetAddressTask` end to end with a scripted LLM.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::{AddressResult, GetAddressTask};
use common::CaptureScript;
use serde_json::{json, Value};

runner!(AddressRunner, GetAddressTask, AddressResult, scripted by llm);

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
        .declines_on("not telling", "decline_address_capture", "privacy")
        .after_tool("update_address", Reply::text("Let me check that."))
}

#[tokio::test]
async fn typed_address_completes_and_formats_on_one_line() {
    let (_, session, outcome) = AddressRunner::scripted(GetAddressTask::new()).await;
    let turn = session
        .run("221B Baker Street, flat 2, flat in London NW1 6XE")
        .await
        .unwrap();
    common::assert_output(
        &turn,
        false,
        &["221B Baker Street, Flat 2, London, NW1 6XE, United Kingdom"],
    );
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
    let (_, session, _) = AddressRunner::scripted(GetAddressTask::new()).await;
    let turn = common::speak(&session, "742 Evergreen Terrace, Springfield, spoken zip").await;
    common::assert_output(
        &turn,
        false,
        &[
            "\"742 Evergreen Terrace, Springfield, Oregon 97403, United States\"",
            "digit by digit: \"9 7 4 0 3\"",
        ],
    );
    assert!(turn.final_output::<AddressResult>().is_none());

    let turn = common::speak(&session, "yes, 97403").await;
    let r = turn.final_output::<AddressResult>().unwrap();
    assert_eq!(r.locality, "Springfield", "the recorded spelling stands");
    assert_eq!(r.postal_code.as_deref(), Some("97403"));
    session.close().await;
}

superseded_test!(
    confirming_a_superseded_address_is_refused,
    AddressRunner,
    GetAddressTask::new().require_confirmation(true),
    ["... 97403", "oops, it's 97404", "yes, 97403"],
    "97404",
);

#[tokio::test]
async fn invalid_addresses_go_back_to_the_llm_with_the_reason() {
    let (_, session, outcome) = AddressRunner::scripted(GetAddressTask::new()).await;
    common::assert_each_refused(
        &session,
        &[
            ("bad zip", "not a US ZIP code"),
            ("no city", "the city or town is missing"),
        ],
    )
    .await;
    common::close_while_pending(session, &outcome).await;
}

declining_test!(
    AddressRunner,
    GetAddressTask::new(),
    "I'm not telling you",
    "address",
    None,
);
