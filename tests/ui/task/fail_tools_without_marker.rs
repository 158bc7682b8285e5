use agents_core::prelude::*;

/// Forgot `#[agent_task(result = bool)]` on the struct.
struct CollectConsent;

#[function_tools]
impl CollectConsent {
    /// Consent given.
    #[function_tool]
    async fn consent_given(&mut self) {}
}

fn main() {}
