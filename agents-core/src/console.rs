//! Console mode for agent binaries: `<bin> console` talks to a real model over stdin/stdout,
//! `<bin> demo` plays a built-in script against a scripted model.
//!
//! One stdin line is one user turn; the next line is read only after the agent has finished its
//! turn, so a piped script gives the same output every time. Agent words are printed as they
//! stream. `/dtmf 1234#` sends keypad digits. End of input closes the session and exits 0.
//!
//! ```no_run
//! use agents_core::console::{self, Cli};
//! use agents_core::prelude::*;
//! # #[agent] struct Assistant; #[function_tools] impl Assistant {}
//! # fn demo_llm() -> agents_core::testing::ScriptedLlm { agents_core::testing::ScriptedLlm::new() }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let cli: Cli = Cli::parse_args();
//!     let llm = match cli.llm(demo_llm) {
//!         Ok(llm) => llm,
//!         Err(e) => return console::fail(e),
//!     };
//!     let session = AgentSession::builder().llm_arc(llm).build().expect("llm is set");
//!     console::run(&cli, session, Assistant, &["Hello!"]).await
//! }
//! ```

use crate::agent::Agent;
use crate::error::{Error, Result};
use crate::llm::openai::OpenAiLlm;
use crate::llm::{Llm, Role};
use crate::session::events::redacted_if;
use crate::session::{AgentSession, RunResult, SessionEvent};
use crate::testing::ChatCompletionsServer;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

/// Command line of an agent binary; `E` adds the binary's own flags (mark them `global = true`
/// to accept them after the subcommand).
#[derive(Debug, clap::Parser)]
#[command(about = "A conversational agent", long_about = None)]
pub struct Cli<E: clap::Args = NoArgs> {
    /// How to run.
    #[command(subcommand)]
    pub mode: Mode,
    /// Write every session event as one JSON object per line to this file.
    #[arg(long, global = true, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// In `demo` mode, read the user turns from stdin instead of the built-in conversation.
    #[arg(long, global = true)]
    pub stdin: bool,
    /// Model name for `console` (default: $OPENAI_MODEL or gpt-4o-mini).
    #[arg(long, global = true)]
    pub model: Option<String>,
    /// In `demo` mode, send the scripted conversation through the real OpenAI-compatible client
    /// to an in-process server on 127.0.0.1 that checks every request against the Chat
    /// Completions rules (a broken rule ends the turn with the API's 400).
    #[arg(long, global = true)]
    pub over_http: bool,
    /// The binary's own flags.
    #[command(flatten)]
    pub extra: E,
}

/// No extra flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NoArgs {}

/// Run mode.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Mode {
    /// Talk to the agent on stdin/stdout with a real model (OPENAI_API_KEY, OPENAI_BASE_URL).
    Console,
    /// Play the built-in conversation against a scripted model; no key needed.
    Demo,
}

impl<E: clap::Args> Cli<E> {
    /// Parses the process arguments (exits with usage on error, as clap does).
    pub fn parse_args() -> Self {
        <Self as clap::Parser>::parse()
    }

    /// The LLM for the chosen mode: the OpenAI-compatible provider configured from the
    /// environment (and `--model`) in console mode, `demo()` in demo mode.
    pub fn llm<L: Llm>(&self, demo: impl FnOnce() -> L) -> Result<Arc<dyn Llm>> {
        match self.mode {
            Mode::Demo if self.over_http => {
                let server = ChatCompletionsServer::spawn(demo()).map_err(|e| {
                    Error::Usage(format!("could not start the demo's HTTP server: {e}"))
                })?;
                // No retries: a retry would play the script's next reply, which the model in
                // process never does.
                let llm = OpenAiLlm::builder()
                    .base_url(server.base_url())
                    .api_key("demo")
                    .model("scripted-demo")
                    .max_retries(0)
                    .build()?;
                Ok(Arc::new(OverHttp {
                    llm,
                    _server: server,
                }))
            }
            Mode::Demo => Ok(Arc::new(demo())),
            Mode::Console => {
                let mut builder = OpenAiLlm::builder().from_env();
                if let Some(model) = &self.model {
                    builder = builder.model(model.clone());
                }
                Ok(Arc::new(builder.build()?))
            }
        }
    }
}

