//! `WarmTransferTask` against `SimulatedTelephony` and a scripted LLM: the exact telephony steps
//! of an accepted transfer, and every failure reaching the awaiting tool as a typed
//! `TransferError` with the caller's session still usable.

use agents_core::llm::ChatItem;
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_telephony::{
    DialOutcome, HumanBriefingAgent, SimulatedTelephony, TelephonyCall, TransferError,
    WarmTransferResult, WarmTransferTask,
};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Outcome = std::result::Result<WarmTransferResult, Option<TransferError>>;

/// You are a receptionist for an internet provider. Offer to transfer callers to a technician.
#[agent]
struct Reception {
    tel: SimulatedTelephony,
    llm: Arc<dyn Llm>,
    outcome: Arc<Mutex<Option<Outcome>>>,
}

#[function_tools]
impl Reception {
    /// Transfer the caller to a human technician.
    #[function_tool]
    async fn transfer_to_human(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
    ) -> std::result::Result<String, ToolError> {
        let task =
            WarmTransferTask::new(Arc::new(self.tel.clone()), self.llm.clone(), "+15105550100")
                .ringing_timeout(Duration::from_secs(20));
        let result = ctx
            .run_task(task)
            .with_history(CopyOptions::all().exclude_instructions())
            .await;
        match result {
            Ok(done) => {
                *self.outcome.lock().unwrap() = Some(Ok(done.clone()));
                Ok(format!("Connected to {}.", done.human_agent_identity))
            }
            Err(e) => {
                let typed = e.downcast_ref::<TransferError>().cloned();
                *self.outcome.lock().unwrap() = Some(Err(typed));
                Err(ToolError::new(format!(
                    "The transfer did not work: {e}. Apologise and offer to take a message."
                )))
            }
        }
    }
}

/// One script for both sides: the caller's session and the briefing session with the human.
fn script() -> ScriptedLlm {
    ScriptedLlm::new()
        // Caller side.
        .on_user(
            "my internet is down",
            Reply::text("I'm sorry to hear that. Shall I connect you to a technician?"),
        )
        .on_user(
            "please transfer",
            Reply::call("transfer_to_human", json!({})),
        )
        .after_tool(
            "transfer_to_human",
            Reply::dynamic(|req| {
                let last = req.chat_ctx.items().iter().rev().find_map(|i| match i {
                    ChatItem::FunctionCallOutput(o) => Some(o.clone()),
                    _ => None,
                });
                match last {
                    Some(o) if o.is_error => Reply::text(
                        "I'm sorry, I couldn't reach a technician. Can I take a message?",
                    ),
                    _ => Reply::text("You're connected to a technician now. Goodbye!"),
                }
            }),
        )
        .on_user(
            "take a message",
            Reply::text("Of course, what message should I pass on?"),
        )
        // Human side (briefing session).
        .on_user(
            "this is sam",
            Reply::text(
                "Hi Sam, I have a caller whose internet is down. Can you take the call now?",
            ),
        )
        .on_user(
            "put them through",
            Reply::call("connect_to_caller", json!({})),
        )
        .on_user(
            "can't take",
            Reply::call("decline_transfer", json!({"reason": "in a meeting"})),
        )
        .after_tool(
            "decline_transfer",
            Reply::text("No problem, thanks Sam. Goodbye."),
        )
        .on_user(
            "after the tone",
            Reply::call("voicemail_detected", json!({})),
        )
}

struct Call {
    session: AgentSession,
    tel: SimulatedTelephony,
    llm: ScriptedLlm,
    outcome: Arc<Mutex<Option<Outcome>>>,
}

async fn call(outcome: DialOutcome) -> Call {
    let llm = script();
    let tel = SimulatedTelephony::new().with_outcome(outcome);
    let result = Arc::new(Mutex::new(None));
    let session = AgentSession::builder(llm.clone()).build();
    session
        .start(Reception {
            tel: tel.clone(),
            llm: Arc::new(llm.clone()),
            outcome: result.clone(),
        })
        .await
        .unwrap();
    let turn = session
        .run("Hi, my internet is down since this morning")
        .await
        .unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("connect you to a technician");
    Call {
        session,
        tel,
        llm,
        outcome: result,
    }
}

