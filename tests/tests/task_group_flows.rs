//! TaskGroup flows over three steps: order, regressions (one and several in a row), the callback
//! seeing every completion, a failing summary, and ending the session from the callback.

use agents_core::llm::LlmError;
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;
use std::sync::{Arc, Mutex};

#[macro_use]
mod common;

use common::drain;

ask_task!(
    ColorTask,
    "Ask for a color.",
    generate_reply("Ask for a color."),
    record_color(value)
);
ask_task!(
    AnimalTask,
    "Ask for an animal.",
    generate_reply("Ask for an animal."),
    record_animal(value)
);
ask_task!(
    CityTask,
    "Ask for a city.",
    generate_reply("Ask for a city."),
    record_city(value)
);

type Log = Arc<Mutex<Vec<String>>>;

/// Runs a three-step group and reports the outcome.
#[agent]
struct Quiz {
    log: Log,
    end_after: Option<&'static str>,
    summarize: bool,
}

#[function_tools]
impl Quiz {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let log = self.log.clone();
        let end_after = self.end_after;
        let animal_key: Arc<Mutex<Option<TaskKey<String>>>> = Arc::default();
        let key_slot = animal_key.clone();
        let mut group = TaskGroup::new()
            .summarize_chat_ctx(self.summarize)
            .on_task_completed(move |ev| {
                // A key answers only for its own task.
                let key = animal_key
                    .lock()
                    .unwrap()
                    .expect("set before the group runs");
                assert_eq!(ev.get(key).is_some(), ev.task_id == "animal");
                log.lock().unwrap().push(format!(
                    "{}={}",
                    ev.task_id,
                    ev.result::<String>().unwrap()
                ));
                if end_after == Some(ev.task_id.as_str()) {
                    ev.end_session();
                }
                async { Ok(()) }
            });
        let color = group.add("color", "The favourite color", || ColorTask);
        let animal = group.add("animal", "The favourite animal", || AnimalTask);
        *key_slot.lock().unwrap() = Some(animal);
        let city = group.add("city", "The favourite city", || CityTask);
        let outcome = ctx.run_task(group).await;
        let line = match &outcome {
            Ok(r) => format!("done {} {} {}", r[color], r[animal], r[city]),
            Err(e) => format!("error {e}"),
        };
        self.log.lock().unwrap().push(line.clone());
        ctx.say(line).await
    }
}

fn llm() -> ScriptedLlm {
    llm_summarising_with(Reply::text("Summary of the quiz."))
}

/// The quiz's model, answering requests for the group's summary with `summary`.
fn llm_summarising_with(summary: Reply) -> ScriptedLlm {
    ScriptedLlm::new()
        .when(
            |r| r.instructions().contains("You summarise a conversation"),
            summary,
        )
        .on_instructions("ask for a color", Reply::text("Color?"))
        .on_instructions("ask for an animal", Reply::text("Animal?"))
        .on_instructions("ask for a city", Reply::text("City?"))
        .on_user(
            "go back to color",
            Reply::call("out_of_scope", json!({"task_ids": ["color"]})),
        )
        .on_user(
            "go back to animal and color",
            Reply::call("out_of_scope", json!({"task_ids": ["animal", "color"]})),
        )
        .on_user(
            "go back to animal please",
            Reply::call("out_of_scope", json!({"task_ids": ["animal"]})),
        )
        .on_user("color ", Reply::dynamic(|r| answer(r, "record_color")))
        .on_user("animal ", Reply::dynamic(|r| answer(r, "record_animal")))
        .on_user("city ", Reply::dynamic(|r| answer(r, "record_city")))
}

/// Calls `tool` with the word after the first space of the user's text.
fn answer(request: &agents_core::llm::ChatRequest, tool: &str) -> Reply {
    let text = request.last_user_text().unwrap_or_default();
    let value = text.split_once(' ').map(|(_, v)| v).unwrap_or_default();
    Reply::call(tool, json!({ "value": value }))
}

async fn start(
    llm: ScriptedLlm,
    end_after: Option<&'static str>,
    summarize: bool,
) -> (AgentSession, Log) {
    let log: Log = Arc::default();
    let session = AgentSession::new(llm);
    session
        .start(Quiz {
            log: log.clone(),
            end_after,
            summarize,
        })
        .await
        .unwrap();
    (session, log)
}

/// Runs each line as a turn; returns the last turn.
async fn run_lines(session: &AgentSession, lines: &[&str]) -> RunResult {
    let mut last = None;
    for line in lines {
        last = Some(session.run(*line).await.unwrap());
    }
    last.expect("at least one line")
}

/// The quiz with the color (red) and the animal (fox) answered: the city step is in control.
async fn at_the_city_step() -> (AgentSession, Log) {
    let (session, log) = start(llm(), None, false).await;
    run_lines(&session, &["color red", "animal fox"]).await;
    (session, log)
}

