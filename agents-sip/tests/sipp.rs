//! SIPp (Debian `sip-tester`) against the server: the scenarios in `tests/sipp/`. Each test
//! prints "skipped: ..." and returns when `sipp` is not installed (or, for the scenarios
//! that play pcap audio, when not running as root); when SIPp is present they must pass.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_sip::audio::{mono_8k, AudioOutput, InputEvent};
use agents_sip::call::Call;
use agents_sip::server::{ServerHandle, SipConfig, SipServer};
use common::{assert_clean, tone};

fn sipp_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("sipp"))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The SIPp binary, or `None` after printing why the test is skipped.
fn sipp_or_skip(test: &str, needs_root: bool) -> Option<PathBuf> {
    let Some(p) = sipp_path() else {
        eprintln!("skipped {test}: sipp not installed (apt-get install -y sip-tester)");
        return None;
    };
    if needs_root && !is_root() {
        eprintln!("skipped {test}: SIPp pcap playback needs root (raw socket)");
        return None;
    }
    Some(p)
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/sipp")
        .join(name)
}

#[derive(Default, Debug)]
struct Log {
    calls: usize,
    digits: String,
    audio_frames: usize,
    hangups: usize,
    interrupted_speech: usize,
    /// Calls in progress now, and the most there were at once.
    active: usize,
    max_active: usize,
}

/// A handler that says something (a tone of `speak` length) and records what the caller did.
fn recording_handler(
    log: Arc<Mutex<Log>>,
    speak: Duration,
) -> impl Fn(Call) -> futures::future::BoxFuture<'static, ()> + Send + Sync + 'static {
    move |mut call: Call| {
        let log = log.clone();
        Box::pin(async move {
            {
                let mut l = log.lock().unwrap();
                l.calls += 1;
                l.active += 1;
                l.max_active = l.max_active.max(l.active);
            }
            let mut input = call.take_input().expect("input");
            let mut out = call.output();
            let speech = tone(speak.as_millis() as usize, 6000.0);
            let speaker = tokio::spawn(async move {
                for chunk in speech.chunks(160) {
                    if out.capture_frame(mono_8k(chunk.to_vec())).await.is_err() {
                        break;
                    }
                }
                out.wait_for_playout().await
            });
            while let Some(ev) = input.recv().await {
                let mut l = log.lock().unwrap();
                match ev {
                    InputEvent::Audio(_) => l.audio_frames += 1,
                    InputEvent::Dtmf(d) => l.digits.push(d),
                    InputEvent::Hangup => {
                        l.hangups += 1;
                        break;
                    }
                }
            }
            if let Ok(fin) = speaker.await {
                if fin.interrupted {
                    log.lock().unwrap().interrupted_speech += 1;
                }
            }
            log.lock().unwrap().active -= 1;
        })
    }
}

async fn start(
    cfg: impl FnOnce(&mut SipConfig),
    rtp: std::ops::RangeInclusive<u16>,
    log: Arc<Mutex<Log>>,
    speak: Duration,
) -> (std::net::SocketAddr, ServerHandle) {
    let mut c = SipConfig::new("127.0.0.1:0".parse().unwrap());
    c.rtp_ports = rtp;
    cfg(&mut c);
    let server = SipServer::bind(c).await.unwrap();
    let addr = server.local_addr();
    let handle = server.handle();
    tokio::spawn(server.serve(recording_handler(log, speak)));
    (addr, handle)
}

