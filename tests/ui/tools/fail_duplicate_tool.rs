use agents_core::prelude::*;

/// Helps.
#[agent]
struct Helper;

#[function_tools]
impl Helper {
    /// One.
    #[function_tool(name = "lookup")]
    async fn lookup_a(&mut self) {}

    /// Two.
    #[function_tool(name = "lookup")]
    async fn lookup_b(&mut self) {}
}

fn main() {}
