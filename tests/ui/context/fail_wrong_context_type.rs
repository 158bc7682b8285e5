use agents_core::prelude::*;

/// Ask for consent.
#[agent_task(result = bool)]
struct CollectConsent;

#[function_tools]
impl CollectConsent {
    /// Consent given: the context of a task with another result.
    #[function_tool]
    async fn consent_given(&mut self, ctx: &mut TaskContext<'_, String>) {
        ctx.complete("yes".to_string());
    }

    /// A `&mut` parameter that is not a context.
    #[function_tool]
    async fn note(&mut self, notes: &mut Vec<String>) {
        notes.clear();
    }

    /// An agent's context in a task's hook.
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) {
        let _ = ctx;
    }
}

fn main() {}
