//! A TaskGroup started from a tool: name, then email. Saying "change my name to ..." while the
//! email is collected goes back to the name step (`out_of_scope`), then resumes. Each result is
//! printed as it completes, and a summary of the group merges into the agent's conversation.
//!
//! `cargo run -p agents-examples --bin onboarding -- demo` (scripted model) or `-- console`.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

/// Ask for the user's name.
#[agent_task(result = String)]
struct NameTask;

#[function_tools]
impl NameTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply("Ask for the user's name.").await
    }

    /// Save the user's name.
    #[function_tool]
    async fn record_name(&mut self, ctx: &mut TaskContext<'_, String>, name: String) {
        ctx.complete(name);
    }
}

/// Ask for the user's email address.
#[agent_task(result = String)]
struct EmailTask;

#[function_tools]
impl EmailTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply("Ask for the user's email address.")
            .await
    }

    /// Save the user's email address.
    #[function_tool]
    async fn record_email(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        email: String,
    ) -> Result<(), ToolError> {
        if !email.contains('@') {
            return Err(ToolError::new("That is not an email address; ask again."));
        }
        ctx.complete(email);
        Ok(())
    }
}

/// You are a friendly onboarding assistant for a banking app.
#[agent]
struct OnboardingAgent;

#[function_tools]
impl OnboardingAgent {
    /// Start onboarding a new user: collects their name and email.
    #[function_tool]
    async fn start_onboarding(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let mut group = TaskGroup::new().on_task_completed(|event| async move {
            println!(
                "  (task '{}' completed with {})",
                event.task_id, event.result_json
            );
            Ok(())
        });
        let name = group.add("name", "Collects the user's name", || NameTask);
        let email = group.add("email", "Collects the user's email address", || EmailTask);
        let results = ctx.run_task(group).await?;
        Ok(format!(
            "Onboarded {} with email {}.",
            results[name], results[email]
        ))
    }
}

/// The model `demo` mode plays against.
fn demo_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user("sign up", Reply::call("start_onboarding", json!({})))
        .on_instructions("user's name", Reply::text("Welcome! What's your name?"))
        .on_instructions(
            "email address",
            Reply::text("Thanks! What's your email address?"),
        )
        .on_user(
            "change my name",
            Reply::call("out_of_scope", json!({"task_ids": ["name"]})),
        )
        .on_user(
            "i'm alex",
            Reply::call("record_name", json!({"name": "Alex"})),
        )
        .on_user(
            "it's sam",
            Reply::call("record_name", json!({"name": "Sam"})),
        )
        .on_user(
            "@",
            Reply::call("record_email", json!({"email": "sam@example.com"})),
        )
        .when(
            |r| r.instructions().contains("You summarise a conversation"),
            Reply::text("The user signed up as Sam (first said Alex), email sam@example.com."),
        )
        .after_tool(
            "start_onboarding",
            Reply::text("You're all set, Sam! Anything else I can help with?"),
        )
        .otherwise(Reply::text("Could you say that again?"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    agents_core::console::run_agent(
        OnboardingAgent,
        demo_llm,
        &[
            "Hi, I want to sign up.",
            "I'm Alex.",
            "Actually, change my name please.",
            "It's Sam.",
            "sam@example.com",
        ],
    )
    .await
}