impl Call {
    fn outcome(&self) -> Outcome {
        self.outcome
            .lock()
            .unwrap()
            .clone()
            .expect("the transfer tool ran")
    }

    /// Asks for the transfer and checks that the caller hears about a failure.
    async fn transfer_fails(&self) -> TransferError {
        let turn = self.session.run("Yes, please transfer me").await.unwrap();
        turn.expect()
            .contains_function_call_output(true)
            .with_output_containing("The transfer did not work");
        turn.expect()
            .contains_message(Role::Assistant)
            .containing("couldn't reach a technician");
        self.outcome()
            .expect_err("the transfer failed")
            .expect("the error is a TransferError")
    }

    /// Asks for the transfer, expects it to fail with `error` after the telephony `steps`
    /// (labels), and checks that the caller's conversation goes on.
    async fn transfer_fails_with(&self, error: TransferError, steps: &[&str]) {
        assert_eq!(self.transfer_fails().await, error);
        assert_eq!(self.tel.labels(), steps);
        self.caller_can_go_on().await;
    }

    /// The caller's conversation goes on after a failed transfer.
    async fn caller_can_go_on(&self) {
        assert!(!self.tel.is_on_hold("caller"));
        let turn = self
            .session
            .run("Okay, can you take a message then?")
            .await
            .unwrap();
        turn.expect()
            .contains_message(Role::Assistant)
            .containing("what message should I pass on");
        assert!(!self.session.is_closed());
    }
}

/// The telephony steps of a transfer that never reaches the human.
const NOT_REACHED: &[&str] = &["hold caller", "dial +15105550100", "unhold caller"];

#[tokio::test]
async fn an_accepted_transfer_connects_the_human_and_leaves() {
    let c = call(DialOutcome::answers([
        "Hello, this is Sam from tech support.",
        "Sure, put them through.",
    ]))
    .await;
    let turn = c.session.run("Yes, please transfer me").await.unwrap();
    turn.expect()
        .contains_agent_handoff_to::<WarmTransferTask>();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("Connected to human_agent");
    assert_eq!(
        turn.final_output::<WarmTransferResult>(),
        Some(&WarmTransferResult {
            human_agent_identity: "human_agent".into()
        })
    );
    assert_eq!(
        c.outcome(),
        Ok(WarmTransferResult {
            human_agent_identity: "human_agent".into()
        })
    );
    assert_eq!(
        c.tel.labels(),
        vec![
            "hold caller",
            "dial +15105550100",
            "listen human_agent",
            "say human_agent",
            "listen human_agent",
            "bridge human_agent -> caller",
            "unhold caller",
            "hang_up agent",
        ]
    );
    let calls = c.tel.calls();
    assert!(matches!(
        &calls[0],
        TelephonyCall::Hold { audio, .. } if audio == "hold_music"
    ));
    let TelephonyCall::Dial { request } = &calls[1] else {
        panic!("{calls:?}")
    };
    assert_eq!(request.room, "call-human-agent");
    assert_eq!(request.identity, "human_agent");
    assert_eq!(request.ringing_timeout, Duration::from_secs(20));
    assert_eq!(
        c.tel.said_to("human_agent"),
        vec!["Hi Sam, I have a caller whose internet is down. Can you take the call now?"]
    );
    // The briefing session ran the briefing agent with the caller's conversation.
    let briefing = c
        .llm
        .requests()
        .into_iter()
        .find(|r| r.offers_tool("connect_to_caller"))
        .expect("a briefing request");
    let instructions = briefing.instructions();
    assert!(
        instructions.contains("Caller: Hi, my internet is down since this morning"),
        "{instructions}"
    );
    assert!(instructions.contains("Agent: I'm sorry to hear that."));
    assert!(briefing.offers_tool("decline_transfer") && briefing.offers_tool("voicemail_detected"));
    assert!(!briefing.offers_tool("transfer_to_human"));
    assert!(!c.tel.is_on_hold("caller"));
    assert!(c.tel.is_up("human_agent"));
    let _ = std::any::type_name::<HumanBriefingAgent>();
    c.session.close().await;
}

