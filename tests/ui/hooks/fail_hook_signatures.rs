use agents_core::prelude::*;

/// Wrong receivers and parameters.
#[agent]
struct A;

#[function_tools]
impl A {
    async fn on_enter(&self, ctx: &mut AgentContext<'_>) {
        let _ = ctx;
    }

    async fn on_exit(self) {}

    async fn on_timer(&mut self, ctx: &mut AgentContext<'_>, seconds: u32) {
        let _ = (ctx, seconds);
    }

    async fn on_dtmf(&mut self, ctx: &mut AgentContext<'_>) {
        let _ = ctx;
    }
}

/// Two contexts, generics.
#[agent]
struct B;

#[function_tools]
impl B {
    async fn on_enter(&mut self, a: &mut AgentContext<'_>, b: &mut AgentContext<'_>) {
        let _ = (a, b);
    }

    async fn on_exit<T>(&mut self) {}

    async fn on_dtmf(&mut self, digits: &str, more: &str) {
        let _ = (digits, more);
    }
}

/// Getters.
#[agent]
struct C;

#[function_tools]
impl C {
    async fn instructions(&self) -> String {
        String::new()
    }

    fn is_sensitive(&mut self) -> bool {
        true
    }

    fn tool_enabled(&self) -> bool {
        true
    }
}

/// More getters.
#[agent]
struct D;

#[function_tools]
impl D {
    fn instructions(&self) {}

    fn is_sensitive(&self, strict: bool) -> bool {
        strict
    }

    fn tool_enabled(&self, name: String) -> bool {
        name.is_empty()
    }
}

fn main() {}
