use agents_core::prelude::*;

/// Helps.
#[agent]
struct Helper;

impl Helper {
    /// Look up.
    #[function_tool]
    async fn lookup(&mut self) {}
}

fn main() {}
