//! The example agents themselves (imported from the examples' library, not copied), driven in
//! process with a scripted model: what they accept, what they refuse, and how they end.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_examples::agents::{contact_info, intake, onboarding};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

/// The output of the last call of `tool` in `result`, with its error flag.
fn output_of(result: &RunResult, tool: &str) -> Option<(String, bool)> {
    result.events().iter().rev().find_map(|e| match e {
        RunEvent::FunctionCallOutput(o) if o.name == tool => Some((o.output.clone(), o.is_error)),
        _ => None,
    })
}

/// Starts `agent` against `llm` and plays `lines`; returns each turn's result.
async fn play<A: Agent>(llm: ScriptedLlm, agent: A, lines: &[&str]) -> Vec<RunResult> {
    let session = AgentSession::new(llm);
    session.start(agent).await.expect("the agent starts");
    let mut results = Vec::new();
    for line in lines {
        results.push(session.run(*line).await.expect("the turn runs"));
    }
    session.close().await;
    results
}

#[tokio::test]
async fn contact_info_refuses_a_malformed_email_and_a_short_phone() {
    let llm = ScriptedLlm::new()
        .on_user("update", Reply::call("collect_contact_info", json!({})))
        .on_user(
            "maria",
            Reply::call(
                "record_contact_info",
                json!({"name": "Maria Lopez", "email_address": "maria.lopez@@example", "phone_number": "+1 415 555 0100"}),
            ),
        )
        .on_user(
            "short",
            Reply::call(
                "record_contact_info",
                json!({"name": "Maria Lopez", "email_address": "maria.lopez@example.com", "phone_number": "12345"}),
            ),
        )
        .on_user(
            "right",
            Reply::call(
                "record_contact_info",
                json!({"name": "Maria Lopez", "email_address": "Maria.Lopez@Example.com", "phone_number": "+1 (415) 555-0100"}),
            ),
        )
        .otherwise(Reply::text("Go on."));
    let turns = play(
        llm,
        contact_info::CustomerServiceAgent,
        &[
            "I want to update my details",
            "Maria Lopez, maria.lopez@@example, +1 415 555 0100",
            "Sorry, short number: 12345",
            "Right, both fixed now.",
        ],
    )
    .await;
    let (email_error, is_error) = output_of(&turns[1], "record_contact_info").unwrap();
    assert!(
        is_error && email_error.contains("not a valid email address"),
        "{email_error}"
    );
    let (phone_error, is_error) = output_of(&turns[2], "record_contact_info").unwrap();
    assert!(
        is_error && phone_error.contains("not a valid phone number"),
        "{phone_error}"
    );
    let (recorded, is_error) = output_of(&turns[3], "record_contact_info").unwrap();
    assert!(!is_error, "{recorded}");
    assert_eq!(
        recorded,
        "Recorded Maria Lopez, maria.lopez@example.com, +14155550100."
    );
}

#[tokio::test]
async fn onboarding_checks_the_email_with_the_prebuilt_validator() {
    let llm = ScriptedLlm::new()
        .on_user("sign up", Reply::call("start_onboarding", json!({})))
        .on_user("alex", Reply::call("record_name", json!({"name": "Alex"})))
        .on_user(
            "@@",
            Reply::call("record_email", json!({"email": "alex@@example.com"})),
        )
        .on_user(
            "dot com",
            Reply::call("record_email", json!({"email": "alex at example dot com"})),
        )
        .otherwise(Reply::text("Go on."));
    let turns = play(
        llm,
        onboarding::OnboardingAgent,
        &[
            "sign up please",
            "I'm Alex",
            "alex@@example.com",
            "alex at example dot com",
        ],
    )
    .await;
    let (refused, is_error) = output_of(&turns[2], "record_email").unwrap();
    assert!(is_error && refused.contains("more than one @"), "{refused}");
    let (done, is_error) = output_of(&turns[3], "start_onboarding").unwrap();
    assert!(!is_error, "{done}");
    assert_eq!(done, "Onboarded Alex with email alex@example.com.");
}

#[tokio::test]
async fn intake_reads_a_guessed_email_back_before_using_it() {
    let llm = ScriptedLlm::new()
        .on_user(
            "oneil",
            Reply::call(
                "update_email_address",
                json!({"email": "sam oneil@example.com"}),
            ),
        )
        .otherwise(Reply::text("Go on."));
    let turns = play(
        llm,
        intake::IntakeAgent::new(Arc::new(HashSet::new())),
        &["It's sam oneil@example.com"],
    )
    .await;
    let (recorded, is_error) = output_of(&turns[0], "update_email_address").unwrap();
    assert!(!is_error, "{recorded}");
    assert!(recorded.contains("not confirmed yet"), "{recorded}");
    assert!(
        !turns[0].events().iter().any(|e| matches!(
            e,
            RunEvent::AgentHandoff { item, .. } if item.new_agent_id == "get_address_task"
        )),
        "the address step waits for the confirmation"
    );
}
