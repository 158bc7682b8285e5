//! EarshotVad on synthetic audio and on a recorded two-utterance fixture.

use std::time::Duration;

use agents_voice::audio::{read_wav, AudioFrame, Resampler};
use agents_voice::vad::{EarshotVad, Vad, VadEvent, VadEventKind, VadOptions};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/two_utterances.wav"
);

/// Feeds `audio` in `chunk` frames and returns start/end events.
fn run(vad: &dyn Vad, audio: &AudioFrame, chunk: Duration) -> Vec<VadEvent> {
    let mut s = vad.stream();
    let per = ((chunk.as_secs_f64() * f64::from(audio.sample_rate)) as usize).max(1)
        * audio.channels as usize;
    let mut out = Vec::new();
    for c in audio.samples.chunks(per) {
        let f = AudioFrame::new(c.to_vec(), audio.sample_rate, audio.channels).unwrap();
        out.extend(
            s.push_frame(&f)
                .into_iter()
                .filter(|e| e.kind != VadEventKind::InferenceDone),
        );
    }
    out
}

/// The fixture followed by 1 s more silence, as a live stream would continue.
fn padded_fixture() -> AudioFrame {
    let mut audio = read_wav(FIXTURE).unwrap();
    audio.samples.extend(std::iter::repeat_n(0, 16_000));
    audio
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[test]
fn silence_and_low_noise_make_no_speech() {
    let vad = EarshotVad::default();
    let silence = AudioFrame::silence(16_000, 1, Duration::from_secs(3));
    assert!(run(&vad, &silence, Duration::from_millis(20)).is_empty());
    let mut rng = 12345u32;
    let noise: Vec<i16> = (0..48_000)
        .map(|_| {
            rng = rng.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((rng >> 16) as i16) / 256
        })
        .collect();
    let noise = AudioFrame::new(noise, 16_000, 1).unwrap();
    assert!(
        run(&vad, &noise, Duration::from_millis(20)).is_empty(),
        "quiet white noise is not speech"
    );
}

#[test]
fn finds_both_utterances_with_reference_timing() {
    let audio = padded_fixture();
    assert_eq!((audio.sample_rate, audio.channels), (16_000, 1));
    let events = run(&vad_with_500ms_silence(), &audio, Duration::from_millis(10));
    for e in &events {
        eprintln!(
            "{:?} t={:.3} speech={:.3} silence={:.3}",
            e.kind,
            secs(e.timestamp),
            secs(e.speech_duration),
            secs(e.silence_duration)
        );
    }
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    use VadEventKind::*;
    assert_eq!(
        kinds,
        vec![StartOfSpeech, EndOfSpeech, StartOfSpeech, EndOfSpeech]
    );
    // Speech: 0.500–2.673 s and 3.873–4.805 s.
    let t: Vec<f64> = events.iter().map(|e| secs(e.timestamp)).collect();
    assert!((0.5..0.75).contains(&t[0]), "SOS 1 at {:.3}", t[0]);
    assert!((3.87..4.1).contains(&t[2]), "SOS 2 at {:.3}", t[2]);
    // EOS fires min_silence after speech ends; back-dated it lands near the real end.
    for (i, real_end) in [(1, 2.673), (3, 4.805)] {
        let eos = &events[i];
        assert_eq!(
            eos.silence_duration,
            Duration::from_millis(512),
            "32 windows of 16 ms"
        );
        let end = secs(eos.timestamp) - secs(eos.silence_duration);
        assert!(
            (end - real_end).abs() < 0.15,
            "utterance {} ends at {end:.3}, expected ≈{real_end}",
            i / 2 + 1
        );
        let utterance = &eos.frames[0];
        assert_eq!(utterance.sample_rate, 16_000);
        assert!(
            utterance.duration() > Duration::from_millis(800),
            "EOS carries the utterance"
        );
    }
    // SOS frames carry the prefix padding (up to 0.5 s before the detected start).
    assert!(events[0].frames[0].duration() >= Duration::from_millis(450));
}

/// The whole 16 kHz `audio` at `rate` (flushed, so nothing is held back).
fn resampled(audio: &AudioFrame, rate: u32) -> AudioFrame {
    let mut r = Resampler::new(16_000, rate, 1).unwrap();
    let mut out = r.process(audio).unwrap();
    out.samples.extend(r.flush().samples);
    out
}

/// An earshot VAD ending an utterance after 0.5 s of silence.
fn vad_with_500ms_silence() -> EarshotVad {
    EarshotVad::new(VadOptions {
        min_silence: Duration::from_millis(500),
        ..VadOptions::default()
    })
}

#[test]
fn works_on_48k_stereo_input_and_flush_resets() {
    let audio = padded_fixture();
    let hi = resampled(&audio, 48_000);
    let stereo: Vec<i16> = hi.samples.iter().flat_map(|s| [*s, *s]).collect();
    let stereo = AudioFrame::new(stereo, 48_000, 2).unwrap();
    let vad = vad_with_500ms_silence();
    let events = run(&vad, &stereo, Duration::from_millis(10));
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!((0.5..0.8).contains(&secs(events[0].timestamp)));

    // Flush in the middle of speech: no EOS for the cut utterance.
    let mut s = vad.stream();
    let first_second = AudioFrame::new(audio.samples[..24_000].to_vec(), 16_000, 1).unwrap();
    let ev = s.push_frame(&first_second);
    assert!(ev.iter().any(|e| e.kind == VadEventKind::StartOfSpeech));
    s.flush();
    let silence = AudioFrame::silence(16_000, 1, Duration::from_secs(1));
    let ev = s.push_frame(&silence);
    assert!(
        ev.iter().all(|e| e.kind == VadEventKind::InferenceDone),
        "flush reset the utterance"
    );
}

#[test]
fn telephone_rate_input_finds_the_same_utterances() {
    let audio = padded_fixture();
    let phone = resampled(&audio, 8_000);
    let vad = vad_with_500ms_silence();
    let events = run(&vad, &phone, Duration::from_millis(20));
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    use VadEventKind::*;
    assert_eq!(
        kinds,
        vec![StartOfSpeech, EndOfSpeech, StartOfSpeech, EndOfSpeech]
    );
    assert!((0.5..0.8).contains(&secs(events[0].timestamp)));
    assert!((3.87..4.15).contains(&secs(events[2].timestamp)));
}