/// Runs SIPp as a UAC; returns its exit status and output.
async fn run_sipp(
    sipp: &Path,
    scenario_file: &str,
    server: std::net::SocketAddr,
    sip_port: u16,
    media_port: u16,
    calls: u32,
) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("agents-sip-sipp-{sip_port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let err_file = dir.join("errors.log");
    let _ = std::fs::remove_file(&err_file);
    let mut cmd = tokio::process::Command::new(sipp);
    cmd.current_dir(&dir)
        .arg("-sf")
        .arg(scenario(scenario_file))
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin"])
        .args(["-p", &sip_port.to_string(), "-mp", &media_port.to_string()])
        .args(["-m", &calls.to_string(), "-l", &calls.to_string()])
        .args(["-r", &calls.to_string(), "-rp", "1000"])
        .args([
            "-timeout",
            "40s",
            "-timeout_error",
            "-trace_err",
            "-error_file",
        ])
        .arg(&err_file)
        .arg(server.to_string())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("sipp finished within 60 s")
        .expect("sipp ran");
    let errors = std::fs::read_to_string(&err_file).unwrap_or_default();
    let text = format!(
        "{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr),
        errors
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_call_with_speech_and_rfc4733_digits_or_skipped_without_sipp() {
    let Some(sipp) = sipp_or_skip("sipp_call_with_speech_and_rfc4733_digits", true) else {
        return;
    };
    let log = Arc::new(Mutex::new(Log::default()));
    let (addr, handle) = start(|_| {}, 33000..=33099, log.clone(), Duration::from_secs(2)).await;
    let (ok, out) = run_sipp(&sipp, "uac_dtmf.xml", addr, 35060, 36000, 1).await;
    assert!(ok, "sipp failed:\n{out}");
    assert_clean(&handle).await;
    let l = log.lock().unwrap();
    assert_eq!(l.calls, 1);
    assert_eq!(l.digits, "12#", "{l:?}");
    // g711a.pcap (30 ms packets) played for ~3 s before BYE.
    assert!(l.audio_frames > 20, "{l:?}");
    assert_eq!(l.hangups, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_caller_hangs_up_mid_speech_or_skipped_without_sipp() {
    let Some(sipp) = sipp_or_skip("sipp_caller_hangs_up_mid_speech", true) else {
        return;
    };
    let log = Arc::new(Mutex::new(Log::default()));
    let (addr, handle) = start(|_| {}, 33100..=33199, log.clone(), Duration::from_secs(10)).await;
    let (ok, out) = run_sipp(&sipp, "uac_hangup_mid_speech.xml", addr, 35062, 36100, 1).await;
    assert!(ok, "sipp failed:\n{out}");
    assert_clean(&handle).await;
    let l = log.lock().unwrap();
    assert_eq!(
        (l.calls, l.hangups, l.interrupted_speech),
        (1, 1, 1),
        "{l:?}"
    );
    assert!(l.audio_frames > 10, "{l:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_cancel_before_answer_or_skipped_without_sipp() {
    let Some(sipp) = sipp_or_skip("sipp_cancel_before_answer", false) else {
        return;
    };
    let log = Arc::new(Mutex::new(Log::default()));
    let (addr, handle) = start(
        |c| c.answer_delay = Duration::from_secs(3),
        33200..=33299,
        log.clone(),
        Duration::from_millis(100),
    )
    .await;
    let (ok, out) = run_sipp(&sipp, "uac_cancel.xml", addr, 35064, 36200, 1).await;
    assert!(ok, "sipp failed:\n{out}");
    assert_clean(&handle).await;
    assert_eq!(
        log.lock().unwrap().calls,
        0,
        "a cancelled call never reaches the handler"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_malformed_invite_gets_400_or_skipped_without_sipp() {
    let Some(sipp) = sipp_or_skip("sipp_malformed_invite_gets_400", false) else {
        return;
    };
    let log = Arc::new(Mutex::new(Log::default()));
    let (addr, handle) = start(|_| {}, 33500..=33549, log.clone(), Duration::ZERO).await;
    // SIPp fails the scenario (exit non-zero) unless a 400 answers its INVITE.
    let (ok, out) = run_sipp(&sipp, "uac_malformed.xml", addr, 35068, 36400, 1).await;
    assert!(ok, "sipp failed:\n{out}");
    assert_clean(&handle).await;
    assert_eq!(
        log.lock().unwrap().calls,
        0,
        "a refused INVITE never reaches the handler"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_50_concurrent_calls_or_skipped_without_sipp() {
    let Some(sipp) = sipp_or_skip("sipp_50_concurrent_calls", false) else {
        return;
    };
    let log = Arc::new(Mutex::new(Log::default()));
    let (addr, handle) = start(
        |c| c.max_calls = 60,
        33300..=33499,
        log.clone(),
        Duration::from_millis(500),
    )
    .await;
    let (ok, out) = run_sipp(&sipp, "uac_concurrent.xml", addr, 35066, 36300, 50).await;
    assert!(ok, "sipp failed:\n{out}");
    assert_clean(&handle).await;
    let l = log.lock().unwrap();
    assert_eq!((l.calls, l.hangups), (50, 50), "{l:?}");
    // SIPp starts the 50 calls within a second and each lasts 2 s: most must overlap.
    assert!(
        l.max_active >= 40,
        "calls did not run concurrently (at most {} at once): {l:?}",
        l.max_active
    );
    eprintln!("sipp 50 concurrent calls:\n{out}");
}
