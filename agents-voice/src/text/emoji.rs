//! Streaming emoji removal (the reference's `filter_emoji`): drops U+1F000–1FBFF,
//! U+2600–27BF, U+2B00–2BFF, variation selectors, the zero-width joiner and the
//! combining keycap U+20E3. Works per character, so chunking cannot change the output.

/// Whether a character is removed by the emoji filter.
pub fn is_emoji_char(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FBFF
        | 0x2600..=0x27BF
        | 0x2B00..=0x2BFF
        | 0xFE00..=0xFE0F
        | 0xE0100..=0xE01EF
        | 0x200D
        | 0x20E3)
}

/// Removes emoji from a whole text.
pub fn filter_emoji(text: &str) -> String {
    text.chars().filter(|c| !is_emoji_char(*c)).collect()
}

/// Streaming form of [`filter_emoji`] (stateless; kept as a type for symmetry).
#[derive(Debug, Default, Clone)]
pub struct EmojiFilter;

impl EmojiFilter {
    /// Filters one chunk.
    pub fn push(&mut self, chunk: &str) -> String {
        filter_emoji(chunk)
    }

    /// Nothing is held back, so nothing is left.
    pub fn finish(&mut self) -> String {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_emoji_keeps_text() {
        let input = "Hello! 😀 Hearts: ❤️ 💙 Flags: 🇺🇸 Keycap: 1️⃣ Pro: 👨‍⚕️ done.";
        assert_eq!(
            filter_emoji(input),
            "Hello!  Hearts:   Flags:  Keycap: 1 Pro:  done."
        );
        assert_eq!(filter_emoji("plain text, 2 + 3"), "plain text, 2 + 3");
    }
}
