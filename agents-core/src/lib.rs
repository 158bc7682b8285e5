//! Structured conversational agents: agents, tasks that return typed results, tools whose schemas
//! come from Rust signatures, and sessions that run them against a streaming LLM.
//!
//! Start with [`prelude`], the [`agent_task`] and [`function_tools`] attributes, and
//! [`session::AgentSession`]; test agents with [`testing`].

extern crate self as agents_core;

pub mod agent;
pub mod console;
pub mod context;
pub mod error;
pub mod llm;
pub mod session;
pub mod testing;
pub mod tools;
pub mod workflows;

pub use agents_macros::{agent, agent_task, function_tool, function_tools};
pub use error::{Error, Result};

/// The names most agent code needs.
pub mod prelude {
    pub use crate::agent::{Activity, ActivityInfo, Agent, AgentTask, NoResult};
    pub use crate::context::{AgentContext, Context, TaskContext};
    pub use crate::error::{Error, Result};
    pub use crate::llm::{ChatContext, CopyOptions, Llm, Role};
    pub use crate::session::{AgentSession, InputModality, RunEvent, RunResult, SessionEvent};
    pub use crate::tools::{Handoff, Json, StopResponse, ToolError, ToolOutput};
    pub use crate::workflows::{TaskCompletedEvent, TaskGroup, TaskGroupResult, TaskKey};
    pub use crate::{agent, agent_task, function_tool, function_tools};
}

/// Paths used by generated code; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::agent::{Activity, ActivityInfo, Agent, AgentTask, NoResult};
    pub use crate::context::Context;
    pub use crate::llm::FunctionCall;
    pub use crate::tools::output::dispatch;
    pub use crate::tools::{decode_arguments, ToolDefinition, ToolOutput};
    pub use futures::future::BoxFuture;
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use std::sync::{Arc, LazyLock};

    /// Turns a hook's return value (`()` or `Result<()>`) into `Result<()>`.
    pub trait IntoHookResult {
        /// The conversion.
        fn into_hook_result(self) -> crate::Result<()>;
    }
    impl IntoHookResult for () {
        fn into_hook_result(self) -> crate::Result<()> {
            Ok(())
        }
    }
    impl IntoHookResult for crate::Result<()> {
        fn into_hook_result(self) -> crate::Result<()> {
            self
        }
    }
}
