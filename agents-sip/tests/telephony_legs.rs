//! `SipTelephony`'s methods one by one on 127.0.0.1: hold (re-INVITE + hold audio) and
//! unhold, REFER refused by the peer, bad dial targets and unknown legs, and the agent
//! leaving an unbridged call.

mod telephony_support;

use std::sync::Arc;
use std::time::Duration;

use agents_sip::call::Call;
use agents_sip::sdp::Direction;
use agents_sip::server::ServerHandle;
use agents_sip::telephony::HOLD_TONE_HZ;
use agents_sip::testing::{CallSimulator, SimulatedCall};
use agents_sip::SipTelephony;
use agents_telephony::{CallLeg, DialError, DialRequest, Telephony, TelephonyError};
use agents_voice::testing::fakes::FakeTts;
use telephony_support::*;
use tokio::sync::mpsc;

struct Line {
    tel: SipTelephony,
    caller: SimulatedCall,
    server: ServerHandle,
    _sim: CallSimulator,
}

async fn line(base: u16) -> Line {
    let (tx, mut calls) = mpsc::channel::<Call>(1);
    let (addr, server) = server(base..=base + 29, Duration::ZERO, move |call: Call| {
        let tx = tx.clone();
        async move {
            let control = call.control();
            let _ = tx.send(call).await;
            control.ended().await;
        }
    })
    .await;
    let sim = CallSimulator::with_rtp_ports(base + 30..=base + 59)
        .await
        .unwrap();
    let caller = sim.call(addr).await.unwrap();
    let call = calls.recv().await.unwrap();
    let tel = SipTelephony::new(
        call,
        server.clone(),
        Arc::new(FakeTts::new(8000)),
        Arc::new(ToneStt::default()),
        Arc::new(EnergyVad),
    );
    Line {
        tel,
        caller,
        server,
        _sim: sim,
    }
}

