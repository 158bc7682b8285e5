//! A TaskGroup started from a tool: name, then email. Saying "change my name to ..." while the
//! email is collected goes back to the name step (`out_of_scope`), then resumes. Each result is
//! shown as it completes, and a summary of the group merges into the agent's conversation.

use super::checks;
use agents_core::console;
use agents_core::prelude::*;

/// `--help` text of the example.
pub const ABOUT: &str = "Signs a user up with a task group: name, then email, with going back.

The agent's start_onboarding tool runs a TaskGroup of a name step and an email step (checked \
with the prebuilt email validator). Asking to change the name while the email is collected \
returns to the name step; each step's result is shown as it completes.";

/// Ask for the user's name.
#[agent_task(result = String)]
pub struct NameTask;

#[function_tools]
impl NameTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply("Ask for the user's name.").await
    }

    /// Save the user's name.
    #[function_tool]
    async fn record_name(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        name: String,
    ) -> Result<(), ToolError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ToolError::new("The name is empty; ask again."));
        }
        ctx.complete(name.to_string());
        Ok(())
    }
}

/// Ask for the user's email address.
#[agent_task(result = String)]
pub struct EmailTask;

#[function_tools]
impl EmailTask {
    async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
        ctx.generate_reply("Ask for the user's email address.")
            .await
    }

    /// Save the user's email address.
    ///
    /// # Arguments
    /// * `email` - The email address in written form, e.g. jane.doe@example.com
    #[function_tool]
    async fn record_email(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        email: String,
    ) -> Result<(), ToolError> {
        let email = checks::email(&email)?;
        ctx.complete(email);
        Ok(())
    }
}

/// You are a friendly onboarding assistant for a banking app.
#[agent]
pub struct OnboardingAgent;

#[function_tools]
impl OnboardingAgent {
    /// Start onboarding a new user: collects their name and email.
    #[function_tool]
    async fn start_onboarding(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        let mut group = TaskGroup::new().on_task_completed(|event| async move {
            console::note(format!(
                "(task '{}' completed with {})",
                event.task_id, event.result_json
            ))
            .await;
            Ok(())
        });
        // The ids are the tasks' own, so the ids `out_of_scope` takes are the ones the
        // console and the transcript show.
        let name = group.add("name_task", "Collects the user's name", || NameTask);
        let email = group.add("email_task", "Collects the user's email address", || {
            EmailTask
        });
        let results = ctx.run_task(group).await?;
        Ok(format!(
            "Onboarded {} with email {}.",
            results[name], results[email]
        ))
    }
}
