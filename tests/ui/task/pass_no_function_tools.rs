use agents_core::prelude::*;

/// Tell the user the office hours, then end.
#[agent_task(result = bool)]
struct OfficeHours;

/// Greets and says goodbye; has no tools either.
#[agent]
struct Greeter;

/// Runs the tool-less task from a hook.
#[agent]
struct Front;

#[function_tools]
impl Front {
    async fn on_enter(&mut self, ctx: &mut AgentContext<'_>) -> Result<()> {
        let _done: bool = ctx.run_task(OfficeHours).await?;
        Ok(())
    }
}

fn assert_task<T: AgentTask>() {}
fn assert_agent<T: Agent>() {}

fn main() {
    assert_task::<OfficeHours>();
    assert_agent::<Greeter>();
    assert_agent::<Front>();
    assert!(Activity::tools(&OfficeHours).is_empty());
    assert_eq!(Activity::instructions(&Greeter), "Greets and says goodbye; has no tools either.");
}
