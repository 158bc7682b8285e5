//! Shared helpers for the examples' tests: running an example binary to the end, a `sip` or
//! `web` worker process, its transcripts, and what the simulated caller hears.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use agents_sip::testing::{CallSimulator, SimulatedCall};
use agents_voice::audio::{read_wav, Resampler};
use agents_voice::testing::servers::SpeechServer;

/// The nine example binaries, by name.
pub const EXAMPLES: [(&str, &str); 9] = [
    ("consent", env!("CARGO_BIN_EXE_consent")),
    ("contact_info", env!("CARGO_BIN_EXE_contact_info")),
    ("dtmf", env!("CARGO_BIN_EXE_dtmf")),
    ("intake", env!("CARGO_BIN_EXE_intake")),
    ("interview", env!("CARGO_BIN_EXE_interview")),
    ("onboarding", env!("CARGO_BIN_EXE_onboarding")),
    ("payment", env!("CARGO_BIN_EXE_payment")),
    ("survey", env!("CARGO_BIN_EXE_survey")),
    ("warm_transfer", env!("CARGO_BIN_EXE_warm_transfer")),
];

/// The binary of the example `name`.
pub fn exe(name: &str) -> &'static str {
    EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no example {name}"))
        .1
}

/// What a finished run of an example binary left.
pub struct Output {
    /// The exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
    /// How long it ran.
    pub took: Duration,
}

impl Output {
    /// Asserts a zero exit, showing both streams otherwise.
    pub fn assert_success(&self) {
        assert_eq!(self.code, Some(0), "{}\n{}", self.stdout, self.stderr);
    }
}

/// Runs `cmd` to the end with `input` written to its stdin (then closed), capturing its output.
pub fn run_with_input(cmd: &mut Command, input: &str) -> Output {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    finished(child.wait_with_output().unwrap(), started)
}

/// Runs `exe args..` to the end with no input, capturing its output.
pub fn run(exe: &str, args: &[&str]) -> Output {
    run_quietly(Command::new(exe).args(args))
}

/// Runs `cmd` to the end with no input, capturing its output.
pub fn run_quietly(cmd: &mut Command) -> Output {
    let started = Instant::now();
    finished(cmd.output().unwrap(), started)
}

fn finished(out: std::process::Output, started: Instant) -> Output {
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// Serves `app` on a loopback port from a new runtime (it runs as long as the runtime does).
pub fn serve(app: axum::Router) -> (tokio::runtime::Runtime, SocketAddr) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, addr)
}

/// Asserts that `text` contains each of `parts`, showing `text` otherwise.
pub fn assert_contains_all(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
}

/// Asserts that one of `said` contains `part`.
pub fn assert_any_contains(said: &[String], part: &str) {
    assert!(
        said.iter().any(|s| s.contains(part)),
        "{part:?} not in {said:?}"
    );
}

/// What a test speech server was asked to say, in order.
pub fn spoken(tts: &SpeechServer) -> Vec<String> {
    tts.requests().into_iter().map(|r| r.input).collect()
}

/// The committed recording: "Hello, I would like to book a table." (0.5-2.67 s), then
/// "My name is John." (3.87-4.81 s), 16 kHz.
pub const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../agents-voice/tests/fixtures/two_utterances.wav"
);

/// A fresh empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("agents-examples-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The fixture's first utterance at 8 kHz (0-3 s: silence, speech, a little silence).
pub fn first_utterance_8k() -> Vec<i16> {
    let wav = read_wav(FIXTURE).unwrap();
    let mut r = Resampler::new(wav.sample_rate, 8000, 1).unwrap();
    let mut samples = r.process(&wav).unwrap().samples;
    samples.extend(r.flush().samples);
    samples.truncate(3 * 8000);
    samples
}

/// A `sip` or `web` worker process of one example.
pub struct Worker {
    child: Child,
    /// Its SIP or HTTP address.
    pub addr: SocketAddr,
    /// Its transcript directory, removed when the worker is dropped.
    pub dir: PathBuf,
    lines: mpsc::Receiver<String>,
}

impl Worker {
    /// Starts `exe sip --scripted` (see [`Worker::spawn`]).
    pub fn scripted(exe: &str, rtp: &str, dir: &Path) -> Self {
        Self::spawn(exe, rtp, dir, &["--scripted"], &[])
    }

    /// Starts `exe sip --listen 127.0.0.1:0 --rtp-ports <rtp> --transcript-dir <dir> <extra>`
    /// and waits for its start-up line.
    pub fn spawn(exe: &str, rtp: &str, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(exe);
        cmd.args([
            "sip",
            "--listen",
            "127.0.0.1:0",
            "--rtp-ports",
            rtp,
            "--transcript-dir",
        ])
        .arg(dir)
        .args(extra);
        Self::launch(cmd, dir, env, "sip: listening on ")
    }

    /// Starts `exe web --listen 127.0.0.1:0 --scripted --transcript-dir <dir>` and waits for
    /// its start-up line.
    pub fn spawn_web(exe: &str, dir: &Path) -> Self {
        let mut cmd = Command::new(exe);
        cmd.args([
            "web",
            "--listen",
            "127.0.0.1:0",
            "--scripted",
            "--transcript-dir",
        ])
        .arg(dir);
        Self::launch(cmd, dir, &[], "web: open http://")
    }

