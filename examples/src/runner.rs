//! The one place that turns an example into a program: parses the command line, sets up
//! logging, picks the model for the mode, builds a fresh agent and session for each call, and
//! runs the mode (console, demo, voice or sip).

use crate::cli::{Cli, Command, ConsoleArgs, Mode, NoArgs};
use crate::over_http::OverHttp;
use agents_core::console::{self, Console, Input};
use agents_core::llm::openai::OpenAiLlm;
use agents_core::llm::LlmError;
use agents_core::prelude::*;
use agents_core::session::SessionBuilder;
use agents_core::testing::ScriptedLlm;
use agents_telephony::Telephony;
use clap::{CommandFactory, FromArgMatches};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

/// A demo: the scripted model and the user's lines it answers.
///
/// Spoken input may need more turns than typed input: the prebuilt capture tasks read a value
/// back and wait for the user to confirm it when it was heard (speech may be misheard), not
/// when it was typed. A demo with such a task gives the caller's lines for the voice modes
/// with [`Demo::spoken`].
pub struct Demo {
    /// The model every mode of the demo plays against.
    pub llm: ScriptedLlm,
    /// The user's typed turns, in order, as `demo` mode plays them (`/dtmf 12#` sends keypad
    /// digits).
    pub lines: Vec<&'static str>,
    /// What the caller says in `voice`, `sip` and `web` with `--scripted`, when it differs
    /// from `lines`.
    spoken: Option<Vec<&'static str>>,
}

impl Demo {
    /// A demo whose caller says the same lines as are typed.
    pub fn new(llm: ScriptedLlm, lines: Vec<&'static str>) -> Self {
        Demo {
            llm,
            lines,
            spoken: None,
        }
    }

    /// Sets what the caller says (one line per utterance), for a conversation that takes
    /// other turns by voice, such as confirming a value read back.
    pub fn spoken(mut self, lines: Vec<&'static str>) -> Self {
        self.spoken = Some(lines);
        self
    }

    /// What the scripted recogniser hears, one line per utterance: the spoken lines if the
    /// demo has its own, else the typed ones.
    pub fn spoken_lines(&self) -> &[&'static str] {
        self.spoken.as_deref().unwrap_or(&self.lines)
    }
}

/// Session settings a call needs besides the model.
type Configure = Box<dyn FnOnce(SessionBuilder) -> SessionBuilder + Send>;

