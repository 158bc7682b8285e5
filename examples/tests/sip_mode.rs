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
use agents_sip::testing::{CallSimulator, SimulatedCall};
use agents_sip::SipError;
use agents_voice::testing::servers::{SpeechServer, TranscriptionServer};
use support::{
    assert_any_contains, call_errors, dtmf_digits, ended_reason, first_utterance_8k, messages,
    of_type, place_call, spoken, wait_for_reply, PlacedCall,
};

const QUIET: Duration = Duration::from_millis(700);
const TURN: Duration = Duration::from_secs(20);
const SCRIPTED: &[&str] = &["--scripted"];
const CONSENT: &str = env!("CARGO_BIN_EXE_consent");
const DTMF: &str = env!("CARGO_BIN_EXE_dtmf");
const WARM_TRANSFER: &str = env!("CARGO_BIN_EXE_warm_transfer");

/// Asserts that the agent speaks after sample `from` of the call's recording.
async fn expect_reply(call: &SimulatedCall, from: usize, what: &str) {
    assert!(wait_for_reply(call, from, QUIET, TURN).await > 0, "{what}");
}

/// Asserts that a new call from `sim` is refused with 503, `when` saying why it should be.
async fn expect_503(sim: &CallSimulator, addr: std::net::SocketAddr, when: &str) {
    match sim.call(addr).await {
        Err(SipError::Rejected { status: 503, .. }) => {}
        Err(other) => panic!("a call {when} got {other:?}, not 503"),
        Ok(_) => panic!("a call {when} was answered"),
    }
}

