//! `WarmTransferTask` over `SipTelephony` on 127.0.0.1: a simulated caller calls the agent's
//! SIP server; the agent (scripted LLM) puts them on hold and dials a human's phone (another
//! SIP server, or a phone refusing with a status); the consult runs over real SIP/RTP with a
//! fake TTS and a tone STT. Every outcome reaches the agent as a typed `TransferError`, and an
//! accepted transfer bridges the caller's and the human's media.

mod telephony_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::llm::ChatItem;
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_sip::audio::InputEvent;
use agents_sip::call::Call;
use agents_sip::server::ServerHandle;
use agents_sip::telephony::HOLD_TONE_HZ;
use agents_sip::testing::{CallSimulator, SimulatedCall};
use agents_sip::SipTelephony;
use agents_telephony::{Telephony, TransferError, WarmTransferResult, WarmTransferTask};
use agents_voice::io::AudioInput;
use agents_voice::testing::fakes::FakeTts;
use serde_json::json;
use telephony_support::*;
use tokio::sync::mpsc;

type Outcome = std::result::Result<WarmTransferResult, Option<TransferError>>;

const INTRO: &str = "Hi Sam, I have a caller whose internet is down. Can you take the call now?";
const GOODBYE: &str = "No problem, thanks Sam. Goodbye.";

/// You are a receptionist for an internet provider. Offer to transfer callers to a technician.
#[agent]
struct Reception {
    tel: Arc<SipTelephony>,
    llm: Arc<dyn Llm>,
    human: String,
    ringing: Duration,
    outcome: Arc<Mutex<Option<Outcome>>>,
}

#[function_tools]
impl Reception {
    /// Transfer the caller to a human technician.
    #[function_tool]
    async fn transfer_to_human(
        &mut self,
        ctx: &mut AgentContext<'_>,
    ) -> std::result::Result<String, ToolError> {
        let tel: Arc<dyn Telephony> = self.tel.clone();
        let task = WarmTransferTask::new(tel, self.llm.clone(), self.human.clone())
            .ringing_timeout(self.ringing);
        let result = ctx
            .run_task(task)
            .with_history(CopyOptions::all().exclude_instructions())
            .await;
        match result {
            Ok(done) => {
                *self.outcome.lock().unwrap() = Some(Ok(done.clone()));
                Ok(format!("Connected to {}.", done.human_agent_identity))
            }
            Err(e) => {
                let typed = e.downcast_ref::<TransferError>().cloned();
                *self.outcome.lock().unwrap() = Some(Err(typed));
                Err(ToolError::new(format!("The transfer did not work: {e}.")))
            }
        }
    }
}

/// The caller's side and the briefing with the human, as in agents-telephony's own tests.
fn script() -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user(
            "my internet is down",
            Reply::text("I'm sorry to hear that. Shall I connect you to a technician?"),
        )
        .on_user(
            "please transfer",
            Reply::call("transfer_to_human", json!({})),
        )
        .after_tool(
            "transfer_to_human",
            Reply::dynamic(|req| {
                let failed = req.chat_ctx.items().iter().rev().find_map(|i| match i {
                    ChatItem::FunctionCallOutput(o) => Some(o.is_error),
                    _ => None,
                });
                if failed == Some(true) {
                    Reply::text("I'm sorry, I couldn't reach a technician. Can I take a message?")
                } else {
                    Reply::text("You're connected to a technician now. Goodbye!")
                }
            }),
        )
        .on_user("take a message", Reply::text("Of course, what message?"))
        .on_user("this is sam", Reply::text(INTRO))
        .on_user(
            "put them through",
            Reply::call("connect_to_caller", json!({})),
        )
        .on_user(
            "can't take",
            Reply::call("decline_transfer", json!({"reason": "in a meeting"})),
        )
        .after_tool("decline_transfer", Reply::text(GOODBYE))
        .on_user(
            "after the tone",
            Reply::call("voicemail_detected", json!({})),
        )
}

/// The caller on the phone with the agent, the agent's session, and its telephony.
struct Harness {
    session: AgentSession,
    tel: Arc<SipTelephony>,
    tts: FakeTts,
    stt: ToneStt,
    caller: SimulatedCall,
    pipeline: AudioInput,
    agent_server: ServerHandle,
    outcome: Arc<Mutex<Option<Outcome>>>,
    _sim: CallSimulator,
}

