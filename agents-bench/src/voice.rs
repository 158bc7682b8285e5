//! `voice`: what the voice pipeline adds on top of the text session.
//!
//! - `audio_path_cpu_us_per_audio_s` at 8 and 16 kHz: CPU time (this thread) per second of
//!   input audio, for (a) the input path alone (mono, resampling to 16 kHz, the embedded
//!   earshot VAD) and (b) the whole pipeline loop (the same plus STT forwarding, VAD event
//!   handling, endpointing bookkeeping and the tokio tasks), fed 20 ms frames on a
//!   current-thread runtime with tokio's paused clock (so pacing costs no wall time).
//!   Input is synthetic: 1.5 s bursts of a noisy two-tone signal, then 1 s of silence.
//! - `final_to_llm_request` and `first_tts_byte_to_output`: wall-clock latency the framework
//!   adds, on a 2-worker runtime, with an STT whose final transcript the bench sends itself,
//!   `min_delay = 0` (so endpointing waits nothing), an LLM that answers at once, a TTS that
//!   answers each segment with one frame at once, and an output that records when each frame
//!   arrives. p50/p99 over the turns.
//! - `idle_voice_session_heap_beyond_text`: live heap per voice session minus that of a text
//!   session with the same agent and LLM, from the counting allocator, after 1 s of 8 kHz
//!   digital silence (the pipeline creates its VAD stream and resampler at the first sound,
//!   so they do not exist yet) and, as `..._after_sound`, after 1 s of low-level noise (they
//!   do), with the input path, the resampler and the VAD stream measured alone.

use crate::alloc::Counter;
use crate::stats::Samples;
use crate::{multi_thread_runtime, Config, Figure};
use agents_core::llm::{ChatChunk, ChatRequest, ChatStream, Llm, LlmError, Usage};
use agents_core::prelude::*;
use agents_voice::audio::{AudioFrame, Resampler};
use agents_voice::error::VoiceResult;
use agents_voice::io::{AudioOutput, InputEvent, PlaybackFinished, TestAudioOutput};
use agents_voice::pipeline::{AgentState, InputPath, VoiceEvent, VoiceOptions, VoiceSession};
use agents_voice::stt::{
    SpeechData, SpeechEvent, SpeechEventKind, Stt, SttCapabilities, SttStream,
};
use agents_voice::testing::fakes::FakeTts;
use agents_voice::tts::{SynthesizedAudio, Tts, TtsInput, TtsStream};
use agents_voice::vad::{EarshotVad, Vad, VadOptions};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const BENCH: &str = "voice";

/// A plain agent.
#[agent]
pub struct VoiceBenchAgent;

#[function_tools]
impl VoiceBenchAgent {}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `secs` of synthetic speech-like audio at `rate`, as 20 ms frames.
fn synthetic_audio(rate: u32, secs: usize) -> Vec<AudioFrame> {
    let per_frame = rate as usize / 50;
    let mut seed = 0x2545_f491_u32;
    let total = rate as usize * secs;
    let mut samples = Vec::with_capacity(total);
    for i in 0..total {
        let t = i as f64 / f64::from(rate);
        let in_burst = (t % 2.5) < 1.5;
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = f64::from(seed % 2000) - 1000.0;
        let v = if in_burst {
            6000.0 * (2.0 * std::f64::consts::PI * 180.0 * t).sin()
                + 3000.0 * (2.0 * std::f64::consts::PI * 720.0 * t).sin()
                + noise
        } else {
            noise * 0.05
        };
        samples.push(v as i16);
    }
    samples
        .chunks(per_frame)
        .map(|c| AudioFrame::new(c.to_vec(), rate, 1).expect("mono"))
        .collect()
}

/// An STT whose events the bench sends itself; it drains its input.
#[derive(Clone, Default)]
struct ManualStt {
    events: Arc<Mutex<Vec<mpsc::Sender<VoiceResult<SpeechEvent>>>>>,
}

impl Stt for ManualStt {
    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities {
            streaming: true,
            interim_results: false,
        }
    }
    fn stream(&self) -> VoiceResult<SttStream> {
        let (in_tx, mut in_rx) = mpsc::channel(1024);
        let (ev_tx, ev_rx) = mpsc::channel(64);
        tokio::spawn(async move { while in_rx.recv().await.is_some() {} });
        self.events.lock().unwrap().push(ev_tx);
        Ok(SttStream {
            input: in_tx,
            events: ev_rx,
        })
    }
    fn label(&self) -> &str {
        "manual-stt"
    }
}

/// Answers every request at once and records when it was called.
#[derive(Clone, Default)]
struct InstantVoiceLlm {
    calls: Arc<Mutex<Vec<Instant>>>,
}

