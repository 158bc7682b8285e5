//! TaskGroup: order, shared conversation, regression with `out_of_scope`, callbacks, early exit,
//! `return_exceptions`, summaries.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct IntroResults {
    name: String,
    intro: String,
}

/// Welcome the candidate and collect their name and introduction.
#[agent_task(result = IntroResults)]
struct IntroTask;

#[function_tools]
impl IntroTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, IntroResults>) -> Result<()> {
        ctx.generate_reply("Welcome the candidate and gather their name.")
            .await
    }

    /// Record the candidate's name and introduction
    #[function_tool]
    async fn record_intro(
        &mut self,
        ctx: &mut TaskContext<'_, IntroResults>,
        name: String,
        intro_notes: String,
    ) {
        ctx.complete(IntroResults {
            name,
            intro: intro_notes,
        });
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
enum CommuteMethod {
    Driving,
    Bus,
    Subway,
    None,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct CommuteResults {
    can_commute: bool,
    commute_method: CommuteMethod,
}

/// Ask about the candidate's ability to commute to the office.
#[agent_task(result = CommuteResults)]
struct CommuteTask;

#[function_tools]
impl CommuteTask {
    /// Record commute flexibility and transportation method
    ///
    /// # Arguments
    /// * `can_commute` - Whether the candidate can commute
    /// * `commute_method` - Transportation method
    #[function_tool]
    async fn record_commute_flexibility(
        &mut self,
        ctx: &mut TaskContext<'_, CommuteResults>,
        can_commute: bool,
        commute_method: CommuteMethod,
    ) {
        ctx.complete(CommuteResults {
            can_commute,
            commute_method,
        });
    }

    /// The candidate refuses to answer.
    #[function_tool]
    async fn refuse(&mut self, ctx: &mut TaskContext<'_, CommuteResults>) {
        ctx.fail(Error::task(Refused));
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the candidate refused to answer")]
struct Refused;

#[derive(Debug, thiserror::Error)]
#[error("existing profile found")]
struct ExistingProfileFound;

type Log = Arc<Mutex<Vec<String>>>;

/// Options for the interviewer's group, set per test.
#[derive(Clone, Default)]
struct Setup {
    exit_after_intro: bool,
    return_exceptions: bool,
    no_summary: bool,
}

/// You screen job candidates.
#[agent]
struct Interviewer {
    setup: Setup,
    log: Log,
}

#[function_tools]
impl Interviewer {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let log = self.log.clone();
        let exit = self.setup.exit_after_intro;
        let mut group = TaskGroup::new()
            .return_exceptions(self.setup.return_exceptions)
            .summarize_chat_ctx(!self.setup.no_summary)
            .on_task_completed(move |ev| {
                let log = log.clone();
                async move {
                    log.lock()
                        .unwrap()
                        .push(format!("{} {}", ev.task_id, ev.result_json));
                    if exit && ev.task_id == "intro_task" {
                        return Err(Error::task(ExistingProfileFound));
                    }
                    Ok(())
                }
            });
        let intro = group.add("intro_task", "Collects name and introduction", || IntroTask);
        let commute = group.add("commute_task", "Asks about commute flexibility", || {
            CommuteTask
        });
        match ctx.run_task(group).await {
            Ok(results) => {
                let name = &results[intro].name;
                let line = match results.get(commute) {
                    Some(c) => format!("{name} commutes by {:?}", c.commute_method),
                    None => format!(
                        "{name}: commute unknown ({})",
                        results
                            .error(commute)
                            .map(|e| e.to_string())
                            .unwrap_or_default()
                    ),
                };
                self.log.lock().unwrap().push(format!("done: {line}"));
                ctx.say(format!("Thanks, {name}. That's all.")).await
            }
            Err(e) if e.is::<ExistingProfileFound>() => {
                ctx.say("Welcome back! I found your profile.").await
            }
            Err(e) => Err(e),
        }
    }
}

fn llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_instructions(
            "gather their name",
            Reply::text("Welcome! What's your name?"),
        )
        .on_user(
            "change my name",
            Reply::call("out_of_scope", json!({"task_ids": ["intro_task"]})),
        )
        .on_user(
            "i'm alex",
            Reply::call(
                "record_intro",
                json!({"name": "Alex", "intro_notes": "backend engineer"}),
            ),
        )
        .on_user(
            "actually i'm sam",
            Reply::call(
                "record_intro",
                json!({"name": "Sam", "intro_notes": "backend engineer"}),
            ),
        )
        .on_user(
            "subway",
            Reply::call(
                "record_commute_flexibility",
                json!({"can_commute": true, "commute_method": "Subway"}),
            ),
        )
        .on_user("rather not say", Reply::call("refuse", json!({})))
        .when(
            |r| r.instructions().contains("You summarise a conversation"),
            Reply::text("The candidate is Sam, a backend engineer, commuting by subway."),
        )
        .otherwise(Reply::text("Can you commute to the office?"))
}

async fn start(setup: Setup) -> (AgentSession, ScriptedLlm, Log) {
    let llm = llm();
    let log: Log = Arc::default();
    let session = AgentSession::builder(llm.clone()).build();
    let start = session
        .start(Interviewer {
            setup,
            log: log.clone(),
        })
        .await
        .unwrap();
    // No sleep needed: the group's first task has already greeted the user.
    start
        .expect()
        .contains_message(Role::Assistant)
        .containing("What's your name?");
    (session, llm, log)
}

#[tokio::test]
async fn tasks_run_in_order_with_typed_results_and_a_summary() {
    let (session, llm, log) = start(Setup::default()).await;
    let turn = session
        .run("Hi, I'm Alex, a backend engineer")
        .await
        .unwrap();
    turn.expect()
        .contains_function_call("record_intro", json!({"name": "Alex"}));
    turn.expect().contains_agent_handoff_to::<CommuteTask>();

    let turn = session.run("Yes, by subway").await.unwrap();
    // The second task saw the first one's conversation, and the way back to it.
    let commute = llm
        .requests()
        .into_iter()
        .find(|r| r.offers_tool("record_commute_flexibility"))
        .unwrap();
    assert!(commute
        .chat_ctx
        .messages()
        .any(|m| m.content.contains("I'm Alex")));
    assert!(commute.offers_tool("out_of_scope"));
    let out_of_scope = commute
        .tools
        .iter()
        .find(|t| t.name == "out_of_scope")
        .unwrap();
    assert!(out_of_scope
        .description
        .contains("Collects name and introduction"));
    assert_eq!(
        out_of_scope.parameters["properties"]["task_ids"]["items"]["enum"],
        json!(["intro_task"])
    );
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("Thanks, Alex");
    assert_eq!(
        log.lock().unwrap().clone(),
        vec![
            r#"intro_task {"name":"Alex","intro":"backend engineer"}"#.to_string(),
            r#"commute_task {"can_commute":true,"commute_method":"Subway"}"#.to_string(),
            "done: Alex commutes by Subway".to_string(),
        ]
    );
    // The summary request saw the whole group conversation.
    let summary_request = llm
        .requests()
        .into_iter()
        .find(|r| r.instructions().contains("You summarise"))
        .expect("the group asked for a summary");
    let text = summary_request.last_user_text().unwrap().to_string();
    assert!(text.contains("<user>Hi, I'm Alex"), "{text}");
    assert!(text.contains("record_commute_flexibility"), "{text}");
    // Only the summary merged into the interviewer's conversation.
    session.run("bye").await.unwrap();
    let last = llm.requests().last().cloned().unwrap();
    assert!(last
        .chat_ctx
        .messages()
        .any(|m| m.content.contains("<chat_history_summary>")));
    assert!(!last
        .chat_ctx
        .messages()
        .any(|m| m.content.contains("I'm Alex")));
    session.close().await;
}

#[tokio::test]
async fn first_task_has_no_way_back_and_regression_reruns_then_resumes() {
    let (session, llm, log) = start(Setup::default()).await;
    let first = llm.requests().last().cloned().unwrap();
    assert!(!first.offers_tool("out_of_scope"));
    session.run("I'm Alex").await.unwrap();

    // While the commute task runs, the user goes back to the intro.
    let turn = session.run("Wait, change my name please").await.unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("out_of_scope", json!({"task_ids": ["intro_task"]}));
    e.next_event().is_function_call_output();
    e.next_event().is_agent_handoff_to::<IntroTask>();
    e.next_event().is_message(Role::Assistant);
    e.no_more_events();

    let turn = session.run("Actually I'm Sam").await.unwrap();
    // Back in the commute task, which was interrupted.
    turn.expect().contains_agent_handoff_to::<CommuteTask>();
    let turn = session.run("subway is fine").await.unwrap();
    let last_commute = llm
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.offers_tool("record_commute_flexibility"))
        .unwrap();
    assert!(last_commute.last_user_text() == Some("subway is fine"));
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("Thanks, Sam");
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log[1].starts_with("intro_task") && log[1].contains("Sam"));
    assert_eq!(log[3], "done: Sam commutes by Subway");
    session.close().await;
}

