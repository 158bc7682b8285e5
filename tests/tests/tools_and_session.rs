//! Error paths of tools and sessions: every failure reaches the LLM as a tool error and the
//! session lives on; userdata, handoffs, hooks, step limits and mocks.

use agents_core::prelude::*;
use agents_core::session::SessionBuilder;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;
use std::sync::{Arc, Mutex};

mod common;

use common::drain;

#[derive(Debug, Clone, Default, PartialEq)]
struct Profile {
    visits: u32,
}

/// You help with orders.
#[agent]
#[derive(Default)]
struct OrderAgent {
    exits: Arc<Mutex<Vec<&'static str>>>,
}

#[function_tools]
impl OrderAgent {
    async fn on_exit(&mut self) {
        self.exits.lock().unwrap().push("order_agent");
    }

    /// Look up an order.
    ///
    /// # Arguments
    /// * `order_id` - The order number
    /// * `include_items` - Whether to list the items
    #[function_tool]
    async fn lookup_order(
        &mut self,
        order_id: u32,
        include_items: Option<bool>,
    ) -> Result<String, ToolError> {
        if order_id == 0 {
            return Err(ToolError::new(
                "Order 0 does not exist; ask the user for the number on their receipt.",
            ));
        }
        Ok(format!(
            "order {order_id}: shipped{}",
            if include_items == Some(true) {
                ", 2 items"
            } else {
                ""
            }
        ))
    }

    /// Always fails badly.
    #[function_tool]
    async fn crash(&mut self) -> String {
        panic!("the database exploded");
    }

    /// Count a visit in the user's profile.
    #[function_tool]
    async fn count_visit(&mut self, ctx: &mut AgentContext<'_>) -> Result<u32> {
        let profile = ctx.userdata::<Profile>()?;
        profile.visits += 1;
        Ok(profile.visits)
    }

    /// Returns a structured value.
    #[function_tool]
    async fn order_summary(&mut self) -> Json<serde_json::Value> {
        Json(json!({"open": 2, "shipped": 5}))
    }

    /// End the call without another word.
    #[function_tool]
    async fn hang_up(&mut self) -> StopResponse {
        StopResponse
    }

    /// Transfer to billing.
    #[function_tool]
    async fn transfer_to_billing(&mut self) -> Handoff {
        Handoff::to(BillingAgent).with_message("Transferring you to billing.")
    }
}

/// You handle billing questions.
#[agent]
struct BillingAgent;

#[function_tools]
impl BillingAgent {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        ctx.say("Billing here, how can I help?").await
    }
}

fn session_with(llm: ScriptedLlm) -> AgentSession {
    AgentSession::builder(llm).build()
}

/// The session `builder` builds, with a fresh `OrderAgent` started.
async fn with_order_agent(builder: SessionBuilder) -> AgentSession {
    let session = builder.build();
    session.start(OrderAgent::default()).await.unwrap();
    session
}

#[tokio::test]
async fn every_tool_failure_goes_back_to_the_llm_and_the_session_lives() {
    let llm = ScriptedLlm::sequence(vec![
        Reply::calls(vec![
            ("lookup_order", json!({"order_id": "not a number"})),
            ("lookup_order", json!({})),
            ("no_such_tool", json!({})),
            ("lookup_order", json!({"order_id": 0})),
            ("crash", json!({})),
        ]),
        Reply::text("Sorry, something went wrong. What's your order number?"),
        Reply::call(
            "lookup_order",
            json!({"order_id": 42, "include_items": true}),
        ),
        Reply::text("Order 42 has shipped."),
    ]);
    let session = with_order_agent(AgentSession::builder(llm.clone())).await;
    let turn = session.run("where is my order?").await.unwrap();
    let outputs: Vec<(String, bool)> = turn
        .events()
        .iter()
        .filter_map(|e| match e {
            RunEvent::FunctionCallOutput(o) => Some((o.output.clone(), o.is_error)),
            _ => None,
        })
        .collect();
    assert_eq!(outputs.len(), 5);
    assert!(outputs.iter().all(|(_, is_error)| *is_error), "{outputs:?}");
    assert!(
        outputs[0]
            .0
            .contains("Invalid arguments for tool `lookup_order`"),
        "{}",
        outputs[0].0
    );
    assert!(outputs[0].0.contains("invalid type"), "{}", outputs[0].0);
    assert!(
        outputs[1].0.contains("missing field `order_id`"),
        "{}",
        outputs[1].0
    );
    assert!(
        outputs[2].0.contains("Unknown tool `no_such_tool`"),
        "{}",
        outputs[2].0
    );
    assert!(
        outputs[2].0.contains("lookup_order"),
        "the error lists the real tools"
    );
    assert!(outputs[3].0.contains("receipt"));
    assert!(outputs[4]
        .0
        .contains("internal error occurred in tool `crash`"));
    assert!(
        !outputs[4].0.contains("exploded"),
        "panic text stays in the logs"
    );
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("something went wrong");

    // The next turn works.
    let turn = session.run("It's 42").await.unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("order 42: shipped, 2 items");
    session.close().await;
}

