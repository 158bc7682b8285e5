//! File mode: a recorded caller in, the agent's side out (run on paused time with fakes).

use std::sync::Arc;
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_voice::audio::{read_wav, write_wav, AudioFrame};
use agents_voice::file_mode::run_file;
use agents_voice::pipeline::VoiceSession;
use agents_voice::testing::fakes::{DelayedLlm, FakeStt, FakeTts, FakeVad, Timeline};

#[agent]
struct Assistant;

#[function_tools]
impl Assistant {}

#[tokio::test(start_paused = true)]
async fn caller_wav_in_agent_wav_and_transcript_out() {
    let dir = std::env::temp_dir().join(format!("agents-voice-file-mode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let caller_path = dir.join("caller.wav");
    let out_path = dir.join("agent.wav");
    let transcript_path = dir.join("transcript.txt");

    // 4 s at 16 kHz: speech (a tone) from 0.5 to 2.5 s.
    let mut samples = vec![0i16; 64_000];
    for s in &mut samples[8_000..40_000] {
        *s = 3000;
    }
    write_wav(&caller_path, &AudioFrame::new(samples, 16_000, 1).unwrap()).unwrap();

    let timeline = Timeline::new().speech(0.5, 2.5, "Hello");
    let llm = DelayedLlm::new(
        ScriptedLlm::new().on_user("hello", Reply::text("Hi, **how** can I help?")),
        Duration::from_millis(100),
        Duration::from_millis(300),
    );
    let session = Arc::new(AgentSession::builder(llm).build());
    let tts = FakeTts::new(16_000).audio_for("Hi, how can I help?", 2.0);
    let voice = VoiceSession::builder(session)
        .vad(Arc::new(FakeVad::new(&timeline)))
        .stt(Arc::new(FakeStt::new(&timeline)))
        .tts(Arc::new(tts.clone()));
    let report = run_file(
        voice,
        Assistant,
        &caller_path,
        &out_path,
        Some(&transcript_path),
    )
    .await
    .unwrap();

    assert_eq!(report.caller_duration, Duration::from_secs(4));
    let agent = read_wav(&out_path).unwrap();
    assert_eq!(agent.sample_rate, 16_000);
    assert!(
        agent.duration() >= Duration::from_millis(5500),
        "{:?}",
        agent.duration()
    );
    let at = |t: f64| agent.samples[(t * 16_000.0) as usize];
    // Silent while the caller speaks, the reply from 3.5 s to 5.5 s.
    assert_eq!(at(1.0), 0);
    assert_ne!(at(3.6), 0);
    assert_ne!(at(5.4), 0);
    assert_eq!(at(5.6), 0);
    let transcript = std::fs::read_to_string(&transcript_path).unwrap();
    assert!(transcript.contains("] user: Hello"), "{transcript}");
    assert!(
        transcript.contains("] agent: Hi, **how** can I help?"),
        "{transcript}"
    );
    assert!(
        transcript.contains("metrics e2e_latency=1.000s"),
        "{transcript}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(start_paused = true)]
async fn missing_caller_file_is_a_clear_error() {
    let session = Arc::new(AgentSession::builder(ScriptedLlm::new()).build());
    let timeline = Timeline::new();
    let voice = VoiceSession::builder(session)
        .vad(Arc::new(FakeVad::new(&timeline)))
        .stt(Arc::new(FakeStt::new(&timeline)))
        .tts(Arc::new(FakeTts::new(16_000)));
    let err = run_file(
        voice,
        Assistant,
        std::path::Path::new("/nonexistent/caller.wav"),
        std::path::Path::new("/tmp/agent.wav"),
        None,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/caller.wav"), "{err}");
}
