//! Testing agents: scripted LLMs, assertions over a turn's events, and an LLM judge.
//!
//! A test drives an [`AgentSession`](crate::session::AgentSession) with a [`ScriptedLlm`] (or a
//! real model), then checks each turn's [`RunResult`] with [`RunResult::expect`]:
//!
//! ```no_run
//! # use agents_core::prelude::*;
//! use agents_core::testing::{Reply, ScriptedLlm};
//! use serde_json::json;
//!
//! # async fn demo(agent: impl Agent) -> agents_core::Result<()> {
//! let llm = ScriptedLlm::new()
//!     .on_user("cancel my order", Reply::call("cancel_order", json!({"order_id": 7})))
//!     .after_tool("cancel_order", Reply::text("Your order is cancelled."));
//! let session = AgentSession::new(llm.clone());
//! session.start(agent).await?;
//!
//! let result = session.run("Please cancel my order 7").await?;
//! let mut turn = result.expect();
//! turn.next_event().is_function_call("cancel_order", json!({"order_id": 7}));
//! turn.next_event().is_function_call_output().is_error(false);
//! turn.next_event().is_message(Role::Assistant).containing("cancelled");
//! turn.no_more_events();
//! assert_eq!(llm.request_count(), 2);
//! # Ok(()) }
//! ```
//!
//! The scripted LLM answers from rules tried in order; a rule that calls a tool only fires when
//! the tool is offered, so the same script can serve an agent and the tasks it starts:
//!
//! ```
//! use agents_core::llm::{ChatChunk, ChatContext, ChatRequest, Llm, Role};
//! use agents_core::testing::{Reply, Rule, ScriptedLlm};
//! use futures::StreamExt;
//!
//! let llm = ScriptedLlm::new()
//!     .rule(Rule::on_user("hello").reply(Reply::text("Hi! Say 'book' to book.")).times(1))
//!     .on_user("hello", Reply::text("Hi again."));
//!
//! let mut chat_ctx = ChatContext::new();
//! chat_ctx.add_message(Role::System, "You are a booking agent.");
//! chat_ctx.add_message(Role::User, "Hello");
//! let request = ChatRequest { chat_ctx, ..Default::default() };
//!
//! let reply = |request: ChatRequest| {
//!     futures::executor::block_on(async {
//!         let stream = llm.chat(request).await.unwrap();
//!         let chunks: Vec<_> = stream.collect().await;
//!         chunks
//!             .into_iter()
//!             .filter_map(|c| match c.unwrap() {
//!                 ChatChunk::Text(t) => Some(t),
//!                 _ => None,
//!             })
//!             .collect::<String>()
//!     })
//! };
//! assert_eq!(reply(request.clone()), "Hi! Say 'book' to book.");
//! assert_eq!(reply(request), "Hi again.");
//! assert_eq!(llm.requests().len(), 2);
//! ```
//!
//! Open-ended replies are checked by a model with [`judge`] or [`MessageAssert::judge`]; tests
//! that need a real model can skip themselves with [`skip_without_key`].

mod chat_server;
mod expect;
mod judge;
mod scripted;

pub use chat_server::{check_request, ChatCompletionsServer};
pub use expect::{
    expect, AgentHandoffAssert, EventAssert, FunctionCallAssert, FunctionCallOutputAssert,
    MessageAssert, RunAssert,
};
pub use judge::{judge, JudgeFailure, CHECK_INTENT_TOOL};
pub use scripted::{Reply, Rule, ScriptedLlm};

use crate::session::{RunEvent, RunResult};

/// The environment variable holding the API key for tests against a real model.
pub const API_KEY_VAR: &str = "OPENAI_API_KEY";

/// The API key for tests against a real model (`OPENAI_API_KEY`), if set and not blank.
pub fn real_llm_key() -> Option<String> {
    std::env::var(API_KEY_VAR)
        .ok()
        .filter(|key| !key.trim().is_empty())
}

/// Whether a real-model test should be skipped: when no key is set, says so on stderr and
/// returns true.
///
/// ```
/// # fn real_model_test() {
/// if agents_core::testing::skip_without_key("real_model_test") {
///     return;
/// }
/// // ... talk to the real model ...
/// # }
/// ```
pub fn skip_without_key(test_name: &str) -> bool {
    if real_llm_key().is_some() {
        return false;
    }
    eprintln!("skipped {test_name}: {API_KEY_VAR} is not set");
    true
}

/// A [`RunResult`] holding `events`, for testing assertions without a session.
#[doc(hidden)]
pub fn run_result_from_events(events: Vec<RunEvent>) -> RunResult {
    RunResult {
        events,
        final_output: None,
    }
}
