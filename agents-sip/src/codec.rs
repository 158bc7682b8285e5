//! G.711 μ-law / A-law conversion of whole packets (the per-sample tables come from
//! `audio-codec-algorithms`).

use audio_codec_algorithms::{decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};

use crate::sdp::Codec;

/// Samples in one 20 ms packet at 8 kHz.
pub const SAMPLES_PER_PACKET: usize = 160;

/// Decodes a G.711 payload, appending 8 kHz PCM to `out`.
pub fn decode(codec: Codec, payload: &[u8], out: &mut Vec<i16>) {
    match codec {
        Codec::Pcmu => out.extend(payload.iter().map(|&b| decode_ulaw(b))),
        Codec::Pcma => out.extend(payload.iter().map(|&b| decode_alaw(b))),
    }
}

/// Encodes 8 kHz PCM, appending the G.711 bytes to `out`.
pub fn encode(codec: Codec, pcm: &[i16], out: &mut Vec<u8>) {
    match codec {
        Codec::Pcmu => out.extend(pcm.iter().map(|&s| encode_ulaw(s))),
        Codec::Pcma => out.extend(pcm.iter().map(|&s| encode_alaw(s))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_close() {
        let pcm: Vec<i16> = (0..160)
            .map(|i| ((i as f64 * 0.3).sin() * 12000.0) as i16)
            .collect();
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut enc = Vec::new();
            encode(codec, &pcm, &mut enc);
            assert_eq!(enc.len(), 160);
            let mut dec = Vec::new();
            decode(codec, &enc, &mut dec);
            for (a, b) in pcm.iter().zip(&dec) {
                // G.711 keeps about 3% relative error at this level.
                assert!(
                    (i32::from(*a) - i32::from(*b)).abs() <= 500,
                    "{codec:?} {a} {b}"
                );
            }
        }
    }
}
