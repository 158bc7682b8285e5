use agents_core::prelude::*;

/// Unknown and repeated arguments.
#[agent_task(result = bool, reslt = bool, result = String)]
struct A;

/// Values of the wrong kind.
#[agent_task(result = bool, id = 3, id = "", instructions = some_const)]
struct B;

/// An agent has no result.
#[agent(result = bool, id = "b", id = "c")]
struct C;

/// Flags take no arguments; a key must be a name.
#[agent_task(result = Vec<String>, sensitive(true), a::b = 1)]
struct D;

fn main() {}
