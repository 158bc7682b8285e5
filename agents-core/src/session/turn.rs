//! The turn loop of one activity, top to bottom: wait for a command, start a turn, reply
//! (LLM, tools, LLM again with their outputs), and go back to waiting.
//!
//! Whenever an activity waits for the next command, the turn in progress is finished and its
//! `RunResult` delivered: that is why `run()` returns while a task waits for the user.

use super::command::{Next, TurnCommand};
use super::erased::DynActivity;
use super::events::SessionEvent;
use super::frame::{ActivityKind, Frame, HookKind};
use super::hooks::Hook;
use super::reply::{build_request, say, stream_reply, to_function_calls, truncate_reply};
use super::session_core::SessionCore;
use crate::error::Error;
use crate::llm::{ChatMessage, FunctionCall, Role, ToolChoice};
use crate::tools::Handoff;

/// An activity at work: the loop's state, the activity's frame and the activity itself.
pub(crate) struct ActivityRun<'a, R> {
    pub(crate) core: &'a mut SessionCore,
    pub(crate) frame: &'a mut Frame<R>,
    pub(crate) act: &'a mut dyn DynActivity<R>,
}

/// Why an activity stopped serving commands.
pub(crate) enum LoopExit {
    /// The task completed (or failed).
    Completed,
    /// The session is closing.
    Closed,
    /// The agent hands off.
    Handoff(Handoff),
}

impl<R: Send + 'static> ActivityRun<'_, R> {
    /// Serves commands until the activity completes, hands off, or the session closes.
    pub(crate) async fn serve(&mut self) -> LoopExit {
        loop {
            if !self.frame.outcome.is_pending() {
                return LoopExit::Completed;
            }
            let handoff = match self.core.next_command(self.frame.state.timer).await {
                None => return LoopExit::Closed,
                Some(Next::Timer) => {
                    self.frame.state.timer = None;
                    self.core.recorder.begin_run(None);
                    self.hook(Hook::Timer).await
                }
                Some(Next::Command(cmd)) => self.handle(cmd).await,
            };
            if let Some(h) = handoff {
                return LoopExit::Handoff(h);
            }
        }
    }

    /// Runs one command: each but `TruncateReply` starts a turn.
    async fn handle(&mut self, cmd: TurnCommand) -> Option<Handoff> {
        match cmd {
            TurnCommand::UserInput {
                text,
                modality,
                reply,
            } => {
                self.core.recorder.begin_run(Some(reply));
                self.core.input_modality = modality;
                let text = sanitize_input(&text, self.core.options.max_input_chars);
                let state = &mut self.frame.state;
                self.core.recorder.user_message(state, &text);
                state.chat_ctx.push(ChatMessage::new(Role::User, text));
                self.reply(None, Vec::new()).await
            }
            TurnCommand::GenerateReply {
                instructions,
                reply,
            } => {
                self.core.recorder.begin_run(Some(reply));
                self.reply(Some(instructions), Vec::new()).await
            }
            TurnCommand::Say { text, reply } => {
                self.core.recorder.begin_run(Some(reply));
                say(self.core, &mut self.frame.state, text);
                None
            }
            TurnCommand::Dtmf { digits, reply } => {
                self.core.recorder.begin_run(Some(reply));
                self.core
                    .recorder
                    .emit_from(&self.frame.state, |sensitive| SessionEvent::Dtmf {
                        digits: digits.clone(),
                        sensitive,
                    });
                self.hook(Hook::Dtmf(&digits)).await
            }
            TurnCommand::TruncateReply { heard, reply } => {
                truncate_reply(self.core, &mut self.frame.state, heard);
                let _ = reply.send(Ok(()));
                None
            }
        }
    }

    /// Whether a tool of this activity may hand off now: agents may, except in `on_exit`.
    pub(crate) fn may_hand_off(&self) -> bool {
        self.frame.state.kind == ActivityKind::Agent
            && self.frame.state.hook != Some(HookKind::Exit)
    }

    /// One reply: LLM, tools, LLM again with their outputs, until the LLM answers without tool
    /// calls, a tool stops the reply, the task completes, or `max_tool_steps` is reached.
    ///
    /// `calls` are tool calls the LLM already made for this reply (in a hook), run first.
    pub(crate) async fn reply(
        &mut self,
        instructions: Option<String>,
        mut calls: Vec<FunctionCall>,
    ) -> Option<Handoff> {
        let max_steps = self.core.options.max_tool_steps;
        let mut step = usize::from(!calls.is_empty());
        loop {
            if calls.is_empty() {
                let last = step >= max_steps;
                // Tools may be switched on and off by the activity's state (`tool_enabled`).
                self.frame.state.tools = self.act.tools();
                let (tools, choice) = if last {
                    (Vec::new(), ToolChoice::None)
                } else {
                    (self.frame.state.offered_tools(), ToolChoice::Auto)
                };
                let request =
                    build_request(&self.frame.state, instructions.as_deref(), tools, choice);
                let requested = match stream_reply(self.core, &mut self.frame.state, request).await
                {
                    Ok(requested) => requested,
                    Err(e) => {
                        self.core.recorder.report_error(e, &self.frame.state);
                        return None;
                    }
                };
                if requested.is_empty() {
                    return None;
                }
                if last {
                    self.core.recorder.report_error(
                        Error::Usage(format!(
                            "the LLM kept calling tools after {max_steps} steps; the turn was stopped (raise max_tool_steps if the flow needs more)"
                        )),
                        &self.frame.state,
                    );
                    return None;
                }
                calls = to_function_calls(requested);
            }
            let ran = self.run_calls(std::mem::take(&mut calls)).await;
            if !self.frame.outcome.is_pending()
                || ran.handoff.is_some()
                || !ran.wants_reply
                || self.core.closing
            {
                return ran.handoff;
            }
            step += 1;
        }
    }
}

/// Makes user input safe to keep and send: control characters other than newline and tab are
/// dropped, and text beyond `max_chars` characters is cut (with a warning) so one huge input
/// cannot blow up every later request.
pub(crate) fn sanitize_input(text: &str, max_chars: usize) -> String {
    let mut kept = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t');
    let mut out: String = kept.by_ref().take(max_chars).collect();
    if kept.next().is_some() {
        tracing::warn!(
            max_chars,
            "user input was cut to the session's max_input_chars"
        );
        out.push_str(" [cut]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sanitize_input;

    #[test]
    fn input_is_cleaned_and_bounded() {
        assert_eq!(
            sanitize_input("a\u{0}b\u{1b}[31mc\nd\te", 100),
            "ab[31mc\nd\te"
        );
        assert_eq!(sanitize_input("héllo wörld", 5), "héllo [cut]");
        assert_eq!(sanitize_input("", 5), "");
    }
}
