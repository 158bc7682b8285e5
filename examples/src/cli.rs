//! The command line every example shares: `console` with a real model, `demo` with a scripted
//! one, `voice` on a recorded caller, `sip` on phone calls, `web` in the browser, and the options
//! of each.

use agents_core::llm::openai::OpenAiLlmBuilder;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// An example's command line; `E` holds the example's own options (marked `global = true` so
/// they may follow the subcommand).
#[derive(Debug, clap::Parser)]
#[command(version, propagate_version = true, disable_help_subcommand = true)]
pub struct Cli<E: clap::Args> {
    /// How to run.
    #[command(subcommand)]
    pub command: Command,
    /// Write every session event as one JSON object per line to this file.
    #[arg(long, global = true, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// The example's own options.
    #[command(flatten)]
    pub extra: E,
}

/// The run modes.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Talk to the agent on stdin/stdout with a real model (an OpenAI-compatible server,
    /// configured with OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL and the options below).
    Console(ConsoleArgs),
    /// Play the built-in conversation against a scripted model: no key, no network.
    Demo(DemoArgs),
    /// Play a recorded caller (WAV) through the voice pipeline and write the agent's side
    /// (STT, TTS and model from the environment, or `--scripted`).
    Voice(VoiceArgs),
    /// Answer phone calls over SIP until SIGTERM (STT, TTS and model from the environment,
    /// or `--scripted`).
    Sip(SipArgs),
    /// Serve a browser voice playground: talk to the agent with the microphone, see the live
    /// transcript (STT, TTS and model from the environment, or `--scripted`).
    Web(WebArgs),
}

impl Command {
    /// The mode, without its options: whether calls talk to a real model or the demo's script.
    pub fn mode(&self) -> Mode {
        match self {
            Command::Console(_) => Mode::Console,
            Command::Demo(_) => Mode::Demo,
            Command::Voice(args) if args.providers.scripted || args.providers.scripted_model => {
                Mode::Demo
            }
            Command::Sip(args) if args.providers.scripted || args.providers.scripted_model => {
                Mode::Demo
            }
            Command::Web(args) if args.providers.scripted || args.providers.scripted_model => {
                Mode::Demo
            }
            Command::Voice(_) | Command::Sip(_) | Command::Web(_) => Mode::Console,
        }
    }
}

/// Which model the calls use, for an example's setup (e.g. a default that only suits a real
/// call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A real model: `console`, and `voice`, `sip` or `web` without `--scripted`.
    Console,
    /// The demo's scripted model: `demo`, and `voice`, `sip` or `web` with `--scripted`.
    Demo,
}

/// Options of `console`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConsoleArgs {
    /// Model name [default: $OPENAI_MODEL, else gpt-4o-mini].
    #[arg(long)]
    pub model: Option<String>,
    /// API root of the OpenAI-compatible server [default: $OPENAI_BASE_URL, else
    /// https://api.openai.com/v1].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Seconds to connect to the server [default: $OPENAI_CONNECT_TIMEOUT_SECS, else 5].
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub connect_timeout: Option<Duration>,
    /// Seconds for the server to start answering, per attempt [default: $OPENAI_TIMEOUT_SECS,
    /// else 10].
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub timeout: Option<Duration>,
    /// Most seconds to wait for a reply to start, retries included [default:
    /// $OPENAI_TOTAL_TIMEOUT_SECS, else 30].
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub total_timeout: Option<Duration>,
    /// Retries of a request that fails before the reply starts [default: $OPENAI_MAX_RETRIES,
    /// else 2].
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
}

impl ConsoleArgs {
    /// `builder` with these options applied over it (flags win over the environment).
    pub fn apply(&self, mut builder: OpenAiLlmBuilder) -> OpenAiLlmBuilder {
        if let Some(model) = &self.model {
            builder = builder.model(model.clone());
        }
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url.clone());
        }
        if let Some(d) = self.connect_timeout {
            builder = builder.connect_timeout(d);
        }
        if let Some(d) = self.timeout {
            builder = builder.request_timeout(d);
        }
        if let Some(d) = self.total_timeout {
            builder = builder.total_timeout(d);
        }
        if let Some(n) = self.max_retries {
            builder = builder.max_retries(n);
        }
        builder
    }
}

