//! The example agents and the runner that makes each a program.
//!
//! Each example lives in [`agents`] (the agent and its tasks, as a user would write them) and
//! [`demos`] (the scripted conversation `demo` mode plays); its binary is a few lines that hand
//! both to [`Example`]. The tests in `examples/tests` use the same agents.

pub mod agents;
pub mod call_transcript;
pub mod cli;
pub mod demos;
mod over_http;
mod runner;
mod sip_mode;
mod voice_mode;
pub mod voice_stack;

pub use cli::{Mode, NoArgs};
pub use runner::{Call, Calls, Demo, Example};