impl Llm for InstantVoiceLlm {
    fn chat(&self, _request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, LlmError>> {
        self.calls.lock().unwrap().push(Instant::now());
        let chunks = vec![
            Ok(ChatChunk::Text("Okay.".into())),
            Ok(ChatChunk::Usage(Usage {
                prompt_tokens: 10,
                completion_tokens: 2,
                time_to_first_token: None,
            })),
        ];
        async move { Ok(futures::stream::iter(chunks).boxed()) }.boxed()
    }
}

/// Answers each segment with one 20 ms frame at once, recording when it sent it.
#[derive(Clone, Default)]
struct InstantTts {
    sent: Arc<Mutex<Vec<Instant>>>,
}

impl Tts for InstantTts {
    fn sample_rate(&self) -> u32 {
        16_000
    }
    fn stream(&self) -> VoiceResult<TtsStream> {
        let (in_tx, mut in_rx) = mpsc::channel(64);
        let (out_tx, out_rx) = mpsc::channel(64);
        let sent = self.sent.clone();
        tokio::spawn(async move {
            let mut text = false;
            loop {
                let input = in_rx.recv().await;
                let end = match &input {
                    Some(TtsInput::Text(t)) => {
                        text |= !t.trim().is_empty();
                        false
                    }
                    Some(TtsInput::Flush) | Some(TtsInput::EndInput) | None => true,
                };
                if end && text {
                    text = false;
                    sent.lock().unwrap().push(Instant::now());
                    let frame = AudioFrame::silence(16_000, 1, Duration::from_millis(20));
                    let audio = SynthesizedAudio {
                        frame,
                        segment_id: 0,
                        is_final: true,
                        delta_text: String::new(),
                    };
                    if out_tx.send(Ok(audio)).await.is_err() {
                        return;
                    }
                }
                if !matches!(input, Some(TtsInput::Text(_)) | Some(TtsInput::Flush)) {
                    return;
                }
            }
        });
        Ok(TtsStream {
            input: in_tx,
            output: out_rx,
        })
    }
    fn label(&self) -> &str {
        "instant-tts"
    }
}

/// Records when frames arrive; plays instantly.
struct RecordingOutput {
    captured: Arc<Mutex<Vec<Instant>>>,
    played: mpsc::UnboundedSender<()>,
}

impl AudioOutput for RecordingOutput {
    fn sample_rate(&self) -> u32 {
        16_000
    }
    fn capture_frame(&mut self, _frame: AudioFrame) -> BoxFuture<'_, VoiceResult<()>> {
        self.captured.lock().unwrap().push(Instant::now());
        let _ = self.played.send(());
        async { Ok(()) }.boxed()
    }
    fn flush(&mut self) {}
    fn clear_buffer(&mut self) {}
    fn wait_for_playout(&mut self) -> BoxFuture<'_, PlaybackFinished> {
        async {
            PlaybackFinished {
                playback_position: Duration::from_millis(20),
                interrupted: false,
            }
        }
        .boxed()
    }
}

fn final_event(text: &str) -> SpeechEvent {
    SpeechEvent {
        kind: SpeechEventKind::FinalTranscript,
        alternatives: vec![SpeechData {
            text: text.into(),
            ..SpeechData::default()
        }],
        speech_end_time: None,
    }
}

fn cpu_figures(rate: u32, secs: usize) -> Vec<Figure> {
    let frames = synthetic_audio(rate, secs);
    let vad = EarshotVad::new(VadOptions::default());
    // (a) The input path alone.
    let mut path = InputPath::new(&vad);
    let mut events = 0usize;
    let t = thread_cpu();
    for f in &frames {
        events += path.push(f).expect("valid frame").1.len();
    }
    let input_only = (thread_cpu() - t).as_secs_f64() * 1e6 / secs as f64;
    // The figure must include speech handling, not only silence.
    assert!(events > 0, "the synthetic audio made no VAD events");

    // (b) The whole pipeline loop on paused time.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    let pipeline = rt.block_on(async {
        let session = Arc::new(AgentSession::builder(InstantVoiceLlm::default()).build());
        let (tx, rx) = mpsc::channel(64);
        let voice = VoiceSession::builder(session)
            .vad(Arc::new(EarshotVad::new(VadOptions::default())))
            .stt(Arc::new(ManualStt::default()))
            .tts(Arc::new(FakeTts::new(16_000)))
            .start(VoiceBenchAgent, rx, TestAudioOutput::new(16_000))
            .await
            .unwrap();
        let start = tokio::time::Instant::now();
        let t = thread_cpu();
        let mut at = Duration::ZERO;
        for f in &frames {
            at += f.duration();
            tokio::time::sleep_until(start + at).await;
            tx.send(InputEvent::Audio(f.clone())).await.unwrap();
        }
        tx.send(InputEvent::Hangup).await.unwrap();
        voice.join().await.unwrap();
        (thread_cpu() - t).as_secs_f64() * 1e6 / secs as f64
    });
    vec![
        Figure::new(
            BENCH,
            format!("audio_path_cpu_{}k_input_path", rate / 1000),
            input_only,
            "us_per_audio_s",
        )
        .at_most(2000.0)
        .with("audio_seconds", secs as u64)
        .with("vad_events", events as u64)
        .with("parts", "mono + resample to 16 kHz + earshot VAD"),
        Figure::new(
            BENCH,
            format!("audio_path_cpu_{}k_pipeline", rate / 1000),
            pipeline,
            "us_per_audio_s",
        )
        .at_most(2000.0)
        .with("audio_seconds", secs as u64)
        .with("runtime", "current_thread, paused clock")
        .with(
            "parts",
            "input path + STT forwarding + VAD/endpointing bookkeeping + tasks",
        ),
    ]
}

