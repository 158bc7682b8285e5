//! `GetDtmfTask`: keypad digits, stop key, exact count, inter-digit timeout, confirmation and
//! spoken digits, driven through a real `AgentSession` with a scripted LLM.

use agents_core::llm::{ChatItem, ChatRequest, ChatStream, LlmError};
use agents_core::prelude::*;
use agents_core::testing::{Reply, Rule, ScriptedLlm};
use agents_telephony::{DtmfKey, DtmfResult, GetDtmfTask};
use futures::future::BoxFuture;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Front desk that collects keypad digits when it starts.
#[agent]
struct Desk {
    task: Option<GetDtmfTask>,
    got: Arc<Mutex<Vec<String>>>,
}

#[function_tools]
impl Desk {
    async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        let result = ctx.run_task(task).await?;
        self.got.lock().unwrap().push(result.digits.clone());
        ctx.say(format!("Got {}.", result.spaced())).await
    }
}

struct Harness {
    session: AgentSession,
    llm: ScriptedLlm,
    got: Arc<Mutex<Vec<String>>>,
}

impl Harness {
    fn got(&self) -> Vec<String> {
        self.got.lock().unwrap().clone()
    }

    /// The reply instructions (the trailing system message) of every request so far.
    fn reply_instructions(&self) -> Vec<String> {
        self.llm
            .requests()
            .iter()
            .filter_map(reply_instructions)
            .collect()
    }

    fn asked_with(&self, needle: &str) -> usize {
        self.reply_instructions()
            .iter()
            .filter(|i| i.contains(needle))
            .count()
    }
}

fn reply_instructions(req: &ChatRequest) -> Option<String> {
    match req.last_item() {
        Some(ChatItem::Message(m)) if m.role == Role::System && req.chat_ctx.len() > 1 => {
            Some(m.content.clone())
        }
        _ => None,
    }
}

/// The scripted model: asks for the digits, reports wrong counts, reads digits back.
fn script() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions(
            "ask the user to enter their",
            Reply::text("Please enter your PIN on the keypad, then press pound."),
        )
        .on_instructions(
            "are needed",
            Reply::text("That was not the right number of digits. Please enter all of them."),
        )
        .on_instructions(
            "read these digits back",
            Reply::dynamic(|req| {
                let text = reply_instructions(req).unwrap_or_default();
                let digits = text
                    .split("<dtmf_inputs>")
                    .nth(1)
                    .and_then(|s| s.split("</dtmf_inputs>").next())
                    .unwrap_or("?")
                    .to_string();
                Reply::text(format!("You entered {digits}. Is that correct?"))
            }),
        )
        .otherwise(Reply::text("Okay."))
}

/// The digits a turn completed the task with, if it did.
fn digits(turn: &RunResult) -> Option<&str> {
    turn.final_output::<DtmfResult>().map(|r| r.digits.as_str())
}

/// The model calling `tool` (`record_inputs` or `confirm_inputs`) with `digits`.
fn call_with(tool: &str, digits: &str) -> Reply {
    Reply::call(tool, json!({ "digits": digits }))
}

async fn start(task: GetDtmfTask, llm: ScriptedLlm) -> Harness {
    let got = Arc::new(Mutex::new(Vec::new()));
    let session = AgentSession::builder(llm.clone()).build();
    let start = session
        .start(Desk {
            task: Some(task),
            got: got.clone(),
        })
        .await
        .unwrap();
    start
        .expect()
        .contains_message(Role::Assistant)
        .containing("enter your PIN");
    Harness { session, llm, got }
}

#[tokio::test]
async fn the_stop_key_ends_the_input_and_completes() {
    let h = start(GetDtmfTask::new(4), script()).await;
    let turn = h.session.send_dtmf("1234#").await.unwrap();
    assert_eq!(
        turn.final_output::<DtmfResult>(),
        Some(&DtmfResult {
            digits: "1234".into()
        })
    );
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("Got 1 2 3 4.");
    assert_eq!(h.got(), vec!["1234"]);
    // The on_enter prompt asked for 4 digits and named the stop key.
    assert_eq!(
        h.asked_with("4-digit input on the phone keypad, then press #"),
        1
    );
    h.session.close().await;
}

#[tokio::test]
async fn keys_may_arrive_one_by_one() {
    let h = start(GetDtmfTask::new(3), script()).await;
    for key in ["9", "0", "1"] {
        let turn = h.session.send_dtmf(key).await.unwrap();
        assert!(turn.final_output::<DtmfResult>().is_none());
    }
    let turn = h.session.send_dtmf("#").await.unwrap();
    assert_eq!(digits(&turn), Some("901"));
    h.session.close().await;
}

