//! The type-erased form of agents and tasks the session loop runs.

use crate::agent::{Activity, Agent, NoResult};
use crate::context::Context;
use crate::llm::FunctionCall;
use crate::tools::{ToolDefinition, ToolOutput};
use crate::Result;
use futures::future::BoxFuture;
use std::sync::Arc;

/// Object-safe view of an [`Activity`], used by the session loop.
pub(crate) trait DynActivity<R>: Send {
    fn id(&self) -> &'static str;
    fn type_name(&self) -> &'static str;
    fn instructions(&self) -> String;
    fn is_sensitive(&self) -> bool;
    fn tools(&self) -> Vec<Arc<ToolDefinition>>;
    fn call_tool<'a>(
        &'a mut self,
        ctx: &'a mut Context<'_, R>,
        call: &'a FunctionCall,
    ) -> BoxFuture<'a, ToolOutput>;
    fn on_enter<'a>(&'a mut self, ctx: &'a mut Context<'_, R>) -> BoxFuture<'a, Result<()>>;
    fn on_exit<'a>(&'a mut self, ctx: &'a mut Context<'_, R>) -> BoxFuture<'a, Result<()>>;
    fn on_dtmf<'a>(
        &'a mut self,
        ctx: &'a mut Context<'_, R>,
        digits: &'a str,
    ) -> BoxFuture<'a, Result<()>>;
    fn on_timer<'a>(&'a mut self, ctx: &'a mut Context<'_, R>) -> BoxFuture<'a, Result<()>>;
}

impl<A: Activity> DynActivity<A::Result> for A {
    fn id(&self) -> &'static str {
        A::ID
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<A>()
    }
    fn instructions(&self) -> String {
        Activity::instructions(self)
    }
    fn is_sensitive(&self) -> bool {
        Activity::is_sensitive(self)
    }
    fn tools(&self) -> Vec<Arc<ToolDefinition>> {
        Activity::tools(self)
    }
    fn call_tool<'a>(
        &'a mut self,
        ctx: &'a mut Context<'_, A::Result>,
        call: &'a FunctionCall,
    ) -> BoxFuture<'a, ToolOutput> {
        Activity::call_tool(self, ctx, call)
    }
    fn on_enter<'a>(
        &'a mut self,
        ctx: &'a mut Context<'_, A::Result>,
    ) -> BoxFuture<'a, Result<()>> {
        Activity::on_enter(self, ctx)
    }
    fn on_exit<'a>(&'a mut self, ctx: &'a mut Context<'_, A::Result>) -> BoxFuture<'a, Result<()>> {
        Activity::on_exit(self, ctx)
    }
    fn on_dtmf<'a>(
        &'a mut self,
        ctx: &'a mut Context<'_, A::Result>,
        digits: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Activity::on_dtmf(self, ctx, digits)
    }
    fn on_timer<'a>(
        &'a mut self,
        ctx: &'a mut Context<'_, A::Result>,
    ) -> BoxFuture<'a, Result<()>> {
        Activity::on_timer(self, ctx)
    }
}

/// An agent behind a box, as the session holds the current agent.
pub(crate) struct BoxedAgent(pub(crate) Box<dyn DynActivity<NoResult>>);

impl BoxedAgent {
    /// Boxes `agent`.
    pub(crate) fn new<A: Agent>(agent: A) -> Self {
        BoxedAgent(Box::new(agent))
    }
    /// The agent's id.
    pub(crate) fn id(&self) -> &'static str {
        self.0.id()
    }
}

impl std::fmt::Debug for BoxedAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BoxedAgent").field(&self.0.id()).finish()
    }
}