fn latency_figures(turns: usize) -> Vec<Figure> {
    let rt = multi_thread_runtime(2);
    let (mut to_llm, mut to_output) = rt.block_on(async {
        let llm = InstantVoiceLlm::default();
        let tts = InstantTts::default();
        let stt = ManualStt::default();
        let session = Arc::new(AgentSession::builder(llm.clone()).build());
        let captured = Arc::new(Mutex::new(Vec::new()));
        let (played_tx, mut played_rx) = mpsc::unbounded_channel();
        let output = RecordingOutput {
            captured: captured.clone(),
            played: played_tx,
        };
        let mut options = VoiceOptions::default();
        options.endpointing.min_delay = Duration::ZERO;
        let (_tx, rx) = mpsc::channel(8);
        let voice = VoiceSession::builder(session)
            .vad(Arc::new(EarshotVad::new(VadOptions::default())))
            .stt(Arc::new(stt.clone()))
            .tts(Arc::new(tts.clone()))
            .options(options)
            .start(VoiceBenchAgent, rx, output)
            .await
            .unwrap();
        // The pipeline opens its STT stream once it runs.
        let mut events = voice.subscribe();
        let finals = loop {
            if let Some(tx) = stt.events.lock().unwrap().first() {
                break tx.clone();
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let mut to_llm = Samples::with_capacity(turns);
        let mut to_output = Samples::with_capacity(turns);
        for i in 0..turns {
            let t0 = Instant::now();
            finals
                .send(Ok(final_event(&format!("turn {i}"))))
                .await
                .unwrap();
            played_rx.recv().await.expect("played");
            let called = llm.calls.lock().unwrap()[i];
            to_llm.push(called - t0);
            let sent = tts.sent.lock().unwrap()[i];
            let got = captured.lock().unwrap()[i];
            to_output.push(got - sent);
            // Let the turn end (agent listening) so the next final does not interrupt it.
            loop {
                match events.recv().await {
                    Some(ev)
                        if matches!(
                            ev.event,
                            VoiceEvent::AgentState {
                                new: AgentState::Listening,
                                ..
                            }
                        ) =>
                    {
                        break
                    }
                    Some(_) => {}
                    None => panic!("the pipeline ended"),
                }
            }
        }
        voice.close().await.unwrap();
        (to_llm, to_output)
    });
    let mut out = Vec::new();
    for (name, s) in [
        ("final_to_llm_request", &mut to_llm),
        ("first_tts_byte_to_output", &mut to_output),
    ] {
        for (p, label) in [(50.0, "p50"), (99.0, "p99")] {
            let mut f = Figure::new(
                BENCH,
                format!("{name}_{label}"),
                s.percentile_us(p) / 1000.0,
                "ms",
            )
            .with("turns", turns as u64)
            .with("runtime", "multi_thread(2)");
            if label == "p99" {
                f = f.at_most(1.0);
            }
            out.push(f);
        }
    }
    out
}

/// 20 ms of low-level noise (about −56 dBFS): not speech, but not silence either, so a
/// session that heard it holds its VAD and resampler.
fn quiet_noise(rate: u32, seed: &mut u32) -> AudioFrame {
    let samples = (0..rate as usize / 50)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 17;
            *seed ^= *seed << 5;
            (*seed % 101) as i16 - 50
        })
        .collect();
    AudioFrame::new(samples, rate, 1).expect("mono")
}

