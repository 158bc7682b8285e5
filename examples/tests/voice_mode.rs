//! `voice` mode: a recorded caller through the voice pipeline, the agent's side written to a
//! WAV file. `--scripted` needs no key and no network: the committed two-utterance recording
//! is heard as the consent demo's two lines (the real VAD finds the utterances), the model is
//! the demo's script and the voice a tone. The caller is played in real time (about 8 s).

mod support;

use std::process::Command;

use agents_voice::audio::read_wav;
use support::{messages, of_type, temp_dir, FIXTURE};

#[test]
fn a_recorded_caller_is_heard_and_answered_and_the_agent_side_is_written() {
    let dir = temp_dir("voice-consent");
    let out = dir.join("agent.wav");
    let transcript = dir.join("call.jsonl");
    let run = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["voice", "--scripted", "--caller", FIXTURE, "--out"])
        .arg(&out)
        .arg("--transcript")
        .arg(&transcript)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");

    // What was heard and said, as printed.
    assert!(stdout.contains("] user: Yes, that's fine."), "{stdout}");
    assert!(
        stdout.contains("] user: What are your opening hours?"),
        "{stdout}"
    );
    assert!(
        stdout.contains("] agent: Happy to help with that."),
        "{stdout}"
    );
    assert!(stdout.contains("metrics e2e_latency="), "{stdout}");

    // The agent's side: at the caller's rate, longer than the recording (the last answer
    // follows it), silent before the agent first spoke and with speech after the caller's
    // last word (4.81 s).
    let agent = read_wav(&out).unwrap();
    assert_eq!(agent.sample_rate, 16_000);
    assert!(
        agent.duration().as_secs_f64() > 5.3,
        "{:?}",
        agent.duration()
    );
    let after_caller = &agent.samples[(4.9 * 16_000.0) as usize..];
    assert!(
        after_caller.iter().any(|&s| s != 0),
        "no answer after the caller's last words"
    );

    // The transcript: the session's events as in console mode, plus the pipeline's.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&transcript)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        messages(&lines, "user"),
        ["Yes, that's fine.", "What are your opening hours?"]
    );
    assert!(of_type(&lines, "function_call").any(|v| v["name"] == "consent_given"));
    assert!(of_type(&lines, "voice").any(|v| v["event"]["type"] == "user_turn_committed"));
    assert!(of_type(&lines, "voice").any(|v| v["event"]["metric"] == "end_of_utterance"));
    assert_eq!(
        of_type(&lines, "call_ended").next().unwrap()["reason"],
        "recording_ended"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_recording_is_a_clear_error() {
    let dir = temp_dir("voice-missing");
    let run = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["voice", "--scripted", "--caller"])
        .arg(dir.join("nope.wav"))
        .arg("--out")
        .arg(dir.join("agent.wav"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: ") && stderr.contains("nope.wav"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.join("agent.wav").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn without_scripted_the_providers_come_from_the_environment() {
    // A TTS provider name that does not exist: refused before anything runs.
    let dir = temp_dir("voice-env");
    let run = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["voice", "--caller", FIXTURE, "--out"])
        .arg(dir.join("agent.wav"))
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("TTS_PROVIDER", "nonesuch")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TTS_PROVIDER"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn scripted_model_talks_through_the_real_stt_and_tts_clients() {
    // The demo's script as the model, STT and TTS through their OpenAI-compatible clients to
    // in-process servers: the recogniser's words reach the agent, the agent's words reach
    // the speech server.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (stt, tts) = rt.block_on(async {
        let stt = agents_voice::testing::servers::TranscriptionServer::start("Yes, that's fine.")
            .await
            .unwrap();
        let tts = agents_voice::testing::servers::SpeechServer::start()
            .await
            .unwrap();
        (stt, tts)
    });
    let dir = temp_dir("voice-scripted-model");
    let out = dir.join("agent.wav");
    let run = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["voice", "--scripted-model", "--caller", FIXTURE, "--out"])
        .arg(&out)
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("STT_BASE_URL", stt.base_url())
        .env("TTS_BASE_URL", tts.base_url())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    // Both utterances went to the recogniser, and what it said was the user's turn.
    assert_eq!(stt.requests().len(), 2, "{stdout}");
    assert!(stdout.contains("] user: Yes, that's fine."), "{stdout}");
    // The scripted greeting and the reply to consent were synthesised by the speech server.
    let spoken: Vec<String> = tts.requests().iter().map(|r| r.input.clone()).collect();
    assert!(
        spoken.iter().any(|t| t.contains("May I record this call")),
        "{spoken:?}"
    );
    assert!(
        spoken.iter().any(|t| t.contains("How can I help")),
        "{spoken:?}"
    );
    let agent = read_wav(&out).unwrap();
    assert!(agent.samples.iter().any(|&s| s != 0), "the agent is silent");
    drop(rt);
    std::fs::remove_dir_all(&dir).ok();
}