fn log_of(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[tokio::test]
async fn three_steps_in_order() {
    let (session, log) = start(llm(), None, false).await;
    run_lines(&session, &["color red", "animal fox", "city Oslo"]).await;
    assert_eq!(
        log_of(&log),
        ["color=red", "animal=fox", "city=Oslo", "done red fox Oslo"]
    );
    session.close().await;
}

#[tokio::test]
async fn regression_from_the_third_step_to_the_first_and_on_again() {
    let (session, log) = at_the_city_step().await;
    let turn = session.run("please go back to color").await.unwrap();
    turn.expect().contains_agent_handoff_to::<ColorTask>();
    session.run("color blue").await.unwrap();
    // After the first step the interrupted third step resumes; the second is not re-run.
    let turn = session.run("city Oslo").await.unwrap();
    assert_eq!(turn.assistant_text(), "done blue fox Oslo");
    assert_eq!(
        log_of(&log),
        [
            "color=red",
            "animal=fox",
            "color=blue",
            "city=Oslo",
            "done blue fox Oslo"
        ]
    );
    session.close().await;
}

#[tokio::test]
async fn one_regression_to_two_steps_reruns_them_in_the_asked_order() {
    let (session, log) = at_the_city_step().await;
    // From the city step, back to animal then color, in that order.
    run_lines(
        &session,
        &[
            "go back to animal and color",
            "animal owl",
            "color green",
            "city Rome",
        ],
    )
    .await;
    let log = log_of(&log);
    assert_eq!(
        log,
        [
            "color=red",
            "animal=fox",
            "animal=owl",
            "color=green",
            "city=Rome",
            "done green owl Rome"
        ]
    );
    session.close().await;
}

#[tokio::test]
async fn a_failed_summary_is_one_error_and_no_completion() {
    let llm = llm_summarising_with(
        Reply::text("Partial").then_fail(LlmError::Stream("connection reset".into())),
    );
    let mut events = {
        let (session, log) = start(llm, None, true).await;
        let events = session.subscribe();
        run_lines(&session, &["color red", "animal fox", "city Oslo"]).await;
        let log = log_of(&log);
        assert_eq!(log.len(), 4, "{log:?}");
        assert!(
            log[3].starts_with("error ") && log[3].contains("connection reset"),
            "{log:?}"
        );
        session.close().await;
        events
    };
    let group_completions = drain(&mut events)
        .into_iter()
        .filter(|ev| matches!(ev, SessionEvent::TaskCompleted { name, .. } if name == "task_group"))
        .count();
    assert_eq!(group_completions, 0);
}

#[tokio::test]
async fn ending_the_session_from_the_callback_waits_for_the_group_to_stop() {
    let (session, log) = start(llm(), Some("animal"), false).await;
    let turn = run_lines(&session, &["color red", "animal fox"]).await;
    // The group stopped before the city step; the awaiting code still spoke; then the session
    // closed.
    assert!(!turn.events().iter().any(|e| matches!(
        e,
        RunEvent::AgentHandoff { item, .. } if item.new_agent_id == "city_task"
    )));
    assert_eq!(turn.assistant_text(), "error the session is closed");
    assert_eq!(
        log_of(&log),
        ["color=red", "animal=fox", "error the session is closed"]
    );
    assert!(matches!(session.run("hello?").await, Err(Error::Closed)));
}

/// Runs an empty group.
#[agent]
struct Empty;

#[function_tools]
impl Empty {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let results = ctx.run_task(TaskGroup::new()).await?;
        ctx.say(format!("results {}", results.to_json())).await
    }
}

#[tokio::test]
async fn an_empty_group_completes_without_asking_for_a_summary() {
    let llm = ScriptedLlm::new();
    let session = AgentSession::new(llm.clone());
    let start = session.start(Empty).await.unwrap();
    assert_eq!(start.assistant_text(), "results {}");
    assert_eq!(llm.request_count(), 0);
    session.close().await;
}

#[tokio::test]
async fn two_regressions_in_a_row_end_with_the_last_values() {
    let (session, log) = at_the_city_step().await;
    // From the city step back to color, and while color re-runs, back again to animal.
    let turn = session.run("go back to color").await.unwrap();
    turn.expect().contains_agent_handoff_to::<ColorTask>();
    let turn = session.run("go back to animal please").await.unwrap();
    turn.expect().contains_agent_handoff_to::<AnimalTask>();
    session.run("animal owl").await.unwrap();
    // The interrupted color step resumes, then the interrupted city step.
    session.run("color blue").await.unwrap();
    let turn = session.run("city Rome").await.unwrap();
    assert_eq!(turn.assistant_text(), "done blue owl Rome");
    assert_eq!(
        log_of(&log),
        [
            "color=red",
            "animal=fox",
            "animal=owl",
            "color=blue",
            "city=Rome",
            "done blue owl Rome"
        ]
    );
    session.close().await;
}
