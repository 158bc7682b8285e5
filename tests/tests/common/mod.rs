//! Fixtures shared by the integration tests: the one-question task most stories are built from,
//! and helpers for reading what a session emitted.
//!
//! Each test file is its own crate and uses only some of these, hence the `allow`.
#![allow(dead_code, unused_macros)]

use agents_core::llm::ChatRequest;
use agents_core::prelude::*;
use agents_core::testing::RunAssert;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

/// Declares a task that opens with one line and completes with the `String` its one tool
/// records:
///
/// ```ignore
/// ask_task!(NoteTask, "Ask for a delivery note.", say("Any delivery note?"), record_note(note));
/// ```
///
/// `$doc` becomes the task's instructions; the opening is `say` or `generate_reply`; the tool
/// takes one `String` argument named `$value`. Task flags go in brackets after the name
/// (`AskColourKept[preserve_function_calls]`); `Name { sensitive }` gives the task a
/// `sensitive: bool` field that decides its sensitivity per instance.
macro_rules! ask_task {
    (@impl $task:ident { $($hooks:tt)* } $open:ident($prompt:expr), $tool:ident($value:ident)) => {
        #[function_tools]
        impl $task {
            $($hooks)*

            async fn on_enter(&mut self, ctx: &mut TaskContext<'_, String>) -> Result<()> {
                ctx.$open($prompt).await
            }

            /// Record the answer.
            #[function_tool]
            async fn $tool(&mut self, ctx: &mut TaskContext<'_, String>, $value: String) {
                ctx.complete($value);
            }
        }
    };
    ($task:ident { sensitive }, $doc:literal, $($rest:tt)*) => {
        #[doc = $doc]
        #[agent_task(result = String)]
        struct $task {
            sensitive: bool,
        }

        ask_task!(@impl $task {
            fn is_sensitive(&self) -> bool {
                self.sensitive
            }
        } $($rest)*);
    };
    ($task:ident $([$($flag:ident),+])?, $doc:literal, $($rest:tt)*) => {
        #[doc = $doc]
        #[agent_task(result = String $($(, $flag)+)?)]
        struct $task;

        ask_task!(@impl $task {} $($rest)*);
    };
}

/// Expects the next events to be a task's `tool` call with `args` and its output, then the
/// output of the tool that awaited the task, holding `outcome`.
#[track_caller]
pub fn expect_task_done_by(e: &mut RunAssert<'_>, tool: &str, args: Value, outcome: &str) {
    e.next_event().is_function_call(tool, args);
    e.next_event().is_function_call_output();
    e.next_event()
        .is_function_call_output()
        .with_output_containing(outcome);
}

/// The session events received so far, without waiting for more.
pub fn drain(events: &mut UnboundedReceiver<SessionEvent>) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        out.push(e);
    }
    out
}

/// What the user said in a request, oldest first.
pub fn user_lines(req: &ChatRequest) -> Vec<String> {
    req.chat_ctx
        .messages()
        .filter(|m| m.role == Role::User)
        .map(|m| m.content.clone())
        .collect()
}
