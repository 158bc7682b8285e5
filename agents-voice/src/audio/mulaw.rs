//! G.711 μ-law (telephony's 8 kHz codec) for whole buffers, on the
//! `audio-codec-algorithms` crate's per-sample codec.

/// Encodes one linear 16-bit sample as μ-law.
pub fn encode_sample(sample: i16) -> u8 {
    audio_codec_algorithms::encode_ulaw(sample)
}

/// Decodes one μ-law byte to a linear 16-bit sample.
pub fn decode_sample(byte: u8) -> i16 {
    audio_codec_algorithms::decode_ulaw(byte)
}

/// Encodes samples as μ-law bytes.
pub fn encode(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| encode_sample(s)).collect()
}

/// Decodes μ-law bytes to samples.
pub fn decode(bytes: &[u8]) -> Vec<i16> {
    bytes.iter().map(|&b| decode_sample(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_close_and_monotonic() {
        let mut prev = i16::MIN;
        for s in (-32000i32..32000).step_by(97) {
            let s = s as i16;
            let d = decode_sample(encode_sample(s));
            // μ-law error is bounded by half a quantisation step (< 1/16 of magnitude + 8).
            let tol = (i32::from(s).abs() / 16) + 8;
            assert!((i32::from(d) - i32::from(s)).abs() <= tol, "{s} -> {d}");
            assert!(d >= prev, "decode(encode()) must be monotonic");
            prev = d;
        }
        assert_eq!(encode_sample(0), 0xFF);
        assert_eq!(decode(&encode(&[0, 1000, -1000])).len(), 3);
    }
}