/// Options of `demo`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DemoArgs {
    /// Read the user's turns from stdin instead of the built-in conversation.
    #[arg(long)]
    pub stdin: bool,
    /// Send the scripted conversation through the real OpenAI-compatible client to an
    /// in-process server on 127.0.0.1 that checks every request against the Chat Completions
    /// rules (a broken rule ends the turn with the API's 400).
    #[arg(long)]
    pub over_http: bool,
}

/// Where the model, STT and TTS of `voice`, `sip` and `web` come from.
#[derive(Debug, Clone, clap::Args)]
pub struct ProviderArgs {
    /// No key, no network: the demo's scripted model, each utterance heard as the demo's next
    /// line, and a tone for the agent's voice.
    #[arg(long)]
    pub scripted: bool,
    /// The demo's scripted model with real STT and TTS from the environment: hear the demo
    /// spoken by a real voice and answer it with your own, without an LLM.
    #[arg(long, conflicts_with = "scripted")]
    pub scripted_model: bool,
    /// The model's options (as for `console`).
    #[command(flatten)]
    pub model: ConsoleArgs,
}

/// Options of `voice`.
#[derive(Debug, Clone, clap::Args)]
pub struct VoiceArgs {
    /// The caller's recording (WAV, any rate, mono or stereo); played in real time.
    #[arg(long, value_name = "WAV")]
    pub caller: PathBuf,
    /// Where to write the agent's side (WAV at the caller's rate, aligned with it).
    #[arg(long, value_name = "WAV")]
    pub out: PathBuf,
    /// Where the model, STT and TTS come from.
    #[command(flatten)]
    pub providers: ProviderArgs,
}

/// Options of `sip`.
#[derive(Debug, Clone, clap::Args)]
pub struct SipArgs {
    /// SIP address to listen on (UDP); port 0 picks a free one (printed at start).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: SocketAddr,
    /// Local RTP ports, one per call.
    #[arg(long, value_name = "A-B", value_parser = port_range, default_value = "20000-20999")]
    pub rtp_ports: RangeInclusive<u16>,
    /// Address written in SDP and Contact [default: the listen address].
    #[arg(long, value_name = "IP")]
    pub public_ip: Option<IpAddr>,
    /// Calls served at once; more get 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_calls: u32,
    /// Write one JSON-lines transcript per call here, named `<Call-ID>.jsonl`.
    #[arg(long, value_name = "DIR")]
    pub transcript_dir: Option<PathBuf>,
    /// Send RTP from real-time priority threads (needs root or CAP_SYS_NICE; without it a
    /// warning is logged): keeps 20 ms pacing steady with many calls on a busy machine.
    #[arg(long)]
    pub realtime_pacing: bool,
    /// Where the model, STT and TTS come from.
    #[command(flatten)]
    pub providers: ProviderArgs,
}

/// Options of `web`.
#[derive(Debug, Clone, clap::Args)]
pub struct WebArgs {
    /// Address to serve the page on (HTTP and WebSocket); port 0 picks a free one (printed
    /// at start). Loopback by default: anyone who reaches the page spends your API budget.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Write one JSON-lines transcript per connection here, named `<connection id>.jsonl`.
    #[arg(long, value_name = "DIR")]
    pub transcript_dir: Option<PathBuf>,
    /// Where the model, STT and TTS come from.
    #[command(flatten)]
    pub providers: ProviderArgs,
}

/// No options of the example's own.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NoArgs {}

/// A port range `A-B` (inclusive, A <= B, both non-zero).
fn port_range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let (a, b) = text
        .split_once('-')
        .ok_or_else(|| format!("`{text}` is not a port range like 20000-20999"))?;
    let port = |p: &str| match p.trim().parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("`{p}` is not a port (1-65535)")),
        Ok(n) => Ok(n),
    };
    let (a, b) = (port(a)?, port(b)?);
    if a > b {
        return Err(format!(
            "the range {a}-{b} is empty (the first port must come first)"
        ));
    }
    Ok(a..=b)
}

/// A positive number of seconds, fractions allowed.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if value.is_nan() || value <= 0.0 {
        return Err("must be more than zero seconds".into());
    }
    Duration::try_from_secs_f64(value).map_err(|_| format!("`{text}` is too large"))
}
