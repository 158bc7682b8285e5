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

/// Asserts that the turn's last call of `tool` was refused with an error containing `why`.
fn assert_refused(result: &RunResult, tool: &str, why: &str) {
    let (output, is_error) = output_of(result, tool).expect("the tool was called");
    assert!(is_error && output.contains(why), "{output}");
}

/// The output of the turn's last call of `tool`, which must have succeeded.
fn accepted(result: &RunResult, tool: &str) -> String {
    let (output, is_error) = output_of(result, tool).expect("the tool was called");
    assert!(!is_error, "{output}");
    output
}

/// Starts `agent` and plays the user's lines of `script`, the scripted model answering each
/// line with its reply (and "Go on." where no line's reply fits); returns each turn's result.
async fn play<A: Agent>(agent: A, script: Vec<(&str, Reply)>) -> Vec<RunResult> {
    let llm = script
        .iter()
        .fold(ScriptedLlm::new(), |llm, (line, reply)| {
            llm.on_user(line, reply.clone())
        })
        .otherwise(Reply::text("Go on."));
    let session = AgentSession::new(llm);
    session.start(agent).await.expect("the agent starts");
    let mut results = Vec::new();
    for (line, _) in script {
        results.push(session.run(line).await.expect("the turn runs"));
    }
    session.close().await;
    results
}

/// Maria's details as the model records them, with her email and phone as it heard them.
fn record_maria(email: &str, phone: &str) -> Reply {
    Reply::call(
        "record_contact_info",
        json!({"name": "Maria Lopez", "email_address": email, "phone_number": phone}),
    )
}

#[tokio::test]
async fn contact_info_refuses_a_malformed_email_and_a_short_phone() {
    let script = vec![
        (
            "I want to update my details",
            Reply::call("collect_contact_info", json!({})),
        ),
        (
            "Maria Lopez, maria.lopez@@example, +1 415 555 0100",
            record_maria("maria.lopez@@example", "+1 415 555 0100"),
        ),
        (
            "Sorry, short number: 12345",
            record_maria("maria.lopez@example.com", "12345"),
        ),
        (
            "Right, both fixed now.",
            record_maria("Maria.Lopez@Example.com", "+1 (415) 555-0100"),
        ),
    ];
    let turns = play(contact_info::CustomerServiceAgent, script).await;
    assert_refused(
        &turns[1],
        "record_contact_info",
        "not a valid email address",
    );
    assert_refused(&turns[2], "record_contact_info", "not a valid phone number");
    assert_eq!(
        accepted(&turns[3], "record_contact_info"),
        "Recorded Maria Lopez, maria.lopez@example.com, +14155550100."
    );
}

/// The email as the model records it.
fn record_email(email: &str) -> Reply {
    Reply::call("record_email", json!({ "email": email }))
}

#[tokio::test]
async fn onboarding_checks_the_email_with_the_prebuilt_validator() {
    let script = vec![
        ("sign up please", Reply::call("start_onboarding", json!({}))),
        (
            "I'm Alex",
            Reply::call("record_name", json!({"name": "Alex"})),
        ),
        ("alex@@example.com", record_email("alex@@example.com")),
        (
            "alex at example dot com",
            record_email("alex at example dot com"),
        ),
    ];
    let turns = play(onboarding::OnboardingAgent, script).await;
    assert_refused(&turns[2], "record_email", "more than one @");
    assert_eq!(
        accepted(&turns[3], "start_onboarding"),
        "Onboarded Alex with email alex@example.com."
    );
}

#[tokio::test]
async fn intake_reads_a_guessed_email_back_before_using_it() {
    let script = vec![(
        "It's sam oneil@example.com",
        Reply::call(
            "update_email_address",
            json!({"email": "sam oneil@example.com"}),
        ),
    )];
    let turns = play(intake::IntakeAgent::new(Arc::new(HashSet::new())), script).await;
    let recorded = accepted(&turns[0], "update_email_address");
    assert!(recorded.contains("not confirmed yet"), "{recorded}");
    assert!(
        !turns[0].events().iter().any(|e| matches!(
            e,
            RunEvent::AgentHandoff { item, .. } if item.new_agent_id == "get_address_task"
        )),
        "the address step waits for the confirmation"
    );
}
