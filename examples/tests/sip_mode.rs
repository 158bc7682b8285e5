//! `sip` mode end to end: the example binaries serve real SIP/RTP calls on 127.0.0.1, placed by
//! the call simulator of `agents_sip::testing`. Workers run `--scripted` (the demo's model,
//! each utterance heard as the demo's next line, a tone as the voice), so no key or network
//! is needed. One test points the real providers at a closed local port to check that a
//! failing call is apologised for and hung up.
//!
//! RTP port ranges are wide and unusual so that ports held by other processes on the machine
//! are simply skipped.

mod support;

use std::time::Duration;

use agents_core::llm::LlmError;
use agents_core::testing::{ChatCompletionsServer, Reply, ScriptedLlm};
use agents_sip::testing::CallSimulator;
use agents_sip::SipError;
use agents_voice::testing::servers::{SpeechServer, TranscriptionServer};
use support::{first_utterance_8k, messages, of_type, temp_dir, wait_for_reply, Worker};

const QUIET: Duration = Duration::from_millis(700);
const TURN: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_answered_heard_and_hung_up_by_the_agent_with_its_transcript() {
    let dir = temp_dir("sip-transfer");
    let worker = Worker::spawn(
        env!("CARGO_BIN_EXE_warm_transfer"),
        "46000-46199",
        &dir,
        &["--scripted"],
        &[],
    );
    let sim = CallSimulator::with_rtp_ports(47000..=47199).await.unwrap();
    let mut call = sim.call(worker.addr).await.unwrap();
    let call_id = call.call_id().to_string();

    // The agent answers (this one waits for the caller to speak first; its RTP flows).
    assert!(
        call.wait_for_audio(8000, TURN).await,
        "no RTP from the agent"
    );

    // The caller's utterance is heard (as the demo's first line) and answered: speech arrives.
    let utterance = first_utterance_8k();
    call.play(&utterance).await.unwrap();
    let from = call.recorded().len();
    let reply = wait_for_reply(&call, from, QUIET, TURN).await;
    assert!(reply > 8000, "no spoken reply ({reply} samples)");
    // The second utterance accepts the transfer; the agent then leaves the call.
    call.play(&utterance).await.unwrap();
    assert!(
        call.wait_for_hangup(Duration::from_secs(20)).await,
        "the agent did not hang up after ending the session"
    );

    let transcript = worker.transcript(&call_id).await;
    let started = of_type(&transcript, "call_started").next().unwrap();
    assert_eq!(started["call_id"], call_id.as_str());
    assert_eq!(
        messages(&transcript, "user"),
        ["My internet is down.", "Yes, please."]
    );
    let agent = messages(&transcript, "assistant");
    assert!(
        agent.iter().any(|m| m.contains("Shall I connect you")),
        "{agent:?}"
    );
    assert!(of_type(&transcript, "function_call").any(|v| v["name"] == "transfer_to_human"));
    assert!(of_type(&transcript, "closed").next().is_some());
    let ended = of_type(&transcript, "call_ended").next().unwrap();
    assert_eq!(ended["reason"], "agent_ended");
    // Voice metrics are in the transcript.
    assert!(
        of_type(&transcript, "voice").any(|v| v["event"]["metric"] == "e2e_latency"),
        "no e2e latency metric"
    );
    assert!(of_type(&transcript, "call_error").next().is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keypad_digits_reach_the_session_and_the_caller_hangs_up() {
    let dir = temp_dir("sip-dtmf");
    let worker = Worker::spawn(
        env!("CARGO_BIN_EXE_dtmf"),
        "46200-46399",
        &dir,
        &["--scripted"],
        &[],
    );
    let sim = CallSimulator::with_rtp_ports(47200..=47399).await.unwrap();
    let call = sim.call(worker.addr).await.unwrap();
    let call_id = call.call_id().to_string();
    assert!(
        wait_for_reply(&call, 0, QUIET, TURN).await > 0,
        "no greeting"
    );

    // Too few digits: the agent asks again.
    let from = call.recorded().len();
    call.send_digits("40#").unwrap();
    assert!(
        wait_for_reply(&call, from, QUIET, TURN).await > 0,
        "no reply to 40#"
    );
    // All six, in two presses.
    call.send_digits("4071").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let from = call.recorded().len();
    call.send_digits("29#").unwrap();
    assert!(
        wait_for_reply(&call, from, QUIET, TURN).await > 0,
        "no reply to 407129#"
    );
    call.hangup().await;

    let transcript = worker.transcript(&call_id).await;
    let digits: String = of_type(&transcript, "dtmf")
        .map(|v| v["digits"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(digits, "40#407129#");
    let agent = messages(&transcript, "assistant");
    assert!(
        agent.iter().any(|m| m.contains("You entered 2 digits")),
        "{agent:?}"
    );
    assert!(
        agent.iter().any(|m| m.contains("I found account")),
        "{agent:?}"
    );
    let ended = of_type(&transcript, "call_ended").next().unwrap();
    assert_eq!(ended["reason"], "caller_hung_up");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_refuses_new_calls_lets_the_current_one_finish_then_exits_0() {
    let dir = temp_dir("sip-drain");
    let mut worker = Worker::spawn(
        env!("CARGO_BIN_EXE_consent"),
        "46400-46599",
        &dir,
        &["--scripted"],
        &[],
    );
    let sim = CallSimulator::with_rtp_ports(47400..=47599).await.unwrap();
    let mut call = sim.call(worker.addr).await.unwrap();
    let call_id = call.call_id().to_string();
    assert!(
        wait_for_reply(&call, 0, QUIET, TURN).await > 0,
        "no greeting"
    );

    worker.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    match sim.call(worker.addr).await {
        Err(SipError::Rejected { status: 503, .. }) => {}
        Err(other) => panic!("a new call while draining got {other:?}, not 503"),
        Ok(_) => panic!("a new call was answered while draining"),
    }
    // The call in progress goes on: the caller speaks, the agent answers.
    call.play(&first_utterance_8k()).await.unwrap();
    let from = call.recorded().len();
    assert!(
        wait_for_reply(&call, from, QUIET, TURN).await > 0,
        "no reply while draining"
    );
    assert!(
        worker.wait_exit(Duration::from_millis(500)).is_none(),
        "exited with a call up"
    );
    call.hangup().await;

    let status = tokio::task::spawn_blocking(move || {
        let status = worker.wait_exit(Duration::from_secs(20));
        (status, worker)
    })
    .await
    .unwrap();
    let (status, worker) = status;
    let status = status.expect("the worker exited after its last call");
    assert!(status.success(), "{status:?}");
    assert!(
        worker.output().iter().any(|l| l.contains("drained")),
        "no drain message"
    );
    let transcript = worker.transcript(&call_id).await;
    assert_eq!(messages(&transcript, "user"), ["Yes, that's fine."]);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_providers_fail_is_hung_up_with_the_error_in_its_transcript() {
    let dir = temp_dir("sip-fail");
    // The model, STT and TTS all at a closed port on this machine: every request is refused.
    let worker = Worker::spawn(
        env!("CARGO_BIN_EXE_consent"),
        "46600-46799",
        &dir,
        &[],
        &[
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
            ("OPENAI_MAX_RETRIES", "0"),
            ("VOICE_PROVIDER_TIMEOUT", "2"),
        ],
    );
    let sim = CallSimulator::with_rtp_ports(47600..=47799).await.unwrap();
    let call = sim.call(worker.addr).await.unwrap();
    let call_id = call.call_id().to_string();
    assert!(
        call.wait_for_hangup(Duration::from_secs(30)).await,
        "the failing call was not hung up"
    );
    let transcript = worker.transcript(&call_id).await;
    let errors: Vec<_> = of_type(&transcript, "call_error")
        .map(|v| v["error"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("LLM connection failed")),
        "{errors:?}"
    );
    // The TTS is down too: the apology could not be spoken, and the transcript says so.
    assert!(
        errors.iter().any(|e| e.starts_with("apology not played")),
        "{errors:?}"
    );
    let ended = of_type(&transcript, "call_ended").next().unwrap();
    assert_eq!(ended["reason"], "error");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_model_fails_hears_an_apology_when_the_tts_works() {
    let dir = temp_dir("sip-apology");
    // STT and TTS are in-process servers on 127.0.0.1; the model is at a closed port.
    let tts = SpeechServer::start().await.unwrap();
    let stt = TranscriptionServer::start("hello").await.unwrap();
    let worker = Worker::spawn(
        env!("CARGO_BIN_EXE_consent"),
        "46800-46999",
        &dir,
        &[],
        &[
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
            ("OPENAI_MAX_RETRIES", "0"),
            ("TTS_BASE_URL", tts.base_url()),
            ("STT_BASE_URL", stt.base_url()),
        ],
    );
    let sim = CallSimulator::with_rtp_ports(47800..=47999).await.unwrap();
    let call = sim.call(worker.addr).await.unwrap();
    let call_id = call.call_id().to_string();
    assert!(
        call.wait_for_hangup(Duration::from_secs(30)).await,
        "the failing call was not hung up"
    );
    // The apology was synthesized and heard before the hangup.
    let spoken: Vec<String> = tts.requests().into_iter().map(|r| r.input).collect();
    assert!(
        spoken
            .iter()
            .any(|t| t.contains("Sorry, something went wrong")),
        "{spoken:?}"
    );
    let heard = wait_for_reply(&call, 0, Duration::ZERO, Duration::from_secs(1)).await;
    // The test server speaks 10 ms of tone per character.
    assert!(heard > 4000, "the apology was not heard ({heard} samples)");
    let transcript = worker.transcript(&call_id).await;
    let errors: Vec<_> = of_type(&transcript, "call_error")
        .map(|v| v["error"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("LLM connection failed"), "{errors:?}");
    assert_eq!(
        of_type(&transcript, "call_ended").next().unwrap()["reason"],
        "error"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_max_calls_get_503_and_a_freed_slot_is_used_again() {
    let dir = temp_dir("sip-full");
    let worker = Worker::spawn(
        env!("CARGO_BIN_EXE_consent"),
        "49000-49199",
        &dir,
        &["--scripted", "--max-calls", "1"],
        &[],
    );
    let sim = CallSimulator::with_rtp_ports(49200..=49399).await.unwrap();
    let first = sim.call(worker.addr).await.unwrap();
    match sim.call(worker.addr).await {
        Err(SipError::Rejected { status: 503, .. }) => {}
        Err(other) => panic!("a call beyond --max-calls got {other:?}, not 503"),
        Ok(_) => panic!("a call beyond --max-calls was answered"),
    }
    let first_id = first.call_id().to_string();
    first.hangup().await;
    worker.transcript(&first_id).await;
    // The slot is released when the call's teardown finishes, which may be a moment after its
    // transcript is closed: retry a 503 for up to 3 s, as a caller honouring Retry-After would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let again = loop {
        match sim.call(worker.addr).await {
            Err(SipError::Rejected { status: 503, .. }) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => break other.unwrap(),
        }
    };
    assert!(
        wait_for_reply(&again, 0, QUIET, TURN).await > 0,
        "no greeting"
    );
    again.hangup().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_sip_options_are_refused_with_a_clear_error() {
    let exe = env!("CARGO_BIN_EXE_consent");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(exe).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[
        "sip",
        "--listen",
        "127.0.0.1:0",
        "--rtp-ports",
        "21000-20000",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("21000-20000") && err.contains("empty"),
        "{err}"
    );
    let (code, err) = run(&["sip", "--listen", "127.0.0.1:0", "--rtp-ports", "x"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("port range"), "{err}");
    let (code, err) = run(&["sip", "--listen", "127.0.0.1:0", "--max-calls", "0"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = run(&["sip", "--listen", "nowhere"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = run(&[
        "sip",
        "--listen",
        "127.0.0.1:0",
        "--scripted",
        "--transcript",
        "x.jsonl",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--transcript-dir"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_failing_mid_call_gets_an_apology_and_a_hangup() {
    let dir = temp_dir("sip-midcall");
    // Real providers, all in process on 127.0.0.1: the model greets, then fails every request.
    let llm = ScriptedLlm::new().on_instructions(
        "ask for permission to record",
        Reply::text("Hi, may I record this call?"),
    );
    let chat = ChatCompletionsServer::spawn(llm.clone()).unwrap();
    let tts = SpeechServer::start().await.unwrap();
    let stt = TranscriptionServer::start("Yes, that's fine.")
        .await
        .unwrap();
    let worker = Worker::spawn(
        env!("CARGO_BIN_EXE_consent"),
        "49400-49599",
        &dir,
        &[],
        &[
            ("OPENAI_BASE_URL", chat.base_url()),
            ("OPENAI_MAX_RETRIES", "0"),
            ("TTS_BASE_URL", tts.base_url()),
            ("STT_BASE_URL", stt.base_url()),
        ],
    );
    let sim = CallSimulator::with_rtp_ports(49600..=49799).await.unwrap();
    let mut call = sim.call(worker.addr).await.unwrap();
    let call_id = call.call_id().to_string();
    assert!(
        wait_for_reply(&call, 0, QUIET, TURN).await > 0,
        "no greeting"
    );

    let _ = llm.clone().failing_with(LlmError::Status {
        status: 500,
        body: "scripted outage".into(),
        retryable: false,
    });
    call.play(&first_utterance_8k()).await.unwrap();
    assert!(
        call.wait_for_hangup(Duration::from_secs(20)).await,
        "the call was not hung up after the model failed"
    );
    let spoken: Vec<String> = tts.requests().into_iter().map(|r| r.input).collect();
    assert!(
        spoken
            .iter()
            .any(|t| t.contains("Sorry, something went wrong")),
        "{spoken:?}"
    );
    let transcript = worker.transcript(&call_id).await;
    assert_eq!(messages(&transcript, "user"), ["Yes, that's fine."]);
    let errors: Vec<_> = of_type(&transcript, "call_error")
        .map(|v| v["error"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("scripted outage"), "{errors:?}");
    assert_eq!(
        of_type(&transcript, "call_ended").next().unwrap()["reason"],
        "error"
    );
    std::fs::remove_dir_all(&dir).ok();
}
