//! Frames, resampling, downmix and WAV I/O: formats are checked, bad input is an error.

use std::borrow::Cow;
use std::time::Duration;

use agents_voice::audio::{
    read_wav, read_wav_from, to_mono, wav_from_bytes, wav_to_bytes, write_wav, AudioFrame,
    MonoResampler, ResampleQuality, Resampler, Upsampler2x,
};
use agents_voice::AudioError;

fn sine(freq: f64, rate: u32, secs: f64) -> Vec<i16> {
    let n = (secs * f64::from(rate)) as usize;
    (0..n)
        .map(|i| {
            ((i as f64 / f64::from(rate) * freq * std::f64::consts::TAU).sin() * 10_000.0) as i16
        })
        .collect()
}

#[test]
fn frame_invariants_are_checked() {
    assert_eq!(
        AudioFrame::new(vec![0; 4], 0, 1),
        Err(AudioError::InvalidSampleRate(0))
    );
    assert_eq!(
        AudioFrame::new(vec![0; 4], 16_000, 0),
        Err(AudioError::InvalidChannels(0))
    );
    assert_eq!(
        AudioFrame::new(vec![0; 3], 16_000, 2),
        Err(AudioError::UnevenChannels {
            len: 3,
            channels: 2
        })
    );
    assert_eq!(
        AudioFrame::from_s16le(&[1, 2, 3], 16_000, 1),
        Err(AudioError::OddByteCount(3))
    );
    let f = AudioFrame::from_s16le(&[0x01, 0x00, 0xff, 0xff], 8_000, 1).unwrap();
    assert_eq!(f.samples, vec![1, -1]);
    assert_eq!(f.to_s16le(), vec![0x01, 0x00, 0xff, 0xff]);
    let s = AudioFrame::silence(24_000, 2, Duration::from_millis(50));
    assert_eq!((s.samples_per_channel(), s.samples.len()), (1_200, 2_400));
    assert_eq!(s.duration(), Duration::from_millis(50));
    // Zero rate/channels in silence() are clamped, never a panic or division by zero.
    assert_eq!(
        AudioFrame::silence(0, 0, Duration::from_secs(1))
            .samples
            .len(),
        1
    );
    let err = AudioFrame::concat(
        &[
            s.clone(),
            AudioFrame::silence(16_000, 2, Duration::from_millis(10)),
        ],
        24_000,
        2,
    );
    assert!(matches!(
        err,
        Err(AudioError::FormatMismatch { rate: 16_000, .. })
    ));
}

#[test]
fn downmix_averages_channels() {
    let f = AudioFrame::new(vec![100, 300, -32768, -32768, 32767, -32768], 8_000, 2).unwrap();
    assert_eq!(to_mono(&f).samples, vec![200, -32768, 0]);
    assert_eq!(to_mono(&f).channels, 1);
}

/// Streams `input` through a resampler in `chunk`-sample frames, plus the flush.
fn resample_stream(
    input: &[i16],
    from: u32,
    to: u32,
    chunk: usize,
    q: ResampleQuality,
) -> Vec<i16> {
    let mut r = Resampler::with_quality(from, to, 1, q).unwrap();
    let mut out = Vec::new();
    for c in input.chunks(chunk) {
        out.extend(
            r.process(&AudioFrame::new(c.to_vec(), from, 1).unwrap())
                .unwrap()
                .samples,
        );
    }
    out.extend(r.flush().samples);
    out
}

