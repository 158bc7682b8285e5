//! Shared test scaffolding: a tiny agent per task that awaits the task in `on_enter` and keeps
//! its outcome, a session driven by a `ScriptedLlm`, and the steps and assertions every capture
//! task's tests share (record, read back, confirm, refuse, decline), including whole scenarios
//! (`declining_test!`, `superseded_test!`).

#![allow(dead_code)]

use agents_core::prelude::*;
use agents_core::testing::{RunAssert, ScriptedLlm};
use std::sync::{Arc, Mutex};

/// Where a runner agent leaves the task's outcome.
pub type Outcome<T> = Arc<Mutex<Option<Result<T>>>>;

/// Defines `$agent`, an agent whose `on_enter` runs a `$task` and stores its outcome, then says
/// "Task finished." (so tests can tell the awaiting code resumed). With `scripted by $llm`, also
/// `$agent::scripted(task)`, which starts it with a fresh script from `$llm()`.
#[macro_export]
macro_rules! runner {
    ($agent:ident, $task:ty, $result:ty, scripted by $llm:path) => {
        runner!($agent, $task, $result);

        impl $agent {
            /// Starts a session running `task` with a fresh `$llm()` script; returns the script
            /// too, so the test can inspect the requests it saw.
            async fn scripted(
                task: $task,
            ) -> (ScriptedLlm, AgentSession, common::Outcome<$result>) {
                let llm = $llm();
                let (session, outcome) = Self::start(&llm, task).await;
                (llm, session, outcome)
            }
        }
    };
    ($agent:ident, $task:ty, $result:ty) => {
        /// Runs the task under test.
        #[agent]
        struct $agent {
            task: Option<$task>,
            outcome: common::Outcome<$result>,
        }

        #[function_tools]
        impl $agent {
            async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
                if let Some(task) = self.task.take() {
                    let result = ctx.run_task(task).await;
                    *self.outcome.lock().unwrap() = Some(result);
                    ctx.say("Task finished.").await?;
                }
                Ok(())
            }
        }

        impl $agent {
            /// Starts a session with `llm` running `task`; returns it and the outcome slot.
            async fn start(
                llm: &ScriptedLlm,
                task: $task,
            ) -> (AgentSession, common::Outcome<$result>) {
                let outcome: common::Outcome<$result> = Default::default();
                let session = AgentSession::builder(llm.clone()).build();
                session
                    .start($agent {
                        task: Some(task),
                        outcome: outcome.clone(),
                    })
                    .await
                    .unwrap();
                (session, outcome)
            }
        }
    };
}

/// Defines the test `declining_fails_the_task_with_a_typed_error`: a `$runner` session (see
/// [`runner!`]'s `scripted by` form) on `$task` hears `$input`, which its script answers with the
/// decline tool; the task must fail with a `CaptureDeclined` for `$what` (and `$reason`, when
/// given).
#[macro_export]
macro_rules! declining_test {
    ($runner:ident, $task:expr, $input:expr, $what:expr, $reason:expr $(,)?) => {
        #[tokio::test]
        async fn declining_fails_the_task_with_a_typed_error() {
            let (_, session, outcome) = $runner::scripted($task).await;
            common::assert_declines(session, &outcome, $input, $what, $reason).await;
        }
    };
}

/// Defines the test `$name`: a `$runner` session on `$task` hears, as text, a value, a
/// correction, then a confirmation of the first value; the confirmation must be refused as
/// "changed", naming the corrected value `$now`, and the task must still be waiting.
#[macro_export]
macro_rules! superseded_test {
    ($name:ident, $runner:ident, $task:expr, $inputs:expr, $now:expr $(,)?) => {
        #[tokio::test]
        async fn $name() {
            let (_, session, outcome) = $runner::scripted($task).await;
            common::assert_superseded_refused(&session, InputModality::Text, $inputs, $now).await;
            common::close_while_pending(session, &outcome).await;
        }
    };
}

/// The outcome, once the task has ended.
pub fn take<T>(outcome: &Outcome<T>) -> Option<Result<T>> {
    outcome.lock().unwrap().take()
}

/// Whether a tool of that name was offered in any request so far.
pub fn offered(llm: &ScriptedLlm, tool: &str) -> bool {
    llm.requests().iter().any(|r| r.offers_tool(tool))
}

/// A reply calling `tool` with `{arg: <the user's text after "prefix">}`: lets one rule serve
/// many test inputs ("typed: ...", "card is ...").
pub fn call_with_rest(
    prefix: &'static str,
    tool: &'static str,
    arg: &'static str,
) -> agents_core::testing::Reply {
    agents_core::testing::Reply::dynamic(move |req| {
        let text = req.last_user_text().unwrap_or_default();
        let lower = text.to_lowercase();
        let rest = match lower.find(prefix) {
            Some(i) => text[i + prefix.len()..].trim().to_string(),
            None => text.to_string(),
        };
        agents_core::testing::Reply::call(tool, serde_json::json!({ arg: rest }))
    })
}

/// Script rules shared by the capture tests.
pub trait CaptureScript {
    /// When the user says something holding `pattern`, call the decline tool `tool` with
    /// `reason`: the user will not give the value.
    fn declines_on(self, pattern: &str, tool: &str, reason: &str) -> Self;
}

impl CaptureScript for ScriptedLlm {
    fn declines_on(self, pattern: &str, tool: &str, reason: &str) -> Self {
        let reply =
            agents_core::testing::Reply::call(tool, serde_json::json!({ "reason": reason }));
        self.on_user(pattern, reply)
    }
}

