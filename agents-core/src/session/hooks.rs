//! Running an activity's hooks (`on_enter`, `on_exit`, `on_dtmf`, `on_timer`), then the tool
//! calls of the replies they generated.

use super::frame::{ActivityKind, DeferredReply, HookKind, Outcome};
use super::tool_call::panic_message;
use super::turn::ActivityRun;
use crate::context::Context;
use crate::error::Error;
use crate::tools::Handoff;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;

/// A hook and what it is called with.
#[derive(Clone, Copy)]
pub(crate) enum Hook<'h> {
    Enter,
    Exit,
    Dtmf(&'h str),
    Timer,
}

impl Hook<'_> {
    fn kind(self) -> HookKind {
        match self {
            Hook::Enter => HookKind::Enter,
            Hook::Exit => HookKind::Exit,
            Hook::Dtmf(_) => HookKind::Dtmf,
            Hook::Timer => HookKind::Timer,
        }
    }
}

impl<R: Send + 'static> ActivityRun<'_, R> {
    /// Runs `hook`, then the tool calls of the replies it generated. Failures are reported, and
    /// a failed `on_enter` ends a task with its error. Returns the handoff a tool asked for.
    pub(crate) async fn hook(&mut self, hook: Hook<'_>) -> Option<Handoff> {
        let kind = hook.kind();
        self.frame.state.hook = Some(kind);
        self.frame.state.tools = self.act.tools();
        let result = {
            let mut ctx = Context::new(self.core, self.frame, None);
            let fut = match hook {
                Hook::Enter => self.act.on_enter(&mut ctx),
                Hook::Exit => self.act.on_exit(&mut ctx),
                Hook::Dtmf(digits) => self.act.on_dtmf(&mut ctx, digits),
                Hook::Timer => self.act.on_timer(&mut ctx),
            };
            AssertUnwindSafe(fut).catch_unwind().await
        };
        let name = kind.name();
        let id = self.frame.state.id;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let stopping =
                    matches!(e, Error::Closed | Error::Cancelled { .. }) && self.core.is_stopping();
                if !stopping {
                    // An error from a task's on_enter ends the task with it.
                    if kind == HookKind::Enter && self.frame.state.kind == ActivityKind::Task {
                        self.frame.outcome.settle(Outcome::Failed(e.clone()), id);
                    }
                    self.core.recorder.report_error(
                        Error::Usage(format!("{name} of `{id}` failed: {e}")),
                        &self.frame.state,
                    );
                }
            }
            Err(panic) => {
                // Reported once: `report_error` logs it (withheld when sensitive) and emits it.
                let msg = panic_message(&panic);
                self.core.recorder.report_error(
                    Error::Usage(format!("{name} of `{id}` panicked: {msg}")),
                    &self.frame.state,
                );
            }
        }
        let handoff = self.run_deferred().await;
        self.frame.state.hook = None;
        handoff
    }

    /// Runs the tool calls each of the hook's replies asked for, in order, and lets that reply
    /// go on under its own instructions, until the activity ends, hands off or the session stops.
    async fn run_deferred(&mut self) -> Option<Handoff> {
        let deferred = std::mem::take(&mut self.frame.state.deferred);
        for DeferredReply {
            calls,
            instructions,
        } in deferred
        {
            if !self.frame.outcome.is_pending() || self.core.is_stopping() {
                tracing::debug!(
                    agent = self.frame.state.id,
                    "tool calls of a hook's reply dropped: the activity has ended"
                );
                return None;
            }
            // Boxed: the reply loop is large and the turn loop already holds one inline.
            if let Some(handoff) = Box::pin(self.reply(instructions, calls)).await {
                return Some(handoff);
            }
        }
        None
    }
}
