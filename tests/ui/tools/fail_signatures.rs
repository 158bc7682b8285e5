use agents_core::prelude::*;

/// Helps.
#[agent]
struct Helper;

#[function_tools]
impl Helper {
    /// Generic.
    #[function_tool]
    async fn generic<T: Default>(&mut self, _value: String) {}

    /// With a lifetime.
    #[function_tool]
    fn borrowing<'a>(&mut self, _value: String) -> &'a str {
        "x"
    }

    /// Takes `self` by value.
    #[function_tool]
    async fn consume(self) {}

    /// No receiver.
    #[function_tool]
    async fn associated(_value: String) {}

    /// Unsafe.
    #[function_tool]
    unsafe fn danger(&mut self) {}

    /// A pattern instead of a name.
    #[function_tool]
    async fn pair(&mut self, (_a, _b): (u32, u32)) {}

    /// Types with no JSON form.
    #[function_tool]
    async fn shapes(
        &mut self,
        _items: &[String],
        _any: impl std::fmt::Display,
        _point: (u32, u32),
        _boxed: Box<dyn std::fmt::Debug>,
        _me: Option<Self>,
    ) {
    }

    /// Two contexts.
    #[function_tool]
    async fn twice(&mut self, _a: &mut AgentContext<'_>, _b: &mut AgentContext<'_>) {}
}

fn main() {}