/// Asserts that the agent hangs up within `secs` seconds.
async fn expect_hangup(call: &SimulatedCall, secs: u64, what: &str) {
    assert!(
        call.wait_for_hangup(Duration::from_secs(secs)).await,
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_answered_heard_and_hung_up_by_the_agent_with_its_transcript() {
    let mut t = place_call("sip-transfer", WARM_TRANSFER, 46000, SCRIPTED, &[]).await;

    // The agent answers (this one waits for the caller to speak first; its RTP flows).
    assert!(
        t.call.wait_for_audio(8000, TURN).await,
        "no RTP from the agent"
    );

    // The caller's utterance is heard (as the demo's first line) and answered: speech arrives.
    let utterance = first_utterance_8k();
    t.call.play(&utterance).await.unwrap();
    let from = t.call.recorded().len();
    let reply = wait_for_reply(&t.call, from, QUIET, TURN).await;
    assert!(reply > 8000, "no spoken reply ({reply} samples)");
    // The second utterance accepts the transfer; the agent then leaves the call.
    t.call.play(&utterance).await.unwrap();
    expect_hangup(
        &t.call,
        20,
        "the agent did not hang up after ending the session",
    )
    .await;

    let transcript = t.worker.transcript(&t.call_id).await;
    let started = of_type(&transcript, "call_started").next().unwrap();
    assert_eq!(started["call_id"], t.call_id.as_str());
    assert_eq!(
        messages(&transcript, "user"),
        ["My internet is down.", "Yes, please."]
    );
    assert_any_contains(&messages(&transcript, "assistant"), "Shall I connect you");
    assert!(of_type(&transcript, "function_call").any(|v| v["name"] == "transfer_to_human"));
    assert!(of_type(&transcript, "closed").next().is_some());
    assert_eq!(ended_reason(&transcript), "agent_ended");
    // Voice metrics are in the transcript.
    assert!(
        of_type(&transcript, "voice").any(|v| v["event"]["metric"] == "e2e_latency"),
        "no e2e latency metric"
    );
    assert!(call_errors(&transcript).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keypad_digits_reach_the_session_and_the_caller_hangs_up() {
    let t = place_call("sip-dtmf", DTMF, 46200, SCRIPTED, &[]).await;
    expect_reply(&t.call, 0, "no greeting").await;

    // Too few digits: the agent asks again.
    let from = t.call.recorded().len();
    t.call.send_digits("40#").unwrap();
    expect_reply(&t.call, from, "no reply to 40#").await;
    // All six, in two presses.
    t.call.send_digits("4071").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let from = t.call.recorded().len();
    t.call.send_digits("29#").unwrap();
    expect_reply(&t.call, from, "no reply to 407129#").await;
    t.call.hangup().await;

    let transcript = t.worker.transcript(&t.call_id).await;
    assert_eq!(dtmf_digits(&transcript), "40#407129#");
    let agent = messages(&transcript, "assistant");
    assert_any_contains(&agent, "You entered 2 digits");
    assert_any_contains(&agent, "I found account");
    assert_eq!(ended_reason(&transcript), "caller_hung_up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_refuses_new_calls_lets_the_current_one_finish_then_exits_0() {
    let PlacedCall {
        mut worker,
        sim,
        mut call,
        call_id,
    } = place_call("sip-drain", CONSENT, 46400, SCRIPTED, &[]).await;
    expect_reply(&call, 0, "no greeting").await;

    worker.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    expect_503(&sim, worker.addr, "while draining").await;
    // The call in progress goes on: the caller speaks, the agent answers.
    call.play(&first_utterance_8k()).await.unwrap();
    let from = call.recorded().len();
    expect_reply(&call, from, "no reply while draining").await;
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
}

/// The model at a closed port on this machine, and no retries.
const MODEL_DOWN: [(&str, &str); 2] = [
    ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
    ("OPENAI_MAX_RETRIES", "0"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_providers_fail_is_hung_up_with_the_error_in_its_transcript() {
    // The model, STT and TTS all at a closed port on this machine: every request is refused.
    let env = [
        MODEL_DOWN[0],
        MODEL_DOWN[1],
        ("VOICE_PROVIDER_TIMEOUT", "2"),
    ];
    let t = place_call("sip-fail", CONSENT, 46600, &[], &env).await;
    expect_hangup(&t.call, 30, "the failing call was not hung up").await;
    let transcript = t.worker.transcript(&t.call_id).await;
    let errors = call_errors(&transcript);
    assert_any_contains(&errors, "LLM connection failed");
    // The TTS is down too: the apology could not be spoken, and the transcript says so.
    assert!(
        errors.iter().any(|e| e.starts_with("apology not played")),
        "{errors:?}"
    );
    assert_eq!(ended_reason(&transcript), "error");
}

/// Asserts that the call's one error contains `error`, and that it ended the call.
fn assert_one_error(transcript: &[serde_json::Value], error: &str) {
    let errors = call_errors(transcript);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains(error), "{errors:?}");
    assert_eq!(ended_reason(transcript), "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_model_fails_hears_an_apology_when_the_tts_works() {
    // STT and TTS are in-process servers on 127.0.0.1; the model is at a closed port.
    let tts = SpeechServer::start().await.unwrap();
    let stt = TranscriptionServer::start("hello").await.unwrap();
    let env = [
        MODEL_DOWN[0],
        MODEL_DOWN[1],
        ("TTS_BASE_URL", tts.base_url()),
        ("STT_BASE_URL", stt.base_url()),
    ];
    let t = place_call("sip-apology", CONSENT, 46800, &[], &env).await;
    expect_hangup(&t.call, 30, "the failing call was not hung up").await;
    // The apology was synthesized and heard before the hangup.
    assert_any_contains(&spoken(&tts), "Sorry, something went wrong");
    let heard = wait_for_reply(&t.call, 0, Duration::ZERO, Duration::from_secs(1)).await;
    // The test server speaks 10 ms of tone per character.
    assert!(heard > 4000, "the apology was not heard ({heard} samples)");
    let transcript = t.worker.transcript(&t.call_id).await;
    assert_one_error(&transcript, "LLM connection failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_max_calls_get_503_and_a_freed_slot_is_used_again() {
    let t = place_call(
        "sip-full",
        CONSENT,
        49000,
        &["--scripted", "--max-calls", "1"],
        &[],
    )
    .await;
    expect_503(&t.sim, t.worker.addr, "beyond --max-calls").await;
    t.call.hangup().await;
    t.worker.transcript(&t.call_id).await;
    // The slot is released when the call's teardown finishes, which may be a moment after its
    // transcript is closed: retry a 503 for up to 3 s, as a caller honouring Retry-After would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let again = loop {
        match t.sim.call(t.worker.addr).await {
            Err(SipError::Rejected { status: 503, .. }) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => break other.unwrap(),
        }
    };
    expect_reply(&again, 0, "no greeting").await;
    again.hangup().await;
}

#[test]
fn bad_sip_options_are_refused_with_a_clear_error() {
    let consent = |args: &[&str]| {
        let out = support::run(CONSENT, args);
        (out.code, out.stderr)
    };
    let (code, err) = consent(&[
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
    let (code, err) = consent(&["sip", "--listen", "127.0.0.1:0", "--rtp-ports", "x"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("port range"), "{err}");
    let (code, err) = consent(&["sip", "--listen", "127.0.0.1:0", "--max-calls", "0"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = consent(&["sip", "--listen", "nowhere"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = consent(&[
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
    let env = [
        ("OPENAI_BASE_URL", chat.base_url()),
        MODEL_DOWN[1],
        ("TTS_BASE_URL", tts.base_url()),
        ("STT_BASE_URL", stt.base_url()),
    ];
    let mut t = place_call("sip-midcall", CONSENT, 49400, &[], &env).await;
    expect_reply(&t.call, 0, "no greeting").await;

    let _ = llm.clone().failing_with(LlmError::Status {
        status: 500,
        body: "scripted outage".into(),
        retryable: false,
    });
    t.call.play(&first_utterance_8k()).await.unwrap();
    expect_hangup(
        &t.call,
        20,
        "the call was not hung up after the model failed",
    )
    .await;
    assert_any_contains(&spoken(&tts), "Sorry, something went wrong");
    let transcript = t.worker.transcript(&t.call_id).await;
    assert_eq!(messages(&transcript, "user"), ["Yes, that's fine."]);
    assert_one_error(&transcript, "scripted outage");
}
