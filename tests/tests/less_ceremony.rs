//! Shorter forms: `AgentSession::builder(llm)` builds without failing, `Ctx<'_, Self>` names the
//! context of agents and tasks alike, and `Reply::call("x", ())` calls a tool without arguments.

use agents_core::llm::FunctionCall;
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_core::tools::ToolDefinition;
use futures::future::BoxFuture;
use std::sync::Arc;

/// Counts visits.
#[derive(Clone, Debug, Default, PartialEq)]
struct Visits(u32);

/// Greets, and counts in the userdata.
#[agent]
struct Greeter;

#[function_tools]
impl Greeter {
    /// Count a visit.
    #[function_tool]
    async fn count(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        ctx.userdata::<Visits>()?.0 += 1;
        Ok("counted".into())
    }
}

#[tokio::test]
async fn builder_builds_without_failing_and_unit_arguments_are_an_empty_object() {
    let llm = ScriptedLlm::new()
        .on_user("count", Reply::call("count", ()))
        .after_tool("count", Reply::text("Counted."));
    let session = AgentSession::builder(llm.clone())
        .userdata(Visits(1))
        .max_tool_steps(2)
        .build();
    session.start(Greeter).await.unwrap();
    let turn = session.run("count me").await.unwrap();
    let mut e = turn.expect();
    e.next_event()
        .is_function_call("count", serde_json::json!({}));
    assert_eq!(
        e.at(0)
            .is_function_call("count", serde_json::json!({}))
            .call()
            .arguments,
        "{}"
    );
    e.next_event()
        .is_function_call_output()
        .with_output_containing("counted");
    assert_eq!(session.userdata::<Visits>().await.unwrap(), Visits(2));
    session.close().await;
}

/// A task written by hand (no macros), its hooks and tools taking `Ctx<'_, Self>`.
struct Pick;

impl ActivityInfo for Pick {
    type Result = u8;
    const ID: &'static str = "pick";
    const INSTRUCTIONS: &'static str = "Pick a number.";
}

impl Activity for Pick {
    fn tools(&self) -> Vec<Arc<ToolDefinition>> {
        vec![Arc::new(ToolDefinition::new(
            "pick",
            "Pick the number.",
            serde_json::json!({"type": "object", "properties": {}}),
        ))]
    }

    fn call_tool<'a>(
        &'a mut self,
        ctx: &'a mut Ctx<'_, Self>,
        _call: &'a FunctionCall,
    ) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            ctx.complete(7);
            ToolOutput::text("picked")
        })
    }

    fn on_enter<'a>(&'a mut self, ctx: &'a mut Ctx<'_, Self>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { ctx.generate_reply("Ask for a number.").await })
    }
}

impl AgentTask for Pick {}

/// Runs `Pick` from its `on_enter`.
struct Host;

impl ActivityInfo for Host {
    type Result = NoResult;
    const ID: &'static str = "host";
    const INSTRUCTIONS: &'static str = "Host.";
}

impl Activity for Host {
    fn tools(&self) -> Vec<Arc<ToolDefinition>> {
        Vec::new()
    }

    fn call_tool<'a>(
        &'a mut self,
        _ctx: &'a mut Ctx<'_, Self>,
        call: &'a FunctionCall,
    ) -> BoxFuture<'a, ToolOutput> {
        let name = call.name.clone();
        Box::pin(async move { ToolOutput::Error(format!("no tool {name}")) })
    }

    fn on_enter<'a>(&'a mut self, ctx: &'a mut Ctx<'_, Self>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let n = ctx.run_task(Pick).await?;
            ctx.say(format!("You picked {n}.")).await
        })
    }
}

impl Agent for Host {}

#[tokio::test]
async fn ctx_names_the_context_of_agents_and_tasks() {
    let llm = ScriptedLlm::new().on_instructions("ask for a number", Reply::call("pick", ()));
    let session = AgentSession::new(llm);
    let start = session.start(Host).await.unwrap();
    assert_eq!(start.final_output::<u8>(), Some(&7));
    assert!(start.assistant_text().contains("You picked 7."));
    session.close().await;
}