#[tokio::test]
async fn an_error_from_the_callback_ends_the_group_early() {
    let (session, _llm, log) = start(Setup {
        exit_after_intro: true,
        ..Setup::default()
    })
    .await;
    let turn = session.run("I'm Alex").await.unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("Welcome back");
    assert!(!turn.events().iter().any(|e| matches!(
        e,
        RunEvent::AgentHandoff { item, .. } if item.new_agent_id == "commute_task"
    )));
    assert_eq!(log.lock().unwrap().len(), 1);
    session.close().await;
}

#[tokio::test]
async fn return_exceptions_keeps_the_error_and_continues() {
    let (session, _llm, log) = start(Setup {
        return_exceptions: true,
        no_summary: true,
        ..Setup::default()
    })
    .await;
    session.run("I'm Alex").await.unwrap();
    let turn = session.run("I'd rather not say").await.unwrap();
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("Thanks, Alex");
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log.last().unwrap(),
        "done: Alex: commute unknown (the candidate refused to answer)"
    );
    session.close().await;
}

#[tokio::test]
async fn without_summary_the_whole_conversation_merges_back() {
    let (session, llm, _log) = start(Setup {
        no_summary: true,
        ..Setup::default()
    })
    .await;
    session.run("I'm Alex").await.unwrap();
    session.run("subway").await.unwrap();
    assert!(!llm
        .requests()
        .iter()
        .any(|r| r.instructions().contains("You summarise")));
    // The interviewer's next request holds the group's full conversation.
    session.run("bye").await.unwrap();
    let last = llm.requests().last().cloned().unwrap();
    assert!(last.chat_ctx.messages().any(|m| m.content == "I'm Alex"));
    assert!(!last
        .chat_ctx
        .messages()
        .any(|m| m.content.contains("<chat_history_summary>")));
    session.close().await;
}
