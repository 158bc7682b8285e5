//! A task awaited from a tool: the agent's `collect_contact_info` tool runs `GetContactInfoTask`
//! with the conversation so far (minus the agent's instructions) and reports the result. The
//! email address and phone number are checked with the prebuilt tasks' validators.

use super::checks;
use agents_core::prelude::*;
use agents_prebuilt::phone::validate_phone;
use agents_prebuilt::CaptureDeclined;

/// `--help` text of the example.
pub const ABOUT: &str = "Collects name, email and phone from a task awaited inside a tool.

The agent's collect_contact_info tool runs GetContactInfoTask with the conversation so far, so \
details the user already gave are not asked again. The email address and phone number are \
checked before they are recorded; the user may decline.";

/// What the contact task collects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContactInfoResult {
    /// Full name.
    pub name: String,
    /// Email address, lowercase.
    pub email_address: String,
    /// Phone number in E.164 form (`+15550100...`).
    pub phone_number: String,
}

/// Collect the user's name, email address, and phone number. Ask for whatever is missing, one
/// item at a time, and record all three together once you have them. If the user will not give
/// them, call `decline_contact_info`.
#[agent_task(result = ContactInfoResult)]
pub struct GetContactInfoTask;

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
    /// * `email_address` - The user's email address, e.g. jane.doe@example.com
    /// * `phone_number` - The user's phone number, with country code
    #[function_tool]
    async fn record_contact_info(
        &mut self,
        ctx: &mut TaskContext<'_, ContactInfoResult>,
        name: String,
        email_address: String,
        phone_number: String,
    ) -> Result<String, ToolError> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(ToolError::new("The name is empty; ask for it."));
        }
        let email_address = checks::email(&email_address)?;
        let phone_number = validate_phone(&phone_number, None).map_err(|why| {
            ToolError::new(format!(
                "That is not a valid phone number: {why}. Ask for the full number with its country code."
            ))
        })?;
        let recorded = format!("Recorded {name}, {email_address}, {phone_number}.");
        ctx.complete(ContactInfoResult {
            name,
            email_address,
            phone_number,
        });
        Ok(recorded)
    }

    /// Call this when the user will not or cannot give their contact details.
    ///
    /// # Arguments
    /// * `reason` - Why, in a few words
    #[function_tool]
    async fn decline_contact_info(
        &mut self,
        ctx: &mut TaskContext<'_, ContactInfoResult>,
        reason: String,
    ) -> String {
        ctx.fail(Error::task(CaptureDeclined {
            what: "contact details",
            reason,
        }));
        "Declined.".into()
    }
}

/// You are a friendly customer service representative.
#[agent]
pub struct CustomerServiceAgent;

#[function_tools]
impl CustomerServiceAgent {
    /// Collect the user's contact information.
    #[function_tool]
    async fn collect_contact_info(&mut self, ctx: &mut AgentContext<'_>) -> Result<String> {
        // Pass the conversation so far, without the agent's own instructions.
        let result = ctx
            .run_task(GetContactInfoTask)
            .with_history(CopyOptions::all().exclude_instructions())
            .await;
        match result {
            Ok(contact) => Ok(format!("Recorded contact info for {}.", contact.name)),
            Err(e) => match e.downcast_ref::<CaptureDeclined>() {
                Some(declined) => Ok(format!(
                    "The user declined to give contact details ({}). Nothing was recorded; carry on without them.",
                    declined.reason
                )),
                None => Err(e),
            },
        }
    }
}
