//! Test fixtures for `SipTelephony` over loopback: a human's phone (a `SipServer` whose
//! handler plays scripted "speech" as tones), phones that refuse with a status, a tone STT
//! and an energy VAD that hear those tones, and tone helpers.
//!
//! Speech is a tone per phrase: the phone plays phrase `i` as a tone of `PHRASES[i].1` Hz,
//! and [`ToneStt`] transcribes a speech segment by measuring its frequency. So a transcript
//! exists only if the phone's audio crossed SIP/RTP to the agent.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_sip::audio::{mono_8k, AudioFrame, AudioOutput, InputEvent};
use agents_sip::call::{Call, CallControl};
use agents_sip::playout::CallOutput;
use agents_sip::server::{ServerHandle, SipConfig, SipServer};
use agents_voice::stt::{SpeechData, SpeechEvent, SpeechEventKind, Stt, SttCapabilities};
use agents_voice::stt::{SttInput, SttStream};
use agents_voice::vad::{Vad, VadEvent, VadEventKind, VadStream};
use agents_voice::VoiceResult;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the human says, and the tone frequency that stands for it.
pub const HELLO: (&str, f32) = ("Hello, this is Sam from tech support.", 600.0);
pub const ACCEPT: (&str, f32) = ("Sure, put them through.", 800.0);
pub const DECLINE: (&str, f32) = ("Sorry, I can't take it right now.", 1000.0);
pub const GREETING: (&str, f32) = (
    "Hi, you've reached Sam. Please leave a message after the tone.",
    1200.0,
);
const PHRASES: [(&str, f32); 4] = [HELLO, ACCEPT, DECLINE, GREETING];

/// Level (mean absolute sample) above which a frame is sound rather than silence.
const LOUD: u32 = 300;

pub fn level(s: &[i16]) -> u32 {
    (s.iter().map(|x| u64::from(x.unsigned_abs())).sum::<u64>() / s.len().max(1) as u64) as u32
}

/// Frequency of a tone from its zero crossings.
pub fn frequency(s: &[i16], rate: u32) -> f32 {
    let crossings = s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f32 / 2.0 / (s.len() as f32 / rate as f32)
}

/// 8 kHz tone of `hz`, `ms` long, faded in and out.
pub fn tone(hz: f32, ms: u32) -> Vec<i16> {
    let n = (8 * ms) as usize;
    (0..n)
        .map(|i| {
            let env = (i.min(n - i) as f32 / 80.0).min(1.0);
            let ph = 2.0 * std::f32::consts::PI * hz * i as f32 / 8000.0;
            (8000.0 * env * ph.sin()) as i16
        })
        .collect()
}

/// 20 ms frames of 8 kHz `samples` that are loud and at `hz` (±60 Hz).
pub fn frames_at(samples: &[i16], hz: f32) -> usize {
    samples
        .chunks_exact(160)
        .filter(|c| level(c) > 1000 && (frequency(c, 8000) - hz).abs() < 60.0)
        .count()
}

/// Plays 8 kHz samples on a call output and waits until they were sent.
pub async fn play(out: &mut CallOutput, samples: &[i16]) {
    for c in samples.chunks(160) {
        out.capture_frame(mono_8k(c.to_vec())).await.unwrap();
    }
    out.flush();
    out.wait_for_playout().await;
}

/// A transcriber of tones: a speech segment (ended by a `Flush` or 300 ms of quiet)
/// becomes the phrase whose tone is nearest its frequency.
#[derive(Clone, Default)]
pub struct ToneStt {
    heard: Arc<Mutex<Vec<String>>>,
}

impl ToneStt {
    /// Everything transcribed so far.
    pub fn heard(&self) -> Vec<String> {
        self.heard.lock().unwrap().clone()
    }
}

fn recognise(voiced: &[i16], rate: u32) -> Option<&'static str> {
    let f = frequency(voiced, rate);
    PHRASES
        .iter()
        .find(|(_, hz)| (f - hz).abs() < 60.0)
        .map(|(t, _)| *t)
}

