//! Talking on a leg without a full voice pipeline: [`speak`] synthesises text and plays it on
//! the call; a [`Listener`] turns the leg's audio into final transcripts (VAD segments the
//! speech, STT transcribes it), one per thing the person said.

use std::sync::Arc;
use std::time::Duration;

use agents_voice::audio::MonoResampler;
use agents_voice::pipeline::InputPath;
use agents_voice::stt::{SpeechEventKind, Stt, SttInput};
use agents_voice::tts::{Tts, TtsInput};
use agents_voice::vad::{Vad, VadEventKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::audio::{AudioOutput, InputEvent, CALL_RATE};
use crate::call::CallControl;
use crate::playout::CallOutput;

/// How long transcripts still pending when the leg hangs up are waited for.
const FINAL_TRANSCRIPT_GRACE: Duration = Duration::from_secs(1);
/// Transcripts kept before the oldest unread one is dropped.
const MAX_PENDING_UTTERANCES: usize = 32;

/// Why talking on a leg failed.
#[derive(Debug)]
pub(crate) enum VoiceFailure {
    /// The call ended.
    Gone,
    /// The TTS or STT provider failed.
    Provider(String),
}

/// The providers a leg is spoken to and heard with.
#[derive(Clone)]
pub(crate) struct Voice {
    pub tts: Arc<dyn Tts>,
    pub stt: Arc<dyn Stt>,
    pub vad: Arc<dyn Vad>,
}

/// Says `text` on a call: TTS audio, converted to 8 kHz mono, played; returns once it was
/// sent (or the call ended).
pub(crate) async fn speak(
    tts: &dyn Tts,
    text: &str,
    output: &mut CallOutput,
    control: &CallControl,
) -> Result<(), VoiceFailure> {
    let provider = |e: agents_voice::VoiceError| VoiceFailure::Provider(e.to_string());
    let mut stream = tts.stream().map_err(provider)?;
    let closed = || VoiceFailure::Provider("the TTS stream closed its input".into());
    for input in [
        TtsInput::Text(text.to_string()),
        TtsInput::Flush,
        TtsInput::EndInput,
    ] {
        stream.input.send(input).await.map_err(|_| closed())?;
    }
    // TTS audio in the call's format: 8 kHz mono.
    let mut to_call = MonoResampler::new(CALL_RATE);
    loop {
        let next = tokio::select! {
            next = stream.output.recv() => next,
            _ = control.ended() => return Err(VoiceFailure::Gone),
        };
        let Some(chunk) = next else { break };
        let frame = to_call
            .process_owned(chunk.map_err(provider)?.frame)
            .map_err(|e| VoiceFailure::Provider(e.to_string()))?;
        if frame.samples.is_empty() {
            continue;
        }
        if output.capture_frame(frame).await.is_err() {
            return Err(VoiceFailure::Gone);
        }
    }
    if let Some(tail) = to_call.flush() {
        if !tail.samples.is_empty() && output.capture_frame(tail).await.is_err() {
            return Err(VoiceFailure::Gone);
        }
    }
    output.flush();
    tokio::select! {
        _ = output.wait_for_playout() => Ok(()),
        _ = control.ended() => Err(VoiceFailure::Gone),
    }
}

/// What a [`Listener`] hands out: a final transcript, or the provider's failure.
pub(crate) type Heard = Result<String, String>;

/// Hears a leg: its input → VAD (speech boundaries) → STT → final transcripts, in order.
pub(crate) struct Listener {
    task: JoinHandle<()>,
}

impl Listener {
    /// Starts listening to `input` (the leg's relayed input); transcripts go to the returned
    /// channel, which closes when the leg hung up.
    pub(crate) fn start(
        voice: &Voice,
        input: mpsc::Receiver<InputEvent>,
    ) -> Result<(Self, mpsc::Receiver<Heard>), String> {
        let stt = voice.stt.stream().map_err(|e| e.to_string())?;
        let path = InputPath::new(voice.vad.as_ref());
        let (tx, rx) = mpsc::channel(MAX_PENDING_UTTERANCES);
        let task = tokio::spawn(listen(input, path, stt, tx));
        Ok((Listener { task }, rx))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listen(
    mut input: mpsc::Receiver<InputEvent>,
    mut path: InputPath,
    stt: agents_voice::stt::SttStream,
    out: mpsc::Sender<Heard>,
) {
    let agents_voice::stt::SttStream {
        input: stt_in,
        events: mut stt_events,
    } = stt;
    let mut stt_in = Some(stt_in);
    // Armed when the leg hangs up.
    let grace = tokio::time::sleep(Duration::from_secs(86_400));
    tokio::pin!(grace);
    loop {
        tokio::select! {
            ev = input.recv(), if stt_in.is_some() => match ev {
                Some(InputEvent::Audio(frame)) => {
                    let Some(tx) = stt_in.as_ref() else { continue };
                    match path.push(&frame) {
                        Ok((frame, events)) => {
                            // A provider that fell behind loses audio rather than stalling the call.
                            let _ = tx.try_send(SttInput::Audio(frame));
                            if events.iter().any(|e| e.kind == VadEventKind::EndOfSpeech) {
                                let _ = tx.try_send(SttInput::Flush);
                            }
                        }
                        Err(e) => tracing::debug!(error = %e, "unusable frame on a consult leg"),
                    }
                }
                Some(InputEvent::Dtmf(_)) => {}
                Some(InputEvent::Hangup) | None => {
                    if let Some(tx) = stt_in.take() {
                        let _ = tx.send(SttInput::EndInput).await;
                    }
                    grace.as_mut().reset(tokio::time::Instant::now() + FINAL_TRANSCRIPT_GRACE);
                }
            },
            ev = stt_events.recv() => match ev {
                Some(Ok(ev)) if ev.kind == SpeechEventKind::FinalTranscript => {
                    let text = ev.text().trim().to_string();
                    if !text.is_empty() && out.send(Ok(text)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let _ = out.send(Err(e.to_string())).await;
                    return;
                }
                None => {
                    if stt_in.is_some() {
                        let _ = out.send(Err("the STT stream ended".into())).await;
                    }
                    return;
                }
            },
            _ = &mut grace, if stt_in.is_none() => return,
        }
    }
}