/// RMS difference between `got` and a sine of `freq` at `rate`, ignoring 20 ms edges.
fn rms_error_against_sine(got: &[i16], freq: f64, rate: u32) -> f64 {
    let want = sine(freq, rate, got.len() as f64 / f64::from(rate) + 1.0);
    let edge = rate as usize / 50;
    let range = edge..got.len() - edge;
    let n = range.len() as f64;
    (range
        .map(|i| (f64::from(got[i]) - f64::from(want[i])).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

#[test]
fn resampling_keeps_length_alignment_and_content() {
    for (from, to) in [
        (48_000, 16_000),
        (8_000, 16_000),
        (44_100, 16_000),
        (16_000, 24_000),
        (24_000, 8_000),
    ] {
        let input = sine(300.0, from, 1.0);
        for q in [ResampleQuality::Fft, ResampleQuality::Fast] {
            let out = resample_stream(&input, from, to, (from / 50) as usize, q);
            assert_eq!(
                out.len(),
                to as usize,
                "{from}->{to} {q:?}: one second in, one second out"
            );
            let err = rms_error_against_sine(&out, 300.0, to);
            // Amplitude 10 000: the FFT resampler stays under 3 % RMS error (no delay, no
            // distortion); cubic interpolation is allowed 7 %.
            let limit = if q == ResampleQuality::Fft {
                300.0
            } else {
                700.0
            };
            assert!(err < limit, "{from}->{to} {q:?}: RMS error {err:.1}");
        }
    }
}

#[test]
fn output_does_not_depend_on_frame_sizes() {
    let input = sine(440.0, 48_000, 0.5);
    let a = resample_stream(&input, 48_000, 16_000, 480, ResampleQuality::Fft);
    let b = resample_stream(&input, 48_000, 16_000, 1_237, ResampleQuality::Fft);
    let c = resample_stream(&input, 48_000, 16_000, 7, ResampleQuality::Fft);
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn fft_resampler_filters_aliasing_when_downsampling() {
    // 12 kHz is above the 8 kHz Nyquist limit of 16 kHz audio: it must be removed, not
    // folded down to 4 kHz.
    let input = sine(12_000.0, 48_000, 0.5);
    let out = resample_stream(&input, 48_000, 16_000, 480, ResampleQuality::Fft);
    let rms = (out.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / out.len() as f64).sqrt();
    assert!(
        rms < 300.0,
        "aliased energy RMS {rms:.1} (input RMS ≈ 7071)"
    );
}

#[test]
fn resampler_refuses_wrong_format_and_bad_rates() {
    assert!(matches!(
        Resampler::new(0, 16_000, 1),
        Err(AudioError::InvalidSampleRate(0))
    ));
    assert!(matches!(
        Resampler::new(16_000, 8_000, 0),
        Err(AudioError::InvalidChannels(0))
    ));
    let mut r = Resampler::new(16_000, 8_000, 1).unwrap();
    let wrong = AudioFrame::silence(48_000, 1, Duration::from_millis(10));
    assert!(matches!(
        r.process(&wrong),
        Err(AudioError::FormatMismatch { rate: 48_000, .. })
    ));
    // Same rate: a pass-through.
    let mut same = Resampler::new(16_000, 16_000, 2).unwrap();
    let f = AudioFrame::new(vec![1, 2, 3, 4], 16_000, 2).unwrap();
    assert_eq!(same.process(&f).unwrap(), f);
}

#[test]
fn mono_resampler_converts_any_format_and_passes_the_target_through() {
    let mut conv = MonoResampler::new(16_000);
    // Already mono at the target rate: borrowed back, no resampler built.
    let mono = AudioFrame::new(sine(440.0, 16_000, 0.1), 16_000, 1).unwrap();
    assert!(matches!(conv.process(&mono).unwrap(), Cow::Borrowed(_)));
    assert!(conv.flush().is_none(), "nothing was resampled");
    // 48 kHz stereo: downmixed and resampled; over the stream plus flush, length adds up.
    let left = sine(440.0, 48_000, 0.5);
    let stereo: Vec<i16> = left.iter().flat_map(|s| [*s, *s]).collect();
    let frame = AudioFrame::new(stereo, 48_000, 2).unwrap();
    let mut total = 0;
    for chunk in frame.samples.chunks(960) {
        let part = AudioFrame::new(chunk.to_vec(), 48_000, 2).unwrap();
        let out = conv.process_owned(part).unwrap();
        assert_eq!((out.sample_rate, out.channels), (16_000, 1));
        total += out.samples.len();
    }
    total += conv.flush().expect("a resampler was built").samples.len();
    assert_eq!(total, 8_000);
    // The same samples as the two steps done by hand.
    let by_hand = Resampler::new(48_000, 16_000, 1)
        .unwrap()
        .process(&to_mono(&frame))
        .unwrap();
    assert_eq!(
        MonoResampler::new(16_000)
            .process(&frame)
            .unwrap()
            .into_owned(),
        by_hand
    );
    // An unusable frame is an error, not a panic.
    let bad = AudioFrame {
        samples: vec![0; 10],
        sample_rate: 0,
        channels: 1,
    };
    assert!(conv.process(&bad).is_err());
    let no_channels = AudioFrame {
        samples: vec![0; 10],
        sample_rate: 16_000,
        channels: 0,
    };
    assert!(conv.process(&no_channels).is_err());
}

#[test]
fn mono_resampler_doubles_8_khz_with_the_upsampler_and_follows_a_rate_change() {
    let mut conv = MonoResampler::new(16_000);
    // 8 kHz (a phone call): exactly twice the samples over the stream plus flush, and the
    // same samples as the 2x upsampler by hand.
    let call = sine(440.0, 8_000, 0.5);
    let mut out = Vec::new();
    for chunk in call.chunks(160) {
        let part = AudioFrame::new(chunk.to_vec(), 8_000, 1).unwrap();
        let got = conv.process_owned(part).unwrap();
        assert_eq!((got.sample_rate, got.channels), (16_000, 1));
        out.extend(got.samples);
    }
    out.extend(conv.flush().expect("a converter was built").samples);
    let mut up = Upsampler2x::new();
    let mut by_hand = Vec::new();
    up.process(&call, &mut by_hand);
    by_hand.extend(up.flush());
    assert_eq!(out, by_hand);
    assert_eq!(out.len(), 2 * call.len());
    // Then 48 kHz: a general resampler replaces it.
    let wide = AudioFrame::new(sine(440.0, 48_000, 0.1), 48_000, 1).unwrap();
    let got = conv.process(&wide).unwrap();
    assert_eq!(got.sample_rate, 16_000);
    let general = Resampler::new(48_000, 16_000, 1)
        .unwrap()
        .process(&wide)
        .unwrap();
    assert_eq!(got.into_owned(), general);
}

#[test]
fn wav_round_trip_and_bad_files() {
    let dir = std::env::temp_dir().join(format!("agents-voice-wav-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rt.wav");
    let frame = AudioFrame::new(
        sine(440.0, 22_050, 0.1)
            .iter()
            .flat_map(|s| [*s, -*s])
            .collect(),
        22_050,
        2,
    )
    .unwrap();
    write_wav(&path, &frame).unwrap();
    assert_eq!(read_wav(&path).unwrap(), frame);
    assert_eq!(
        wav_from_bytes(&wav_to_bytes(&frame).unwrap()).unwrap(),
        frame
    );

    let missing = read_wav(dir.join("missing.wav")).unwrap_err();
    assert!(
        matches!(missing, AudioError::Wav(ref m) if m.contains("missing.wav")),
        "{missing}"
    );
    assert!(matches!(
        wav_from_bytes(b"RIFF....WAVEjunk"),
        Err(AudioError::Wav(_))
    ));
    assert!(matches!(wav_from_bytes(&[]), Err(AudioError::Wav(_))));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn other_wav_encodings_are_converted_to_16_bit() {
    for (bits, format, sample) in [
        (8u16, hound::SampleFormat::Int, None),
        (24, hound::SampleFormat::Int, None),
        (32, hound::SampleFormat::Float, Some(0.5f32)),
    ] {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: bits,
            sample_format: format,
        };
        let mut cur = std::io::Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
            match sample {
                Some(f) => w.write_sample(f).unwrap(),
                None => w.write_sample(1i32 << (bits - 2)).unwrap(),
            }
            w.finalize().unwrap();
        }
        cur.set_position(0);
        let f = read_wav_from(cur).unwrap();
        assert_eq!(
            f.samples,
            vec![16_384],
            "{bits}-bit {format:?} → half scale"
        );
    }
}
