//! The example agents and the runner that makes each a program.
//!
//! Each example lives in [`agents`] (the agent and its tasks, as a user would write them) and
//! [`demos`] (the scripted conversation `demo` mode plays); its binary is a few lines that hand
//! both to [`Example`], which runs every mode: `console`, `demo`, `voice` (a recorded caller),
//! `sip` (phone calls) and `web` (a browser playground). Voice modes take their providers from
//! the environment, or with `--scripted` use the demo's script ([`voice_stack`]); a call's
//! JSON-lines transcript is described in [`call_transcript`]. The tests in `examples/tests`
//! use the same agents.

pub mod agents;
pub mod call_transcript;
pub mod cli;
mod conversation;
pub mod demos;
mod over_http;
mod runner;
mod sip_mode;
mod voice_mode;
pub mod voice_stack;
mod web_mode;

pub use cli::{Mode, NoArgs};
pub use runner::{Call, Calls, Demo, Example, Line};
