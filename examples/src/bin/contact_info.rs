//! A task awaited from a tool: the agent's `collect_contact_info` tool runs `GetContactInfoTask`
//! with the conversation so far (minus the agent's instructions) and reports the result.
//!
//! `cargo run -p agents-examples --bin contact_info -- demo` (scripted model) or `-- console`.

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use serde_json::json;

#[derive(Debug, Clone, serde::Serialize)]
struct ContactInfoResult {
    name: String,
    email_address: String,
    phone_number: String,
}

/// Collect the user's name, email address, and phone number. Ask for whatever is missing, one
/// item at a time, and record all three together once you have them.
#[agent_task(result = ContactInfoResult)]
struct GetContactInfoTask;

#[function_tools]
impl GetContactInfoTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, ContactInfoResult>) -> Result<()> {
        ctx.generate_reply("Ask for the contact details you do not have yet.")
            .await
    }

    /// Record the user's contact information once all three parts are known.
    ///
    /// # Arguments
    /// * `name` - The user's full name
    /// * `email_address` - The user's email address
    /// * `phone_number` - The user's phone number, with country code
    #[function_tool]
    async fn record_contact_info(
        &mut self,
        ctx: &mut TaskContext<'_, ContactInfoResult>,
        name: String,
        email_address: String,
        phone_number: String,
    ) {
        ctx.complete(ContactInfoResult {
            name,
            email_address,
            phone_number,
        });
    }
}

/// You are a friendly customer service representative.
#[agent]
struct CustomerServiceAgent;

#[function_tools]
impl CustomerServiceAgent {
    /// Collect the user's contact information.
    #[function_tool]
    async fn collect_contact_info(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        // Pass the conversation so far, without the agent's own instructions.
        let result = ctx
            .run_task(GetContactInfoTask)
            .with_history(CopyOptions::all().exclude_instructions())
            .await?;
        Ok(format!("Recorded contact info for {}.", result.name))
    }
}

/// The model `demo` mode plays against.
fn demo_llm() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user("update my", Reply::call("collect_contact_info", json!({})))
        .on_instructions(
            "contact details",
            Reply::text("Sure! What are your name, email address and phone number?"),
        )
        .on_user(
            "jane",
            Reply::call(
                "record_contact_info",
                json!({"name": "Jane Doe", "email_address": "jane.doe@example.com", "phone_number": "+15550100"}),
            ),
        )
        .after_tool(
            "collect_contact_info",
            Reply::text("Thanks Jane, your contact details are saved."),
        )
        .otherwise(Reply::text("How can I help you today?"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    agents_core::console::run_agent(
        CustomerServiceAgent,
        demo_llm,
        &[
            "Hi, I'd like to update my contact details.",
            "I'm Jane Doe, jane.doe@example.com, plus one 555 0100.",
        ],
    )
    .await
}
