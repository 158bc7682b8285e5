//! A call simulator for tests: from a Rust test, place a real SIP/RTP call over loopback to a
//! server, play the caller's audio (PCM or WAV), send digits, record what the agent says,
//! and hang up. Also an echo handler that proves media flows both ways.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::audio::{mono_8k, AudioOutput, InputEvent};
use crate::call::{Call, CallControl};
use crate::codec::SAMPLES_PER_PACKET;
use crate::error::SipError;
use crate::outbound::{self, DialOptions};
use crate::playout::CallOutput;
use crate::ua::{in_dialog, reply_later, UaCore, UaStats};

/// Mean absolute amplitude above which a 20 ms frame counts as speech.
const SPEECH_LEVEL: u32 = 200;
/// Speech onsets kept per call (the oldest are dropped beyond this).
const MAX_ONSETS: usize = 256;

/// A SIP user agent on 127.0.0.1 that places calls.
pub struct CallSimulator {
    core: Arc<UaCore>,
    record_audio: bool,
    ring_timeout: Duration,
}

impl CallSimulator {
    /// A simulator with RTP ports 40000-40999 (another free port is taken if one is busy).
    pub async fn new() -> Result<Self, SipError> {
        Self::with_rtp_ports(40000..=40999).await
    }

    /// A simulator using the given RTP ports.
    pub async fn with_rtp_ports(ports: std::ops::RangeInclusive<u16>) -> Result<Self, SipError> {
        let (core, mut incoming) =
            UaCore::start("127.0.0.1:0".parse().expect("literal"), None, ports).await?;
        let weak = Arc::downgrade(&core);
        tokio::spawn(async move {
            while let Some(tx) = incoming.recv().await {
                let Some(core) = weak.upgrade() else { return };
                if in_dialog(&tx) {
                    core.dispatch_in_dialog(tx);
                } else {
                    // The simulator only places calls.
                    reply_later(tx, 486, vec![]);
                }
            }
        });
        Ok(CallSimulator {
            core,
            record_audio: true,
            ring_timeout: Duration::from_secs(10),
        })
    }

    /// Whether calls keep the agent's audio (on by default; load tests turn it off to
    /// save memory — speech detection and digits still work).
    pub fn set_record_audio(&mut self, on: bool) {
        self.record_audio = on;
    }

    /// How long a call may ring before the simulator gives up (CANCEL); 10 s by default.
    pub fn set_ring_timeout(&mut self, timeout: Duration) {
        self.ring_timeout = timeout;
    }

    /// Calls `server` (its SIP address), as user `caller`, reaching user `callee`.
    pub async fn call(&self, server: SocketAddr) -> Result<SimulatedCall, SipError> {
        self.call_uri(&format!("sip:agent@{server}")).await
    }

    /// Calls a SIP URI.
    pub async fn call_uri(&self, uri: &str) -> Result<SimulatedCall, SipError> {
        let opts = DialOptions {
            from_user: "caller".into(),
            ring_timeout: self.ring_timeout,
            ..DialOptions::default()
        };
        let call = outbound::dial(&self.core, uri, opts).await?;
        Ok(SimulatedCall::new(call, self.record_audio))
    }

    /// Resources in use by the simulator.
    pub fn stats(&self) -> UaStats {
        self.core.stats()
    }
}

impl Drop for CallSimulator {
    fn drop(&mut self) {
        self.core.shutdown_endpoint();
    }
}

#[derive(Debug, Default)]
struct Recording {
    samples: Vec<i16>,
    digits: String,
    hung_up: bool,
    last_speech: Option<Instant>,
    /// The last frame counted as speech (to find onsets).
    speaking: bool,
    /// Arrival times of speech frames that followed a quiet frame.
    onsets: VecDeque<Instant>,
}

/// A call placed by the simulator.
pub struct SimulatedCall {
    call: Call,
    output: CallOutput,
    rec: Arc<(Mutex<Recording>, Notify)>,
}

impl SimulatedCall {
    fn new(mut call: Call, record_audio: bool) -> Self {
        let rec: Arc<(Mutex<Recording>, Notify)> = Arc::default();
        if let Some(mut input) = call.take_input() {
            let rec = rec.clone();
            tokio::spawn(async move {
                while let Some(ev) = input.recv().await {
                    let mut r = rec.0.lock().unwrap_or_else(|p| p.into_inner());
                    match ev {
                        InputEvent::Audio(f) => {
                            let level = f
                                .samples
                                .iter()
                                .map(|s| s.unsigned_abs() as u32)
                                .sum::<u32>()
                                / f.samples.len().max(1) as u32;
                            let speech = level > SPEECH_LEVEL;
                            if speech {
                                let now = Instant::now();
                                r.last_speech = Some(now);
                                if !r.speaking {
                                    if r.onsets.len() == MAX_ONSETS {
                                        r.onsets.pop_front();
                                    }
                                    r.onsets.push_back(now);
                                }
                            }
                            r.speaking = speech;
                            if record_audio {
                                r.samples.extend_from_slice(&f.samples);
                            }
                        }
                        InputEvent::Dtmf(d) => r.digits.push(d),
                        InputEvent::Hangup => r.hung_up = true,
                    }
                    drop(r);
                    rec.1.notify_waiters();
                }
                rec.0.lock().unwrap_or_else(|p| p.into_inner()).hung_up = true;
                rec.1.notify_waiters();
            });
        }
        let output = call.output();
        SimulatedCall { call, output, rec }
    }

