use agents_core::prelude::*;

/// Ask for consent.
#[agent_task]
struct CollectConsent;

fn main() {}
