//! The page in a real browser: headless Chromium with a WAV file as its microphone.
//!
//! Checks that the server hears the fixture (correlated with it), that the agent's audio
//! plays on the page (its worklet reports samples played), and that barge-in (`clear`)
//! empties the page's playback queue at once and reports an honest position.
//! Skips (saying so) when /usr/bin/chromium is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_voice::audio::{read_wav, Resampler};
use agents_voice::io::{AudioOutput, InputEvent, PlaybackFinished};
use agents_voice::AudioFrame;
use agents_web::{PlayoutReport, WebCall, WebConfig};
use common::*;
use tokio::sync::mpsc;

const CHROMIUM: &str = "/usr/bin/chromium";
const RATE: u32 = 24_000;
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hello_16k.wav");

/// What the handler saw.
#[derive(Debug)]
struct Outcome {
    /// Samples the page played while paused (from 100 ms after `pause` for 400 ms).
    played_while_paused: u64,
    first: PlaybackFinished,
    played_after_first: u64,
    cleared: PlaybackFinished,
    played_at_clear_ack: u64,
    after_clear: PlayoutReport,
    later: PlayoutReport,
}

/// Records the microphone; plays a 1 s tone to the end, then a 5 s tone interrupted after
/// 0.5 s of it played.
async fn session(
    mut call: WebCall,
    heard: Arc<Mutex<Vec<i16>>>,
    tx: mpsc::UnboundedSender<Outcome>,
) {
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut input = std::mem::replace(&mut call.input, mpsc::channel(1).1);
    let recorder = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stop_rx => break,
                ev = input.recv() => match ev {
                    Some(InputEvent::Audio(f)) => heard.lock().unwrap().extend(f.samples),
                    Some(InputEvent::Hangup) | None => break,
                    Some(InputEvent::Dtmf(_)) => {}
                }
            }
        }
    });
    let reports = call.playout_reports();
    let out = &mut call.output;
    let tone1 = tone(RATE as usize, RATE, 440.0, 6000.0);
    for chunk in tone1.chunks(RATE as usize / 10) {
        out.capture_frame(AudioFrame::new(chunk.to_vec(), RATE, 1).unwrap())
            .await
            .unwrap();
    }
    out.flush();
    // Hold playback once 0.3 s played, for half a second.
    let mut watch = reports.clone();
    while watch.borrow_and_update().played < u64::from(RATE) * 3 / 10 {
        if watch.changed().await.is_err() {
            break;
        }
    }
    out.pause();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let p1 = reports.borrow().played;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let played_while_paused = reports.borrow().played - p1;
    out.resume();
    let first = out.wait_for_playout().await;
    let played_after_first = reports.borrow().played;

    let tone2 = tone(RATE as usize * 5, RATE, 660.0, 6000.0);
    for chunk in tone2.chunks(480) {
        out.capture_frame(AudioFrame::new(chunk.to_vec(), RATE, 1).unwrap())
            .await
            .unwrap();
        if reports.borrow().played >= played_after_first + RATE as u64 / 2 {
            break;
        }
    }
    out.clear_buffer();
    let cleared = out.wait_for_playout().await;
    let played_at_clear_ack = reports.borrow().played;
    // Let the page report after the flush, then again a little later.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after_clear = *reports.borrow();
    // Keep recording until the fixture has surely played.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = *reports.borrow();
    let _ = stop_tx.send(());
    let _ = recorder.await;
    let _ = tx.send(Outcome {
        played_while_paused,
        first,
        played_after_first,
        cleared,
        played_at_clear_ack,
        after_clear,
        later,
    });
}

struct Chromium {
    pid: i32,
    child: tokio::process::Child,
    profile: PathBuf,
}

