use agents_core::prelude::*;

/// Wrong return types.
#[agent]
struct A;

#[function_tools]
impl A {
    async fn on_enter(&mut self) -> u32 {
        1
    }

    fn on_exit(&mut self) -> Result<String> {
        Ok(String::new())
    }

    fn instructions(&self) -> u32 {
        2
    }

    fn is_sensitive(&self) -> String {
        String::new()
    }

    fn tool_enabled(&self, name: &str) -> Option<bool> {
        Some(name.is_empty())
    }
}

fn main() {}
