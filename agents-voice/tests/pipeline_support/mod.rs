//! A harness for pipeline tests: a scripted user, fake providers, paused time.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::llm::{ChatItem, Role};
use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_voice::io::{OutputLog, TestAudioOutput};
use agents_voice::pipeline::{
    AgentState, InterruptionCause, PipelineError, SayOptions, TimedEvent, VoiceEvent, VoiceOptions,
    VoiceSession,
};
use agents_voice::testing::fakes::{
    timeline_input, DelayedLlm, FakeStt, FakeTts, FakeVad, Timeline,
};

/// A plain assistant.
#[agent]
pub struct Assistant;

#[function_tools]
impl Assistant {}

/// Something done to the pipeline at a time.
#[derive(Clone, Debug)]
pub enum Action {
    Interrupt,
    PushText(String),
    Say(String, SayOptions),
}

/// One scenario.
pub struct Scenario {
    pub timeline: Timeline,
    pub llm: ScriptedLlm,
    pub ttft: f64,
    pub llm_duration: f64,
    pub tts: FakeTts,
    pub options: VoiceOptions,
    pub pausable: bool,
    pub total: f64,
    pub actions: Vec<(f64, Action)>,
    pub stt_failing: bool,
}

impl Scenario {
    pub fn new(timeline: Timeline, llm: ScriptedLlm) -> Self {
        Scenario {
            timeline,
            llm,
            ttft: 0.1,
            llm_duration: 0.3,
            tts: FakeTts::new(16_000),
            options: VoiceOptions::default(),
            pausable: false,
            total: 12.0,
            actions: Vec::new(),
            stt_failing: false,
        }
    }

    pub async fn run(self) -> Outcome {
        self.run_with(Assistant).await
    }

    pub async fn run_with<A: Agent>(self, agent: A) -> Outcome {
        let llm = DelayedLlm::new(
            self.llm.clone(),
            Duration::from_secs_f64(self.ttft),
            Duration::from_secs_f64(self.llm_duration),
        );
        let session = Arc::new(AgentSession::builder(llm).build());
        let mut stt = FakeStt::new(&self.timeline);
        if self.stt_failing {
            stt = stt.failing();
        }
        let mut output = TestAudioOutput::new(16_000);
        if self.pausable {
            output = output.pausable();
        }
        let log = output.log();
        let mut builder = VoiceSession::builder(session.clone())
            .vad(Arc::new(FakeVad::new(&self.timeline)))
            .stt(Arc::new(stt))
            .tts(Arc::new(self.tts.clone()))
            .options(self.options.clone());
        let mut events_rx = builder.subscribe();
        let (input, _pump) = timeline_input(&self.timeline, Duration::from_secs_f64(self.total));
        let voice = Arc::new(builder.start(agent, input, output).await.unwrap());
        for (at, action) in self.actions.clone() {
            let voice = voice.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs_f64(at)).await;
                match action {
                    Action::Interrupt => voice.interrupt(),
                    Action::PushText(t) => voice.push_text(t),
                    Action::Say(t, o) => voice.say(t, o),
                }
            });
        }
        let result = voice.join().await;
        let mut events = Vec::new();
        while let Ok(ev) = events_rx.try_recv() {
            events.push(ev);
        }
        Outcome {
            closed: session.is_closed(),
            events,
            llm: self.llm,
            tts: self.tts,
            log,
            result,
        }
    }
}

/// What happened.
pub struct Outcome {
    pub closed: bool,
    pub events: Vec<TimedEvent>,
    pub llm: ScriptedLlm,
    pub tts: FakeTts,
    pub log: Arc<Mutex<OutputLog>>,
    pub result: Result<(), PipelineError>,
}

pub fn secs(ev: &TimedEvent) -> f64 {
    ev.at.as_secs_f64()
}

pub fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.051
}

/// The usual opening: the user says "Hello" at 0.5–2.5.
pub fn hello() -> Timeline {
    Timeline::new().speech(0.5, 2.5, "Hello")
}

/// An LLM answering "hello" with `reply` and anything else with "Okay.".
pub fn answers_hello(reply: &str) -> ScriptedLlm {
    ScriptedLlm::new()
        .on_user("hello", Reply::text(reply))
        .otherwise(Reply::text("Okay."))
}