#[tokio::test]
async fn a_declined_transfer_resumes_the_caller() {
    let c = call(DialOutcome::answers([
        "Hello, this is Sam.",
        "Sorry, I can't take it right now.",
    ]))
    .await;
    let declined = TransferError::Declined {
        reason: "in a meeting".into(),
    };
    c.transfer_fails_with(
        declined,
        &[
            "hold caller",
            "dial +15105550100",
            "listen human_agent",
            "say human_agent",
            "listen human_agent",
            "say human_agent",
            "hang_up human_agent",
            "unhold caller",
        ],
    )
    .await;
    assert_eq!(
        c.tel.said_to("human_agent").last().map(String::as_str),
        Some("No problem, thanks Sam. Goodbye.")
    );
    assert!(!c.tel.is_up("human_agent"));
    c.session.close().await;
}

#[tokio::test]
async fn a_busy_line_resumes_the_caller() {
    let c = call(DialOutcome::Busy).await;
    c.transfer_fails_with(TransferError::Busy, NOT_REACHED)
        .await;
    c.session.close().await;
}

#[tokio::test(start_paused = true)]
async fn no_answer_within_the_ringing_timeout_resumes_the_caller() {
    let c = call(DialOutcome::NoAnswer).await;
    let started = tokio::time::Instant::now();
    assert_eq!(c.transfer_fails().await, TransferError::NoAnswer);
    // It rang for the whole ringing timeout first.
    assert!(started.elapsed() >= Duration::from_secs(20));
    assert_eq!(c.tel.labels(), NOT_REACHED);
    c.caller_can_go_on().await;
    c.session.close().await;
}

#[tokio::test(start_paused = true)]
async fn answering_after_the_ringing_timeout_is_no_answer() {
    let c = call(DialOutcome::answers_after(
        Duration::from_secs(25),
        ["Hello, this is Sam."],
    ))
    .await;
    assert_eq!(c.transfer_fails().await, TransferError::NoAnswer);
    c.caller_can_go_on().await;
    c.session.close().await;
}

#[tokio::test]
async fn voicemail_is_detected_and_hung_up() {
    let c = call(DialOutcome::voicemail(
        "Hi, you've reached Sam. Please leave a message after the tone.",
    ))
    .await;
    c.transfer_fails_with(
        TransferError::Voicemail,
        &[
            "hold caller",
            "dial +15105550100",
            "listen human_agent",
            "hang_up human_agent",
            "unhold caller",
        ],
    )
    .await;
    // No message was left on the voicemail.
    assert!(c.tel.said_to("human_agent").is_empty());
    c.session.close().await;
}

#[tokio::test]
async fn a_dial_failure_resumes_the_caller() {
    let c = call(DialOutcome::fail("SIP 404 Not Found")).await;
    let failed = TransferError::DialFailed {
        reason: "SIP 404 Not Found".into(),
    };
    c.transfer_fails_with(failed, NOT_REACHED).await;
    c.session.close().await;
}

#[tokio::test]
async fn a_human_who_hangs_up_before_deciding_resumes_the_caller() {
    let c = call(DialOutcome::answers(["Hello, this is Sam."])).await;
    c.transfer_fails_with(
        TransferError::HumanHungUp,
        &[
            "hold caller",
            "dial +15105550100",
            "listen human_agent",
            "say human_agent",
            "listen human_agent",
            "hang_up human_agent",
            "unhold caller",
        ],
    )
    .await;
    c.session.close().await;
}
