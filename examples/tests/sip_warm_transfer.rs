//! The warm_transfer example's `sip` mode transfers over SIP: the example binary runs
//! `sip --scripted --human-uri <the test's phone>` on 127.0.0.1, a simulated caller calls it,
//! and the technician is a real SIP phone in this test (a `SipServer` answering the agent's
//! consult call). The technician's "speech" is a recording the scripted recogniser hears as
//! the `--human` lines; after an accepted transfer the caller and the technician hear each
//! other through the example's bridge, after a declined one the agent hangs up on the
//! technician and talks with the caller again.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_sip::audio::{mono_8k, AudioOutput, InputEvent};
use agents_sip::playout::CallOutput;
use agents_sip::server::{SipConfig, SipServer};
use agents_sip::telephony::HOLD_TONE_HZ;
use agents_sip::testing::CallSimulator;
use agents_sip::{Call, CallControl};
use support::{first_utterance_8k, messages, of_type, temp_dir, wait_for_reply, Worker};
use tokio::sync::mpsc;
use tokio::time::Instant;

const QUIET: Duration = Duration::from_millis(700);
const TURN: Duration = Duration::from_secs(20);
/// What the technician plays once bridged, and what the caller plays then.
const HUMAN_TONE_HZ: f32 = 1500.0;
const CALLER_TONE_HZ: f32 = 700.0;
/// Mean absolute level of a loud 20 ms frame.
const LOUD: u32 = 1000;

/// 8 kHz tone of `hz`, `ms` long.
fn tone(hz: f32, ms: u32) -> Vec<i16> {
    (0..8 * ms)
        .map(|i| {
            let phase = 2.0 * std::f32::consts::PI * hz * i as f32 / 8000.0;
            (8000.0 * phase.sin()) as i16
        })
        .collect()
}

fn level(frame: &[i16]) -> u32 {
    (frame
        .iter()
        .map(|s| u64::from(s.unsigned_abs()))
        .sum::<u64>()
        / frame.len().max(1) as u64) as u32
}

/// 20 ms frames from sample `from` on that are loud and at `hz` (±60 Hz, by zero crossings).
fn frames_at(samples: &[i16], from: usize, hz: f32) -> usize {
    samples
        .get(from..)
        .unwrap_or_default()
        .chunks_exact(160)
        .filter(|c| {
            let crossings = c.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
            level(c) > LOUD && (crossings as f32 / 2.0 / 0.02 - hz).abs() < 60.0
        })
        .count()
}

/// Where the agent's voice (loud, and not the hold tone) starts after sample `from`: five
/// such frames in a row.
fn voice_from(samples: &[i16], from: usize) -> Option<usize> {
    let frames: Vec<bool> = samples
        .get(from..)
        .unwrap_or_default()
        .chunks_exact(160)
        .map(|c| level(c) > 500 && frames_at(c, 0, HOLD_TONE_HZ) == 0)
        .collect();
    frames
        .windows(5)
        .position(|w| w.iter().all(|&v| v))
        .map(|i| from + i * 160)
}

async fn play(out: &mut CallOutput, samples: &[i16]) {
    for chunk in samples.chunks(160) {
        out.capture_frame(mono_8k(chunk.to_vec())).await.unwrap();
    }
    out.flush();
    out.wait_for_playout().await;
}

/// The technician's side of the consult call: what they hear, their voice, the call.
struct Technician {
    heard: Arc<Mutex<Vec<i16>>>,
    out: CallOutput,
    control: CallControl,
    from: String,
    _call: Call,
}

impl Technician {
    fn heard(&self) -> Vec<i16> {
        self.heard.lock().unwrap().clone()
    }

