//! Incremental WAV decoding for streamed TTS responses: parses the RIFF header as
//! bytes arrive, then yields PCM16 frames. (`hound` needs the whole file or a seekable
//! reader, so streaming is done here; the format handled is only RIFF/PCM16.)

use crate::audio::{to_mono, AudioFrame};
use crate::error::AudioError;

/// Streaming WAV → frames decoder.
#[derive(Debug, Default)]
pub struct WavStreamDecoder {
    header: Vec<u8>,
    format: Option<(u32, u16)>,
    carry: Vec<u8>,
}

impl WavStreamDecoder {
    /// Rate and channels, once the header was parsed.
    pub fn format(&self) -> Option<(u32, u16)> {
        self.format
    }

    /// Pushes bytes; returns mono audio decoded so far (if any).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<AudioFrame>, AudioError> {
        let data: Vec<u8> = if self.format.is_none() {
            self.header.extend_from_slice(bytes);
            match parse_header(&self.header)? {
                None => return Ok(None),
                Some((rate, channels, data_start)) => {
                    self.format = Some((rate, channels));
                    let rest = self.header.split_off(data_start);
                    self.header.clear();
                    rest
                }
            }
        } else {
            bytes.to_vec()
        };
        let Some((rate, channels)) = self.format else {
            return Ok(None);
        };
        self.carry.extend_from_slice(&data);
        let block = 2 * channels as usize;
        let usable = self.carry.len() - self.carry.len() % block;
        if usable == 0 {
            return Ok(None);
        }
        let pcm: Vec<u8> = self.carry.drain(..usable).collect();
        let frame = AudioFrame::from_s16le(&pcm, rate, channels)?;
        Ok(Some(to_mono(&frame)))
    }

    /// Ends the stream: a missing header or a partial sample is an error.
    pub fn finish(&mut self) -> Result<(), AudioError> {
        if self.format.is_none() {
            return Err(AudioError::Wav(
                "stream ended before the WAV data chunk".into(),
            ));
        }
        if !self.carry.is_empty() {
            return Err(AudioError::OddByteCount(self.carry.len()));
        }
        Ok(())
    }
}

/// `Some((rate, channels, data_offset))` once the header up to the data chunk is in.
fn parse_header(b: &[u8]) -> Result<Option<(u32, u16, usize)>, AudioError> {
    if b.len() < 12 {
        return Ok(None);
    }
    if &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return Err(AudioError::Wav("not a RIFF/WAVE stream".into()));
    }
    let mut pos = 12;
    let mut fmt: Option<(u32, u16)> = None;
    loop {
        if b.len() < pos + 8 {
            return Ok(None);
        }
        let id = &b[pos..pos + 4];
        let size = u32::from_le_bytes([b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]]) as usize;
        let body = pos + 8;
        if id == b"data" {
            let (rate, channels) =
                fmt.ok_or_else(|| AudioError::Wav("data chunk before fmt chunk".into()))?;
            return Ok(Some((rate, channels, body)));
        }
        if b.len() < body + size {
            if size > 1 << 20 {
                return Err(AudioError::Wav(format!(
                    "WAV header chunk too large ({size} bytes)"
                )));
            }
            return Ok(None);
        }
        if id == b"fmt " {
            if size < 16 {
                return Err(AudioError::Wav("fmt chunk too short".into()));
            }
            let tag = u16::from_le_bytes([b[body], b[body + 1]]);
            let channels = u16::from_le_bytes([b[body + 2], b[body + 3]]);
            let rate = u32::from_le_bytes([b[body + 4], b[body + 5], b[body + 6], b[body + 7]]);
            let bits = u16::from_le_bytes([b[body + 14], b[body + 15]]);
            if !(tag == 1 || tag == 0xFFFE) || bits != 16 {
                return Err(AudioError::Wav(format!(
                    "unsupported WAV stream: format {tag}, {bits}-bit (need PCM16)"
                )));
            }
            crate::audio::frame::check_format(rate, channels)?;
            fmt = Some((rate, channels));
        }
        pos = body + size + size % 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::wav_to_bytes;

    #[test]
    fn decodes_byte_by_byte_and_in_one_go() {
        let frame = AudioFrame::new(
            (0..800).map(|i| (i * 37 % 2000) as i16).collect(),
            22_050,
            2,
        )
        .unwrap();
        let bytes = wav_to_bytes(&frame).unwrap();
        for step in [1, 3, 7, bytes.len()] {
            let mut d = WavStreamDecoder::default();
            let mut got = Vec::new();
            for c in bytes.chunks(step) {
                if let Some(f) = d.push(c).unwrap() {
                    assert_eq!((f.sample_rate, f.channels), (22_050, 1));
                    got.extend(f.samples);
                }
            }
            d.finish().unwrap();
            assert_eq!(got, crate::audio::to_mono(&frame).samples, "step {step}");
        }
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let mut d = WavStreamDecoder::default();
        assert!(d.push(b"NOT A WAV FILE AT ALL").is_err());
        let mut d = WavStreamDecoder::default();
        assert!(d.push(b"RIFF").unwrap().is_none());
        assert!(d.finish().is_err());
    }
}