/// The OpenAI-compatible client with the in-process server it talks to (kept alive with it).
struct OverHttp {
    llm: OpenAiLlm,
    _server: ChatCompletionsServer,
}

impl Llm for OverHttp {
    fn chat(
        &self,
        request: crate::llm::ChatRequest,
    ) -> futures::future::BoxFuture<
        '_,
        std::result::Result<crate::llm::ChatStream, crate::llm::LlmError>,
    > {
        self.llm.chat(request)
    }

    fn label(&self) -> String {
        self.llm.label()
    }
}

/// Prints `error` and returns the failure exit code.
pub fn fail(error: Error) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {error}");
    ExitCode::FAILURE
}

/// Prints events and writes the transcript.
struct Printer {
    transcript: Option<std::io::BufWriter<std::fs::File>>,
    mid_line: bool,
}

impl Printer {
    fn print(&mut self, event: &SessionEvent) {
        let mut out = std::io::stdout().lock();
        if let (Some(file), false) = (
            self.transcript.as_mut(),
            matches!(event, SessionEvent::TextDelta { .. }),
        ) {
            if let Ok(line) = serde_json::to_string(event) {
                let _ = writeln!(file, "{line}");
            }
        }
        match event {
            // The agent's speech is shown in full, since the caller hears it; the rest of a
            // sensitive activity's detail is shown redacted, as in the transcript.
            SessionEvent::TextDelta { content, .. } => {
                if !self.mid_line {
                    let _ = write!(out, "agent: ");
                    self.mid_line = true;
                }
                let _ = write!(out, "{content}");
            }
            SessionEvent::Message {
                role: Role::Assistant,
                ..
            } => {
                if self.mid_line {
                    let _ = writeln!(out);
                    self.mid_line = false;
                }
            }
            SessionEvent::FunctionCall {
                name,
                arguments,
                sensitive,
                ..
            } => {
                let arguments = redacted_if(*sensitive, arguments);
                let _ = writeln!(out, "  [call {name}({arguments})]");
            }
            SessionEvent::FunctionCallOutput {
                name,
                output,
                is_error,
                sensitive,
                ..
            } => {
                let output = redacted_if(*sensitive, output);
                let tag = if *is_error { " error" } else { "" };
                let _ = writeln!(out, "  [{name}{tag} -> {output}]");
            }
            SessionEvent::AgentHandoff {
                old_agent,
                new_agent,
            } => {
                let old = old_agent.as_deref().unwrap_or("start");
                let _ = writeln!(out, "  [{old} -> {new_agent}]");
            }
            SessionEvent::TaskCompleted {
                name,
                output,
                sensitive,
            } => {
                let output = output.to_string();
                let output = redacted_if(*sensitive, &output);
                let _ = writeln!(out, "  [{name} completed: {output}]");
            }
            SessionEvent::Error { content, sensitive } => {
                let content = redacted_if(*sensitive, content);
                let _ = writeln!(out, "  [error: {content}]");
            }
            SessionEvent::Dtmf { digits, sensitive } => {
                let digits = redacted_if(*sensitive, digits);
                let _ = writeln!(out, "  [dtmf {digits}]");
            }
            SessionEvent::Closed => {
                let _ = writeln!(out, "  [session closed]");
            }
            SessionEvent::Message { .. } | SessionEvent::Usage { .. } => {}
        }
        let _ = out.flush();
    }

    fn flush(&mut self) {
        if let Some(f) = self.transcript.as_mut() {
            let _ = f.flush();
        }
    }
}

