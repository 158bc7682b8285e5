//! Framework-added latency on a call, over loopback in one process: a caller (the call
//! simulator) speaks a recorded utterance into a SIP call, then silence; the agent runs the
//! voice pipeline (real earshot VAD, an STT that hears a fixed line at once, an LLM scripted
//! to answer at once, a fake TTS with no time to first byte). Per turn:
//! - `total`: last caller RTP packet of the utterance sent → first agent speech packet
//!   received, both timed at the caller;
//! - `endpointing`: the pipeline's `end_of_utterance_delay` metric (turn commit − the VAD's
//!   back-dated end of speech): the VAD's end-of-speech wait plus the endpointing delay;
//! - `providers`: STT recognition (timed inside the STT) + LLM `chat()` → first chunk
//!   (timed by a wrapper) + the `tts_ttfb` metric;
//! - `framework`: total − endpointing − providers, split into input (last caller packet →
//!   back-dated end of speech), reply (commit → playback start, minus providers) and output
//!   (playback start → first agent packet at the caller), from the instants the pipeline's
//!   events arrive; the VAD model's own end-of-speech lag is measured offline on the same
//!   audio and reported beside it.
//!
//! Prints one JSON line per figure (p50/p99/max in ms) and a summary line.
//!
//! `cargo run --release -p agents-sip --example call_latency -- --utterances 20`

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::llm::{ChatRequest, ChatStream, LlmError};
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_sip::audio::{mono_8k, AudioOutput, CALL_RATE};
use agents_sip::call::Call;
use agents_sip::codec::SAMPLES_PER_PACKET;
use agents_sip::server::{SipConfig, SipServer};
use agents_sip::testing::{read_wav_8k, CallSimulator};
use agents_voice::metrics::Metric;
use agents_voice::pipeline::{TimedEvent, VoiceEvent, VoiceOptions, VoiceSession};
use agents_voice::stt::{BatchStt, SpeechData, SttStreamAdapter};
use agents_voice::testing::fakes::FakeTts;
use agents_voice::vad::{EarshotVad, Vad, VadEventKind, VadOptions};
use agents_voice::{AudioFrame, VoiceResult};
use clap::Parser;
use futures::future::BoxFuture;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the agent says to every turn.
const REPLY: &str = "Got it.";
/// The utterance played, in the fixture (seconds): "My name is John."
const UTTERANCE: (f64, f64) = (3.873, 4.805);

#[derive(Parser)]
struct Args {
    /// Utterances played (one agent turn each).
    #[arg(long, default_value_t = 20)]
    utterances: usize,
    /// The speech recording (16-bit WAV); the default is the voice crate's fixture.
    #[arg(long)]
    wav: Option<PathBuf>,
}

/// Answer every caller briefly.
#[agent]
struct Bench;

#[function_tools]
impl Bench {}

/// An STT that hears every utterance as the same line, at once, and times itself.
#[derive(Clone, Default)]
struct InstantStt {
    times: Times,
}

/// Durations recorded by a timed provider.
type Times = Arc<Mutex<Vec<Duration>>>;

/// Takes the durations recorded so far.
fn take(times: &Times) -> Vec<Duration> {
    std::mem::take(&mut *times.lock().unwrap_or_else(|p| p.into_inner()))
}

impl BatchStt for InstantStt {
    fn recognize(&self, audio: AudioFrame) -> BoxFuture<'static, VoiceResult<SpeechData>> {
        let t0 = Instant::now();
        let times = self.times.clone();
        Box::pin(async move {
            let data = SpeechData {
                text: "My name is John.".into(),
                confidence: 1.0,
                end_time: audio.duration(),
                ..SpeechData::default()
            };
            times
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(t0.elapsed());
            Ok(data)
        })
    }

    fn label(&self) -> &str {
        "instant-stt"
    }
}

/// Wraps the scripted LLM to time it: `chat()` called → first chunk of its stream.
struct TimedLlm {
    inner: ScriptedLlm,
    times: Times,
}

