use agents_core::prelude::*;

/// Ask for consent.
#[agent_task(result = bool)]
struct CollectConsent;

#[function_tools]
impl CollectConsent {
    /// Consent given.
    #[function_tool]
    async fn consent_given(&mut self, ctx: &mut TaskContext<'_, bool>) {
        ctx.complete(true);
    }
}

#[derive(Clone, serde::Serialize)]
struct Contact {
    name: String,
}

/// Collect contact details.
#[agent_task(result = Vec<Contact>, id = "contacts")]
struct Contacts(Vec<Contact>);

#[function_tools]
impl Contacts {
    fn instructions(&self) -> String {
        format!("Collect {} more", 3 - self.0.len())
    }

    /// Record one contact.
    ///
    /// # Arguments
    /// * `name` - Full name
    #[function_tool(name = "add")]
    fn add_contact(&mut self, name: String, ctx: &mut TaskContext<'_, Vec<Contact>>) -> String {
        self.0.push(Contact { name });
        if self.0.len() == 3 {
            ctx.complete(self.0.clone());
        }
        "ok".into()
    }
}

/// Be helpful.
#[agent]
struct Helper;

#[function_tools]
impl Helper {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let consent: bool = ctx.run_task(CollectConsent).await?;
        let _contacts: Vec<Contact> = ctx.run_task(Contacts(Vec::new())).await?;
        let _ = consent;
        Ok(())
    }

    /// Look something up.
    #[function_tool]
    async fn lookup(&mut self, query: String, limit: Option<u32>) -> Result<Vec<String>, ToolError> {
        Ok(vec![query; limit.unwrap_or(1) as usize])
    }
}

fn main() {}
