use agents_core::prelude::*;

/// A task kept in an enum.
#[agent_task(result = bool)]
enum Answer {
    Yes,
    No,
}

/// An agent on a function.
#[agent]
fn helper() {}

fn main() {
    let _ = (Answer::Yes, Answer::No);
    helper();
}
