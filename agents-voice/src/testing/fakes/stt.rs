//! An STT that transcribes the scripted speech on tokio's clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::timeline::Timeline;
use crate::error::{VoiceError, VoiceResult};
use crate::stt::{SpeechData, SpeechEvent, SpeechEventKind, Stt, SttCapabilities, SttStream};

/// Interim transcript at `end + stt_delay/2`, final at `end + stt_delay` (none for noise),
/// timed from the moment the fake was created (the start of the call).
#[derive(Clone, Debug)]
pub struct FakeStt {
    timeline: Arc<Timeline>,
    origin: Instant,
    failing: bool,
    streams: Arc<AtomicUsize>,
}

impl FakeStt {
    /// A fake for `timeline`; the call starts now.
    pub fn new(timeline: &Timeline) -> Self {
        FakeStt {
            timeline: Arc::new(timeline.clone()),
            origin: Instant::now(),
            failing: false,
            streams: Arc::default(),
        }
    }

    /// Every stream fails at once with an unrecoverable error.
    pub fn failing(mut self) -> Self {
        self.failing = true;
        self
    }

    /// How many streams were opened.
    pub fn streams_opened(&self) -> usize {
        self.streams.load(Ordering::SeqCst)
    }
}

fn event(kind: SpeechEventKind, text: &str) -> SpeechEvent {
    SpeechEvent {
        kind,
        alternatives: vec![SpeechData {
            text: text.to_string(),
            confidence: 1.0,
            ..SpeechData::default()
        }],
        speech_end_time: None,
    }
}

impl Stt for FakeStt {
    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities {
            streaming: true,
            interim_results: true,
        }
    }

    fn stream(&self) -> VoiceResult<SttStream> {
        self.streams.fetch_add(1, Ordering::SeqCst);
        let (in_tx, mut in_rx) = mpsc::channel(4096);
        let (ev_tx, ev_rx) = mpsc::channel(64);
        let now = Instant::now();
        let mut due: Vec<(Instant, VoiceResult<SpeechEvent>)> = Vec::new();
        if self.failing {
            due.push((
                now,
                Err(VoiceError::provider(
                    "fake-stt",
                    "scripted failure",
                    false,
                    None,
                )),
            ));
        } else {
            for u in &self.timeline.utterances {
                if u.text.is_empty() {
                    continue;
                }
                let interim = self.origin + u.end + u.stt_delay / 2;
                let fin = self.origin + u.end + u.stt_delay;
                for (at, kind) in [
                    (interim, SpeechEventKind::InterimTranscript),
                    (fin, SpeechEventKind::FinalTranscript),
                ] {
                    if at >= now {
                        due.push((at, Ok(event(kind, &u.text))));
                    }
                }
            }
            due.sort_by_key(|(t, _)| *t);
        }
        let failing = self.failing;
        tokio::spawn(async move {
            let mut due = due.into_iter().peekable();
            loop {
                let next = due.peek().map(|(t, _)| *t);
                tokio::select! {
                    input = in_rx.recv() => if input.is_none() { return },
                    _ = sleep_until(next) => {
                        let (_, ev) = due.next().expect("peeked");
                        if ev_tx.send(ev).await.is_err() || failing {
                            return;
                        }
                    }
                }
            }
        });
        Ok(SttStream {
            input: in_tx,
            events: ev_rx,
        })
    }

    fn label(&self) -> &str {
        "fake-stt"
    }
}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