/// RTP ports of test `k`: the agent's server, the caller's simulator, the human's phone.
fn ports(k: u16) -> [std::ops::RangeInclusive<u16>; 3] {
    let b = 36000 + k * 100;
    [b..=b + 29, b + 30..=b + 59, b + 60..=b + 89]
}

async fn harness(k: u16, human: String, ringing: Duration) -> Harness {
    let [agent_ports, sim_ports, _] = ports(k);
    let (calls_tx, mut calls) = mpsc::channel::<Call>(1);
    let (addr, agent_server) = server(agent_ports, Duration::ZERO, move |call: Call| {
        let tx = calls_tx.clone();
        async move {
            let control = call.control();
            let _ = tx.send(call).await;
            control.ended().await;
        }
    })
    .await;
    let sim = CallSimulator::with_rtp_ports(sim_ports).await.unwrap();
    let caller = sim.call(addr).await.unwrap();
    let call = tokio::time::timeout(Duration::from_secs(5), calls.recv())
        .await
        .unwrap()
        .unwrap();
    let tts = FakeTts::new(16_000)
        .ttfb(Duration::from_millis(50))
        .audio_for(INTRO, 0.5)
        .audio_for(GOODBYE, 0.5);
    let stt = ToneStt::default();
    let tel = Arc::new(
        SipTelephony::new(
            call,
            agent_server.clone(),
            Arc::new(tts.clone()),
            Arc::new(stt.clone()),
            Arc::new(EnergyVad),
        )
        .with_listen_timeout(Duration::from_secs(10)),
    );
    let pipeline = tel.take_caller_input().unwrap();
    let llm = script();
    let outcome = Arc::new(Mutex::new(None));
    let session = AgentSession::builder(llm.clone()).build();
    session
        .start(Reception {
            tel: tel.clone(),
            llm: Arc::new(llm),
            human,
            ringing,
            outcome: outcome.clone(),
        })
        .await
        .unwrap();
    session
        .run("Hi, my internet is down since this morning")
        .await
        .unwrap()
        .expect()
        .contains_message(Role::Assistant)
        .containing("connect you to a technician");
    Harness {
        session,
        tel,
        tts,
        stt,
        caller,
        pipeline,
        agent_server,
        outcome,
        _sim: sim,
    }
}

impl Harness {
    /// Asks for the transfer; returns its outcome.
    async fn transfer(&self) -> Outcome {
        let run = self.session.run("Yes, please transfer me");
        let turn = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .expect("the transfer finishes")
            .unwrap();
        let outcome = self.outcome.lock().unwrap().clone().expect("the tool ran");
        let expected = if outcome.is_ok() {
            "connected to a technician"
        } else {
            "couldn't reach a technician"
        };
        turn.expect()
            .contains_message(Role::Assistant)
            .containing(expected);
        outcome
    }

    /// A failed transfer left the caller off hold, on the line, and able to go on.
    async fn caller_resumed(&self) {
        assert!(!self.tel.is_on_hold(&self.tel.caller()));
        assert!(self.tel.is_up(&self.tel.caller()));
        assert!(!self.caller.hung_up());
        let turn = self.session.run("Okay, take a message then").await.unwrap();
        turn.expect()
            .contains_message(Role::Assistant)
            .containing("what message");
    }

    /// The caller heard the hold tone during the consult.
    fn caller_heard_hold_audio(&self) {
        let frames = frames_at(&self.caller.recorded(), HOLD_TONE_HZ);
        assert!(frames >= 10, "{frames} frames of hold tone");
    }
}

