//! `voice` mode: a recorded caller through the voice pipeline, the agent's side written to a
//! WAV file. `--scripted` needs no key and no network: the committed two-utterance recording
//! is heard as the consent demo's two lines (the real VAD finds the utterances), the model is
//! the demo's script and the voice a tone. The caller is played in real time (about 8 s).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use agents_voice::audio::read_wav;
use support::{
    assert_any_contains, assert_contains_all, messages, of_type, run_quietly, spoken, temp_dir,
    Output, FIXTURE,
};

/// Runs `consent voice <args> --out <dir>/agent.wav` with `env` set; returns the run and the
/// path of the agent's side.
fn consent_voice(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Output, PathBuf) {
    let out = dir.join("agent.wav");
    let run = run_quietly(
        Command::new(env!("CARGO_BIN_EXE_consent"))
            .arg("voice")
            .args(args)
            .arg("--out")
            .arg(&out)
            .envs(env.iter().copied()),
    );
    (run, out)
}

#[test]
fn a_recorded_caller_is_heard_and_answered_and_the_agent_side_is_written() {
    let dir = temp_dir("voice-consent");
    let transcript = dir.join("call.jsonl");
    let args = [
        "--scripted",
        "--caller",
        FIXTURE,
        "--transcript",
        transcript.to_str().unwrap(),
    ];
    let (run, out) = consent_voice(&dir, &args, &[]);
    run.assert_success();
    let stdout = run.stdout;

    // What was heard and said, as printed.
    assert_contains_all(
        &stdout,
        &[
            "] user: Yes, that's fine.",
            "] user: What are your opening hours?",
            "] agent: Happy to help with that.",
            "metrics e2e_latency=",
        ],
    );

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
    let nope = dir.join("nope.wav");
    let (run, out) = consent_voice(
        &dir,
        &["--scripted", "--caller", nope.to_str().unwrap()],
        &[],
    );
    let stderr = run.stderr;
    assert_eq!(run.code, Some(1), "{stderr}");
    assert!(
        stderr.contains("error: ") && stderr.contains("nope.wav"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn without_scripted_the_providers_come_from_the_environment() {
    // A TTS provider name that does not exist: refused before anything runs.
    let dir = temp_dir("voice-env");
    let env = [
        ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
        ("TTS_PROVIDER", "nonesuch"),
    ];
    let (run, _) = consent_voice(&dir, &["--caller", FIXTURE], &env);
    let stderr = run.stderr;
    assert_eq!(run.code, Some(1), "{stderr}");
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
    let env = [
        ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
        ("STT_BASE_URL", stt.base_url()),
        ("TTS_BASE_URL", tts.base_url()),
    ];
    let (run, out) = consent_voice(&dir, &["--scripted-model", "--caller", FIXTURE], &env);
    run.assert_success();
    let stdout = run.stdout;
    // Both utterances went to the recogniser, and what it said was the user's turn.
    assert_eq!(stt.requests().len(), 2, "{stdout}");
    assert!(stdout.contains("] user: Yes, that's fine."), "{stdout}");
    // The scripted greeting and the reply to consent were synthesised by the speech server.
    let spoken = spoken(&tts);
    assert_any_contains(&spoken, "May I record this call");
    assert_any_contains(&spoken, "How can I help");
    let agent = read_wav(&out).unwrap();
    assert!(agent.samples.iter().any(|&s| s != 0), "the agent is silent");
    drop(rt);
    std::fs::remove_dir_all(&dir).ok();
}
