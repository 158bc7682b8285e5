use agents_core::prelude::*;

/// Ask for consent.
#[agent_task]
struct CollectConsent;

#[function_tools]
impl CollectConsent {
    /// Consent given.
    #[function_tool]
    async fn consent_given(&mut self, ctx: &mut TaskContext<'_, bool>) {
        ctx.complete(true);
    }
}

fn main() {}
