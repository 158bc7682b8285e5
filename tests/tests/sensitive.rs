//! Sensitive tasks: what is said while one is in control is marked on every event, shown as
//! `[redacted]` when events are serialised (transcripts) or debug-printed, and not merged into
//! the parent's history; code still gets the real values.

use agents_core::llm::ChatRequest;
use agents_core::prelude::*;
use agents_core::session::{SessionEvent, REDACTED};
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

#[macro_use]
mod common;

use common::drain;

const CARD: &str = "4111111111111111";
const PIN: &str = "9876";

/// Ask for the card number.
#[agent_task(result = String, sensitive)]
struct CardTask;

#[function_tools]
impl CardTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.say("What is the card number?").await
    }

    /// Record the card number.
    #[function_tool]
    async fn record_card(&mut self, ctx: &mut TaskContext<'_, String>, number: String) -> String {
        // A task run from inside a sensitive one is sensitive too.
        let pin = ctx.run_task(PinTask { sensitive: false }).await;
        ctx.complete(format!("{number}/{}", pin.unwrap_or_default()));
        "recorded".to_string()
    }
}

ask_task!(
    PinTask { sensitive },
    "Ask for the PIN; sensitive per instance.",
    say("And the PIN?"),
    record_pin(pin)
);

/// Takes payments.
#[agent]
struct Cashier;

/// Checks out: the card, then a note, as one group; or the card returned as a tool output.
#[agent]
struct Checkout;

ask_task!(
    NoteTask,
    "Ask for a delivery note.",
    say("Any delivery note?"),
    record_note(note)
);

#[function_tools]
impl Checkout {
    /// Run the checkout steps.
    #[function_tool]
    async fn checkout(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let mut group = TaskGroup::new().summarize_chat_ctx(false);
        group.add("card", "The card", || CardTask);
        group.add("note", "A delivery note", || NoteTask);
        ctx.run_task(group).await?;
        Ok("checked out".into())
    }

    /// Take the card and hand its details back to the model (not advisable, but possible).
    #[function_tool]
    async fn card_back(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        ctx.run_task(CardTask).await
    }
}

/// Handles account security; hands back to the cashier.
#[agent(sensitive)]
struct Security;

#[function_tools]
impl Security {
    async fn on_dtmf(&mut self, _ctx: &mut AgentContext<'_>, digits: &str) -> Result<()> {
        Err(agents_core::Error::Usage(format!("cannot check {digits}")))
    }

    /// Done with security.
    #[function_tool]
    async fn done(&mut self) -> Handoff {
        Handoff::to(Cashier)
    }
}

#[function_tools]
impl Cashier {
    /// Take the card details.
    #[function_tool]
    async fn take_card(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let details = ctx.run_task(CardTask).await?;
        Ok(format!("card on file ({} characters)", details.len()))
    }

    /// Ask for a PIN outside any sensitive task.
    #[function_tool]
    async fn take_pin(&mut self, ctx: &mut AgentContext<'_>, sensitive: bool) -> Result<String> {
        let pin = ctx.run_task(PinTask { sensitive }).await?;
        Ok(format!("pin has {} digits", pin.len()))
    }
}

fn script() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user("pay", Reply::call("take_card", json!({})))
        .on_user(CARD, Reply::call("record_card", json!({"number": CARD})))
        .on_user(PIN, Reply::call("record_pin", json!({"pin": PIN})))
        .after_tool("take_card", Reply::text("Thanks, your card is on file."))
        .on_user("checkout", Reply::call("checkout", json!({})))
        .on_user("card back", Reply::call("card_back", json!({})))
        .on_user(
            "no note",
            Reply::call("record_note", json!({"note": "none"})),
        )
        .after_tool("checkout", Reply::text("Done."))
        .after_tool("card_back", Reply::text("Got it."))
        .on_user("security done", Reply::call("done", json!({})))
        .on_user(
            "plain pin",
            Reply::call("take_pin", json!({"sensitive": false})),
        )
        .on_user(
            "secret pin",
            Reply::call("take_pin", json!({"sensitive": true})),
        )
        .after_tool("take_pin", Reply::text("PIN noted."))
}

