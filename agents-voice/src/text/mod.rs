//! Text shaping for speech: streaming markdown and emoji filters (applied to TTS input
//! only; transcripts keep the raw text) and a streaming sentence splitter.
//!
//! All of them are chunking-independent: the output does not depend on how the input
//! text was split into pushes.

pub mod emoji;
pub mod markdown;
pub mod sentences;

pub use emoji::{filter_emoji, EmojiFilter};
pub use markdown::{filter_markdown, MarkdownFilter};
pub use sentences::SentenceSplitter;

/// The TTS input transforms of the reference (`filter_markdown` then `filter_emoji`), as
/// one streaming filter.
#[derive(Debug, Default)]
pub struct TtsTextFilter {
    markdown: MarkdownFilter,
    emoji: EmojiFilter,
}

impl TtsTextFilter {
    /// A fresh filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pushes a chunk; returns text that is final.
    pub fn push(&mut self, chunk: &str) -> String {
        let md = self.markdown.push(chunk);
        self.emoji.push(&md)
    }

    /// Ends the text; returns the rest and resets the filter for reuse.
    pub fn finish(&mut self) -> String {
        let md = self.markdown.finish();
        let mut out = self.emoji.push(&md);
        out.push_str(&self.emoji.finish());
        out
    }
}
