//! `CollectConsentTask` end to end with a scripted LLM.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::CollectConsentTask;
use serde_json::json;

runner!(ConsentRunner, CollectConsentTask, bool, scripted by llm);

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions(
            "permission to record",
            Reply::text("May I record this call for quality and training?"),
        )
        .on_user("sure", Reply::call("consent_given", json!({})))
        .on_user("no way", Reply::call("consent_denied", json!({})))
        .on_user(
            "what for",
            Reply::text("It helps us train our staff. Is that okay?"),
        )
}

fn task() -> CollectConsentTask {
    CollectConsentTask::new("record this call for quality and training")
}

#[tokio::test]
async fn consent_given_completes_with_true() {
    let (llm, session, outcome) = ConsentRunner::scripted(task()).await;
    let first = &llm.requests()[0];
    assert!(first
        .instructions()
        .contains("permission to record this call for quality and training"));
    assert!(first.instructions().contains("they can decline"));

    // An unclear answer does not complete the task.
    let turn = session.run("what for?").await.unwrap();
    assert!(turn.final_output::<bool>().is_none());
    let turn = session.run("sure, go ahead").await.unwrap();
    assert_eq!(turn.final_output::<bool>(), Some(&true));
    assert!(common::take(&outcome).unwrap().unwrap());
    session.close().await;
}

#[tokio::test]
async fn consent_denied_completes_with_false() {
    let (llm, session, outcome) =
        ConsentRunner::scripted(task().extra_instructions("You work for Acme Insurance.")).await;
    assert!(llm.requests()[0]
        .instructions()
        .contains("You work for Acme Insurance."));
    let turn = session.run("no way").await.unwrap();
    assert_eq!(turn.final_output::<bool>(), Some(&false));
    assert!(!common::take(&outcome).unwrap().unwrap());
    session.close().await;
}