#[tokio::test]
async fn the_count_must_be_exact_not_a_maximum() {
    let h = start(GetDtmfTask::new(4), script()).await;
    let turn = h.session.send_dtmf("12345#").await.unwrap();
    assert!(turn.final_output::<DtmfResult>().is_none());
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("not the right number of digits");
    let asked = h.reply_instructions();
    let last = asked.last().unwrap();
    assert!(
        last.contains("entered 5 digits") && last.contains("exactly 4 are needed"),
        "{last}"
    );
    // The buffer was cleared: the next four digits stand on their own.
    let turn = h.session.send_dtmf("1234#").await.unwrap();
    assert_eq!(digits(&turn), Some("1234"));
    h.session.close().await;
}

#[tokio::test]
async fn a_wrong_count_gets_a_retry_prompt_then_succeeds() {
    let h = start(GetDtmfTask::new(4), script()).await;
    let turn = h.session.send_dtmf("12#").await.unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("Please enter all of them");
    assert_eq!(
        h.asked_with("entered 2 digits on the keypad, but exactly 4"),
        1
    );
    // The stop key alone is a wrong count of zero, not a crash.
    h.session.send_dtmf("#").await.unwrap();
    assert_eq!(h.asked_with("without entering any digits"), 1);
    let turn = h.session.send_dtmf("5678#").await.unwrap();
    assert_eq!(digits(&turn), Some("5678"));
    assert_eq!(h.got(), vec!["5678"]);
    h.session.close().await;
}

#[tokio::test(start_paused = true)]
async fn the_inter_digit_timeout_ends_the_input() {
    let h = start(GetDtmfTask::new(4), script()).await;
    h.session.send_dtmf("12").await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    h.session.send_dtmf("34").await.unwrap();
    // Each key restarts the 4 s timer: 3 s after the last key nothing has happened yet.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(h.got().is_empty());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.got(), vec!["1234"]);
    h.session.close().await;
}

#[tokio::test(start_paused = true)]
async fn a_timeout_with_too_few_digits_prompts_again() {
    let task = GetDtmfTask::new(4).inter_digit_timeout(Duration::from_secs(2));
    let h = start(task, script()).await;
    let mut events = h.session.subscribe();
    h.session.send_dtmf("12").await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(h.asked_with("entered 2 digits on the keypad"), 1);
    let mut said = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let SessionEvent::Message {
            role: Role::Assistant,
            content,
            ..
        } = ev
        {
            said.push(content);
        }
    }
    assert_eq!(
        said,
        vec!["That was not the right number of digits. Please enter all of them."]
    );
    h.session.send_dtmf("9876").await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(h.got(), vec!["9876"]);
    h.session.close().await;
}

#[tokio::test(start_paused = true)]
async fn the_timeout_restarts_when_someone_speaks() {
    let script = script().on_user("hang on", Reply::text("Sure, take your time."));
    let h = start(GetDtmfTask::new(4).stop_key(None), script).await;
    h.session.send_dtmf("12").await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let turn = h
        .session
        .run("Hang on, let me find the card")
        .await
        .unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("take your time");
    // 5 s after the last key, but only 2 s after the conversation: not evaluated yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.asked_with("are needed"), 0);
    assert!(h.got().is_empty());
    h.session.send_dtmf("34").await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(h.got(), vec!["1234"]);
    assert_eq!(h.asked_with("are needed"), 0);
    h.session.close().await;
}

/// A model that takes `delay` before it starts answering, like a slow reply being spoken.
#[derive(Clone)]
struct SlowLlm {
    inner: ScriptedLlm,
    delay: Duration,
}

impl Llm for SlowLlm {
    fn chat(
        &self,
        request: ChatRequest,
    ) -> BoxFuture<'_, std::result::Result<ChatStream, LlmError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.inner.chat(request).await
        })
    }
}

#[tokio::test(start_paused = true)]
async fn the_timeout_cannot_fire_while_the_agent_is_answering() {
    let inner = script().on_user("wait", Reply::text("Of course."));
    let got = Arc::new(Mutex::new(Vec::new()));
    let session = AgentSession::builder(SlowLlm {
        inner: inner.clone(),
        delay: Duration::from_secs(6),
    })
    .build();
    session
        .start(Desk {
            task: Some(GetDtmfTask::new(4).stop_key(None)),
            got: got.clone(),
        })
        .await
        .unwrap();
    session.send_dtmf("12").await.unwrap();
    // The reply takes 6 s, longer than the 4 s timeout; the timer waits for it and then counts
    // again from the end of the turn.
    session.run("wait a moment").await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let wrong = inner
        .requests()
        .iter()
        .filter_map(reply_instructions)
        .filter(|i| i.contains("are needed"))
        .count();
    assert_eq!(wrong, 0, "the timer fired during or right after the turn");
    session.send_dtmf("34").await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(got.lock().unwrap().clone(), vec!["1234"]);
    session.close().await;
}

