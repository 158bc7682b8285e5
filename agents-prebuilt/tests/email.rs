//! `GetEmailTask` end to end with a scripted LLM.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::{EmailResult, GetEmailTask};
use common::CaptureScript;
use serde_json::json;

runner!(EmailRunner, GetEmailTask, EmailResult, scripted by llm);

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions("email address", Reply::text("What's your email address?"))
        .on_user(
            "john dot doe",
            Reply::call(
                "update_email_address",
                json!({"email": "john dot doe at gmail dot com"}),
            ),
        )
        .on_user(
            "typed: ",
            Reply::dynamic(|req| {
                let text = req.last_user_text().unwrap_or_default();
                let email = text.trim_start_matches("typed: ").to_string();
                Reply::call("update_email_address", json!({ "email": email }))
            }),
        )
        .after_tool(
            "update_email_address",
            Reply::text("I have j o h n, dot, d o e, at gmail dot com. Is that right?"),
        )
        .on_user(
            "that's right",
            Reply::call(
                "confirm_email_address",
                json!({"email": "john.doe@gmail.com"}),
            ),
        )
        .declines_on(
            "rather not",
            "decline_email_capture",
            "prefers not to share",
        )
}

/// The address the task completed with in this turn, if it did.
fn email(turn: &RunResult) -> Option<&str> {
    turn.final_output::<EmailResult>()
        .map(|r| r.email_address.as_str())
}

#[tokio::test]
async fn typed_address_completes_at_once() {
    let (llm, session, outcome) = EmailRunner::scripted(GetEmailTask::new()).await;
    let turn = session.run("typed: Jane.Roe@Example.com").await.unwrap();
    common::assert_completes_at_once(
        &turn,
        "update_email_address",
        json!({"email": "Jane.Roe@Example.com"}),
        &["jane.roe@example.com"],
    );
    let expected = EmailResult {
        email_address: "jane.roe@example.com".into(),
    };
    assert_eq!(turn.final_output::<EmailResult>(), Some(&expected));
    assert_eq!(common::take(&outcome).unwrap().unwrap(), expected);

    // The task asked first, with its own instructions; that reply (from `on_enter`) is offered
    // the task's tools, so an address already heard could be recorded at once.
    let first = &llm.requests()[0];
    let instructions = first.instructions();
    assert!(instructions.contains("one step of a larger system"));
    assert!(instructions.contains("john dot doe at gmail dot com"));
    assert!(instructions.contains("Never invent"));
    assert!(instructions.contains("no markdown"));
    assert!(first.offers_tool("update_email_address"));
    let answer = llm.last_request().unwrap();
    for tool in [
        "update_email_address",
        "confirm_email_address",
        "decline_email_capture",
    ] {
        assert!(answer.offers_tool(tool), "{tool} offered");
    }
    session.close().await;
}

#[tokio::test]
async fn spoken_address_is_read_back_and_confirmed() {
    let (_, session, outcome) = EmailRunner::scripted(GetEmailTask::new()).await;
    let turn = common::speak(&session, "it's john dot doe at gmail dot com").await;
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("update_email_address", None);
    e.next_event()
        .is_function_call_output()
        .is_error(false)
        .with_output_containing("j o h n, dot, d o e, at, g m a i l, dot, c o m")
        .with_output_containing("`confirm_email_address`");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("Is that right?");
    e.no_more_events();
    assert_eq!(email(&turn), None);
    assert!(
        common::take(&outcome).is_none(),
        "not done before the user confirms"
    );

    let turn = common::speak(&session, "yes, that's right").await;
    common::assert_completes_at_once(
        &turn,
        "confirm_email_address",
        json!({"email": "john.doe@gmail.com"}),
        &[],
    );
    assert_eq!(email(&turn), Some("john.doe@gmail.com"));
    assert!(common::take(&outcome).unwrap().is_ok());
    session.close().await;
}