impl Stt for ToneStt {
    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities {
            streaming: true,
            interim_results: false,
        }
    }

    fn stream(&self) -> VoiceResult<SttStream> {
        let (in_tx, mut in_rx) = mpsc::channel::<SttInput>(1024);
        let (ev_tx, ev_rx) = mpsc::channel(64);
        let heard = self.heard.clone();
        tokio::spawn(async move {
            let mut voiced: Vec<i16> = Vec::new();
            let mut rate = 8000;
            let mut quiet = Duration::ZERO;
            while let Some(input) = in_rx.recv().await {
                let end = match input {
                    SttInput::Audio(f) => {
                        rate = f.sample_rate;
                        let d = Duration::from_secs_f64(f.samples.len() as f64 / rate as f64);
                        if level(&f.samples) > LOUD {
                            voiced.extend_from_slice(&f.samples);
                            quiet = Duration::ZERO;
                            false
                        } else {
                            quiet += d;
                            !voiced.is_empty() && quiet >= Duration::from_millis(300)
                        }
                    }
                    SttInput::Flush => !voiced.is_empty(),
                    SttInput::EndInput => break,
                };
                if end {
                    if let Some(text) = recognise(&std::mem::take(&mut voiced), rate) {
                        heard.lock().unwrap().push(text.to_string());
                        let ev = SpeechEvent {
                            kind: SpeechEventKind::FinalTranscript,
                            alternatives: vec![SpeechData {
                                text: text.to_string(),
                                confidence: 1.0,
                                ..SpeechData::default()
                            }],
                            speech_end_time: None,
                        };
                        if ev_tx.send(Ok(ev)).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Ok(SttStream {
            input: in_tx,
            events: ev_rx,
        })
    }

    fn label(&self) -> &str {
        "tone-stt"
    }
}

/// A VAD on loudness at 16 kHz (so the consult leg's 8 kHz audio is resampled on the way).
pub struct EnergyVad;

struct EnergyVadStream {
    speaking: bool,
    quiet: Duration,
    at: Duration,
}

impl Vad for EnergyVad {
    fn stream(&self) -> Box<dyn VadStream> {
        Box::new(EnergyVadStream {
            speaking: false,
            quiet: Duration::ZERO,
            at: Duration::ZERO,
        })
    }

    fn sample_rate(&self) -> u32 {
        16_000
    }
}

impl VadStream for EnergyVadStream {
    fn push_frame(&mut self, frame: &AudioFrame) -> Vec<VadEvent> {
        let d = Duration::from_secs_f64(frame.samples.len() as f64 / frame.sample_rate as f64);
        self.at += d;
        let loud = level(&frame.samples) > LOUD;
        let kind = match (self.speaking, loud) {
            (false, true) => {
                self.speaking = true;
                self.quiet = Duration::ZERO;
                Some(VadEventKind::StartOfSpeech)
            }
            (true, false) => {
                self.quiet += d;
                (self.quiet >= Duration::from_millis(200)).then(|| {
                    self.speaking = false;
                    VadEventKind::EndOfSpeech
                })
            }
            (true, true) => {
                self.quiet = Duration::ZERO;
                None
            }
            (false, false) => None,
        };
        kind.map(|kind| VadEvent {
            kind,
            timestamp: self.at,
            speech_duration: Duration::ZERO,
            silence_duration: self.quiet,
            probability: if loud { 1.0 } else { 0.0 },
            speaking: self.speaking,
            frames: Vec::new(),
        })
        .into_iter()
        .collect()
    }

    fn flush(&mut self) {}
}

/// What the phone hears: every sample, and when it last heard sound.
#[derive(Default)]
pub struct Heard {
    pub samples: Vec<i16>,
    pub last_loud: Option<Instant>,
}

pub type Ear = Arc<Mutex<Heard>>;

fn ear(mut input: mpsc::Receiver<InputEvent>) -> Ear {
    let ear: Ear = Arc::default();
    let e = ear.clone();
    tokio::spawn(async move {
        while let Some(ev) = input.recv().await {
            if let InputEvent::Audio(f) = ev {
                let mut h = e.lock().unwrap();
                if level(&f.samples) > LOUD {
                    h.last_loud = Some(Instant::now());
                }
                h.samples.extend_from_slice(&f.samples);
            }
        }
    });
    ear
}

/// Waits until the agent spoke after `after` and then was quiet for 400 ms.
async fn agent_turn(ear: &Ear, after: Instant, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let last = ear.lock().unwrap().last_loud;
        if last.is_some_and(|t| t > after && t.elapsed() >= Duration::from_millis(400)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// What the phone does after its last line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Stays on the line (hands its side to the test).
    Stay,
    /// Hangs up once the agent has answered the last line.
    HangUpAfterAgent,
}

/// A human's phone: says `lines` (the first on answer, each next one after the agent's
/// turn and `pause`), then does `end`.
#[derive(Clone, Debug)]
pub struct Script {
    pub lines: Vec<f32>,
    pub pause: Duration,
    pub end: End,
}

/// The phone's side of a call that stayed up: what it hears, its voice, its control.
pub struct PhoneSide {
    pub ear: Ear,
    pub out: CallOutput,
    pub control: CallControl,
}

async fn human_phone(mut call: Call, script: Script, stayed: mpsc::Sender<PhoneSide>) {
    let ear = ear(call.take_input().expect("fresh call"));
    let mut out = call.output();
    let mut spoke_at = Instant::now();
    for (i, hz) in script.lines.iter().enumerate() {
        if i == 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        } else {
            if !agent_turn(&ear, spoke_at, Duration::from_secs(15)).await {
                return;
            }
            tokio::time::sleep(script.pause).await;
        }
        play(&mut out, &tone(*hz, 500)).await;
        spoke_at = Instant::now();
    }
    match script.end {
        End::HangUpAfterAgent => {
            agent_turn(&ear, spoke_at, Duration::from_secs(15)).await;
        }
        End::Stay => {
            let control = call.control();
            let _ = stayed
                .send(PhoneSide {
                    ear,
                    out,
                    control: control.clone(),
                })
                .await;
            control.ended().await;
        }
    }
}

/// Starts a SIP server on 127.0.0.1 with RTP `ports`, running `handler` for each call.
pub async fn server<H, F>(
    ports: std::ops::RangeInclusive<u16>,
    answer_delay: Duration,
    handler: H,
) -> (SocketAddr, ServerHandle)
where
    H: Fn(Call) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let mut cfg = SipConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.rtp_ports = ports;
    cfg.answer_delay = answer_delay;
    let server = SipServer::bind(cfg).await.unwrap();
    let (addr, handle) = (server.local_addr(), server.handle());
    tokio::spawn(async move { server.serve(handler).await.unwrap() });
    (addr, handle)
}

/// A human's phone that answers and follows `script`; sides of calls that stay up come
/// out of the receiver.
pub async fn phone(
    ports: std::ops::RangeInclusive<u16>,
    script: Script,
) -> (SocketAddr, ServerHandle, mpsc::Receiver<PhoneSide>) {
    let (tx, rx) = mpsc::channel(4);
    let (addr, handle) = server(ports, Duration::ZERO, move |call| {
        human_phone(call, script.clone(), tx.clone())
    })
    .await;
    (addr, handle, rx)
}

/// A phone that rings (180) for a minute before it would answer.
pub async fn ringing_phone(ports: std::ops::RangeInclusive<u16>) -> (SocketAddr, ServerHandle) {
    server(ports, Duration::from_secs(60), |_call| async {}).await
}

fn header_lines<'a>(msg: &'a str, name: &str) -> Vec<&'a str> {
    msg.lines()
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        })
        .collect()
}

/// A phone that answers every INVITE with `status` (hand-written SIP over UDP).
pub async fn refusing_phone(status: u16, reason: &'static str) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 8192];
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !msg.starts_with("INVITE ") {
                continue; // the ACK of our final response
            }
            let mut resp = format!("SIP/2.0 {status} {reason}\r\n");
            for name in ["Via", "From", "Call-ID", "CSeq"] {
                for l in header_lines(&msg, name) {
                    resp.push_str(l);
                    resp.push_str("\r\n");
                }
            }
            for l in header_lines(&msg, "To") {
                resp.push_str(&format!("{l};tag=refuse\r\n"));
            }
            resp.push_str("Content-Length: 0\r\n\r\n");
            let _ = sock.send_to(resp.as_bytes(), from).await;
        }
    });
    addr
}

/// Waits until `handle`'s server holds no calls or RTP ports.
pub async fn wait_idle(handle: &ServerHandle, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let s = handle.stats();
        if s.active_calls == 0 && s.rtp_ports_in_use == 0 {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
