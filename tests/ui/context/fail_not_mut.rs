use agents_core::prelude::*;

/// Ask for consent.
#[agent_task(result = bool)]
struct CollectConsent;

#[function_tools]
impl CollectConsent {
    /// Consent given.
    #[function_tool]
    async fn consent_given(&mut self, ctx: &TaskContext<'_, bool>) {
        let _ = ctx;
    }

    /// Consent denied.
    #[function_tool]
    async fn consent_denied(&mut self, ctx: TaskContext<'_, bool>) {
        let _ = ctx;
    }

    async fn on_enter(&mut self, ctx: &TaskContext<'_, bool>) {
        let _ = ctx;
    }
}

fn main() {}