#[tokio::test]
async fn confirming_a_value_that_changed_is_refused() {
    let llm = ScriptedLlm::new()
        .on_user(
            "john",
            Reply::call("update_email_address", json!({"email": "john@example.com"})),
        )
        .on_user(
            "no, jane",
            Reply::call("update_email_address", json!({"email": "jane@example.com"})),
        )
        // The LLM confirms the old value by mistake, then the right one.
        .rule(
            agents_core::testing::Rule::on_user("correct")
                .reply(Reply::call(
                    "confirm_email_address",
                    json!({"email": "john@example.com"}),
                ))
                .times(1),
        )
        .after_tool(
            "confirm_email_address",
            Reply::call(
                "confirm_email_address",
                json!({"email": "jane@example.com"}),
            ),
        )
        .after_tool("update_email_address", Reply::text("Did I get that right?"));
    let (session, _outcome) = EmailRunner::start(&llm, GetEmailTask::new()).await;
    common::send_all(
        &session,
        InputModality::Audio,
        &["john at example dot com", "no, jane at example dot com"],
    )
    .await;
    let turn = common::speak(&session, "correct").await;
    let mut e = turn.expect();
    common::next_call_and_output(
        &mut e,
        "confirm_email_address",
        json!({"email": "john@example.com"}),
        true,
        &["changed", "jane@example.com"],
    );
    common::next_call_and_output(
        &mut e,
        "confirm_email_address",
        json!({"email": "jane@example.com"}),
        false,
        &[],
    );
    common::next_is_task_finished(&mut e);
    assert_eq!(email(&turn), Some("jane@example.com"));
    session.close().await;
}

#[tokio::test]
async fn confirming_before_the_user_answers_is_refused() {
    let llm = ScriptedLlm::new()
        .on_user(
            "john",
            Reply::calls(vec![
                ("update_email_address", json!({"email": "john@example.com"})),
                (
                    "confirm_email_address",
                    json!({"email": "john@example.com"}),
                ),
            ]),
        )
        .after_tool(
            "confirm_email_address",
            Reply::text("Is john@example.com right?"),
        );
    let (session, outcome) =
        EmailRunner::start(&llm, GetEmailTask::new().require_confirmation(true)).await;
    // Typed text, but confirmation was required explicitly.
    let turn = session.run("john@example.com").await.unwrap();
    common::assert_output(&turn, true, &["has not answered yet"]);
    assert_eq!(email(&turn), None);
    common::close_while_pending(session, &outcome).await;
}

#[tokio::test]
async fn confirmation_can_be_turned_off_for_voice() {
    let (session, _outcome) =
        EmailRunner::start(&llm(), GetEmailTask::new().require_confirmation(false)).await;
    let turn = common::speak(&session, "john dot doe at gmail dot com").await;
    assert_eq!(email(&turn), Some("john.doe@gmail.com"));
    session.close().await;
}

#[tokio::test]
async fn invalid_addresses_go_back_to_the_llm_with_the_reason() {
    let (_, session, outcome) = EmailRunner::scripted(GetEmailTask::new()).await;
    common::assert_each_refused(
        &session,
        &[
            ("typed: john.doe.gmail.com", "has no @ sign"),
            ("typed: john@gmail", "no dot"),
        ],
    )
    .await;
    assert!(
        common::take(&outcome).is_none(),
        "never completes with an invalid value"
    );
    let turn = session.run("typed: john@gmail.com").await.unwrap();
    assert!(email(&turn).is_some());
    session.close().await;
}

#[tokio::test]
async fn declining_fails_the_task_with_a_typed_error() {
    let (_, session, outcome) = EmailRunner::scripted(GetEmailTask::new()).await;
    let turn = common::assert_declines(
        session,
        &outcome,
        "I'd rather not say",
        "email address",
        Some("prefers not to share"),
    )
    .await;
    turn.expect()
        .contains_function_call("decline_email_capture", None);
    common::assert_says(&turn, "Task finished");
}

#[tokio::test]
async fn extra_instructions_are_appended() {
    let (llm, session, _) = EmailRunner::scripted(
        GetEmailTask::new().extra_instructions("We only need a work address."),
    )
    .await;
    // The task's own instructions come first; the reply instructions of `on_enter` follow.
    let first = llm.requests()[0].chat_ctx.items()[0].clone();
    let own = first.as_message().unwrap().content.clone();
    assert!(own.contains("one step of a larger system"), "{own}");
    assert!(own.ends_with("We only need a work address."), "{own}");
    session.close().await;
}
