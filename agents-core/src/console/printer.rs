//! How session events look in a terminal: the agent's words as they stream, tool calls and
//! task results as indented lines, errors on stderr; every event also goes to the transcript.

use crate::llm::Role;
use crate::session::events::redacted_if;
use crate::session::SessionEvent;
use std::borrow::Cow;
use std::io::Write;

/// Prints events and writes the transcript.
pub(crate) struct Printer {
    transcript: Option<std::io::BufWriter<std::fs::File>>,
    /// An agent line is being streamed (no newline yet).
    mid_line: bool,
    /// Error events seen so far.
    pub(crate) errors: usize,
    /// An error of the current turn was printed: the ones after it are its consequences (a
    /// task's failure failing the hook that awaited it) and go to the transcript only.
    pub(crate) turn_error_shown: bool,
    /// The session's `closed` event was seen.
    pub(crate) closed: bool,
    /// The user's line, printed as `user: ...` once the session takes it (a line sent after
    /// the agent ended the call is never shown as said).
    pub(crate) pending_echo: Option<String>,
}

impl Printer {
    /// A printer writing the transcript (JSON lines) to `transcript`, if given.
    pub(crate) fn new(transcript: Option<std::fs::File>) -> Self {
        Printer {
            transcript: transcript.map(std::io::BufWriter::new),
            mid_line: false,
            errors: 0,
            turn_error_shown: false,
            closed: false,
            pending_echo: None,
        }
    }

    /// Prints one event (and records it in the transcript).
    pub(crate) fn print(&mut self, event: &SessionEvent) {
        if let (Some(file), false) = (
            self.transcript.as_mut(),
            matches!(event, SessionEvent::TextDelta { .. }),
        ) {
            if let Ok(line) = serde_json::to_string(event) {
                let _ = writeln!(file, "{line}");
            }
        }
        if matches!(
            event,
            SessionEvent::Message {
                role: Role::User,
                ..
            } | SessionEvent::Dtmf { .. }
        ) {
            if let Some(line) = self.pending_echo.take() {
                self.line(&format!("user: {line}"));
            }
        }
        match event {
            // The agent's speech is shown in full, since the caller hears it; the rest of a
            // sensitive activity's detail is shown redacted, as in the transcript.
            SessionEvent::TextDelta { content, .. } => {
                let mut out = std::io::stdout().lock();
                if !self.mid_line {
                    let _ = write!(out, "agent: ");
                    self.mid_line = true;
                }
                let _ = write!(out, "{}", clean(content));
                let _ = out.flush();
            }
            SessionEvent::Message {
                role: Role::Assistant,
                ..
            } => self.end_line(),
            SessionEvent::Message {
                role: Role::User,
                content,
                ..
            } if content.ends_with(" [cut]") => {
                self.line("  [your input was too long: only its start was kept]")
            }
            SessionEvent::FunctionCall {
                name,
                arguments,
                sensitive,
                ..
            } => {
                let arguments = redacted_if(*sensitive, arguments);
                self.line(&format!("  [call {name}({arguments})]"));
            }
            SessionEvent::FunctionCallOutput {
                name,
                output,
                is_error,
                sensitive,
                ..
            } => {
                let output = redacted_if(*sensitive, output);
                let tag = if *is_error { " error" } else { "" };
                self.line(&format!("  [{name}{tag} -> {output}]"));
            }
            SessionEvent::AgentHandoff {
                old_agent,
                new_agent,
            } => {
                let old = old_agent.as_deref().unwrap_or("start");
                self.line(&format!("  [{old} -> {new_agent}]"));
            }
            SessionEvent::TaskCompleted {
                name,
                output,
                sensitive,
            } => {
                let output = output.to_string();
                let output = redacted_if(*sensitive, &output);
                self.line(&format!("  [{name} completed: {output}]"));
            }
            SessionEvent::Error { content, sensitive } => {
                self.errors += 1;
                if !self.turn_error_shown {
                    self.turn_error_shown = true;
                    let content = redacted_if(*sensitive, content);
                    self.error(content);
                }
            }
            SessionEvent::Dtmf { digits, sensitive } => {
                let digits = redacted_if(*sensitive, digits);
                self.line(&format!("  [dtmf {digits}]"));
            }
            SessionEvent::Closed => {
                self.closed = true;
                self.line("  [session closed]");
            }
            SessionEvent::Message { .. }
            | SessionEvent::Usage { .. }
            | SessionEvent::ReplyTruncated { .. } => {}
        }
    }

    /// Prints one whole line on stdout, after any agent line in progress.
    pub(crate) fn line(&mut self, text: &str) {
        self.end_line();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", clean(text));
        let _ = out.flush();
    }

    /// Prints `error: text` on stderr, after any agent line in progress.
    pub(crate) fn error(&mut self, text: &str) {
        self.end_line();
        let _ = writeln!(std::io::stderr().lock(), "error: {}", clean(text));
    }

    /// Ends an agent line in progress.
    fn end_line(&mut self) {
        if self.mid_line {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out);
            let _ = out.flush();
            self.mid_line = false;
        }
    }

    /// Writes out the transcript buffered so far.
    pub(crate) fn flush(&mut self) {
        if let Some(f) = self.transcript.as_mut() {
            let _ = f.flush();
        }
    }
}

/// `text` without terminal control characters: a model (or a tool echoing what it was told)
/// could otherwise move the cursor, recolour or retitle the terminal, or hide what was printed.
/// Escape sequences lose their ESC (or C1 introducer) and show as plain text; newlines and
/// tabs stay, as do bidirectional-text controls' neighbours (the controls themselves go).
///
/// Written by hand rather than with an ANSI-stripping crate: streamed text arrives in pieces,
/// and dropping the control characters themselves is enough to make any piece harmless.
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }
    if text.chars().any(unsafe_char) {
        Cow::Owned(text.chars().filter(|c| !unsafe_char(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn escape_sequences_are_defused() {
        assert_eq!(clean("plain text\n\tok"), "plain text\n\tok");
        assert_eq!(clean("\u{1b}[2J\u{1b}[31mred\u{1b}[0m"), "[2J[31mred[0m");
        assert_eq!(clean("\u{1b}]0;title\u{7}x"), "]0;titlex");
        assert_eq!(clean("a\u{9b}31mb\rc"), "a31mbc");
        assert_eq!(clean("\u{202E}gnp.exe"), "gnp.exe");
    }
}