impl Llm for TimedLlm {
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        let t0 = Instant::now();
        let times = self.times.clone();
        Box::pin(async move {
            let mut first = true;
            let stream = self.inner.chat(request).await?;
            Ok(stream
                .inspect(move |_| {
                    if std::mem::take(&mut first) {
                        times
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(t0.elapsed());
                    }
                })
                .boxed())
        })
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The agent: a voice pipeline on the call, its events forwarded to `events` with the
/// instant each arrived.
async fn agent(
    mut call: Call,
    stt: InstantStt,
    llm_times: Times,
    events: mpsc::UnboundedSender<(Instant, TimedEvent)>,
) {
    let Some(input) = call.take_input() else {
        return;
    };
    let vad: Arc<dyn Vad> = Arc::new(EarshotVad::new(VadOptions::default()));
    let llm = TimedLlm {
        inner: ScriptedLlm::new().otherwise(Reply::text(REPLY)),
        times: llm_times,
    };
    let session = Arc::new(AgentSession::builder(llm).build());
    let mut builder = VoiceSession::builder(session)
        .vad(vad.clone())
        .stt(Arc::new(SttStreamAdapter::new(stt, vad)))
        .tts(Arc::new(FakeTts::new(CALL_RATE).ttfb(Duration::ZERO)))
        .options(VoiceOptions::default());
    let mut rx = builder.subscribe();
    let voice = match builder.start(Bench, input, call.output()).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("voice pipeline did not start: {e}");
            return;
        }
    };
    let forward = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if events.send((Instant::now(), ev)).is_err() {
                return;
            }
        }
    });
    let _ = voice.join().await;
    forward.abort();
}

/// One turn's figures, in milliseconds.
struct Turn {
    total: f64,
    endpointing: f64,
    stt: f64,
    llm: f64,
    tts: f64,
    /// Last caller packet sent → the VAD's back-dated end of speech.
    input: f64,
    /// Turn committed → first agent frame handed to the call, minus provider time.
    reply: f64,
    /// First agent frame handed to the call → its packet received by the caller.
    output: f64,
    e2e_metric: f64,
}

impl Turn {
    /// Provider time after the turn commit. STT runs before the commit, inside the endpointing
    /// delay (the turn waits for its transcript), so it is not taken out a second time.
    fn providers(&self) -> f64 {
        self.llm + self.tts
    }
}