/// Live heap per item of `make()`, over `n` items.
async fn heap_per<T, F: std::future::Future<Output = T>>(
    n: usize,
    mut make: impl FnMut() -> F,
) -> f64 {
    let c = Counter::start();
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(make().await);
    }
    let bytes = c.stop().net_bytes as f64 / n as f64;
    drop(items);
    // Dropped sessions end their tasks on the workers: let that finish, so its frees do not
    // count against the next measurement.
    tokio::time::sleep(Duration::from_millis(200)).await;
    bytes
}

fn memory_figures(n: usize) -> Vec<Figure> {
    let rt = multi_thread_runtime(2);
    rt.block_on(async {
        let silence = vec![AudioFrame::silence(8_000, 1, Duration::from_millis(20)); 50];
        let mut seed = 0x2545_f491_u32;
        let noise: Vec<AudioFrame> = (0..50).map(|_| quiet_noise(8_000, &mut seed)).collect();
        let noise16: Vec<AudioFrame> = (0..50).map(|_| quiet_noise(16_000, &mut seed)).collect();
        // Warm-up outside the measurement (lazy statics, runtime buffers).
        let _ = start_voice(&noise).await;
        // Of which, once sound was heard: the input path (resampler 8 → 16 kHz + VAD
        // state), the resampler alone and the VAD stream alone.
        let path_bytes = heap_per(n, || async {
            let mut p = InputPath::new(&EarshotVad::new(VadOptions::default()));
            for f in &noise {
                p.push(f).expect("valid frame");
            }
            p
        })
        .await;
        let resampler_bytes = heap_per(n, || async {
            let mut r = Resampler::new(8_000, 16_000, 1).expect("valid rates");
            for f in &noise {
                r.process(f).expect("valid frame");
            }
            r
        })
        .await;
        let vad_bytes = heap_per(n, || async {
            let mut v = EarshotVad::new(VadOptions::default()).stream();
            for f in &noise16 {
                v.push_frame(f);
            }
            v
        })
        .await;
        let text_bytes = heap_per(n, || async {
            let s = AgentSession::builder(InstantVoiceLlm::default()).build();
            s.start(VoiceBenchAgent).await.unwrap();
            s
        })
        .await;
        let silent_bytes = heap_per(n, || start_voice(&silence)).await;
        let noisy_bytes = heap_per(n, || start_voice(&noise)).await;
        let kib = |b: f64| b / 1024.0;
        vec![
            Figure::new(
                BENCH,
                "idle_voice_session_heap_beyond_text",
                kib(silent_bytes - text_bytes),
                "KiB",
            )
            .at_most(64.0)
            .with("sessions", n as u64)
            .with("text_session_kib", kib(text_bytes))
            .with("voice_session_kib", kib(silent_bytes))
            .with(
                "input",
                "1 s of 8 kHz digital silence fed, then idle (VAD and resampler not created yet)",
            ),
            Figure::new(
                BENCH,
                "idle_voice_session_heap_beyond_text_after_sound",
                kib(noisy_bytes - text_bytes),
                "KiB",
            )
            .at_most(64.0)
            .with("sessions", n as u64)
            .with("voice_session_kib", kib(noisy_bytes))
            .with("of_which_input_path_kib", kib(path_bytes))
            .with("of_which_resampler_8k_to_16k_kib", kib(resampler_bytes))
            .with("of_which_vad_stream_kib", kib(vad_bytes))
            .with(
                "input",
                "1 s of 8 kHz low-level noise (-56 dBFS, no speech) fed, then idle",
            ),
        ]
    })
}

/// A started voice session that has heard `frames` (20 ms of 8 kHz each); kept alive by
/// the returned values.
async fn start_voice(
    frames: &[AudioFrame],
) -> (
    agents_voice::pipeline::VoiceHandle,
    mpsc::Sender<InputEvent>,
) {
    let session = Arc::new(AgentSession::builder(InstantVoiceLlm::default()).build());
    let (tx, rx) = mpsc::channel(64);
    let voice = VoiceSession::builder(session)
        .vad(Arc::new(EarshotVad::new(VadOptions::default())))
        .stt(Arc::new(ManualStt::default()))
        .tts(Arc::new(InstantTts::default()))
        .start(VoiceBenchAgent, rx, TestAudioOutput::new(16_000))
        .await
        .unwrap();
    for f in frames {
        tx.send(InputEvent::Audio(f.clone())).await.unwrap();
    }
    // Let the pipeline consume them.
    while tx.capacity() < tx.max_capacity() {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    (voice, tx)
}

/// Runs the workload.
pub fn run(cfg: &Config) -> Vec<Figure> {
    let secs = cfg.pick(60, 5);
    let mut out = cpu_figures(8_000, secs);
    out.extend(cpu_figures(16_000, secs));
    out.extend(latency_figures(cfg.pick(2_000, 100)));
    out.extend(memory_figures(cfg.pick(200, 20)));
    out
}