    fn rec(&self) -> MutexGuard<'_, Recording> {
        self.rec.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The call's SIP Call-ID.
    pub fn call_id(&self) -> &str {
        &self.call.info().call_id
    }

    /// The caller's voice (to stream audio without waiting, unlike [`Self::play`]).
    pub fn output(&self) -> CallOutput {
        self.output.clone()
    }

    /// Control handle (media counters, hangup, digits).
    pub fn control(&self) -> CallControl {
        self.call.control()
    }

    /// Speaks `samples` (8 kHz mono) into the call and waits until they were sent.
    pub async fn play(&mut self, samples: &[i16]) -> Result<(), SipError> {
        for chunk in samples.chunks(SAMPLES_PER_PACKET) {
            self.output.capture_frame(mono_8k(chunk.to_vec())).await?;
        }
        self.output.flush();
        self.output.wait_for_playout().await;
        Ok(())
    }

    /// Speaks a WAV file (8 kHz, mono, 16-bit).
    pub async fn play_wav(&mut self, path: impl AsRef<Path>) -> Result<(), SipError> {
        let samples = read_wav_8k(path.as_ref())?;
        self.play(&samples).await
    }

    /// Sends keypad digits as RFC 4733 events.
    pub fn send_digits(&self, digits: &str) -> Result<(), SipError> {
        self.call.send_dtmf(digits)
    }

    /// Everything the agent sent so far (8 kHz mono, silence included).
    pub fn recorded(&self) -> Vec<i16> {
        self.rec().samples.clone()
    }

    /// Digits the agent sent (RFC 4733 or in-band).
    pub fn received_digits(&self) -> String {
        self.rec().digits.clone()
    }

    /// Waits until `pred` holds on the recording, or `timeout` passes; returns whether it held.
    async fn wait_until(&self, timeout: Duration, pred: impl Fn(&Recording) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let n = self.rec.1.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if pred(&self.rec()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, n).await.is_err() {
                return pred(&self.rec());
            }
        }
    }

    /// Waits until at least `n` digits arrived.
    pub async fn wait_for_digits(&self, n: usize, timeout: Duration) -> String {
        self.wait_until(timeout, |r| r.digits.chars().count() >= n)
            .await;
        self.received_digits()
    }

    /// Waits until the agent has spoken and then stayed quiet for `quiet` (its turn ended).
    pub async fn wait_for_agent_turn(&self, quiet: Duration, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        if !self.wait_until(timeout, |r| r.last_speech.is_some()).await {
            return false;
        }
        while Instant::now() < deadline {
            let last = self.rec().last_speech;
            if last.is_some_and(|t| t.elapsed() >= quiet) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// When the agent started speaking at or after `since`: the arrival time of its first
    /// speech frame that followed a quiet one (latency measurements: caller's last word →
    /// agent's first).
    pub fn agent_speech_started_after(&self, since: Instant) -> Option<Instant> {
        self.rec().onsets.iter().copied().find(|t| *t >= since)
    }

    /// Waits until the agent's recorded audio holds at least `samples` samples.
    pub async fn wait_for_audio(&self, samples: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |r| r.samples.len() >= samples)
            .await
    }

    /// Whether the agent hung up (BYE received).
    pub fn hung_up(&self) -> bool {
        self.rec().hung_up
    }

    /// Waits for the agent to hang up.
    pub async fn wait_for_hangup(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.call.control().ended())
            .await
            .is_ok()
    }

    /// Hangs up (BYE) and waits for the call to be torn down.
    pub async fn hangup(self) {
        self.call.hangup().await;
    }
}

/// Reads a 16-bit WAV file as 8 kHz mono, the call's format (other rates and channel counts
/// are converted).
pub fn read_wav_8k(path: &Path) -> Result<Vec<i16>, SipError> {
    let bad = |m: String| SipError::Config(format!("{}: {m}", path.display()));
    let frame = agents_voice::audio::read_wav(path).map_err(|e| bad(e.to_string()))?;
    let mut to_call = agents_voice::audio::MonoResampler::new(8000);
    let mut samples = to_call
        .process_owned(frame)
        .map_err(|e| bad(e.to_string()))?
        .samples;
    if let Some(tail) = to_call.flush() {
        samples.extend(tail.samples);
    }
    Ok(samples)
}

/// A handler that echoes the caller's audio back and answers each digit by sending the
/// same digit back (RFC 4733, or nothing when events were not negotiated). Returns when
/// the caller hangs up, or after `#` followed by `0` (then the agent hangs up).
pub async fn echo_handler(mut call: Call) {
    let Some(mut input) = call.take_input() else {
        return;
    };
    let mut out = call.output();
    let mut last = None;
    while let Some(ev) = input.recv().await {
        match ev {
            InputEvent::Audio(frame) => {
                if out.capture_frame(frame).await.is_err() {
                    return;
                }
            }
            InputEvent::Dtmf(d) => {
                let _ = call.send_dtmf(&d.to_string());
                if last == Some('#') && d == '0' {
                    // Let the echoed digit go out before hanging up.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    return;
                }
                last = Some(d);
            }
            InputEvent::Hangup => return,
        }
    }
}
