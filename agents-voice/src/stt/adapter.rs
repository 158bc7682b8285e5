//! [`SttStreamAdapter`]: turns a [`BatchStt`] into a streaming [`Stt`] using VAD
//! segments, as the reference's `stt.StreamAdapter`: VAD start of speech → STT start
//! of speech; VAD end of speech → end of speech (back-dated by the VAD's silence), then
//! one `recognize()` of the utterance and a final transcript if the text is non-empty.
//!
//! Recognition runs on its own task so audio intake never waits for a request; events
//! still come out in order.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{
    BatchStt, SpeechData, SpeechEvent, SpeechEventKind, Stt, SttCapabilities, SttInput, SttStream,
    STREAM_CAPACITY,
};
use crate::audio::AudioFrame;
use crate::error::VoiceResult;
use crate::vad::{Vad, VadEvent, VadEventKind, VadStream};

/// Longest silence pushed at end of input to close an open utterance.
const END_INPUT_SILENCE: Duration = Duration::from_secs(5);

/// Batch recogniser + VAD = streaming recogniser.
pub struct SttStreamAdapter<B: BatchStt> {
    batch: Arc<B>,
    vad: Arc<dyn Vad>,
    label: String,
}

impl<B: BatchStt> SttStreamAdapter<B> {
    /// Wraps `batch`, segmenting audio with `vad`.
    pub fn new(batch: B, vad: Arc<dyn Vad>) -> Self {
        let label = format!("{}+vad", batch.label());
        Self {
            batch: Arc::new(batch),
            vad,
            label,
        }
    }
}

/// Work items for the recognition task, in stream order.
enum Step {
    Emit(SpeechEvent),
    Recognize {
        audio: AudioFrame,
        start: Duration,
        end: Duration,
    },
}

impl<B: BatchStt> Stt for SttStreamAdapter<B> {
    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities {
            streaming: true,
            interim_results: false,
        }
    }

    fn stream(&self) -> VoiceResult<SttStream> {
        let rt = crate::error::runtime(&self.label)?;
        let (input_tx, mut input_rx) = mpsc::channel::<SttInput>(STREAM_CAPACITY);
        let (event_tx, event_rx) = mpsc::channel(STREAM_CAPACITY);
        let (step_tx, mut step_rx) = mpsc::unbounded_channel::<Step>();
        let mut vad = self.vad.stream();
        let vad_rate = self.vad.sample_rate();
        rt.spawn(async move {
            let mut speaking = false;
            while let Some(input) = input_rx.recv().await {
                match input {
                    SttInput::Audio(frame) => {
                        let events = vad.push_frame(&frame);
                        if !forward(&events, &mut speaking, &step_tx) {
                            return;
                        }
                    }
                    SttInput::Flush => vad.flush(),
                    SttInput::EndInput => break,
                }
            }
            close_open_utterance(vad.as_mut(), vad_rate, &mut speaking, &step_tx);
        });
        let batch = self.batch.clone();
        rt.spawn(async move {
            while let Some(step) = step_rx.recv().await {
                let event = match step {
                    Step::Emit(ev) => ev,
                    Step::Recognize { audio, start, end } => match batch.recognize(audio).await {
                        Ok(data) if data.text.trim().is_empty() => continue,
                        Ok(data) => SpeechEvent {
                            kind: SpeechEventKind::FinalTranscript,
                            alternatives: vec![SpeechData {
                                start_time: start,
                                end_time: end,
                                ..data
                            }],
                            speech_end_time: None,
                        },
                        Err(e) => {
                            let _ = event_tx.send(Err(e)).await;
                            return;
                        }
                    },
                };
                if event_tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
        });
        Ok(SttStream {
            input: input_tx,
            events: event_rx,
        })
    }

    fn label(&self) -> &str {
        &self.label
    }
}

/// Maps VAD events to steps. Returns false when the consumer is gone.
fn forward(events: &[VadEvent], speaking: &mut bool, steps: &mpsc::UnboundedSender<Step>) -> bool {
    for ev in events {
        let step = match ev.kind {
            VadEventKind::InferenceDone => continue,
            VadEventKind::StartOfSpeech => {
                *speaking = true;
                Step::Emit(SpeechEvent::bare(SpeechEventKind::StartOfSpeech))
            }
            VadEventKind::EndOfSpeech => {
                *speaking = false;
                let end = ev.timestamp.saturating_sub(ev.silence_duration);
                let mut eos = SpeechEvent::bare(SpeechEventKind::EndOfSpeech);
                eos.speech_end_time = Some(end);
                if steps.send(Step::Emit(eos)).is_err() {
                    return false;
                }
                let Some(first) = ev.frames.first() else {
                    continue;
                };
                match AudioFrame::concat(&ev.frames, first.sample_rate, first.channels) {
                    Ok(audio) => {
                        let start = ev.timestamp.saturating_sub(audio.duration());
                        Step::Recognize { audio, start, end }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "VAD utterance frames could not be merged");
                        continue;
                    }
                }
            }
        };
        if steps.send(step).is_err() {
            return false;
        }
    }
    true
}

/// At end of input, pushes silence (16 ms at a time) until an open utterance ends.
fn close_open_utterance(
    vad: &mut dyn VadStream,
    rate: u32,
    speaking: &mut bool,
    steps: &mpsc::UnboundedSender<Step>,
) {
    let step = Duration::from_millis(16);
    let mut pushed = Duration::ZERO;
    while *speaking && pushed < END_INPUT_SILENCE {
        let events = vad.push_frame(&AudioFrame::silence(rate, 1, step));
        if !forward(&events, speaking, steps) {
            return;
        }
        pushed += step;
    }
}
