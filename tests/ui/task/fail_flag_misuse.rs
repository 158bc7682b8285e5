use agents_core::prelude::*;

/// Greets.
#[agent(preserve_function_calls)]
struct Greeter;

/// Ask for the PIN.
#[agent_task(result = String, preserve_function_calls = true)]
struct Pin;

fn main() {}