/// Asserts the turn has an assistant message holding `needle` (e.g. the next step's question).
#[track_caller]
pub fn assert_says(turn: &RunResult, needle: &str) {
    turn.expect()
        .contains_message(Role::Assistant)
        .containing(needle);
}

/// Every tool output of the turn, as (tool name, output, is_error).
pub fn outputs(turn: &RunResult) -> Vec<(String, String, bool)> {
    turn.events()
        .iter()
        .filter_map(|e| match e {
            RunEvent::FunctionCallOutput(o) => Some((o.name.clone(), o.output.clone(), o.is_error)),
            _ => None,
        })
        .collect()
}

/// Sends `text` as a speech transcript, the input capture tasks read back for confirmation.
pub async fn speak(session: &AgentSession, text: &str) -> RunResult {
    session.run_as(text, InputModality::Audio).await.unwrap()
}

/// Sends each of `inputs` in turn with `modality`, ignoring the turns: sets up earlier steps.
pub async fn send_all(session: &AgentSession, modality: InputModality, inputs: &[&str]) {
    for input in inputs {
        session.run_as(*input, modality).await.unwrap();
    }
}

/// Asserts the turn has a tool output that is (or is not) an error and holds every needle.
#[track_caller]
pub fn assert_output(turn: &RunResult, is_error: bool, needles: &[&str]) {
    let mut output = turn.expect().contains_function_call_output(is_error);
    for needle in needles {
        output = output.with_output_containing(needle);
    }
}

/// Asserts the next two events: a call of `tool` (arguments including `args`), then its output,
/// an error or not as `is_error` says, holding every needle.
#[track_caller]
pub fn next_call_and_output(
    e: &mut RunAssert<'_>,
    tool: &str,
    args: impl Into<Option<serde_json::Value>>,
    is_error: bool,
    needles: &[&str],
) {
    e.next_event().is_function_call(tool, args);
    let mut output = e.next_event().is_function_call_output().is_error(is_error);
    for needle in needles {
        output = output.with_output_containing(needle);
    }
}

/// Asserts the next event is the runner's "Task finished." (the awaiting code resumed) and that
/// nothing follows it.
#[track_caller]
pub fn next_is_task_finished(e: &mut RunAssert<'_>) {
    e.next_event()
        .is_message(Role::Assistant)
        .containing("Task finished");
    e.no_more_events();
}

/// Asserts the turn is exactly: a call of `tool` (arguments including `args`), its successful
/// output holding every needle, then the runner's "Task finished." — the task completed in one
/// turn.
#[track_caller]
pub fn assert_completes_at_once(
    turn: &RunResult,
    tool: &str,
    args: impl Into<Option<serde_json::Value>>,
    needles: &[&str],
) {
    let mut e = turn.expect();
    next_call_and_output(&mut e, tool, args, false, needles);
    next_is_task_finished(&mut e);
}

/// The request the script answered right after the user said `user_text`.
pub fn request_answering(llm: &ScriptedLlm, user_text: &str) -> agents_core::llm::ChatRequest {
    llm.requests()
        .into_iter()
        .find(|r| r.last_user_text() == Some(user_text))
        .expect("a request answering that user text")
}

/// Sends each `(input, reason)` as text and asserts the turn's tool output is an error holding
/// the reason: the validator refused the value and told the LLM why. Returns the turns.
pub async fn assert_each_refused(session: &AgentSession, cases: &[(&str, &str)]) -> Vec<RunResult> {
    let mut turns = Vec::with_capacity(cases.len());
    for (input, reason) in cases {
        let turn = session.run(*input).await.unwrap();
        assert_output(&turn, true, &[reason]);
        turns.push(turn);
    }
    turns
}

/// Records a value (`record`), corrects it (`correct`), then has the LLM confirm the first one
/// (`confirm_old`): the confirmation must be refused as "changed", naming the corrected value
/// `now`. Returns the refusing turn.
pub async fn assert_superseded_refused(
    session: &AgentSession,
    modality: InputModality,
    [record, correct, confirm_old]: [&str; 3],
    now: &str,
) -> RunResult {
    send_all(session, modality, &[record, correct]).await;
    let turn = session.run_as(confirm_old, modality).await.unwrap();
    assert_output(&turn, true, &["changed", now]);
    turn
}

/// Asserts the task has not ended (it still waits for a usable value), then closes the session.
pub async fn close_while_pending<T>(session: AgentSession, outcome: &Outcome<T>) {
    assert!(take(outcome).is_none(), "the task must still be waiting");
    session.close().await;
}

/// Asserts the task ended with a `CaptureDeclined` for `what` and, when given, that `reason`.
#[track_caller]
pub fn assert_declined<T: std::fmt::Debug>(outcome: &Outcome<T>, what: &str, reason: Option<&str>) {
    let err = take(outcome)
        .expect("the task has ended")
        .expect_err("the task failed");
    let declined = err
        .downcast_ref::<agents_prebuilt::CaptureDeclined>()
        .expect("a CaptureDeclined");
    assert_eq!(declined.what, what);
    if let Some(reason) = reason {
        assert_eq!(declined.reason, reason);
    }
}

/// Sends `input` as text, which the script answers with the task's decline tool; asserts the task
/// failed as [`assert_declined`] does, then closes the session. Returns the turn.
pub async fn assert_declines<T: std::fmt::Debug>(
    session: AgentSession,
    outcome: &Outcome<T>,
    input: &str,
    what: &str,
    reason: Option<&str>,
) -> RunResult {
    let turn = session.run(input).await.unwrap();
    assert_declined(outcome, what, reason);
    session.close().await;
    turn
}