#[tokio::test]
async fn tool_return_values_become_outputs() {
    let llm = ScriptedLlm::new()
        .on_user("summary", Reply::call("order_summary", json!({})))
        .on_user("bye", Reply::call("hang_up", json!({})))
        .otherwise(Reply::text("Here you go."));
    let session = with_order_agent(AgentSession::builder(llm.clone())).await;
    let turn = session.run("summary please").await.unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing(r#"{"open":2,"shipped":5}"#);
    let before = llm.request_count();
    let turn = session.run("bye").await.unwrap();
    let mut e = turn.expect();
    e.next_event().is_function_call("hang_up", None);
    e.next_event().is_function_call_output();
    e.no_more_events();
    assert_eq!(
        llm.request_count(),
        before + 1,
        "StopResponse asks for no reply"
    );
    session.close().await;
}

#[tokio::test]
async fn userdata_unset_or_mistyped_is_a_clear_error() {
    let llm = ScriptedLlm::new()
        .on_user("visit", Reply::call("count_visit", json!({})))
        .otherwise(Reply::text("ok"));

    let session = with_order_agent(AgentSession::builder(llm.clone())).await;
    let turn = session.run("visit").await.unwrap();
    let out = turn
        .expect()
        .contains_function_call_output(true)
        .output()
        .clone();
    assert!(out.output.contains("no userdata is set"), "{}", out.output);
    assert!(out.output.contains("Profile"), "{}", out.output);
    session.close().await;

    let session =
        with_order_agent(AgentSession::builder(llm.clone()).userdata(String::from("wrong"))).await;
    let turn = session.run("visit").await.unwrap();
    let out = turn
        .expect()
        .contains_function_call_output(true)
        .output()
        .clone();
    assert!(
        out.output
            .contains("`tools_and_session::Profile` was requested"),
        "{}",
        out.output
    );
    assert!(
        out.output.contains("holds a `alloc::string::String`"),
        "{}",
        out.output
    );
    session.close().await;

    let session = with_order_agent(AgentSession::builder(llm).userdata(Profile::default())).await;
    session.run("visit").await.unwrap();
    session.run("visit").await.unwrap();
    assert_eq!(
        session.userdata::<Profile>().await.unwrap(),
        Profile { visits: 2 }
    );
    session.close().await;
    assert_eq!(
        session.userdata::<Profile>().await.unwrap().visits,
        2,
        "readable after close"
    );
    let err = session.userdata::<String>().await.unwrap_err();
    assert!(matches!(err, Error::UserdataType { .. }), "{err}");
}

#[tokio::test]
async fn handoff_runs_exit_and_enter_hooks() {
    let llm = ScriptedLlm::new()
        .on_user("billing", Reply::call("transfer_to_billing", json!({})))
        .otherwise(Reply::text("ok"));
    let session = session_with(llm);
    let agent = OrderAgent::default();
    let exits = agent.exits.clone();
    session.start(agent).await.unwrap();
    let turn = session.run("I have a billing question").await.unwrap();
    let mut e = turn.expect();
    e.next_event().is_function_call("transfer_to_billing", None);
    e.next_event()
        .is_function_call_output()
        .with_output_containing("Transferring you to billing.");
    e.next_event().is_agent_handoff_to::<BillingAgent>();
    e.next_event()
        .is_message(Role::Assistant)
        .containing("Billing here");
    e.no_more_events();
    assert_eq!(*exits.lock().unwrap(), vec!["order_agent"]);
    session.close().await;
}

#[tokio::test]
async fn a_model_that_loops_on_tools_is_stopped() {
    let llm = ScriptedLlm::new()
        .on_user("loop", Reply::call("order_summary", json!({})))
        .after_tool("order_summary", Reply::call("order_summary", json!({})))
        .otherwise(Reply::text("Done looping."));
    let session = with_order_agent(AgentSession::builder(llm.clone()).max_tool_steps(3)).await;
    let turn = session.run("loop").await.unwrap();
    let calls = turn
        .events()
        .iter()
        .filter(|e| matches!(e, RunEvent::FunctionCall(_)))
        .count();
    assert_eq!(calls, 3);
    // The last request offers no tools, so the model has to answer.
    let last = llm.requests().last().cloned().unwrap();
    assert!(last.tools.is_empty());
    turn.expect()
        .contains_message(Role::Assistant)
        .containing("Done looping");
    session.close().await;
}

#[tokio::test]
async fn mocked_tools_replace_the_body() {
    let llm = ScriptedLlm::new()
        .on_user("where", Reply::call("lookup_order", json!({"order_id": 7})))
        .otherwise(Reply::text("ok"));
    let session = session_with(llm);
    session.mock_tool_of::<OrderAgent, _, _>("lookup_order", |args| {
        format!("mocked order {}", args["order_id"])
    });
    session.start(OrderAgent::default()).await.unwrap();
    let turn = session.run("where is 7").await.unwrap();
    turn.expect()
        .contains_function_call_output(false)
        .with_output_containing("mocked order 7");
    session.close().await;
}

#[tokio::test]
async fn using_a_session_before_start_or_after_close_is_an_error() {
    let session = session_with(ScriptedLlm::new());
    let err = session.run("hi").await.unwrap_err();
    assert!(
        err.to_string().contains("call session.start(agent) first"),
        "{err}"
    );
    session.start(OrderAgent::default()).await.unwrap();
    let err = session.start(OrderAgent::default()).await.unwrap_err();
    assert!(err.to_string().contains("already started"), "{err}");
    session.close().await;
    assert!(matches!(session.run("hi").await, Err(Error::Closed)));
}

/// Confirms a code once one was recorded.
#[agent]
#[derive(Default)]
struct CodeAgent {
    code: Option<String>,
}

#[function_tools]
impl CodeAgent {
    /// Only offer `confirm_code` once there is a code to confirm.
    fn tool_enabled(&self, name: &str) -> bool {
        name != "confirm_code" || self.code.is_some()
    }

    /// Record the code the user said.
    #[function_tool]
    async fn record_code(&mut self, code: String) -> String {
        self.code = Some(code);
        "Read it back and ask the user to confirm.".into()
    }

    /// Confirm the recorded code.
    #[function_tool]
    async fn confirm_code(&mut self) -> String {
        "Confirmed.".into()
    }
}

#[tokio::test]
async fn tools_can_be_switched_on_by_state() {
    let llm = ScriptedLlm::new()
        .on_user("code", Reply::call("record_code", json!({"code": "1234"})))
        .otherwise(Reply::text("ok"));
    let session = session_with(llm.clone());
    session.start(CodeAgent::default()).await.unwrap();
    session.run("hello").await.unwrap();
    assert!(!llm.last_request().unwrap().offers_tool("confirm_code"));
    session.run("my code is 1234").await.unwrap();
    // The follow-up request after `record_code` already offers it.
    assert!(llm.last_request().unwrap().offers_tool("confirm_code"));
    session.close().await;
}

#[tokio::test]
async fn usage_of_each_request_is_an_event() {
    let session = session_with(ScriptedLlm::new().otherwise(Reply::text("Hello there.")));
    let mut events = session.subscribe();
    session.start(OrderAgent::default()).await.unwrap();
    session.run("hi").await.unwrap();
    let usage: Vec<_> = drain(&mut events)
        .into_iter()
        .filter_map(|ev| match ev {
            SessionEvent::Usage {
                prompt_tokens,
                completion_tokens,
                ..
            } => Some((prompt_tokens, completion_tokens)),
            _ => None,
        })
        .collect();
    assert_eq!(usage.len(), 1, "one LLM request in the turn");
    assert!(usage[0].0 > 0 && usage[0].1 > 0, "{usage:?}");
    session.close().await;
}
