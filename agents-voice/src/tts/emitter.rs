//! Audio emitter shared by TTS streams: re-chunks decoded audio into frames of at most
//! 200 ms, holds back a 10 ms tail so the last frame of a segment can carry
//! `is_final = true` (as the reference's `AudioEmitter`), and tags text and segments.

use tokio::sync::mpsc;

use super::SynthesizedAudio;
use crate::audio::AudioFrame;
use crate::error::VoiceResult;

/// Longest frame emitted.
const MAX_FRAME_MS: u32 = 200;
/// Tail held back for the final frame of a segment.
const TAIL_MS: u32 = 10;

/// Emits [`SynthesizedAudio`] for one TTS stream.
pub(crate) struct Emitter {
    tx: mpsc::Sender<VoiceResult<SynthesizedAudio>>,
    rate: u32,
    channels: u16,
    tail: Vec<i16>,
    segment_id: u64,
    pending_text: String,
    /// Audio emitted since the stream started (for the no-retry-after-audio rule).
    pub emitted_any: bool,
}

impl Emitter {
    pub(crate) fn new(
        tx: mpsc::Sender<VoiceResult<SynthesizedAudio>>,
        rate: u32,
        channels: u16,
    ) -> Self {
        Self {
            tx,
            rate,
            channels: channels.max(1),
            tail: Vec::new(),
            segment_id: 0,
            pending_text: String::new(),
            emitted_any: false,
        }
    }

    /// Text to attach to the next emitted frame.
    pub(crate) fn add_text(&mut self, text: &str) {
        self.pending_text.push_str(text);
    }

    fn samples(&self, ms: u32) -> usize {
        (self.rate as usize * ms as usize / 1000) * self.channels as usize
    }

    /// Queues samples; emits everything but the tail. Returns false if the consumer left.
    pub(crate) async fn push(&mut self, samples: &[i16]) -> bool {
        self.tail.extend_from_slice(samples);
        let keep = self.samples(TAIL_MS);
        let max = self.samples(MAX_FRAME_MS).max(self.channels as usize);
        while self.tail.len() > keep {
            let n = (self.tail.len() - keep).min(max);
            let n = n - n % self.channels as usize;
            if n == 0 {
                break;
            }
            let chunk: Vec<i16> = self.tail.drain(..n).collect();
            if !self.send(chunk, false).await {
                return false;
            }
        }
        true
    }

    /// Ends the segment: emits the held tail (maybe empty) with `is_final`.
    pub(crate) async fn end_segment(&mut self) -> bool {
        let chunk = std::mem::take(&mut self.tail);
        let ok = self.send(chunk, true).await;
        self.segment_id += 1;
        ok
    }

    async fn send(&mut self, samples: Vec<i16>, is_final: bool) -> bool {
        if !samples.is_empty() {
            self.emitted_any = true;
        }
        let audio = SynthesizedAudio {
            frame: AudioFrame {
                samples,
                sample_rate: self.rate,
                channels: self.channels,
            },
            segment_id: self.segment_id,
            is_final,
            delta_text: std::mem::take(&mut self.pending_text),
        };
        self.tx.send(Ok(audio)).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rechunks_holds_tail_and_marks_final() {
        let (tx, mut rx) = mpsc::channel(64);
        let mut e = Emitter::new(tx, 1000, 1);
        e.add_text("Hello.");
        assert!(e.push(&vec![1; 450]).await);
        assert!(e.end_segment().await);
        drop(e);
        let mut frames = Vec::new();
        while let Some(a) = rx.recv().await {
            frames.push(a.unwrap());
        }
        let lens: Vec<usize> = frames.iter().map(|a| a.frame.samples.len()).collect();
        assert_eq!(
            lens,
            vec![200, 200, 40, 10],
            "200 ms frames, 10 ms tail last"
        );
        assert_eq!(frames[0].delta_text, "Hello.");
        assert!(frames[..3].iter().all(|a| !a.is_final) && frames[3].is_final);
        assert!(frames.iter().all(|a| a.segment_id == 0));
    }
}
