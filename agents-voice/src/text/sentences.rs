//! Streaming sentence splitter for TTS: releases a sentence as soon as its end is
//! certain, merging sentences shorter than `min_sentence_len` (20 characters, as the
//! reference's tokenizer) with the next one so the TTS gets natural-sized requests.
//!
//! Hand-written rather than a crate: sentence segmentation crates work on whole texts,
//! while this needs incremental output on LLM token streams; the rules are small.

/// Sentence terminators that need whitespace after them to end a sentence.
const ASCII_TERMINATORS: [char; 3] = ['.', '!', '?'];
/// Full-width terminators that end a sentence immediately.
const CJK_TERMINATORS: [char; 4] = ['。', '！', '？', '；'];
/// Abbreviations whose final period does not end a sentence.
const ABBREVIATIONS: [&str; 14] = [
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "vs", "etc", "e.g", "i.e", "a.m", "p.m",
];

/// Incremental sentence splitter.
#[derive(Debug)]
pub struct SentenceSplitter {
    min_len: usize,
    buf: String,
}

impl Default for SentenceSplitter {
    fn default() -> Self {
        Self::new(20)
    }
}

impl SentenceSplitter {
    /// A splitter that never emits sentences shorter than `min_sentence_len` characters
    /// (except the last one at [`flush`](Self::flush)).
    pub fn new(min_sentence_len: usize) -> Self {
        Self {
            min_len: min_sentence_len,
            buf: String::new(),
        }
    }

    /// Pushes text; returns the sentences completed by it (trimmed, non-empty).
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.buf.push_str(text);
        let mut out = Vec::new();
        let mut start = 0;
        let mut search = 0;
        while let Some(end) = next_boundary(&self.buf, search) {
            let candidate = self.buf[start..end].trim();
            if candidate.chars().count() >= self.min_len {
                out.push(candidate.to_string());
                start = end;
            }
            search = end;
        }
        self.buf.drain(..start);
        out
    }

    /// Ends the segment: returns what is left (trimmed), if anything.
    pub fn flush(&mut self) -> Option<String> {
        let rest = self.buf.trim().to_string();
        self.buf.clear();
        (!rest.is_empty()).then_some(rest)
    }
}

/// Byte index just after the next sentence end at or after `from`, if it is certain.
fn next_boundary(s: &str, from: usize) -> Option<usize> {
    let mut iter = s[from..]
        .char_indices()
        .map(|(i, c)| (i + from, c))
        .peekable();
    while let Some((i, c)) = iter.next() {
        if CJK_TERMINATORS.contains(&c) {
            return Some(i + c.len_utf8());
        }
        if !ASCII_TERMINATORS.contains(&c) {
            continue;
        }
        // Absorb repeated terminators and closing quotes/brackets.
        let mut end = i + c.len_utf8();
        while let Some(&(j, n)) = iter.peek() {
            if ASCII_TERMINATORS.contains(&n) || matches!(n, '"' | '\'' | ')' | ']' | '”' | '’')
            {
                end = j + n.len_utf8();
                iter.next();
            } else {
                break;
            }
        }
        match iter.peek() {
            Some(&(_, n)) if n.is_whitespace() => {
                if c == '.' && is_abbreviation(&s[..i]) {
                    continue;
                }
                return Some(end);
            }
            _ => continue,
        }
    }
    None
}

/// Whether the word before a period is an abbreviation or a single initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    (word.chars().count() == 1 && word.chars().all(|c| c.is_uppercase()))
        || ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, size: usize) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut s = SentenceSplitter::default();
        let mut out = Vec::new();
        for c in chars.chunks(size) {
            out.extend(s.push(&c.iter().collect::<String>()));
        }
        out.extend(s.flush());
        out
    }

    #[test]
    fn splits_merges_short_sentences_and_is_chunking_independent() {
        let text =
            "Hi. Thanks for calling the clinic today! Dr. Smith is in at 3.30 p.m. on Monday. \
                    Can I help? 好的。我们明天见。 Bye";
        let expected = vec![
            "Hi. Thanks for calling the clinic today!",
            "Dr. Smith is in at 3.30 p.m. on Monday.",
            "Can I help? 好的。我们明天见。",
            "Bye",
        ];
        for size in [1, 2, 3, 5, 7, 11, 50, 1000] {
            assert_eq!(split(text, size), expected, "chunk size {size}");
        }
    }

    #[test]
    fn a_sentence_is_released_once_its_end_is_certain() {
        let mut s = SentenceSplitter::default();
        assert!(
            s.push("This is the first sentence.").is_empty(),
            "end not certain yet"
        );
        assert_eq!(s.push(" And"), vec!["This is the first sentence."]);
        assert_eq!(s.flush().as_deref(), Some("And"));
        assert_eq!(s.flush(), None);
    }
}
