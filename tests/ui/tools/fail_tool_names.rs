use agents_core::prelude::*;

/// Helps.
#[agent]
struct Helper;

#[function_tools]
impl Helper {
    /// A space.
    #[function_tool(name = "look up")]
    async fn a(&mut self) {}

    /// Empty.
    #[function_tool(name = "")]
    async fn b(&mut self) {}

    /// Too long.
    #[function_tool(name = "a_name_that_goes_on_and_on_and_on_and_on_for_more_than_64_letters_")]
    async fn c(&mut self) {}

    /// Not ASCII.
    #[function_tool]
    async fn café(&mut self) {}
}

fn main() {}
