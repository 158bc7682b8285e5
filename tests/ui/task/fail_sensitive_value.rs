use agents_core::prelude::*;

/// Ask for the card number.
#[agent_task(result = String, sensitive = true)]
struct CardNumber;

/// Ask for the PIN.
#[agent_task(result = String, sensitive, sensitive)]
struct Pin;

fn main() {}
