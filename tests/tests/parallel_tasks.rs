//! Tasks awaited from tool calls of the same reply run one after another, each with its own
//! turns, and the reply's follow-up comes once both are done.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

mod common;

use common::expect_task_done_by;

/// Ask for one value.
#[agent_task(result = String)]
struct AskTask {
    what: &'static str,
}

#[function_tools]
impl AskTask {
    fn instructions(&self) -> String {
        format!("Ask the user for their {}.", self.what)
    }

    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.say(format!("What is your {}?", self.what)).await
    }

    /// Record the answer.
    #[function_tool]
    async fn record(&mut self, ctx: &mut TaskContext<'_, String>, value: String) {
        ctx.complete(value);
    }
}

/// Books tables.
#[agent]
struct Booker;

#[function_tools]
impl Booker {
    /// Ask for the date.
    #[function_tool]
    async fn ask_date(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        Ok(format!(
            "date={}",
            ctx.run_task(AskTask { what: "date" }).await?
        ))
    }

    /// Ask for the party size.
    #[function_tool]
    async fn ask_size(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        Ok(format!(
            "size={}",
            ctx.run_task(AskTask { what: "party size" }).await?
        ))
    }
}

#[tokio::test]
async fn tasks_from_parallel_calls_run_in_turn() {
    let llm = ScriptedLlm::new()
        .on_user(
            "book",
            Reply::calls(vec![("ask_date", json!({})), ("ask_size", json!({}))]),
        )
        .on_user("friday", Reply::call("record", json!({"value": "friday"})))
        .on_user("four", Reply::call("record", json!({"value": "4"})))
        .after_tool("ask_size", Reply::text("Booked for 4 on friday."));
    let session = AgentSession::new(llm);
    session.start(Booker).await.unwrap();

    let turn = session.run("book a table").await.unwrap();
    assert_eq!(turn.assistant_text(), "What is your date?");
    let turn = session.run("friday").await.unwrap();
    // The first task completed (its tool's output is in), the second starts only now.
    let mut e = turn.expect();
    expect_task_done_by(&mut e, "record", json!({"value": "friday"}), "date=friday");
    e.next_event().is_agent_handoff_to::<AskTask>();
    assert_eq!(turn.assistant_text(), "What is your party size?");
    let turn = session.run("four").await.unwrap();
    let mut e = turn.expect();
    expect_task_done_by(&mut e, "record", json!({"value": "4"}), "size=4");
    e.next_event()
        .is_message(Role::Assistant)
        .containing("Booked for 4");
    e.no_more_events();
    session.close().await;
}