/// Makes a call's agent once the line the call runs on is known.
type MakeAgent<A> = Box<dyn FnOnce(&mut Line<'_>) -> A + Send>;

/// The agent of a call, or how to make it on the call's line.
enum AgentOf<A> {
    Ready(A),
    OnLine(MakeAgent<A>),
}

/// What one call runs: a fresh agent, and how its session is set up.
pub struct Call<A> {
    agent: AgentOf<A>,
    configure: Option<Configure>,
}

impl<A: Agent> Call<A> {
    /// A call of `agent` in a session with default settings.
    pub fn new(agent: A) -> Self {
        Call {
            agent: AgentOf::Ready(agent),
            configure: None,
        }
    }

    /// A call whose agent is made once the call's [`Line`] is known, for an agent that acts
    /// on the phone call itself (hold, dial, bridge) when there is one.
    pub fn on_line(agent: impl FnOnce(&mut Line<'_>) -> A + Send + 'static) -> Self {
        Call {
            agent: AgentOf::OnLine(Box::new(agent)),
            configure: None,
        }
    }

    /// Adjusts the call's session (userdata, limits); the model is set already.
    pub fn session(
        mut self,
        configure: impl FnOnce(SessionBuilder) -> SessionBuilder + Send + 'static,
    ) -> Self {
        self.configure = Some(Box::new(configure));
        self
    }
}

/// What a call runs on, as an agent sees it: a real phone call (`sip` mode) or not (the
/// console, `demo`, `voice`, `web`).
pub struct Line<'a> {
    phone: Option<&'a mut dyn PhoneLine>,
}

/// A real phone call an agent may act on.
pub(crate) trait PhoneLine {
    /// The call's telephony; see [`Line::telephony`].
    fn telephony(&mut self, human_lines: &[&str]) -> Option<Arc<dyn Telephony>>;
}

impl<'a> Line<'a> {
    /// A conversation without a phone call.
    pub(crate) fn none() -> Self {
        Line { phone: None }
    }

    /// A phone call.
    pub(crate) fn phone(phone: &'a mut dyn PhoneLine) -> Self {
        Line { phone: Some(phone) }
    }

    /// The phone call's telephony (hold, dial a human, brief them, bridge), or `None` when
    /// the conversation is not a phone call: the agent then simulates the phone system.
    /// Asked for, it takes over the call's audio for the whole call (so it can later hand the
    /// caller to a bridge). `human_lines` is what the scripted recogniser hears people say on
    /// the calls the agent places, one line per utterance (with `--scripted` only; real STT
    /// hears what they say).
    pub fn telephony(&mut self, human_lines: &[&str]) -> Option<Arc<dyn Telephony>> {
        self.phone.as_mut()?.telephony(human_lines)
    }
}

/// Makes a fresh call for the model given; run once per call (the console has one call, the
/// `sip` mode one per caller, from any thread).
pub type Calls<A> = Box<dyn Fn(&Arc<dyn Llm>) -> Call<A> + Send + Sync>;

/// How an example turns its options into calls; fails for bad options before any call starts.
type Setup<E, A> = Box<dyn FnOnce(&E, Mode) -> Result<Calls<A>>>;

/// An example program: what it does, its demo, and how to make its agent.
pub struct Example<A, E = NoArgs> {
    about: &'static str,
    demo: fn() -> Demo,
    setup: Setup<E, A>,
}

impl<A: Agent> Example<A, NoArgs> {
    /// An example without options of its own: `agent` makes a fresh agent for each call.
    ///
    /// `about` is the `--help` text: a first line saying what the example shows, then detail.
    pub fn new(
        about: &'static str,
        demo: fn() -> Demo,
        agent: impl Fn() -> A + Send + Sync + 'static,
    ) -> Self {
        Example {
            about,
            demo,
            setup: Box::new(move |_, _| Ok(Box::new(move |_: &Arc<dyn Llm>| Call::new(agent())))),
        }
    }
}

impl<A: Agent, E: clap::Args> Example<A, E> {
    /// An example with options `E`: `setup` checks them (before any call starts) and returns
    /// the maker of calls.
    pub fn with_args(
        about: &'static str,
        demo: fn() -> Demo,
        setup: impl FnOnce(&E, Mode) -> Result<Calls<A>> + 'static,
    ) -> Self {
        Example {
            about,
            demo,
            setup: Box::new(setup),
        }
    }

    /// Runs the program on the process's arguments and returns its exit code.
    pub fn run(self) -> ExitCode {
        // Leaked once per process: clap keeps `&'static str` names.
        let name: &'static str = Box::leak(program_name().into_boxed_str());
        let (short, long) = match self.about.split_once("\n\n") {
            Some((short, _)) => (short, self.about),
            None => (self.about, self.about),
        };
        let command = Cli::<E>::command()
            .name(name)
            .bin_name(name)
            .about(short.replace('\n', " "))
            .long_about(long.to_string())
            .after_help(usage(name));
        let matches = command.get_matches();
        let cli = match Cli::<E>::from_arg_matches(&matches) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        };
        init_tracing();
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt,
            Err(e) => return console::fail(format!("cannot start the async runtime: {e}")),
        };
        runtime.block_on(self.run_cli(cli))
    }

    async fn run_cli(self, cli: Cli<E>) -> ExitCode {
        let calls = match (self.setup)(&cli.extra, cli.command.mode()) {
            Ok(calls) => calls,
            Err(e) => return console::fail(e),
        };
        let (llm, input, banner): (Arc<dyn Llm>, Input, String) = match &cli.command {
            Command::Voice(args) => {
                return crate::voice_mode::run(args, cli.transcript, self.demo, calls).await
            }
            Command::Sip(args) => {
                if cli.transcript.is_some() {
                    return console::fail(
                        "`sip` writes one transcript per call: use --transcript-dir DIR instead of --transcript",
                    );
                }
                return crate::sip_mode::run(args, self.demo, calls).await;
            }
            Command::Web(args) => {
                if cli.transcript.is_some() {
                    return console::fail(
                        "`web` writes one transcript per connection: use --transcript-dir DIR instead of --transcript",
                    );
                }
                return crate::web_mode::run(args, &program_name(), self.demo, calls).await;
            }
            Command::Console(args) => {
                let (llm, what) = match model_from_env(args) {
                    Ok(x) => x,
                    Err(e) => return console::fail(e),
                };
                let banner = format!(
                    "console: {what}. Type one line per turn; /dtmf 123# sends keypad digits; /quit or end of input (Ctrl-D) hangs up."
                );
                (llm, Input::Stdin, banner)
            }
            Command::Demo(args) => {
                let demo = (self.demo)();
                let input = if args.stdin {
                    Input::Stdin
                } else {
                    Input::Lines(demo.lines.iter().map(|l| l.to_string()).collect())
                };
                let (llm, how): (Arc<dyn Llm>, _) = if args.over_http {
                    match OverHttp::start(demo.llm) {
                        Ok(llm) => (
                            Arc::new(llm),
                            "sent over HTTP to a local server (no API key, no network)",
                        ),
                        Err(e) => return console::fail(e),
                    }
                } else {
                    (Arc::new(demo.llm), "no API key, no network")
                };
                let banner = format!(
                    "demo mode: the model's replies are scripted ({how}). Run with `console` to talk to a real model."
                );
                (llm, input, banner)
            }
        };
        let (session, agent) = build_session(llm.clone(), calls(&llm), &mut Line::none());
        Console::new()
            .transcript(cli.transcript.clone())
            .banner(banner)
            .run(session, agent, input)
            .await
    }
}