    /// Waits until the agent spoke after sample `from` and was then quiet for `QUIET`.
    async fn wait_for_reply(&self, from: usize) -> bool {
        let quiet = (QUIET.as_secs_f64() * 8000.0) as usize;
        let deadline = Instant::now() + TURN;
        while Instant::now() < deadline {
            let heard = self.heard();
            let loud = heard
                .get(from..)
                .unwrap_or_default()
                .chunks(160)
                .rposition(|c| level(c) > 200);
            if loud.is_some_and(|i| heard.len() >= from + (i + 1) * 160 + quiet) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

/// A technician's SIP phone on 127.0.0.1: every call it answers comes out of the receiver.
async fn technician_phone(
    rtp: std::ops::RangeInclusive<u16>,
) -> (SocketAddr, mpsc::Receiver<Technician>) {
    let mut config = SipConfig::new("127.0.0.1:0".parse().unwrap());
    config.rtp_ports = rtp;
    let server = SipServer::bind(config).await.unwrap();
    let addr = server.local_addr();
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let served = server
            .serve(move |mut call: Call| {
                let tx = tx.clone();
                async move {
                    let heard = Arc::new(Mutex::new(Vec::new()));
                    let mut input = call.take_input().unwrap();
                    let ear = heard.clone();
                    tokio::spawn(async move {
                        while let Some(ev) = input.recv().await {
                            if let InputEvent::Audio(f) = ev {
                                ear.lock().unwrap().extend_from_slice(&f.samples);
                            }
                        }
                    });
                    let control = call.control();
                    let technician = Technician {
                        heard,
                        out: call.output(),
                        control: control.clone(),
                        from: call.info().from.clone(),
                        _call: call,
                    };
                    if tx.send(technician).await.is_ok() {
                        control.ended().await;
                    }
                }
            })
            .await;
        served.unwrap();
    });
    (addr, rx)
}

/// The example serving calls, the technician's phone it transfers to, and a caller who has
/// asked for a technician and been put on hold.
struct Transfer {
    worker: Worker,
    caller: agents_sip::testing::SimulatedCall,
    call_id: String,
    technician: Technician,
    _sim: CallSimulator,
    _phone: mpsc::Receiver<Technician>,
}

/// Runs the call up to the technician's first answer on the consult call; `k` picks the
/// test's RTP ports, `human` what the technician is heard saying.
async fn transfer(name: &str, k: u16, human: &str) -> Transfer {
    let base = 43_000 + k * 600;
    let (phone_addr, mut phone) = technician_phone(base + 400..=base + 499).await;
    let dir = temp_dir(name);
    let uri = format!("sip:sam@{phone_addr}");
    let worker = Worker::spawn(
        env!("CARGO_BIN_EXE_warm_transfer"),
        &format!("{base}-{}", base + 199),
        &dir,
        &["--scripted", "--human-uri", &uri, "--human", human],
        &[],
    );
    let sim = CallSimulator::with_rtp_ports(base + 200..=base + 399)
        .await
        .unwrap();
    let mut caller = sim.call(worker.addr).await.unwrap();
    let call_id = caller.call_id().to_string();
    let utterance = first_utterance_8k();

    // "My internet is down." — the agent offers a technician.
    caller.play(&utterance).await.unwrap();
    let from = caller.recorded().len();
    assert!(
        wait_for_reply(&caller, from, QUIET, TURN).await > 0,
        "no reply to the caller"
    );
    // "Yes, please." — the agent holds the caller and calls the technician over SIP.
    let held_from = caller.recorded().len();
    caller.play(&utterance).await.unwrap();
    let technician = tokio::time::timeout(TURN, phone.recv())
        .await
        .expect("the technician's phone was not called")
        .unwrap();
    assert!(
        technician.from.contains("agent@"),
        "consult call from {}",
        technician.from
    );
    // The caller hears the hold audio meanwhile.
    let deadline = Instant::now() + Duration::from_secs(5);
    while frames_at(&caller.recorded(), held_from, HOLD_TONE_HZ) < 10 {
        assert!(Instant::now() < deadline, "the caller was not put on hold");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The technician picks up and speaks ("Hi, this is Sam."); the agent briefs them.
    let mut out = technician.out.clone();
    let from = technician.heard().len();
    play(&mut out, &utterance).await;
    assert!(
        technician.wait_for_reply(from).await,
        "the agent did not brief the technician"
    );
    Transfer {
        worker,
        caller,
        call_id,
        technician,
        _sim: sim,
        _phone: phone,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_transfer_bridges_the_caller_to_the_technician_over_sip() {
    // Bound whole: the caller's simulator and the technician's phone must outlive the test.
    let t = transfer("sip-transfer-accept", 0, "accept").await;
    let (worker, mut caller, call_id, technician) =
        (&t.worker, t.caller, &t.call_id, &t.technician);

    // "Sure, put them through." — the agent bridges the calls and leaves.
    let mut out = technician.out.clone();
    play(&mut out, &first_utterance_8k()).await;
    let transcript = worker.transcript(call_id).await;
    let ended = of_type(&transcript, "call_ended").next().unwrap();
    assert_eq!(ended["reason"], "transferred", "{transcript:?}");
    assert!(!caller.hung_up(), "the caller was hung up, not transferred");

    // Caller and technician hear each other through the bridge.
    let caller_from = caller.recorded().len();
    let technician_from = technician.heard().len();
    play(&mut out, &tone(HUMAN_TONE_HZ, 1000)).await;
    caller.play(&tone(CALLER_TONE_HZ, 1000)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let heard_human = frames_at(&caller.recorded(), caller_from, HUMAN_TONE_HZ);
    let heard_caller = frames_at(&technician.heard(), technician_from, CALLER_TONE_HZ);
    assert!(
        heard_human >= 40,
        "the caller heard {heard_human} frames of the technician"
    );
    assert!(
        heard_caller >= 40,
        "the technician heard {heard_caller} frames of the caller"
    );
    // And no hold audio once they are connected.
    assert_eq!(frames_at(&caller.recorded(), caller_from, HOLD_TONE_HZ), 0);

    // The technician hangs up: the bridge ends the caller's call too.
    technician.control.hangup().await;
    assert!(
        caller.wait_for_hangup(Duration::from_secs(10)).await,
        "the caller's call outlived the bridge"
    );

    assert_eq!(
        messages(&transcript, "user"),
        ["My internet is down.", "Yes, please."]
    );
    assert!(of_type(&transcript, "function_call").any(|v| v["name"] == "transfer_to_human"));
    assert!(of_type(&transcript, "call_error").next().is_none());
    std::fs::remove_dir_all(&worker.dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_transfer_hangs_up_on_the_technician_and_resumes_the_caller() {
    let t = transfer("sip-transfer-decline", 1, "decline").await;
    let (worker, caller, call_id, technician) = (&t.worker, t.caller, &t.call_id, &t.technician);

    // "Sorry, I can't take it now." — the agent thanks them and hangs up their call.
    let mut out = technician.out.clone();
    let from = caller.recorded().len();
    play(&mut out, &first_utterance_8k()).await;
    tokio::time::timeout(TURN, technician.control.ended())
        .await
        .expect("the agent did not hang up the technician's call");

    // Off hold, the agent apologises to the caller: its voice, and no hold tone after it.
    let deadline = Instant::now() + TURN;
    let spoke_at = loop {
        let recorded = caller.recorded();
        if let Some(at) = voice_from(&recorded, from) {
            if recorded.len() > at + 8000 {
                assert_eq!(frames_at(&recorded, at, HOLD_TONE_HZ), 0, "still on hold");
                break at;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not come back to the caller"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        wait_for_reply(&caller, spoke_at, QUIET, TURN).await > 0,
        "the agent's apology did not end"
    );
    assert!(!caller.hung_up());
    caller.hangup().await;

    let transcript = worker.transcript(call_id).await;
    let output = of_type(&transcript, "function_call_output")
        .find(|v| v["name"] == "transfer_to_human")
        .expect("the transfer's result");
    assert_eq!(output["is_error"], true);
    assert!(
        output["output"]
            .as_str()
            .unwrap()
            .contains("the technician declined (in a meeting)"),
        "{output}"
    );
    let agent = messages(&transcript, "assistant");
    assert!(
        agent
            .iter()
            .any(|m| m.contains("couldn't reach a technician")),
        "{agent:?}"
    );
    let ended = of_type(&transcript, "call_ended").next().unwrap();
    assert_eq!(ended["reason"], "caller_hung_up");
    std::fs::remove_dir_all(&worker.dir).ok();
}

#[test]
fn a_human_uri_that_is_not_a_sip_uri_is_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warm_transfer"))
        .args(["sip", "--listen", "127.0.0.1:0", "--human-uri", "sam@pbx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a SIP URI"), "{stderr}");
}
