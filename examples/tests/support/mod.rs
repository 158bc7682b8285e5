//! Shared helpers for the voice and SIP mode tests: a worker process, its transcripts, and
//! what the simulated caller hears.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use agents_sip::testing::SimulatedCall;
use agents_voice::audio::{read_wav, Resampler};

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
    /// Its transcript directory.
    pub dir: PathBuf,
    lines: mpsc::Receiver<String>,
}

impl Worker {
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
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
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
