//! Building an [`AgentSession`]: its LLM, userdata and options.

use super::{AgentSession, SessionOptions};
use crate::error::{Error, Result};
use crate::llm::Llm;
use std::any::Any;
use std::sync::Arc;

/// Application state and its type name, as the session keeps it.
type Userdata = (Box<dyn Any + Send>, &'static str);

/// Builds an [`AgentSession`] around an LLM given up front
/// ([`AgentSession::with_llm`]), so building cannot fail.
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

/// Builds an [`AgentSession`] whose LLM is given with [`llm`](Self::llm) (from
/// [`AgentSession::builder`]). The older form of [`SessionBuilder`]: `build()` fails when no
/// LLM was given.
#[derive(Default)]
pub struct AgentSessionBuilder {
    llm: Option<Arc<dyn Llm>>,
    userdata: Option<Userdata>,
    options: SessionOptions,
}

impl AgentSessionBuilder {
    /// The LLM every agent and task uses.
    pub fn llm(mut self, llm: impl Llm) -> Self {
        self.llm = Some(Arc::new(llm));
        self
    }

    /// The LLM, already shared.
    pub fn llm_arc(mut self, llm: Arc<dyn Llm>) -> Self {
        self.llm = Some(llm);
        self
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

    /// The session. Fails when no LLM was given.
    pub fn build(self) -> Result<AgentSession> {
        let llm = self.llm.ok_or_else(|| {
            Error::Usage(
                "an AgentSession needs an LLM: use AgentSession::with_llm(llm), or call .llm(...) on this builder"
                    .into(),
            )
        })?;
        Ok(AgentSession::from_parts(llm, self.options, self.userdata))
    }
}
