use agents_core::prelude::*;

/// Asks for one value of a kind.
#[agent_task(result = String)]
struct Ask<K: Send + 'static> {
    kind: std::marker::PhantomData<K>,
}

struct Email;

// A generic task gets its tools per concrete type.
#[function_tools]
impl Ask<Email> {
    /// Record the email.
    #[function_tool]
    async fn record(&mut self, email: String, ctx: &mut TaskContext<'_, String>) {
        ctx.complete(email);
    }
}

/// Answers questions about one product line.
#[agent]
struct Expert<P: Send + 'static>(P);

// A generic agent without tools still names its concrete type once.
#[function_tools]
impl Expert<Email> {}

fn assert_task<T: AgentTask>() {}
fn assert_agent<T: Agent>() {}

fn main() {
    assert_task::<Ask<Email>>();
    assert_agent::<Expert<Email>>();
    assert!(Activity::tools(&Expert(Email)).is_empty());
    let ask = Ask::<Email> { kind: std::marker::PhantomData };
    assert_eq!(Activity::tools(&ask).len(), 1);
    assert_eq!(<Ask<Email> as ActivityInfo>::ID, "ask");
}