#[tokio::test]
async fn confirmation_reads_the_digits_back_and_completes_on_confirm() {
    let llm = script().on_user("yes", call_with("confirm_inputs", "1234"));
    let h = start(GetDtmfTask::new(4).with_confirmation(), llm).await;
    let turn = h.session.send_dtmf("1234#").await.unwrap();
    assert!(turn.final_output::<DtmfResult>().is_none());
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("You entered 1 2 3 4. Is that correct?");
    let turn = h.session.run("Yes, that's right").await.unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("confirm_inputs", json!({"digits": "1234"}));
    e.next_event().is_function_call_output().is_error(false);
    assert_eq!(digits(&turn), Some("1234"));
    assert_eq!(h.got(), vec!["1234"]);
    h.session.close().await;
}

#[tokio::test]
async fn a_stale_confirmation_is_refused() {
    let llm = script()
        // The model first confirms the old digits, then the ones read back last.
        .rule(
            Rule::on_user("yes")
                .reply(call_with("confirm_inputs", "1234"))
                .times(1),
        )
        .after_tool(
            "confirm_inputs",
            Reply::text("Sorry, let me check: you entered 5 6 7 8, correct?"),
        )
        .on_user("yes", call_with("confirm_inputs", "5678"))
        .on_user("before", call_with("confirm_inputs", "0000"));
    let h = start(GetDtmfTask::new(4).with_confirmation(), llm).await;
    // Nothing to confirm yet.
    let turn = h.session.run("I typed it before").await.unwrap();
    turn.expect()
        .contains_function_call_output(true)
        .with_output_containing("No digits are waiting");
    h.session.send_dtmf("1234#").await.unwrap();
    // The user corrects themselves on the keypad before answering.
    let turn = h.session.send_dtmf("5678#").await.unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("You entered 5 6 7 8");
    let turn = h.session.run("yes").await.unwrap();
    let out = turn.expect().contains_function_call_output(true);
    assert!(
        out.output().output.contains("not \"1234\""),
        "{}",
        out.output().output
    );
    assert!(turn.final_output::<DtmfResult>().is_none());
    let turn = h.session.run("yes").await.unwrap();
    assert_eq!(digits(&turn), Some("5678"));
    h.session.close().await;
}

#[tokio::test]
async fn spoken_digits_go_through_record_inputs() {
    let llm = script()
        .on_user("one two three four", call_with("record_inputs", "1 2 3 4"))
        .on_user("one two three", call_with("record_inputs", "123"))
        .after_tool(
            "record_inputs",
            Reply::text("I need all four digits, please."),
        );
    let h = start(GetDtmfTask::new(4), llm).await;
    // A wrong count is a tool error the LLM sees, so it can ask again.
    let turn = h.session.run("It's one two three").await.unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("record_inputs", json!({"digits": "123"}));
    e.next_event()
        .is_function_call_output()
        .is_error(true)
        .with_output_containing("3 digits were given, but exactly 4 are needed");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("all four digits");
    e.no_more_events();
    let turn = h.session.run("Sorry: one two three four").await.unwrap();
    assert_eq!(digits(&turn), Some("1234"));
    // The tools were offered to the model on the user's turn.
    let last = h.llm.last_request().unwrap();
    assert!(last.offers_tool("record_inputs") && last.offers_tool("confirm_inputs"));
    assert_eq!(h.got(), vec!["1234"]);
    h.session.close().await;
}

#[tokio::test]
async fn spoken_digits_are_read_back_when_confirming() {
    let llm = script()
        .on_user("five five five", call_with("record_inputs", "5551"))
        .after_tool(
            "record_inputs",
            Reply::text("You said 5 5 5 1, is that right?"),
        )
        .on_user("right", call_with("confirm_inputs", "5551"));
    let h = start(GetDtmfTask::new(4).with_confirmation(), llm).await;
    let turn = h.session.run("five five five one").await.unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("<dtmf_inputs>5 5 5 1</dtmf_inputs>");
    assert!(turn.final_output::<DtmfResult>().is_none());
    let turn = h.session.run("right").await.unwrap();
    assert_eq!(digits(&turn), Some("5551"));
    h.session.close().await;
}

#[tokio::test]
async fn keys_other_than_digits_and_the_stop_key_are_ignored() {
    let h = start(GetDtmfTask::new(4), script()).await;
    let turn = h.session.send_dtmf("1*2A3bx4#").await.unwrap();
    assert_eq!(digits(&turn), Some("1234"));
    h.session.close().await;
}

#[tokio::test(start_paused = true)]
async fn another_stop_key_or_none() {
    // With `*` as the stop key, `#` is just ignored.
    let h = start(GetDtmfTask::new(2).stop_key(Some(DtmfKey::Star)), script()).await;
    let turn = h.session.send_dtmf("4#2*").await.unwrap();
    assert_eq!(digits(&turn), Some("42"));
    h.session.close().await;

    // With no stop key, only the timeout ends the input.
    let h = start(GetDtmfTask::new(2).stop_key(None), script()).await;
    let turn = h.session.send_dtmf("42#").await.unwrap();
    assert!(turn.final_output::<DtmfResult>().is_none());
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(h.got(), vec!["42"]);
    h.session.close().await;
}