/// What the caller timed in one turn.
struct CallerTimes {
    last_sent: Instant,
    first_heard: Instant,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Milliseconds from `a` to `b`, negative when `b` is earlier.
fn signed_ms(a: Instant, b: Instant) -> f64 {
    if b >= a {
        ms(b - a)
    } else {
        -ms(a - b)
    }
}

/// Reads this turn's figures from the pipeline's events (with their arrival instants), the
/// providers' own timings and the caller's; an error (the reason) unless the turn committed
/// once and each figure was reported once.
fn turn_metrics(
    events: &[(Instant, TimedEvent)],
    stt: &[Duration],
    llm: &[Duration],
    caller: &CallerTimes,
) -> Result<Turn, String> {
    let (mut commits, mut playbacks) = (vec![], vec![]);
    let (mut eou, mut ttfb, mut e2e) = (vec![], vec![], vec![]);
    for (at, ev) in events {
        match &ev.event {
            VoiceEvent::UserTurnCommitted { .. } => commits.push(*at),
            VoiceEvent::PlaybackStarted { .. } => playbacks.push(*at),
            VoiceEvent::Metrics(Metric::EndOfUtterance {
                end_of_utterance_delay,
                ..
            }) => eou.push(*end_of_utterance_delay),
            VoiceEvent::Metrics(Metric::TtsTtfb { ttfb: t }) => ttfb.push(*t),
            VoiceEvent::Metrics(Metric::E2eLatency { e2e_latency }) => e2e.push(*e2e_latency),
            _ => {}
        }
    }
    fn one<T: Copy>(name: &str, v: &[T]) -> Result<T, String> {
        match v {
            [x] => Ok(*x),
            _ => Err(format!("{} {name} figures", v.len())),
        }
    }
    let secs = |d: &[Duration]| d.iter().map(Duration::as_secs_f64).collect::<Vec<_>>();
    let commit = one("turn commit", &commits)?;
    let playback = one("playback start", &playbacks)?;
    let endpointing = one("end_of_utterance", &eou)? * 1000.0;
    let back_dated_end = commit
        .checked_sub(Duration::from_secs_f64(endpointing / 1000.0))
        .ok_or("end of speech before the clock's start")?;
    let (stt, llm, tts) = (
        one("stt", &secs(stt))? * 1000.0,
        one("llm", &secs(llm))? * 1000.0,
        one("tts_ttfb", &ttfb)? * 1000.0,
    );
    Ok(Turn {
        total: signed_ms(caller.last_sent, caller.first_heard),
        endpointing,
        stt,
        llm,
        tts,
        input: signed_ms(caller.last_sent, back_dated_end),
        reply: signed_ms(commit, playback) - llm - tts,
        output: signed_ms(playback, caller.first_heard),
        e2e_metric: one("e2e_latency", &e2e)? * 1000.0,
    })
}

/// Plays the utterance, then returns when its last packet was sent (polled every 1 ms).
async fn speak(
    out: &mut agents_sip::playout::CallOutput,
    speech: &[i16],
) -> Result<Instant, Error> {
    let target =
        out.total_played() + Duration::from_secs_f64(speech.len() as f64 / f64::from(CALL_RATE));
    for chunk in speech.chunks(SAMPLES_PER_PACKET) {
        out.capture_frame(mono_8k(chunk.to_vec())).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.total_played() < target {
        if Instant::now() > deadline {
            return Err("the caller's audio was not sent".into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(Instant::now())
}

/// The VAD's own lag, offline (stream time, no transport): where it places the end of
/// speech (EOS timestamp − the silence it back-dates) minus where the audio's speech ends,
/// for `speech` followed by silence, pushed in 20 ms frames. Milliseconds.
fn vad_lag(speech: &[i16]) -> Result<f64, Error> {
    let vad = EarshotVad::new(VadOptions::default());
    let mut stream = vad.stream();
    let silence = vec![0i16; 2 * CALL_RATE as usize];
    let mut eos = None;
    for chunk in speech
        .chunks(SAMPLES_PER_PACKET)
        .chain(silence.chunks(SAMPLES_PER_PACKET))
    {
        for ev in stream.push_frame(&mono_8k(chunk.to_vec())) {
            if ev.kind == VadEventKind::EndOfSpeech {
                eos = Some(ev.timestamp.saturating_sub(ev.silence_duration));
            }
        }
    }
    let end = eos.ok_or("the VAD found no end of speech in the utterance")?;
    Ok(ms(end) - speech.len() as f64 * 1000.0 / f64::from(CALL_RATE))
}

/// One printed figure: its name, how it is read from a turn, how it was measured.
type Part<'a> = (&'static str, &'a dyn Fn(&Turn) -> f64, &'static str);

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn line(part: &str, mut v: Vec<f64>, how: &str) {
    v.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"bench": "call_latency", "part": part, "turns": v.len(),
               "p50_ms": pct(&v, 0.5), "p99_ms": pct(&v, 0.99), "max_ms": pct(&v, 1.0),
               "how": how})
    );
}

async fn run(args: Args) -> Result<(), Error> {
    let wav = args.wav.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../agents-voice/tests/fixtures/two_utterances.wav")
    });
    let all = read_wav_8k(&wav)?;
    let at = |s: f64| ((s * f64::from(CALL_RATE)) as usize).min(all.len());
    let speech = all[at(UTTERANCE.0)..at(UTTERANCE.1)].to_vec();
    if speech.is_empty() {
        return Err(format!("{}: no audio in {UTTERANCE:?} s", wav.display()).into());
    }
    let vad_lag_ms = vad_lag(&speech)?;
    let load0 = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let mut cfg = SipConfig::new("127.0.0.1:0".parse()?);
    cfg.rtp_ports = 24000..=24999;
    let server = SipServer::bind(cfg).await?;
    let addr = server.local_addr();
    let stt = InstantStt::default();
    let llm_times = Times::default();
    let (tx, mut events) = mpsc::unbounded_channel();
    let (handler_stt, handler_llm) = (stt.clone(), llm_times.clone());
    tokio::spawn(
        server.serve(move |call| agent(call, handler_stt.clone(), handler_llm.clone(), tx.clone())),
    );

    let sim = CallSimulator::with_rtp_ports(34000..=34999).await?;
    let call = sim.call(addr).await?;
    let mut out = call.output();
    // Let the pipeline start listening.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut turns = Vec::new();
    let mut skipped = Vec::new();
    for i in 0..args.utterances {
        while events.try_recv().is_ok() {}
        take(&stt.times);
        take(&llm_times);
        let last_sent = speak(&mut out, &speech).await?;
        // The onset's time is taken when its packet arrives; this loop only looks for it.
        let deadline = last_sent + Duration::from_secs(10);
        let mut onset = None;
        while onset.is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
            onset = call.agent_speech_started_after(last_sent);
        }
        let Some(first_heard) = onset else {
            skipped.push(format!("turn {i}: no reply"));
            continue;
        };
        if !call
            .wait_for_agent_turn(Duration::from_millis(300), Duration::from_secs(10))
            .await
        {
            skipped.push(format!("turn {i}: the reply did not end"));
            continue;
        }
        // Playout-finished metrics come once the reply drained.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut evs = Vec::new();
        while let Ok(ev) = events.try_recv() {
            evs.push(ev);
        }
        let caller = CallerTimes {
            last_sent,
            first_heard,
        };
        match turn_metrics(&evs, &take(&stt.times), &take(&llm_times), &caller) {
            Ok(t) => turns.push(t),
            Err(e) => skipped.push(format!("turn {i}: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    call.hangup().await;

    let col = |f: &dyn Fn(&Turn) -> f64| turns.iter().map(f).collect::<Vec<_>>();
    let parts: [Part; 12] = [
        (
            "total",
            &|t| t.total,
            "at the caller: last speech RTP packet sent (sender polled every 1 ms) -> first agent speech packet received",
        ),
        (
            "endpointing",
            &|t| t.endpointing,
            "pipeline metric end_of_utterance_delay: turn commit - VAD back-dated end of speech",
        ),
        (
            "providers",
            &Turn::providers,
            "llm + tts below (STT runs inside endpointing, before the commit)",
        ),
        (
            "provider_stt",
            &|t| t.stt,
            "fake STT recognize(): called -> result, timed inside it",
        ),
        (
            "provider_llm",
            &|t| t.llm,
            "scripted LLM: chat() called -> first stream chunk, timed by a wrapper",
        ),
        (
            "provider_tts",
            &|t| t.tts,
            "pipeline metric tts_ttfb (fake TTS, ttfb set to 0)",
        ),
        (
            "framework",
            &|t| t.total - t.endpointing - t.providers(),
            "total - endpointing - providers (= the three framework_ parts below)",
        ),
        (
            "framework_minus_vad_lag",
            &|t| t.total - t.endpointing - t.providers() - vad_lag_ms,
            "framework - the VAD model's own end-of-speech lag (vad_lag_offline_ms in the summary: same audio through the VAD alone, no transport)",
        ),
        (
            "framework_input",
            &|t| t.input,
            "last caller packet sent -> VAD back-dated end of speech (turn commit's arrival at the agent's event forwarder - end_of_utterance_delay): RTP in + the VAD's detection lag beyond what it back-dates",
        ),
        (
            "framework_reply",
            &|t| t.reply,
            "turn committed -> playback started (event arrival instants) - providers",
        ),
        (
            "framework_output",
            &|t| t.output,
            "playback started (first agent frame handed to the call) -> its speech packet received by the caller",
        ),
        (
            "pipeline_e2e_metric",
            &|t| t.e2e_metric,
            "pipeline metric e2e_latency: VAD back-dated end of speech -> first agent frame played",
        ),
    ];
    for (name, f, how) in parts {
        line(name, col(f), how);
    }
    let vad = VadOptions::default();
    let opts = VoiceOptions::default();
    println!(
        "{}",
        json!({"bench": "call_latency_summary", "utterances": args.utterances,
               "turns_measured": turns.len(), "skipped": skipped,
               "utterance_s": speech.len() as f64 / f64::from(CALL_RATE),
               "vad_lag_offline_ms": vad_lag_ms,
               "vad_min_silence_ms": vad.min_silence.as_millis() as u64,
               "endpointing_min_delay_ms": opts.endpointing.min_delay.as_millis() as u64,
               "loadavg_start": load0.trim(),
               "loadavg_end": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()})
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let limit = Duration::from_secs(60 + 15 * args.utterances as u64);
    tokio::time::timeout(limit, run(args))
        .await
        .map_err(|_| "call_latency ran out of time")?
}
