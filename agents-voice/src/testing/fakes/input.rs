//! Audio input that follows a [`Timeline`] in real time (tokio's clock).

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::timeline::Timeline;
use crate::audio::AudioFrame;
use crate::io::{AudioInput, InputEvent};

/// Sends 10 ms frames at 16 kHz, each once its 10 ms have elapsed (a tone while the script
/// has speech, silence otherwise), for `total`, then a hangup.
pub fn timeline_input(timeline: &Timeline, total: Duration) -> (AudioInput, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(64);
    let timeline = timeline.clone();
    let handle = tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        let step = Duration::from_millis(10);
        let mut t = Duration::ZERO;
        while t < total {
            let speaking = timeline
                .utterances
                .iter()
                .any(|u| t >= u.start && t < u.end);
            let level = if speaking { 3000 } else { 0 };
            let frame = AudioFrame {
                samples: vec![level; 160],
                sample_rate: 16_000,
                channels: 1,
            };
            t += step;
            tokio::time::sleep_until(start + t).await;
            if tx.send(InputEvent::Audio(frame)).await.is_err() {
                return;
            }
        }
        let _ = tx.send(InputEvent::Hangup).await;
    });
    (rx, handle)
}
