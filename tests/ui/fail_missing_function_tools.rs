use agents_core::prelude::*;

/// Ask for consent.
#[agent_task(result = bool)]
struct CollectConsent;

fn main() {}
