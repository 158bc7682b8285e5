use agents_core::prelude::*;

/// Records answers.
#[agent_task(result = String)]
struct Survey;

#[function_tools]
impl Survey {
    /// Record the answer.
    ///
    /// # Arguments
    /// * `answer` - What the user said
    /// * `confidence` - How sure the user sounded
    /// * `ctx` - The context
    /// * `answer` - Said twice
    #[function_tool]
    async fn record(&mut self, answer: String, ctx: &mut TaskContext<'_, String>) {
        ctx.complete(answer);
    }

    /// Finish.
    ///
    /// # Arguments
    /// - `reason`: why
    #[function_tool]
    async fn finish(&mut self) {}
}

fn main() {}