async fn ended(control: &agents_sip::call::CallControl) -> bool {
    tokio::time::timeout(Duration::from_secs(5), control.ended())
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_transfer_bridges_caller_and_human_media() {
    let [_, _, phone_ports] = ports(0);
    let script = Script {
        lines: vec![HELLO.1, ACCEPT.1],
        pause: Duration::ZERO,
        end: End::Stay,
    };
    let (phone_addr, phone_handle, mut stayed) = phone(phone_ports, script).await;
    let mut h = harness(0, format!("sip:sam@{phone_addr}"), Duration::from_secs(10)).await;

    let outcome = h.transfer().await;
    assert_eq!(
        outcome,
        Ok(WarmTransferResult {
            human_agent_identity: "human_agent".into()
        })
    );
    // The human was briefed over the line and heard by the STT.
    assert_eq!(h.tts.spoken(), vec![INTRO.to_string()]);
    assert_eq!(
        h.stt.heard(),
        vec![HELLO.0.to_string(), ACCEPT.0.to_string()]
    );
    h.caller_heard_hold_audio();
    assert!(!h.tel.is_on_hold(&h.tel.caller()));
    // The agent left: its voice pipeline got the caller's hangup.
    let left = tokio::time::timeout(Duration::from_secs(2), async {
        // `Hangup`, or the end of the input if the pipeline was too far behind to take it.
        while let Some(ev) = h.pipeline.recv().await {
            if ev == InputEvent::Hangup {
                return;
            }
        }
    })
    .await;
    assert!(left.is_ok(), "the agent's pipeline input ended");

    // Media flows both ways through the bridge.
    let mut human = tokio::time::timeout(Duration::from_secs(2), stayed.recv())
        .await
        .unwrap()
        .unwrap();
    let caller_mark = h.caller.recorded().len();
    let human_mark = human.ear.lock().unwrap().samples.len();
    let caller_tone = tone(1500.0, 600);
    let human_tone = tone(1800.0, 600);
    let (a, _) = tokio::join!(
        h.caller.play(&caller_tone),
        play(&mut human.out, &human_tone)
    );
    a.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let (mut to_human, mut to_caller) = (0, 0);
    while tokio::time::Instant::now() < deadline && (to_human < 20 || to_caller < 20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        to_human = frames_at(&human.ear.lock().unwrap().samples[human_mark..], 1500.0);
        to_caller = frames_at(&h.caller.recorded()[caller_mark..], 1800.0);
    }
    assert!(
        to_human >= 20,
        "the human heard {to_human} frames of the caller"
    );
    assert!(
        to_caller >= 20,
        "the caller heard {to_caller} frames of the human"
    );
    // Hold audio stopped before the caller was connected.
    assert_eq!(
        frames_at(&h.caller.recorded()[caller_mark..], HOLD_TONE_HZ),
        0
    );

    // The caller hangs up: the bridge ends the human's call too, and nothing leaks.
    let human_control = human.control.clone();
    h.caller.hangup().await;
    assert!(ended(&human_control).await, "the human's call ended");
    assert!(wait_idle(&h.agent_server, Duration::from_secs(5)).await);
    assert!(wait_idle(&phone_handle, Duration::from_secs(5)).await);
    h.session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_by_the_human_resumes_the_caller() {
    let [_, _, phone_ports] = ports(1);
    let script = Script {
        lines: vec![HELLO.1, DECLINE.1],
        pause: Duration::ZERO,
        end: End::Stay,
    };
    let (phone_addr, _phone_handle, mut stayed) = phone(phone_ports, script).await;
    let h = harness(1, format!("sip:sam@{phone_addr}"), Duration::from_secs(10)).await;
    assert_eq!(
        h.transfer().await,
        Err(Some(TransferError::Declined {
            reason: "in a meeting".into()
        }))
    );
    assert_eq!(h.tts.spoken(), vec![INTRO.to_string(), GOODBYE.to_string()]);
    let human = stayed.recv().await.unwrap();
    assert!(
        ended(&human.control).await,
        "the agent hung up on the human"
    );
    h.caller_heard_hold_audio();
    h.caller_resumed().await;
    h.session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_line_is_busy() {
    let busy = refusing_phone(486, "Busy Here").await;
    let h = harness(2, format!("sip:sam@{busy}"), Duration::from_secs(10)).await;
    assert_eq!(h.transfer().await, Err(Some(TransferError::Busy)));
    assert!(h.tts.spoken().is_empty());
    h.caller_resumed().await;
    h.session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decline_while_ringing_and_other_statuses_are_typed() {
    let declined = refusing_phone(603, "Decline").await;
    let h = harness(3, format!("sip:sam@{declined}"), Duration::from_secs(10)).await;
    assert_eq!(h.transfer().await, Err(Some(TransferError::Busy)));
    h.caller_resumed().await;
    h.session.close().await;

    let missing = refusing_phone(404, "Not Found").await;
    let h = harness(4, format!("sip:sam@{missing}"), Duration::from_secs(10)).await;
    assert_eq!(
        h.transfer().await,
        Err(Some(TransferError::DialFailed {
            reason: "SIP 404".into()
        }))
    );
    h.caller_resumed().await;
    h.session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_within_the_ringing_timeout_cancels() {
    let [_, _, phone_ports] = ports(5);
    let (phone_addr, phone_handle) = ringing_phone(phone_ports).await;
    let h = harness(
        5,
        format!("sip:sam@{phone_addr}"),
        Duration::from_millis(1500),
    )
    .await;
    let started = tokio::time::Instant::now();
    assert_eq!(h.transfer().await, Err(Some(TransferError::NoAnswer)));
    assert!(started.elapsed() >= Duration::from_millis(1500));
    // The CANCEL reached the phone: it stopped ringing and holds nothing.
    assert!(wait_idle(&phone_handle, Duration::from_secs(5)).await);
    h.caller_resumed().await;
    h.session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voicemail_greeting_is_detected_and_hung_up() {
    let [_, _, phone_ports] = ports(6);
    let script = Script {
        lines: vec![GREETING.1],
        pause: Duration::ZERO,
        end: End::Stay,
    };
    let (phone_addr, _phone_handle, mut stayed) = phone(phone_ports, script).await;
    let h = harness(6, format!("sip:sam@{phone_addr}"), Duration::from_secs(10)).await;
    assert_eq!(h.transfer().await, Err(Some(TransferError::Voicemail)));
    // No message was left.
    assert!(h.tts.spoken().is_empty());
    let machine = stayed.recv().await.unwrap();
    assert!(ended(&machine.control).await, "the agent hung up");
    h.caller_resumed().await;
    h.session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_hanging_up_during_the_briefing_resumes_the_caller() {
    let [_, _, phone_ports] = ports(7);
    let script = Script {
        lines: vec![HELLO.1],
        pause: Duration::ZERO,
        end: End::HangUpAfterAgent,
    };
    let (phone_addr, phone_handle, _stayed) = phone(phone_ports, script).await;
    let h = harness(7, format!("sip:sam@{phone_addr}"), Duration::from_secs(10)).await;
    assert_eq!(h.transfer().await, Err(Some(TransferError::HumanHungUp)));
    assert_eq!(h.tts.spoken(), vec![INTRO.to_string()]);
    assert!(wait_idle(&phone_handle, Duration::from_secs(5)).await);
    h.caller_resumed().await;
    h.session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_hanging_up_during_the_consult_fails_typed_and_frees_the_human() {
    let [_, _, phone_ports] = ports(8);
    // The human takes 1.5 s to accept; the caller hangs up meanwhile.
    let script = Script {
        lines: vec![HELLO.1, ACCEPT.1],
        pause: Duration::from_millis(1500),
        end: End::Stay,
    };
    let (phone_addr, phone_handle, mut stayed) = phone(phone_ports, script).await;
    let h = harness(8, format!("sip:sam@{phone_addr}"), Duration::from_secs(10)).await;
    let caller_control = h.caller.control();
    let tts = h.tts.clone();
    let hang_up = tokio::spawn(async move {
        // Once the human has been briefed, the caller gives up waiting.
        while tts.spoken().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        caller_control.hangup().await;
    });
    let outcome = h.transfer().await;
    hang_up.await.unwrap();
    let caller = h.tel.caller();
    match outcome {
        Err(Some(TransferError::CallerHungUp)) => {}
        other => panic!("{other:?}"),
    }
    assert!(!h.tel.is_up(&caller));
    let human = stayed.recv().await.unwrap();
    assert!(ended(&human.control).await, "the human was hung up");
    assert!(wait_idle(&phone_handle, Duration::from_secs(5)).await);
    assert!(wait_idle(&h.agent_server, Duration::from_secs(5)).await);
    h.session.close().await;
}