impl Chromium {
    fn launch(url: &str, fixture: &Path) -> Chromium {
        let profile = std::env::temp_dir().join(format!(
            "agents-web-chromium-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&profile).unwrap();
        let child = tokio::process::Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                &format!("--user-data-dir={}", profile.display()),
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                &format!(
                    "--use-file-for-fake-audio-capture={}%noloop",
                    fixture.display()
                ),
                "--autoplay-policy=no-user-gesture-required",
                "--enable-logging=stderr",
                "--log-level=0",
                url,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(profile.join("chromium.log")).unwrap())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("launch chromium");
        let pid = child.id().expect("chromium pid") as i32;
        Chromium {
            pid,
            child,
            profile,
        }
    }
}

impl Chromium {
    /// The end of the browser's log (console messages included), for failure reports.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.profile.join("chromium.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // The browser and its helpers share the process group led by its PID.
        unsafe {
            libc::kill(-self.pid, libc::SIGKILL);
        }
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Mean square per 10 ms window.
fn envelope(s: &[i16], rate: u32) -> Vec<f64> {
    let w = rate as usize / 100;
    s.chunks(w)
        .map(|c| c.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / c.len() as f64)
        .collect()
}

/// Normalised correlation of `a` with `b` shifted by `lag` (b[lag..] against a).
fn ncc(a: &[f64], b: &[f64], lag: usize) -> f64 {
    let n = a.len().min(b.len().saturating_sub(lag));
    if n < 2 {
        return 0.0;
    }
    let (a, b) = (&a[..n], &b[lag..lag + n]);
    let ma = a.iter().sum::<f64>() / n as f64;
    let mb = b.iter().sum::<f64>() / n as f64;
    let (mut num, mut da, mut db) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        num += (x - ma) * (y - mb);
        da += (x - ma).powi(2);
        db += (y - mb).powi(2);
    }
    if da == 0.0 || db == 0.0 {
        0.0
    } else {
        num / (da * db).sqrt()
    }
}

/// Best correlation of the fixture (resampled) within what the server heard: (envelope
/// correlation, sample correlation, lag in seconds).
fn correlate(heard: &[i16]) -> (f64, f64, f64) {
    let fixture = read_wav(FIXTURE).unwrap();
    let mut rs = Resampler::new(fixture.sample_rate, RATE, 1).unwrap();
    let mut reference = rs.process(&fixture).unwrap().samples;
    reference.extend(rs.flush().samples);
    let (er, eh) = (envelope(&reference, RATE), envelope(heard, RATE));
    let (mut best, mut best_lag) = (f64::MIN, 0);
    for lag in 0..eh.len().saturating_sub(er.len() / 2) {
        let c = ncc(&er, &eh, lag);
        if c > best {
            best = c;
            best_lag = lag;
        }
    }
    let (r, h): (Vec<f64>, Vec<f64>) = (
        reference.iter().map(|&x| f64::from(x)).collect(),
        heard.iter().map(|&x| f64::from(x)).collect(),
    );
    let w = RATE as usize / 100;
    let centre = best_lag * w;
    let fine = (centre.saturating_sub(2 * w)..centre + 2 * w)
        .map(|lag| ncc(&r, &h, lag))
        .fold(f64::MIN, f64::max);
    (best, fine, centre as f64 / f64::from(RATE))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_talks_to_the_server_and_barge_in_flushes_its_playback() {
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: chromium not installed");
        return;
    }
    let heard = Arc::new(Mutex::new(Vec::new()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let h = heard.clone();
    let server = TestServer::start(WebConfig::default(), move |call| {
        session(call, h.clone(), tx.clone())
    })
    .await;
    let url = format!("http://{}/?autostart=1", server.addr);
    let browser = Chromium::launch(&url, Path::new(FIXTURE));
    let Ok(Some(outcome)) = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await else {
        panic!(
            "browser session did not finish within 60 s; heard {} samples; chromium log:\n{}",
            heard.lock().unwrap().len(),
            browser.log_tail()
        );
    };
    drop(browser);
    server.shutdown().await;

    println!("{outcome:?}");
    // Pause held the page's playback.
    assert_eq!(outcome.played_while_paused, 0, "{outcome:?}");
    // The 1 s tone played to the end, and the page's worklet played all of it.
    assert_eq!(
        outcome.first,
        PlaybackFinished {
            playback_position: Duration::from_secs(1),
            interrupted: false
        }
    );
    assert!(outcome.played_after_first >= u64::from(RATE), "{outcome:?}");
    // Barge-in: the position is where the page stopped, at or after the 0.5 s it reported.
    assert!(outcome.cleared.interrupted);
    let pos = outcome.cleared.playback_position;
    assert!(
        pos >= Duration::from_millis(500) && pos < Duration::from_millis(1500),
        "{outcome:?}"
    );
    // The queue is empty right after the clear, the reported position is what the page's
    // worklet played (to a render quantum), and nothing played afterwards.
    assert_eq!(outcome.after_clear.queued, 0, "{outcome:?}");
    let played_in_second = outcome.after_clear.played - outcome.played_after_first;
    let pos_samples = (pos.as_secs_f64() * f64::from(RATE)).round() as u64;
    assert!(
        pos_samples.abs_diff(played_in_second) <= 128,
        "position {pos:?} vs page played {played_in_second} samples"
    );
    assert_eq!(outcome.later.queued, 0, "{outcome:?}");
    assert_eq!(
        outcome.later.played, outcome.after_clear.played,
        "audio played after clear"
    );
    assert!(outcome.played_at_clear_ack <= outcome.after_clear.played);

    // The server heard the fixture.
    let heard = heard.lock().unwrap().clone();
    assert!(
        heard.len() >= RATE as usize * 3,
        "heard only {} samples",
        heard.len()
    );
    let (env, fine, lag) = correlate(&heard);
    println!(
        "heard {:.2} s; fixture correlation: envelope {env:.4}, samples {fine:.4}, at {lag:.3} s",
        heard.len() as f64 / f64::from(RATE)
    );
    assert!(env > 0.9, "envelope correlation {env}");
    assert!(fine > 0.8, "sample correlation {fine}");
}
