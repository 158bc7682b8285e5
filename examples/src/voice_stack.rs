//! The ears and voice of a call: VAD, STT and TTS, either configured from the environment
//! (as the model is) or scripted, so `voice` and `sip` also run with no key and no network.
//!
//! The scripted stack hears each utterance the VAD finds as the demo's next spoken line (in
//! order, one line per utterance; `/dtmf` lines are left to the keypad) and speaks with a
//! steady tone whose length follows the text, as a real voice would.

use agents_voice::config::VoiceConfig;
use agents_voice::stt::{BatchStt, SpeechData, Stt, SttStreamAdapter};
use agents_voice::testing::fakes::FakeTts;
use agents_voice::tts::Tts;
use agents_voice::vad::{EarshotVad, Vad, VadOptions};
use agents_voice::{AudioFrame, VoiceResult};
use futures::future::BoxFuture;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Rate of the scripted voice (resampled to the output's rate by the pipeline).
const SCRIPTED_TTS_RATE: u32 = 16_000;
/// Time to first audio of the scripted voice.
const SCRIPTED_TTS_TTFB: Duration = Duration::from_millis(150);

/// The VAD, STT and TTS of one call.
pub struct VoiceStack {
    /// Voice activity detection (turn-taking, interruptions).
    pub vad: Arc<dyn Vad>,
    /// Speech to text.
    pub stt: Arc<dyn Stt>,
    /// Text to speech.
    pub tts: Arc<dyn Tts>,
}

/// Where calls get their voice stack from.
#[derive(Clone)]
pub enum VoiceSource {
    /// The providers configured in the environment (`VoiceConfig::from_env`).
    Configured(Box<VoiceConfig>),
    /// The scripted stack: the demo's lines as what the caller says, a tone as the voice.
    Scripted,
}

impl VoiceSource {
    /// The configured providers; a bad or missing setting is an error naming the variables.
    pub fn from_env() -> Result<Self, String> {
        VoiceConfig::from_env()
            .map(|config| VoiceSource::Configured(Box::new(config)))
            .map_err(|e| format!("voice providers: {e}"))
    }

    /// A fresh stack for one call; `lines` are the demo's spoken lines (scripted only).
    pub fn stack(&self, lines: &[&str]) -> VoiceStack {
        let vad: Arc<dyn Vad> = Arc::new(EarshotVad::new(VadOptions::default()));
        match self {
            VoiceSource::Configured(config) => VoiceStack {
                stt: config.build_stt(vad.clone()),
                tts: config.build_tts(),
                vad,
            },
            VoiceSource::Scripted => VoiceStack {
                stt: Arc::new(SttStreamAdapter::new(ScriptedStt::new(lines), vad.clone())),
                tts: Arc::new(FakeTts::new(SCRIPTED_TTS_RATE).ttfb(SCRIPTED_TTS_TTFB)),
                vad,
            },
        }
    }

    /// A short description for the start-up line.
    pub fn describe(&self) -> &'static str {
        match self {
            VoiceSource::Configured(_) => "STT and TTS from the environment",
            VoiceSource::Scripted => {
                "scripted: each utterance is heard as the demo's next line, the voice is a tone"
            }
        }
    }
}

/// A recogniser that hears each utterance as the next scripted line (nothing once the lines
/// run out).
#[derive(Clone)]
pub struct ScriptedStt {
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl ScriptedStt {
    /// Hears `lines` in order; keypad lines (`/dtmf ...`) are skipped, since digits come from
    /// the keypad on a call.
    pub fn new(lines: &[&str]) -> Self {
        let lines = lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && !l.starts_with("/dtmf"))
            .map(str::to_string)
            .collect();
        ScriptedStt {
            lines: Arc::new(Mutex::new(lines)),
        }
    }

    /// The lines not heard yet.
    pub fn remaining(&self) -> usize {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl BatchStt for ScriptedStt {
    fn recognize(&self, audio: AudioFrame) -> BoxFuture<'static, VoiceResult<SpeechData>> {
        let text = self
            .lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or_default();
        let duration = audio.duration();
        Box::pin(async move {
            Ok(SpeechData {
                text,
                confidence: 1.0,
                end_time: duration,
                ..SpeechData::default()
            })
        })
    }

    fn label(&self) -> &str {
        "scripted-stt"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scripted_stt_hears_the_lines_in_order_and_skips_keypad_lines() {
        let stt = ScriptedStt::new(&["Hello there.", "/dtmf 12#", "  ", "Goodbye."]);
        assert_eq!(stt.remaining(), 2);
        let frame = AudioFrame::silence(16_000, 1, Duration::from_millis(500));
        let first = stt.recognize(frame.clone()).await.unwrap();
        assert_eq!(first.text, "Hello there.");
        assert_eq!(first.end_time, Duration::from_millis(500));
        assert_eq!(stt.recognize(frame.clone()).await.unwrap().text, "Goodbye.");
        assert_eq!(stt.recognize(frame).await.unwrap().text, "");
    }
}
