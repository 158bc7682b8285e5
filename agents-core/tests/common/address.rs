//! The address-collecting task the reliability tests' agents run from a tool.

use agents_core::prelude::*;

/// Collect the user's delivery address.
#[agent_task(result = String)]
pub struct GetAddress;

#[function_tools]
impl GetAddress {
    /// Record the delivery address.
    ///
    /// # Arguments
    /// * `street` - Street and number
    /// * `city` - City
    #[function_tool]
    async fn record_address(
        &mut self,
        ctx: &mut TaskContext<'_, String>,
        street: String,
        city: String,
    ) {
        ctx.complete(format!("{street}, {city}"));
    }
}

/// Runs [`GetAddress`] with the conversation so far (without the caller's instructions), as a
/// `collect_address` tool does, and words its result for the LLM.
pub async fn ask_for_address(ctx: &mut AgentContext<'_>) -> Result<String> {
    let address = ctx
        .run_task(GetAddress)
        .with_history(CopyOptions::all().exclude_instructions())
        .await?;
    Ok(format!("address: {address}"))
}