/// Every way an event leaves the process as text.
fn as_logged(event: &SessionEvent) -> String {
    format!("{} {event:?}", serde_json::to_string(event).unwrap())
}

#[tokio::test]
async fn what_a_sensitive_task_hears_stays_out_of_logs_and_history() {
    let llm = script();
    let session = AgentSession::builder(llm.clone()).build();
    let mut events = session.subscribe();
    session.start(Cashier).await.unwrap();
    drain(&mut events);

    let turn = session.run("I want to pay").await.unwrap();
    assert_eq!(turn.assistant_text(), "What is the card number?");
    session.run(CARD).await.unwrap();
    let done = session.run(PIN).await.unwrap();
    assert_eq!(done.assistant_text(), "Thanks, your card is on file.");
    // Code gets the real values: the typed result, and the turn's own events.
    assert_eq!(
        done.final_output::<String>(),
        Some(&format!("{CARD}/{PIN}"))
    );
    let e = done.expect();
    e.contains_function_call("record_pin", json!({"pin": PIN}));

    let events = drain(&mut events);
    let inside: Vec<&SessionEvent> = events.iter().filter(|e| e.is_sensitive()).collect();
    // The user's answers, the calls, their outputs, the prompts and both results are marked.
    let kinds: Vec<&str> = inside
        .iter()
        .map(|e| match e {
            SessionEvent::Message { .. } => "message",
            SessionEvent::TextDelta { .. } => "text",
            SessionEvent::FunctionCall { .. } => "call",
            SessionEvent::FunctionCallOutput { .. } => "output",
            SessionEvent::TaskCompleted { .. } => "completed",
            _ => "other",
        })
        .collect();
    for kind in ["message", "text", "call", "output", "completed"] {
        assert!(kinds.contains(&kind), "no sensitive {kind} in {kinds:?}");
    }
    assert!(inside.iter().any(|e| matches!(e,
        SessionEvent::Message { role: Role::User, content, .. } if content == CARD)));
    assert!(inside.iter().any(|e| matches!(e,
        SessionEvent::TaskCompleted { name, .. } if name == "pin_task")));
    // Nothing logged holds the card or the PIN; what is marked shows the placeholder.
    for event in &events {
        let logged = as_logged(event);
        assert!(
            !logged.contains(CARD) && !logged.contains(PIN),
            "leaked: {logged}"
        );
    }
    for event in &inside {
        assert!(as_logged(event).contains(REDACTED), "{}", as_logged(event));
    }
    let completed = serde_json::to_value(
        inside
            .iter()
            .find(|e| matches!(e, SessionEvent::TaskCompleted { name, .. } if name == "card_task"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        completed,
        json!({"type": "task_completed", "name": "card_task", "output": REDACTED, "sensitive": true})
    );
    // Back with the agent: the output of the tool that ran the task is marked (it may hold
    // the result), what the agent says next is not.
    let after: Vec<&SessionEvent> = events
        .iter()
        .skip_while(
            |e| !matches!(e, SessionEvent::TaskCompleted { name, .. } if name == "card_task"),
        )
        .skip(1)
        .collect();
    assert!(
        matches!(after[0], SessionEvent::FunctionCallOutput { name, sensitive: true, .. } if name == "take_card")
    );
    assert!(after.len() > 1);
    assert!(after[1..].iter().all(|e| !e.is_sensitive()), "{after:?}");

    // The LLM saw the card while the task ran, and the agent's history never got it.
    let requests = llm.requests();
    let holds_card = |r: &ChatRequest| {
        r.chat_ctx
            .items()
            .iter()
            .any(|i| serde_json::to_string(i).unwrap().contains(CARD))
    };
    assert!(requests.iter().any(holds_card));
    let last = requests.last().unwrap();
    assert!(
        last.tools.iter().any(|t| t.name == "take_card"),
        "the agent's request"
    );
    assert!(!holds_card(last), "{:?}", last.chat_ctx);
}

#[tokio::test]
async fn sensitivity_can_be_decided_per_instance() {
    let session = AgentSession::new(script());
    let mut events = session.subscribe();
    session.start(Cashier).await.unwrap();

    session.run("plain pin please").await.unwrap();
    session.run(PIN).await.unwrap();
    let plain = drain(&mut events);
    assert!(plain.iter().all(|e| !e.is_sensitive()));
    assert!(plain.iter().any(|e| as_logged(e).contains(PIN)));

    session.run("secret pin please").await.unwrap();
    session.run(PIN).await.unwrap();
    let secret = drain(&mut events);
    assert!(secret.iter().any(SessionEvent::is_sensitive));
    assert!(secret.iter().all(|e| !as_logged(e).contains(PIN)));
}

/// Plays `lines` to `agent` and returns the events; each must log without the card or the PIN.
async fn play(agent: impl Agent, lines: &[&str]) -> (ScriptedLlm, Vec<SessionEvent>) {
    let llm = script();
    let session = AgentSession::new(llm.clone());
    let mut events = session.subscribe();
    session.start(agent).await.unwrap();
    for line in lines {
        match line.strip_prefix("/dtmf ") {
            Some(digits) => drop(session.send_dtmf(digits).await),
            None => drop(session.run(*line).await),
        }
    }
    let events = drain(&mut events);
    for event in &events {
        let logged = as_logged(event);
        assert!(
            !logged.contains(CARD) && !logged.contains(PIN),
            "leaked: {logged}"
        );
    }
    (llm, events)
}

#[tokio::test]
async fn a_group_holding_a_sensitive_step_completes_redacted() {
    let (_, events) = play(Checkout, &["checkout please", CARD, PIN, "no note"]).await;
    let group = events
        .iter()
        .find(|e| matches!(e, SessionEvent::TaskCompleted { name, .. } if name == "task_group"))
        .expect("the group completed");
    assert!(group.is_sensitive());
    // The note step, not sensitive itself, is not marked.
    assert!(events.iter().any(|e| matches!(e,
        SessionEvent::TaskCompleted { name, sensitive: false, .. } if name == "note_task")));
}

#[tokio::test]
async fn a_tool_output_holding_a_sensitive_result_is_marked() {
    let (_, events) = play(Checkout, &["card back", CARD, PIN]).await;
    let output = events
        .iter()
        .find(|e| matches!(e, SessionEvent::FunctionCallOutput { name, .. } if name == "card_back"))
        .expect("the tool answered");
    assert!(output.is_sensitive());
    assert!(
        matches!(output, SessionEvent::FunctionCallOutput { output, .. } if output.contains(CARD))
    );
}

#[tokio::test]
async fn errors_and_handoffs_of_a_sensitive_agent_keep_its_secrets() {
    let (llm, events) = play(
        Security,
        &[
            &format!("/dtmf {PIN}"),
            PIN,
            "security done",
            "plain pin please",
        ],
    )
    .await;
    assert!(events.iter().any(|e| matches!(
        e,
        SessionEvent::Error {
            sensitive: true,
            ..
        }
    )));
    // The cashier's requests after the handoff carry nothing the security agent heard.
    let after: Vec<ChatRequest> = llm
        .requests()
        .into_iter()
        .filter(|r| r.tools.iter().any(|t| t.name == "take_pin"))
        .collect();
    assert!(!after.is_empty());
    for r in &after {
        assert!(r
            .chat_ctx
            .items()
            .iter()
            .all(|i| !serde_json::to_string(i).unwrap().contains(PIN)));
    }
}
