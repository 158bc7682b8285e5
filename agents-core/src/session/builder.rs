//! Building an [`AgentSession`]: its LLM, userdata and options.

use super::{AgentSession, SessionOptions};
use crate::llm::Llm;
use std::any::Any;
use std::sync::Arc;

/// Application state and its type name, as the session keeps it.
type Userdata = (Box<dyn Any + Send>, &'static str);

/// Builds an [`AgentSession`] around an LLM given up front
/// ([`AgentSession::builder`]), so building cannot fail.
pub struct SessionBuilder {
    llm: Arc<dyn Llm>,
    userdata: Option<Userdata>,
    options: SessionOptions,
}

impl SessionBuilder {
    pub(crate) fn new(llm: Arc<dyn Llm>) -> Self {
        SessionBuilder {
            llm,
            userdata: None,
            options: SessionOptions::default(),
        }
    }

    /// Application state that tools reach with `ctx.userdata::<T>()`.
    pub fn userdata<T: Any + Send>(mut self, userdata: T) -> Self {
        self.userdata = Some((Box::new(userdata), std::any::type_name::<T>()));
        self
    }

    /// Most LLM↔tool round trips per reply (default 5).
    pub fn max_tool_steps(mut self, steps: usize) -> Self {
        self.options.max_tool_steps = steps;
        self
    }

    /// All options at once.
    pub fn options(mut self, options: SessionOptions) -> Self {
        self.options = options;
        self
    }

    /// The session.
    pub fn build(self) -> AgentSession {
        AgentSession::from_parts(self.llm, self.options, self.userdata)
    }
}
