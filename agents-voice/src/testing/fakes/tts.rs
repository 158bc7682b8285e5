//! A TTS that answers each segment after a fixed time to first byte, with audio whose length
//! is scripted or proportional to the text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::audio::AudioFrame;
use crate::error::{VoiceError, VoiceResult};
use crate::tts::{SynthesizedAudio, Tts, TtsInput, TtsStream};

const FRAME: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
struct Script {
    durations: HashMap<String, Duration>,
    /// Streams still to fail before any audio.
    fail_streams: usize,
    /// Fail every stream after this much audio.
    fail_after_audio: Option<Duration>,
}

/// Starts a segment's audio `ttfb` after its text is complete (a flush or the end of input),
/// like a TTS that needs whole sentences; the audio lasts the scripted duration for that text
/// (trimmed), else `secs_per_char` per character. Records the text of every segment.
#[derive(Clone, Debug)]
pub struct FakeTts {
    sample_rate: u32,
    ttfb: Duration,
    secs_per_char: f64,
    script: Arc<Mutex<Script>>,
    spoken: Arc<Mutex<Vec<String>>>,
    streams: Arc<AtomicUsize>,
}

impl FakeTts {
    /// A fake at `sample_rate`: ttfb 0.2 s, 0.05 s of audio per character.
    pub fn new(sample_rate: u32) -> Self {
        FakeTts {
            sample_rate,
            ttfb: Duration::from_millis(200),
            secs_per_char: 0.05,
            script: Arc::default(),
            spoken: Arc::default(),
            streams: Arc::default(),
        }
    }

    /// Another time to first byte.
    pub fn ttfb(mut self, d: Duration) -> Self {
        self.ttfb = d;
        self
    }

    /// `text` (trimmed) synthesizes to `secs` seconds of audio.
    pub fn audio_for(self, text: &str, secs: f64) -> Self {
        self.lock()
            .durations
            .insert(text.trim().to_string(), Duration::from_secs_f64(secs));
        self
    }

    /// The next `n` streams fail before sending audio.
    pub fn fail_streams(self, n: usize) -> Self {
        self.lock().fail_streams = n;
        self
    }

    /// Every stream fails after `secs` of audio.
    pub fn fail_after_audio(self, secs: f64) -> Self {
        self.lock().fail_after_audio = Some(Duration::from_secs_f64(secs));
        self
    }

    /// The text of every segment synthesized, in order.
    pub fn spoken(&self) -> Vec<String> {
        self.spoken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How many streams were opened.
    pub fn streams_opened(&self) -> usize {
        self.streams.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn duration_of(&self, text: &str) -> Duration {
        let text = text.trim();
        self.lock().durations.get(text).copied().unwrap_or_else(|| {
            Duration::from_secs_f64(text.chars().count() as f64 * self.secs_per_char)
        })
    }
}

impl Tts for FakeTts {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn stream(&self) -> VoiceResult<TtsStream> {
        self.streams.fetch_add(1, Ordering::SeqCst);
        let (in_tx, mut in_rx) = mpsc::channel::<TtsInput>(256);
        let (out_tx, out_rx) = mpsc::channel(1024);
        let (seg_tx, mut seg_rx) = mpsc::unbounded_channel::<String>();
        // Collect segments as their text completes.
        tokio::spawn(async move {
            let mut text = String::new();
            while let Some(input) = in_rx.recv().await {
                match input {
                    TtsInput::Text(t) => text.push_str(&t),
                    TtsInput::Flush => {
                        let _ = seg_tx.send(std::mem::take(&mut text));
                    }
                    TtsInput::EndInput => break,
                }
            }
            let _ = seg_tx.send(text);
        });
        let fail_now = {
            let mut s = self.lock();
            let fail = s.fail_streams > 0;
            s.fail_streams = s.fail_streams.saturating_sub(1);
            fail
        };
        let fail_after = self.lock().fail_after_audio;
        let me = self.clone();
        tokio::spawn(async move {
            let mut segment_id = 0;
            let mut sent = Duration::ZERO;
            while let Some(text) = seg_rx.recv().await {
                if text.trim().is_empty() {
                    continue;
                }
                tokio::time::sleep(me.ttfb).await;
                if fail_now {
                    let _ = out_tx
                        .send(Err(VoiceError::provider(
                            "fake-tts",
                            "scripted failure",
                            false,
                            None,
                        )))
                        .await;
                    return;
                }
                me.spoken
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(text.trim().to_string());
                let total = me.duration_of(&text);
                let mut left = total;
                while !left.is_zero() {
                    if fail_after.is_some_and(|f| sent >= f) {
                        let _ = out_tx
                            .send(Err(VoiceError::provider(
                                "fake-tts",
                                "failed mid-stream",
                                false,
                                None,
                            )))
                            .await;
                        return;
                    }
                    let d = left.min(FRAME);
                    left -= d;
                    sent += d;
                    let frame = AudioFrame {
                        samples: vec![
                            1000;
                            (d.as_secs_f64() * f64::from(me.sample_rate)).round() as usize
                        ],
                        sample_rate: me.sample_rate,
                        channels: 1,
                    };
                    let audio = SynthesizedAudio {
                        frame,
                        segment_id,
                        is_final: left.is_zero(),
                        delta_text: String::new(),
                    };
                    if out_tx.send(Ok(audio)).await.is_err() {
                        return;
                    }
                }
                segment_id += 1;
            }
        });
        Ok(TtsStream {
            input: in_tx,
            output: out_rx,
        })
    }

    fn label(&self) -> &str {
        "fake-tts"
    }
}
