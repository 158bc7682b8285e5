use agents_core::prelude::*;

/// Ask for consent.
#[agent_task(result = bool)]
struct CollectConsent;

async fn somewhere(session: &AgentSession) {
    // A task is not a future, and the session handle cannot run one: only the context handed
    // to on_enter, on_exit and tool bodies can.
    let _yes: bool = CollectConsent.await;
    let _ = session.run_task(CollectConsent).await;
}

fn main() {}
