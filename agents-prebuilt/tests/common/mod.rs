//! Shared test scaffolding: a tiny agent per task that awaits the task in `on_enter` and keeps
//! its outcome, and a session driven by a `ScriptedLlm`.

#![allow(dead_code)]

use agents_core::prelude::*;
use agents_core::testing::ScriptedLlm;
use std::sync::{Arc, Mutex};

/// Where a runner agent leaves the task's outcome.
pub type Outcome<T> = Arc<Mutex<Option<Result<T>>>>;

/// Defines `$agent`, an agent whose `on_enter` runs a `$task` and stores its outcome, then says
/// "Task finished." (so tests can tell the awaiting code resumed).
#[macro_export]
macro_rules! runner {
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