/// A scenario on `timeline` with [`answers_hello`]`(reply)`, the reply lasting `reply_secs`
/// of audio.
pub fn speaking(reply: &str, reply_secs: f64, timeline: Timeline) -> Scenario {
    let mut s = Scenario::new(timeline, answers_hello(reply));
    s.tts = s.tts.audio_for(reply, reply_secs);
    s
}

/// A user message as [`Outcome::last_history`] lists it.
pub fn user(text: &str) -> (Role, String, bool) {
    (Role::User, text.into(), false)
}

/// An assistant message as [`Outcome::last_history`] lists it.
pub fn assistant(text: &str, interrupted: bool) -> (Role, String, bool) {
    (Role::Assistant, text.into(), interrupted)
}

/// §7.6/§7.7: user speech 3.0–4.0 while the LLM (1.0 s) still answers "Hello". Checks what
/// both behaviours share: interrupted at 3.5, never speaking (but thinking), no playback,
/// no assistant message, both user messages in the history.
pub async fn interrupted_while_thinking(llm: ScriptedLlm, pausable: bool) -> Outcome {
    let mut s = Scenario::new(hello().speech(3.0, 4.0, "actually wait"), llm);
    s.llm_duration = 1.0;
    s.pausable = pausable;
    s.total = 4.6;
    let out = s.run().await;
    let dump = out.dump();
    let cuts = out.interruptions();
    assert!(near(cuts[0].0, 3.5), "{dump}");
    assert!(!out.was_ever(AgentState::Speaking), "{dump}");
    // The agent was thinking when it was cut (so the check above saw states at all).
    assert!(out.was_ever(AgentState::Thinking), "{dump}");
    assert!(out.playbacks().is_empty(), "{dump}");
    assert_eq!(
        out.last_history(),
        vec![user("Hello"), user("actually wait")],
        "{dump}"
    );
    out
}

impl Outcome {
    pub fn find(&self, f: impl Fn(&VoiceEvent) -> bool) -> Vec<&TimedEvent> {
        self.events.iter().filter(|e| f(&e.event)).collect()
    }

    pub fn agent_states(&self) -> Vec<(f64, AgentState)> {
        self.events
            .iter()
            .filter_map(|e| match e.event {
                VoiceEvent::AgentState { new, .. } => Some((secs(e), new)),
                _ => None,
            })
            .collect()
    }

    /// Whether the agent entered `state` within 50 ms of `at`.
    pub fn state_near(&self, at: f64, state: AgentState) -> bool {
        self.agent_states()
            .iter()
            .any(|(t, s)| near(*t, at) && *s == state)
    }

    /// Whether the agent was ever in `state`.
    pub fn was_ever(&self, state: AgentState) -> bool {
        self.agent_states().iter().any(|(_, s)| *s == state)
    }

    /// Interruptions: (time, cause).
    pub fn interruptions(&self) -> Vec<(f64, InterruptionCause)> {
        self.events
            .iter()
            .filter_map(|e| match e.event {
                VoiceEvent::Interrupted { cause } => Some((secs(e), cause)),
                _ => None,
            })
            .collect()
    }

    /// Checks there was exactly one interruption: near `at`, for `cause`.
    pub fn assert_interrupted_once(&self, at: f64, cause: InterruptionCause) {
        let cuts = self.interruptions();
        let dump = self.dump();
        assert_eq!(cuts.len(), 1, "{dump}");
        assert!(near(cuts[0].0, at) && cuts[0].1 == cause, "{dump}");
    }

    /// Texts of the committed user turns, in order.
    pub fn committed_turns(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                VoiceEvent::UserTurnCommitted { text } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn playbacks(&self) -> Vec<(f64, f64, bool)> {
        self.events
            .iter()
            .filter_map(|e| match e.event {
                VoiceEvent::PlaybackFinished {
                    playback_position,
                    interrupted,
                    ..
                } => Some((secs(e), playback_position, interrupted)),
                _ => None,
            })
            .collect()
    }

    /// The conversation as the last LLM request saw it: (role, content, interrupted).
    pub fn last_history(&self) -> Vec<(Role, String, bool)> {
        let req = self.llm.requests().pop().expect("an LLM request");
        req.chat_ctx
            .items()
            .iter()
            .filter_map(|i| match i {
                ChatItem::Message(m) if m.role != Role::System => {
                    Some((m.role, m.content.clone(), m.interrupted))
                }
                _ => None,
            })
            .collect()
    }

    pub fn dump(&self) -> String {
        self.events
            .iter()
            .map(|e| format!("{:.3} {:?}", secs(e), e.event))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
