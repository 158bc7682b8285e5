//! Structured conversational agents: agents, tasks that return typed results, tools whose schemas
//! come from Rust signatures, and sessions that run them against a streaming LLM.
//!
//! - [`agent_task`] / [`agent`](macro@agent) on a struct and [`function_tools`] on its `impl` block turn it into
//!   a task or an agent; `#[function_tool]` marks its tools (see [`agent::Activity`]).
//! - A task runs with `ctx.run_task(task).await` from `on_enter`, `on_exit` or a tool body, and
//!   yields its typed result; [`workflows::TaskGroup`] runs several in order, with regression.
//! - [`session::AgentSession`] runs an agent against an [`llm::Llm`] (the OpenAI-compatible
//!   [`llm::openai::OpenAiLlm`], or [`testing::ScriptedLlm`] in tests); [`console`] makes any
//!   agent a command-line program.
//! - [`testing`] has the assertions users write their agent tests with.
//!
//! Cargo features, all on by default: `openai` (the OpenAI-compatible provider, with its HTTP
//! client), `console` (the command-line runner; needs `openai`) and `testing` (scripted LLMs,
//! assertions, an in-process Chat Completions server). With `default-features = false` the
//! crate is the runtime alone, for a library that brings its own [`llm::Llm`].
//!
//! ```no_run
//! use agents_core::prelude::*;
//!
//! /// Ask for recording consent and get a clear yes or no answer.
//! #[agent_task(result = bool)]
//! struct CollectConsent;
//!
//! #[function_tools]
//! impl CollectConsent {
//!     /// Use this when the user gives consent to record.
//!     #[function_tool]
//!     async fn consent_given(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         ctx.complete(true);
//!     }
//!
//!     /// Use this when the user denies consent to record.
//!     #[function_tool]
//!     async fn consent_denied(&mut self, ctx: &mut Ctx<'_, Self>) {
//!         ctx.complete(false);
//!     }
//! }
//!
//! /// You are a friendly customer service representative.
//! #[agent]
//! struct Assistant;
//!
//! #[function_tools]
//! impl Assistant {
//!     async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) -> Result<()> {
//!         if ctx.run_task(CollectConsent).await? {
//!             ctx.generate_reply("Offer your assistance.").await
//!         } else {
//!             ctx.shutdown();
//!             Ok(())
//!         }
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<()> {
//!     let llm = agents_core::llm::openai::OpenAiLlm::from_env()?;
//!     let session = AgentSession::new(llm);
//!     session.start(Assistant).await?;
//!     let turn = session.run("Sure, you can record.").await?;
//!     println!("{}", turn.assistant_text());
//!     session.close().await;
//!     Ok(())
//! }
//! ```

extern crate self as agents_core;

pub mod agent;
#[cfg(feature = "console")]
pub mod console;
pub mod context;
pub mod error;
pub mod llm;
pub mod session;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tools;
pub mod workflows;

pub use agents_macros::{agent, agent_task, function_tool, function_tools};
pub use error::{Error, Result};

/// The names most agent code needs.
pub mod prelude {
    pub use crate::agent::{Activity, ActivityInfo, Agent, AgentTask, NoResult};
    pub use crate::context::{AgentContext, Context, Ctx, TaskContext};
    pub use crate::error::{Error, Result};
    pub use crate::llm::{ChatContext, CopyOptions, Llm, Role};
    pub use crate::session::{AgentSession, InputModality, RunEvent, RunResult, SessionEvent};
    pub use crate::tools::{Handoff, Json, StopResponse, ToolError, ToolOutput};
    pub use crate::workflows::{TaskCompletedEvent, TaskGroup, TaskGroupResult, TaskKey};
    pub use crate::{agent, agent_task, function_tool, function_tools};
}

mod macro_support;

/// Paths used by generated code; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::agent::{Activity, ActivityInfo, Agent, AgentTask, NoResult};
    pub use crate::context::Context;
    pub use crate::llm::FunctionCall;
    pub use crate::tools::{decode_arguments, ToolDefinition, ToolOutput};
    pub use futures::future::BoxFuture;
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use std::sync::{Arc, LazyLock};

    pub use crate::macro_support::*;
}
