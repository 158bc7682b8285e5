//! The JSON-lines transcript of a voice call: the session's events exactly as console mode's
//! `--transcript` writes them, plus the voice pipeline's events (metrics, turn-taking,
//! interruptions, errors) and the call's own start, error and end.
//!
//! Line formats:
//! - session events: as console mode (`{"type":"message","role":"user",...}`; streamed text
//!   deltas are left out, the complete message is there);
//! - voice events: `{"type":"voice","at":1.234,"event":{"type":"metrics",...}}`, `at` in
//!   seconds since the pipeline started (interim transcripts are left out);
//! - the call: `{"type":"call_started",...}`, `{"type":"call_error","error":...}`,
//!   `{"type":"call_ended","reason":...}`.

use agents_core::session::SessionEvent;
use agents_voice::pipeline::{TimedEvent, VoiceEvent};
use serde_json::{json, Value};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A transcript being written (or none, when no file was asked for: every call is a no-op).
pub struct CallTranscript {
    file: Option<(PathBuf, BufWriter<std::fs::File>)>,
    failed: bool,
}

impl CallTranscript {
    /// No transcript.
    pub fn none() -> Self {
        CallTranscript {
            file: None,
            failed: false,
        }
    }

    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot write the transcript {}: {e}", path.display()))?;
        Ok(CallTranscript {
            file: Some((path.to_path_buf(), BufWriter::new(file))),
            failed: false,
        })
    }

    /// Records a session event (as console mode does).
    pub fn session(&mut self, event: &SessionEvent) {
        if self.file.is_none() || matches!(event, SessionEvent::TextDelta { .. }) {
            return;
        }
        match serde_json::to_value(event) {
            Ok(v) => self.line(&v),
            Err(e) => tracing::warn!(error = %e, "a session event could not be serialised"),
        }
    }

    /// Records a voice pipeline event.
    pub fn voice(&mut self, event: &TimedEvent) {
        if self.file.is_none() {
            return;
        }
        if matches!(
            event.event,
            VoiceEvent::UserTranscript {
                is_final: false,
                ..
            }
        ) {
            return;
        }
        self.line(&json!({
            "type": "voice",
            "at": event.at.as_secs_f64(),
            "event": &event.event,
        }));
    }

    /// Records a call-level event: `kind` becomes `type`, `fields` (an object) is merged in.
    pub fn call(&mut self, kind: &str, fields: Value) {
        let mut v = json!({ "type": kind });
        if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), fields) {
            obj.extend(extra);
        }
        self.line(&v);
    }

    /// Writes what is buffered to the file.
    pub fn flush(&mut self) {
        if let Some((path, f)) = self.file.as_mut() {
            if let Err(e) = f.flush() {
                if !self.failed {
                    tracing::warn!(path = %path.display(), error = %e, "transcript write failed");
                    self.failed = true;
                }
            }
        }
    }

    fn line(&mut self, value: &Value) {
        let Some((path, f)) = self.file.as_mut() else {
            return;
        };
        let result = serde_json::to_writer(&mut *f, value)
            .map_err(std::io::Error::from)
            .and_then(|()| f.write_all(b"\n"));
        if let Err(e) = result {
            if !self.failed {
                tracing::warn!(path = %path.display(), error = %e, "transcript write failed");
                self.failed = true;
            }
        }
    }
}

impl Drop for CallTranscript {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The file name of a call's transcript: its Call-ID with anything but letters, digits and
/// `-_.@` replaced by `_` (a Call-ID may hold `/`), then `.jsonl`.
pub fn transcript_file_name(call_id: &str) -> String {
    let mut name: String = call_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    name.push_str(".jsonl");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_become_safe_file_names() {
        assert_eq!(transcript_file_name("abc-123@host"), "abc-123@host.jsonl");
        assert_eq!(transcript_file_name("../../etc/x"), "_.._.._etc_x.jsonl");
        assert_eq!(transcript_file_name(""), "_.jsonl");
    }
}