fn direction(call: &SimulatedCall) -> Direction {
    call.control().media().negotiated().local_direction
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_plays_the_tone_and_unhold_resumes() {
    let l = line(37000).await;
    let caller = l.tel.caller();
    l.tel.hold(&caller, "hold_music").await.unwrap();
    assert!(l.tel.is_on_hold(&caller));
    // The re-INVITE offered sendonly; the caller's phone answered recvonly.
    assert_eq!(direction(&l.caller), Direction::RecvOnly);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let held = frames_at(&l.caller.recorded(), HOLD_TONE_HZ);
    assert!(held >= 30, "{held} frames of hold tone");

    l.tel.unhold(&caller).await.unwrap();
    assert!(!l.tel.is_on_hold(&caller));
    assert_eq!(direction(&l.caller), Direction::SendRecv);
    let mark = l.caller.recorded().len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after = frames_at(&l.caller.recorded()[mark..], HOLD_TONE_HZ);
    assert!(after <= 4, "{after} frames of hold tone after unhold");

    // Silence on hold: the line stays up but quiet.
    l.tel.hold(&caller, "silence").await.unwrap();
    let mark = l.caller.recorded().len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let rec = l.caller.recorded();
    assert!(rec.len() - mark >= 8 * 400, "RTP keeps flowing on hold");
    assert_eq!(frames_at(&rec[mark..], HOLD_TONE_HZ), 0);
    l.tel.unhold(&caller).await.unwrap();
    l.caller.hangup().await;
    assert!(wait_idle(&l.server, Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_transfer_refused_by_the_peer_is_a_typed_failure() {
    let l = line(37100).await;
    let caller = l.tel.caller();
    // The call simulator, like many trunks, refuses REFER (603).
    match l.tel.cold_transfer(&caller, "sip:sam@127.0.0.1:5999").await {
        Err(TelephonyError::Failed { operation, reason }) => {
            assert_eq!(operation, "cold_transfer");
            assert!(reason.contains("603"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(l.tel.is_up(&caller));
    assert!(matches!(
        l.tel.cold_transfer(&caller, "not a target").await,
        Err(TelephonyError::Failed { .. })
    ));
    l.caller.hangup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_targets_and_unknown_legs_get_clear_errors() {
    let l = line(37200).await;
    let req = |to: &str| DialRequest::new(to, "consult", "human", Duration::from_secs(1));
    match l.tel.dial(req("+15105550100")).await {
        Err(DialError::Failed { reason }) => assert!(reason.contains("trunk host"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        l.tel.dial(req("sip:")).await,
        Err(DialError::Failed { .. })
    ));
    let stranger = CallLeg::new("elsewhere", "nobody");
    let gone = |r: Result<(), TelephonyError>| matches!(r, Err(TelephonyError::LegGone { .. }));
    assert!(gone(l.tel.hold(&stranger, "tone").await));
    assert!(gone(l.tel.say(&stranger, "hi").await));
    assert!(gone(l.tel.hang_up(&stranger).await));
    assert!(matches!(
        l.tel.next_utterance(&stranger).await,
        Err(TelephonyError::LegGone { .. })
    ));
    assert!(matches!(
        l.tel.bridge(&stranger, &l.tel.caller()).await,
        Err(TelephonyError::LegGone { .. })
    ));
    // The agent does not transcribe the caller itself (its voice pipeline does).
    assert!(matches!(
        l.tel.next_utterance(&l.tel.caller()).await,
        Err(TelephonyError::Unsupported { .. })
    ));
    // Saying something to the caller plays TTS audio on its line.
    let before = l.caller.recorded().len();
    l.tel
        .say(&l.tel.caller(), "One moment please.")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let spoken = l.caller.recorded()[before..]
        .chunks_exact(160)
        .filter(|c| level(c) > 500)
        .count();
    assert!(spoken >= 20, "{spoken} frames of speech");
    l.caller.hangup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_leaving_an_unbridged_call_hangs_it_up() {
    let l = line(37300).await;
    let mut pipeline = l.tel.take_caller_input().unwrap();
    assert!(l.tel.take_caller_input().is_none());
    l.tel.hang_up(&l.tel.agent()).await.unwrap();
    assert!(l.caller.wait_for_hangup(Duration::from_secs(5)).await);
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(ev) = pipeline.recv().await {
            if ev == agents_sip::audio::InputEvent::Hangup {
                return;
            }
        }
    })
    .await;
    assert!(ended.is_ok());
    assert!(!l.tel.is_up(&l.tel.caller()));
    // Hanging up a leg that already hung up is fine.
    l.tel.hang_up(&l.tel.caller()).await.unwrap();
    assert!(wait_idle(&l.server, Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_consult_leg_times_out_and_dropping_hangs_it_up() {
    let l = line(37400).await;
    let script = Script {
        lines: vec![],
        pause: Duration::ZERO,
        end: End::Stay,
    };
    let (phone_addr, phone_handle, mut stayed) = phone(37460..=37489, script).await;
    let tel = l.tel.with_listen_timeout(Duration::from_millis(300));
    let req = DialRequest::new(
        format!("sip:sam@{phone_addr}"),
        "consult",
        "human",
        Duration::from_secs(5),
    );
    let human = tel.dial(req).await.unwrap();
    assert_eq!(human, CallLeg::new("consult", "human"));
    assert!(tel.is_up(&human));
    let phone_side = stayed.recv().await.unwrap();
    // Nobody speaks: the wait for an utterance fails instead of holding the caller for ever.
    match tel.next_utterance(&human).await {
        Err(TelephonyError::Failed { reason, .. }) => assert!(reason.contains("nothing heard")),
        other => panic!("{other:?}"),
    }
    drop(tel);
    assert!(
        tokio::time::timeout(Duration::from_secs(5), phone_side.control.ended())
            .await
            .is_ok(),
        "dropping the telephony hung up the consult call"
    );
    assert!(wait_idle(&phone_handle, Duration::from_secs(5)).await);
    l.caller.hangup().await;
}