/// The real model, configured from the environment and `args` (flags win); its retries are
/// reported on stderr. Also says which model at which address, for the start-up line.
pub(crate) fn model_from_env(args: &ConsoleArgs) -> Result<(Arc<dyn Llm>, String), LlmError> {
    let llm = args
        .apply(OpenAiLlm::builder().from_env())
        .on_retry(|notice| {
            let _ = writeln!(std::io::stderr(), "  [model: {notice}]");
        })
        .build()?;
    let what = format!("model {} at {}", llm.model(), llm.base_url());
    Ok((Arc::new(llm), what))
}

/// The session of one call on `llm`, set up as the call asks, and the call's agent (made on
/// `line` if it asked to be).
pub(crate) fn build_session<A: Agent>(
    llm: Arc<dyn Llm>,
    call: Call<A>,
    line: &mut Line<'_>,
) -> (AgentSession, A) {
    let mut builder = AgentSession::builder_shared(llm);
    if let Some(configure) = call.configure {
        builder = configure(builder);
    }
    let agent = match call.agent {
        AgentOf::Ready(agent) => agent,
        AgentOf::OnLine(make) => make(line),
    };
    (builder.build(), agent)
}

/// The binary's file name, for help and version output.
fn program_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "agent".into())
}

/// The commands shown at the end of `--help`.
fn usage(name: &str) -> String {
    format!(
        "Commands to try:\n  \
         cargo run -p agents-examples --bin {name} -- demo\n  \
         OPENAI_API_KEY=sk-... cargo run -p agents-examples --bin {name} -- console\n  \
         OPENAI_BASE_URL=http://localhost:11434/v1 cargo run -p agents-examples --bin {name} -- console --model llama3.1\n  \
         cargo run -p agents-examples --bin {name} -- voice --scripted --caller caller.wav --out agent.wav\n  \
         OPENAI_API_KEY=sk-... cargo run -p agents-examples --bin {name} -- voice --caller caller.wav --out agent.wav\n  \
         OPENAI_API_KEY=sk-... cargo run -p agents-examples --bin {name} -- sip --listen 127.0.0.1:5080 --transcript-dir calls\n  \
         OPENAI_API_KEY=sk-... cargo run -p agents-examples --bin {name} -- web --listen 127.0.0.1:8080\n\n\
         Logs: RUST_LOG=warn (or debug) prints the library's logs on stderr."
    )
}

/// Logs to stderr, filtered by `RUST_LOG` (nothing when unset: what a user needs to see, the
/// console prints itself).
fn init_tracing() {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            match tracing_subscriber::EnvFilter::try_new(&spec) {
                Ok(filter) => filter,
                Err(e) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "warning: RUST_LOG={spec:?} is not a valid filter ({e}); logging is off"
                    );
                    tracing_subscriber::EnvFilter::new("off")
                }
            }
        }
        _ => tracing_subscriber::EnvFilter::new("off"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
