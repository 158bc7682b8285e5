use agents_core::prelude::*;

/// Collects a PIN by keypad.
#[agent_task(result = String, sensitive)]
struct Pin {
    digits: String,
}

#[function_tools]
impl Pin {
    fn on_enter(&mut self) {}

    async fn on_dtmf(&mut self, ctx: &mut TaskContext<'_, String>, digits: &str) -> Result<()> {
        self.digits.push_str(digits);
        if self.digits.len() >= 4 {
            ctx.complete(self.digits.clone());
        }
        Ok(())
    }

    async fn on_timer(&mut self, ctx: &mut TaskContext<'_, String>) {
        ctx.complete(String::new());
    }

    fn on_exit(self: &mut Self) -> Result<()> {
        Ok(())
    }

    fn instructions(&self) -> &'static str {
        "Ask for the PIN."
    }

    fn is_sensitive(&self) -> bool {
        true
    }

    fn tool_enabled(&self, name: &str) -> bool {
        name != "skip" || self.digits.is_empty()
    }

    /// Skip the PIN.
    #[function_tool(name = "skip", ignore_on_enter)]
    fn skip(&self) -> StopResponse {
        StopResponse
    }

    /// Helper methods stay plain methods.
    fn reset(&mut self) {
        self.digits.clear();
    }
}

fn main() {
    let mut pin = Pin { digits: String::new() };
    pin.reset();
    assert_eq!(Activity::instructions(&pin), "Ask for the PIN.");
    assert!(Activity::is_sensitive(&pin));
    assert_eq!(Activity::tools(&pin).len(), 1);
}
