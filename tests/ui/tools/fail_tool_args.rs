use agents_core::prelude::*;

/// Helps.
#[agent]
struct Helper;

#[function_tools]
impl Helper {
    /// Repeated and unknown arguments.
    #[function_tool(name = "a", name = "b", nme = "c")]
    async fn one(&mut self) {}

    /// A flag with a value, a name that is not a string.
    #[function_tool(ignore_on_enter = true, name = lookup)]
    async fn two(&mut self) {}

    /// Not the attribute's form.
    #[function_tool = "three"]
    async fn three(&mut self) {}

    /// A repeated flag, a description that is not a string.
    #[function_tool(ignore_on_enter, ignore_on_enter, description = 4)]
    async fn four(&mut self) {}
}

fn main() {}
