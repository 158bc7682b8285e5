use agents_core::prelude::*;

/// Greets.
#[agent]
struct Greeter;

#[function_tools]
impl Greeter {
    /// Greet someone.
    #[function_tool]
    async fn greet(&mut self, name: &str) -> String {
        format!("hi {name}")
    }
}

fn main() {}
