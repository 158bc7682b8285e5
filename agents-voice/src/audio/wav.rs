//! WAV reading and writing (via `hound`), as 16-bit PCM [`AudioFrame`]s.
//!
//! Reading accepts 8/16/24/32-bit integer and 32-bit float PCM and converts to 16-bit;
//! writing always produces 16-bit PCM.

use std::io::{Read, Seek, Write};
use std::path::Path;

use super::frame::AudioFrame;
use crate::error::AudioError;

fn wav_err(e: hound::Error) -> AudioError {
    AudioError::Wav(e.to_string())
}

/// Reads a whole WAV file into one frame.
pub fn read_wav(path: impl AsRef<Path>) -> Result<AudioFrame, AudioError> {
    let path = path.as_ref();
    let reader = hound::WavReader::open(path)
        .map_err(|e| AudioError::Wav(format!("{}: {e}", path.display())))?;
    decode(reader)
}

/// Reads a whole WAV stream (e.g. an in-memory `Cursor`) into one frame.
pub fn read_wav_from<R: Read>(reader: R) -> Result<AudioFrame, AudioError> {
    decode(hound::WavReader::new(reader).map_err(wav_err)?)
}

/// Parses WAV bytes into one frame.
pub fn wav_from_bytes(bytes: &[u8]) -> Result<AudioFrame, AudioError> {
    read_wav_from(std::io::Cursor::new(bytes))
}

fn decode<R: Read>(reader: hound::WavReader<R>) -> Result<AudioFrame, AudioError> {
    let spec = reader.spec();
    let samples: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => reader
            .into_samples::<i16>()
            .collect::<Result<_, _>>()
            .map_err(wav_err)?,
        (hound::SampleFormat::Int, bits @ (8 | 24 | 32)) => {
            let shift = i32::from(bits) - 16;
            reader
                .into_samples::<i32>()
                .map(|s| {
                    s.map(|v| {
                        if shift >= 0 {
                            (v >> shift) as i16
                        } else {
                            (v << -shift) as i16
                        }
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(wav_err)?
        }
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .map(|s| s.map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16))
            .collect::<Result<_, _>>()
            .map_err(wav_err)?,
        (fmt, bits) => {
            return Err(AudioError::Wav(format!(
                "unsupported WAV encoding: {fmt:?} {bits}-bit"
            )))
        }
    };
    AudioFrame::new(samples, spec.sample_rate, spec.channels)
}

fn spec_of(frame: &AudioFrame) -> hound::WavSpec {
    hound::WavSpec {
        channels: frame.channels,
        sample_rate: frame.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

/// Writes a frame as a 16-bit PCM WAV file.
pub fn write_wav(path: impl AsRef<Path>, frame: &AudioFrame) -> Result<(), AudioError> {
    let path = path.as_ref();
    let mut w = hound::WavWriter::create(path, spec_of(frame))
        .map_err(|e| AudioError::Wav(format!("{}: {e}", path.display())))?;
    for s in &frame.samples {
        w.write_sample(*s).map_err(wav_err)?;
    }
    w.finalize().map_err(wav_err)
}

/// Writes a frame as 16-bit PCM WAV to a seekable writer.
pub fn write_wav_to<W: Write + Seek>(writer: W, frame: &AudioFrame) -> Result<(), AudioError> {
    let mut w = hound::WavWriter::new(writer, spec_of(frame)).map_err(wav_err)?;
    for s in &frame.samples {
        w.write_sample(*s).map_err(wav_err)?;
    }
    w.finalize().map_err(wav_err)
}

/// Encodes a frame as WAV bytes (for uploads such as STT requests).
pub fn wav_to_bytes(frame: &AudioFrame) -> Result<Vec<u8>, AudioError> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    write_wav_to(&mut cursor, frame)?;
    Ok(cursor.into_inner())
}
