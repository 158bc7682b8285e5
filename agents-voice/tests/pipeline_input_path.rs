//! The input path creates its VAD stream at the first sound and keeps stream time right.

use std::sync::Arc;

use agents_voice::audio::AudioFrame;
use agents_voice::pipeline::InputPath;
use agents_voice::testing::fakes::{FakeVad, Timeline};
use agents_voice::vad::VadEventKind;

fn frame(level: i16) -> AudioFrame {
    AudioFrame::new(vec![level; 80], 8_000, 1).unwrap()
}

#[test]
fn silence_defers_the_vad_and_its_stream_time_is_kept() {
    let timeline = Timeline::new().speech(1.0, 2.0, "hi");
    let mut path = InputPath::deferred(Arc::new(FakeVad::new(&timeline)));
    // 1 s of 8 kHz digital silence in 10 ms frames: no VAD yet, 16 kHz silence out.
    let mut out_samples = 0;
    for _ in 0..100 {
        let (out, events) = path.push(&frame(0)).unwrap();
        assert!(events.is_empty());
        assert_eq!(out.sample_rate, 16_000);
        assert!(out.samples.iter().all(|s| *s == 0));
        out_samples += out.samples.len();
    }
    assert_eq!(out_samples, 16_000);
    assert!(!path.vad_started());
    // Sound starts the VAD; its start of speech is in stream time (1.0 + 0.05).
    let mut sos = None;
    for i in 0..20 {
        let (_, events) = path.push(&frame(3000)).unwrap();
        if let Some(ev) = events
            .iter()
            .find(|e| e.kind == VadEventKind::StartOfSpeech)
        {
            sos.get_or_insert((i, ev.timestamp));
        }
    }
    assert!(path.vad_started());
    let (_, at) = sos.expect("a start of speech");
    assert!((at.as_secs_f64() - 1.05).abs() < 0.011, "{at:?}");
}

#[test]
fn bad_frames_are_refused_while_deferred() {
    let mut path = InputPath::deferred(Arc::new(FakeVad::new(&Timeline::new())));
    let odd = AudioFrame {
        samples: vec![0; 3],
        sample_rate: 8_000,
        channels: 2,
    };
    assert!(path.push(&odd).is_err());
    let zero_rate = AudioFrame {
        samples: vec![0; 4],
        sample_rate: 0,
        channels: 1,
    };
    assert!(path.push(&zero_rate).is_err());
    assert!(!path.vad_started());
}