/// Drives `fut` while printing the events it produces as they arrive.
async fn drive<F: std::future::Future<Output = Result<RunResult>>>(
    fut: F,
    events: &mut mpsc::UnboundedReceiver<SessionEvent>,
    printer: &mut Printer,
) -> Result<RunResult> {
    tokio::pin!(fut);
    let result = loop {
        tokio::select! {
            biased;
            Some(ev) = events.recv() => printer.print(&ev),
            res = &mut fut => break res,
        }
    };
    while let Ok(ev) = events.try_recv() {
        printer.print(&ev);
    }
    printer.flush();
    result
}

/// Runs `agent` in `session` per the command line: stdin lines in console mode, `demo_lines` in
/// demo mode. Returns the process exit code (0 when input ends normally).
pub async fn run<E: clap::Args, A: Agent>(
    cli: &Cli<E>,
    session: AgentSession,
    agent: A,
    demo_lines: &[&str],
) -> ExitCode {
    let transcript = match &cli.transcript {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(std::io::BufWriter::new(f)),
            Err(e) => {
                return fail(Error::Usage(format!(
                    "cannot write the transcript {}: {e}",
                    path.display()
                )))
            }
        },
        None => None,
    };
    let mut printer = Printer {
        transcript,
        mid_line: false,
    };
    if matches!(cli.mode, Mode::Demo) {
        let mut out = std::io::stdout().lock();
        let how = if cli.over_http {
            "sent over HTTP to a local server (no API key, no network)"
        } else {
            "no API key, no network"
        };
        let _ = writeln!(
            out,
            "demo mode: the model's replies are scripted ({how}). Run with `console` to talk to a real model."
        );
    }
    let mut events = session.subscribe();
    if let Err(e) = drive(session.start(agent), &mut events, &mut printer).await {
        return fail(e);
    }

    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let mut demo = demo_lines.iter();
    loop {
        let from_stdin = matches!(cli.mode, Mode::Console) || cli.stdin;
        let line = match cli.mode {
            Mode::Demo if !from_stdin => match demo.next() {
                Some(l) => {
                    println_user(l);
                    l.to_string()
                }
                None => break,
            },
            _ => {
                // Bytes, not `lines()`: input that is not valid UTF-8 is repaired, not fatal.
                let mut raw = Vec::new();
                match stdin.read_until(b'\n', &mut raw).await {
                    Ok(0) => break,
                    Ok(_) => String::from_utf8_lossy(&raw).into_owned(),
                    Err(e) => return fail(Error::Usage(format!("cannot read stdin: {e}"))),
                }
            }
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let turn = match line.strip_prefix("/dtmf") {
            Some(digits) => {
                drive(session.send_dtmf(digits.trim()), &mut events, &mut printer).await
            }
            None => drive(session.run(line), &mut events, &mut printer).await,
        };
        match turn {
            Ok(_) => {}
            Err(Error::Closed) => break,
            // The session reported the failure as an `error` event already, printed and written
            // to the transcript (redacted when sensitive); the next line is read as usual.
            Err(_) => {}
        }
    }
    drive(
        async {
            session.close().await;
            Ok(RunResult::default())
        },
        &mut events,
        &mut printer,
    )
    .await
    .ok();
    ExitCode::SUCCESS
}

fn println_user(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "user: {line}");
}

/// The shortest `main`: parses the command line (no extra flags) and runs `agent` with default
/// session options, `demo_llm` and `demo_lines` serving `demo` mode.
pub async fn run_agent<A: Agent, L: Llm>(
    agent: A,
    demo_llm: impl FnOnce() -> L,
    demo_lines: &[&str],
) -> ExitCode {
    let cli: Cli = Cli::parse_args();
    let llm = match cli.llm(demo_llm) {
        Ok(llm) => llm,
        Err(e) => return fail(e),
    };
    match AgentSession::builder().llm_arc(llm).build() {
        Ok(session) => run(&cli, session, agent, demo_lines).await,
        Err(e) => fail(e),
    }
}
