//! Console mode: any agent as a command-line program. One line of input is one user turn, the
//! agent's words are printed as they stream, and the tool calls, handoffs and task results of
//! each turn are shown as indented lines.
//!
//! - The next line is read only after the agent has finished its turn, so a piped script gives
//!   the same output every time. When input does not come from a terminal, each line is echoed
//!   as `user: ...`, so the output reads as a dialogue.
//! - `/dtmf 1234#` sends keypad digits; `/quit` or the end of input hangs up.
//! - Errors go to stderr. A turn that fails ends the session: the error is printed once, the
//!   session is closed, and [`Console::run`] returns a failure exit code. A session the agent
//!   ends itself, or the end of input, exits 0.
//! - Text from the model is printed without terminal control characters.
//! - Tools and callbacks print extra lines with [`note`], in order with the events.
//!
//! The console takes the session and the agent ready-made: which model to use (a real one, or
//! a scripted one for a demo) is up to the program.
//!
//! ```no_run
//! use agents_core::console::{Console, Input};
//! use agents_core::prelude::*;
//! # #[agent] struct Assistant; #[function_tools] impl Assistant {}
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let llm = match agents_core::llm::openai::OpenAiLlm::from_env() {
//!         Ok(llm) => llm,
//!         Err(e) => return agents_core::console::fail(e),
//!     };
//!     let session = AgentSession::new(llm);
//!     Console::new().run(session, Assistant, Input::Stdin).await
//! }
//! ```

mod notes;
mod printer;

pub use notes::note;

use crate::agent::Agent;
use crate::error::{Error, Result};
use crate::session::{AgentSession, RunResult, SessionEvent};
use printer::Printer;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

/// Where the user's turns come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// Standard input, one turn per line.
    Stdin,
    /// These lines, in order (a demo's script); each is printed as `user: ...`.
    Lines(Vec<String>),
}

/// Settings of a console run; [`run`](Self::run) runs it.
#[derive(Debug, Clone, Default)]
pub struct Console {
    transcript: Option<PathBuf>,
    banner: Option<String>,
}

impl Console {
    /// A console with no transcript and no banner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also writes every session event as one JSON object per line to `path` (created or
    /// truncated before the session starts).
    pub fn transcript(mut self, path: Option<PathBuf>) -> Self {
        self.transcript = path;
        self
    }

    /// A line printed before the session starts, e.g. which model is used and how to end.
    pub fn banner(mut self, line: impl Into<String>) -> Self {
        self.banner = Some(line.into());
        self
    }

    /// Runs `agent` in `session` with turns from `input` until the input ends, the agent ends
    /// the session, or a turn fails. Returns the process exit code: success unless a turn
    /// failed or the transcript could not be written.
    pub async fn run<A: Agent>(self, session: AgentSession, agent: A, input: Input) -> ExitCode {
        let transcript = match &self.transcript {
            Some(path) => match std::fs::File::create(path) {
                Ok(f) => Some(f),
                Err(e) => {
                    return fail(format!(
                        "cannot write the transcript {}: {e}",
                        path.display()
                    ))
                }
            },
            None => None,
        };
        let mut run = Run {
            printer: Printer::new(transcript),
            events: session.subscribe(),
            notes: notes::open(),
        };
        if let Some(banner) = &self.banner {
            run.printer.line(banner);
        }
        let outcome = run.converse(&session, agent, input).await;
        // After a failure, closing reports nothing new: the error was printed once.
        run.printer.turn_error_shown = outcome.is_err();
        run.drive(async {
            session.close().await;
        })
        .await;
        notes::close();
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(()) => ExitCode::FAILURE,
        }
    }
}

/// One console run in progress.
struct Run {
    printer: Printer,
    events: mpsc::UnboundedReceiver<SessionEvent>,
    notes: mpsc::UnboundedReceiver<notes::Note>,
}

impl Run {
    /// The conversation: `Err` when a turn failed (the error has been printed).
    async fn converse<A: Agent>(
        &mut self,
        session: &AgentSession,
        agent: A,
        input: Input,
    ) -> std::result::Result<(), ()> {
        self.printer.turn_error_shown = false;
        let started = self.drive(session.start(agent)).await;
        self.check(started, 0)?;
        let echo = match &input {
            Input::Lines(_) => true,
            Input::Stdin => !std::io::stdin().is_terminal(),
        };
        let mut lines = match input {
            Input::Lines(lines) => Some(lines.into_iter()),
            Input::Stdin => None,
        };
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        loop {
            if self.printer.closed {
                return Ok(()); // the agent ended the call
            }
            let line = match lines.as_mut() {
                Some(lines) => match lines.next() {
                    Some(line) => line,
                    None => return Ok(()),
                },
                None => {
                    // Bytes, not `lines()`: input that is not valid UTF-8 is repaired, not fatal.
                    let mut raw = Vec::new();
                    match self.drive(stdin.read_until(b'\n', &mut raw)).await {
                        Ok(0) => return Ok(()),
                        Ok(_) => String::from_utf8_lossy(&raw).into_owned(),
                        Err(e) => {
                            self.printer.error(&format!("cannot read stdin: {e}"));
                            return Err(());
                        }
                    }
                }
            };
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line == "/quit" {
                return Ok(());
            }
            if echo {
                self.printer.pending_echo = Some(line.to_string());
            }
            let errors = self.printer.errors;
            self.printer.turn_error_shown = false;
            let turn = match line.strip_prefix("/dtmf") {
                Some(digits) => self.drive(session.send_dtmf(digits.trim())).await,
                None => self.drive(session.run(line)).await,
            };
            self.printer.pending_echo = None;
            self.check(turn, errors)?;
        }
    }

    /// Whether a turn went well; a failure is printed unless the session reported it already
    /// (an `error` event, redacted when sensitive).
    fn check(
        &mut self,
        turn: Result<RunResult>,
        errors_before: usize,
    ) -> std::result::Result<(), ()> {
        match turn {
            Ok(_) | Err(Error::Closed) => Ok(()),
            Err(e) => {
                if self.printer.errors == errors_before {
                    self.printer.error(&e.to_string());
                }
                Err(())
            }
        }
    }

    /// Drives `fut` while printing the events and notes that arrive meanwhile.
    async fn drive<T>(&mut self, fut: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(fut);
        let out = loop {
            tokio::select! {
                biased;
                Some(event) = self.events.recv() => self.printer.print(&event),
                Some((line, printed)) = self.notes.recv() => {
                    // Everything emitted before the note is in the channel already, and
                    // nothing after it: its sender waits for `printed`.
                    while let Ok(event) = self.events.try_recv() {
                        self.printer.print(&event);
                    }
                    self.printer.line(&format!("  {line}"));
                    let _ = printed.send(());
                }
                out = &mut fut => break out,
            }
        };
        while let Ok(event) = self.events.try_recv() {
            self.printer.print(&event);
        }
        self.printer.flush();
        out
    }
}

/// Prints `error: {error}` on stderr and returns the failure exit code.
pub fn fail(error: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {error}");
    ExitCode::FAILURE
}