    fn launch(mut cmd: Command, dir: &Path, env: &[(&str, &str)], prefix: &str) -> Self {
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        for var in [
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "OPENAI_MODEL",
            "STT_BASE_URL",
            "TTS_BASE_URL",
            "STT_PROVIDER",
            "TTS_PROVIDER",
            "DEEPGRAM_API_KEY",
            "CARTESIA_API_KEY",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the worker printed its start-up line");
        let addr = first
            .strip_prefix(prefix)
            .and_then(|rest| rest.split(|c: char| c == '/' || c.is_whitespace()).next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected start-up line: {first}"));
        Worker {
            child,
            addr,
            dir: dir.to_path_buf(),
            lines,
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Stdout lines printed since start-up.
    pub fn output(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// The transcript of `call_id` (a SIP Call-ID or a web connection id) once the call has
    /// ended (its last line written), as JSON values.
    pub async fn transcript(&self, call_id: &str) -> Vec<serde_json::Value> {
        let path = self.dir.join(format!("{call_id}.jsonl"));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.contains("\"call_ended\"") {
                return text
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                    .collect();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no finished transcript at {}: {text}",
                path.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Worker {
    /// Kills the process if it still runs and removes its transcript directory.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Mean absolute level above which a 20 ms frame of the agent's audio counts as speech.
const SPEECH_LEVEL: u64 = 200;
/// Samples in 20 ms at 8 kHz.
const FRAME: usize = 160;

fn speech_frames(samples: &[i16], from: usize) -> impl Iterator<Item = usize> + '_ {
    let start = from / FRAME;
    samples
        .chunks(FRAME)
        .enumerate()
        .skip(start)
        .filter(|(_, c)| {
            c.iter().map(|s| u64::from(s.unsigned_abs())).sum::<u64>() / c.len() as u64
                > SPEECH_LEVEL
        })
        .map(|(i, _)| i * FRAME)
}

/// Waits until the agent speaks after sample `from` of the recording and then stays quiet
/// for `quiet`; returns the number of samples it spoke for (0 if it never did in `timeout`).
pub async fn wait_for_reply(
    call: &SimulatedCall,
    from: usize,
    quiet: Duration,
    timeout: Duration,
) -> usize {
    let quiet_samples = (quiet.as_secs_f64() * 8000.0) as usize;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let rec = call.recorded();
        let mut frames = speech_frames(&rec, from);
        if let Some(first) = frames.next() {
            let last = frames.last().unwrap_or(first);
            if rec.len() >= last + FRAME + quiet_samples {
                return speech_frames(&rec, from).count() * FRAME;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return 0;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The events of `kind` in a transcript.
pub fn of_type<'a>(
    transcript: &'a [serde_json::Value],
    kind: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> + 'a {
    transcript.iter().filter(move |v| v["type"] == kind)
}

/// The contents of the messages of `role`.
pub fn messages(transcript: &[serde_json::Value], role: &str) -> Vec<String> {
    of_type(transcript, "message")
        .filter(|v| v["role"] == role)
        .map(|v| v["content"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The keypad digits of a transcript, in order.
pub fn dtmf_digits(transcript: &[serde_json::Value]) -> String {
    of_type(transcript, "dtmf")
        .map(|v| v["digits"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The errors a call's transcript records.
pub fn call_errors(transcript: &[serde_json::Value]) -> Vec<String> {
    of_type(transcript, "call_error")
        .map(|v| v["error"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Why the call of a transcript ended.
pub fn ended_reason(transcript: &[serde_json::Value]) -> String {
    let ended = of_type(transcript, "call_ended")
        .next()
        .expect("call_ended");
    ended["reason"].as_str().unwrap_or_default().to_string()
}

/// A keypad call's transcript: `digits` pressed, the agent's "You entered 2 digits" answer,
/// and the caller hung up.
pub fn assert_keypad_call(transcript: &[serde_json::Value], digits: &str) {
    assert_eq!(dtmf_digits(transcript), digits);
    assert_any_contains(&messages(transcript, "assistant"), "You entered 2 digits");
    assert_eq!(ended_reason(transcript), "caller_hung_up");
}

/// A worker of an example and one call placed to it.
pub struct PlacedCall {
    /// The example's `sip` worker.
    pub worker: Worker,
    /// The simulator that placed the call (for more calls).
    pub sim: CallSimulator,
    /// The call.
    pub call: SimulatedCall,
    /// Its SIP Call-ID, which names its transcript.
    pub call_id: String,
}

/// Starts `exe sip <extra>` with `env` (RTP ports `rtp..rtp+199`, transcripts in a fresh
/// directory named after `test`) and places a call to it from a simulator on RTP ports
/// `rtp+1000..=rtp+1199`.
pub async fn place_call(
    test: &str,
    exe: &str,
    rtp: u16,
    extra: &[&str],
    env: &[(&str, &str)],
) -> PlacedCall {
    let ports = format!("{rtp}-{}", rtp + 199);
    let worker = Worker::spawn(exe, &ports, &temp_dir(test), extra, env);
    let sim = CallSimulator::with_rtp_ports(rtp + 1000..=rtp + 1199)
        .await
        .unwrap();
    let call = sim.call(worker.addr).await.unwrap();
    let call_id = call.call_id().to_string();
    PlacedCall {
        worker,
        sim,
        call,
        call_id,
    }
}
