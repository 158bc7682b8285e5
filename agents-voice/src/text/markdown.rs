//! Streaming markdown removal for TTS input (the reference's `filter_markdown`).
//!
//! Line-start syntax (headers, list markers, blockquotes, horizontal rules, code fences)
//! is decided as soon as a line's start is unambiguous; inline syntax (links, images,
//! backticks, `~~strike~~` spans, `*`/`_` emphasis) is processed in pieces cut after
//! whitespace where no construct is open, so text flows with little delay and the output
//! does not depend on how the input was chunked. Emphasis follows CommonMark's flanking
//! rules with the reference's exceptions: `*` never pairs against an ASCII letter or
//! digit (`x**2`), `_` never pairs inside a word or around text holding `_`
//! (`snake_case`, `__dunder__`), runs longer than 3 stay.

/// How the current line is treated after its start was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineKind {
    /// Inline filtering applies.
    Plain,
    /// Dropped entirely (horizontal rule, fence delimiter); its newline is kept.
    Drop,
    /// Passed through unchanged (inside a code fence).
    Verbatim,
}

/// Streaming markdown filter: [`push`](Self::push) chunks, then [`finish`](Self::finish).
#[derive(Debug, Default)]
pub struct MarkdownFilter {
    buf: String,
    line: Option<LineKind>,
    in_fence: bool,
}

/// Removes markdown from a whole text.
pub fn filter_markdown(text: &str) -> String {
    let mut f = MarkdownFilter::default();
    let mut out = f.push(text);
    out.push_str(&f.finish());
    out
}

impl MarkdownFilter {
    /// A fresh filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pushes a chunk; returns the text that is final so far.
    pub fn push(&mut self, chunk: &str) -> String {
        self.buf.push_str(chunk);
        self.process(false)
    }

    /// Ends the text: returns everything held back and resets the filter.
    pub fn finish(&mut self) -> String {
        let out = self.process(true);
        *self = Self::default();
        out
    }

    fn process(&mut self, last: bool) -> String {
        let mut out = String::new();
        loop {
            let newline = self.buf.find('\n');
            let complete = newline.is_some() || last;
            let line_end = newline.unwrap_or(self.buf.len());
            if self.line.is_none() {
                if self.buf.is_empty() && !complete {
                    break;
                }
                match decide_line(&self.buf[..line_end], complete, self.in_fence) {
                    None => break,
                    Some((drop, kind)) => {
                        if kind == LineKind::Drop && is_fence(&self.buf[..line_end]) {
                            self.in_fence = !self.in_fence;
                        }
                        self.buf.drain(..drop.min(line_end));
                        self.line = Some(kind);
                    }
                }
            }
            let newline = self.buf.find('\n');
            let kind = self.line.unwrap_or(LineKind::Plain);
            match (kind, newline) {
                (_, Some(nl)) => {
                    match kind {
                        LineKind::Drop => {}
                        LineKind::Verbatim => out.push_str(&self.buf[..nl]),
                        LineKind::Plain => out.push_str(&inline(&self.buf[..nl], true).0),
                    }
                    out.push('\n');
                    self.buf.drain(..=nl);
                    self.line = None;
                }
                (LineKind::Drop, None) => {
                    if last {
                        self.buf.clear();
                    }
                    break;
                }
                (LineKind::Verbatim, None) => {
                    out.push_str(&self.buf);
                    self.buf.clear();
                    break;
                }
                (LineKind::Plain, None) => {
                    if last {
                        out.push_str(&inline(&self.buf, true).0);
                        self.buf.clear();
                    } else if let Some(cut) = last_cut(&self.buf) {
                        let (text, closed) = inline(&self.buf[..cut], false);
                        if closed {
                            out.push_str(&text);
                            self.buf.drain(..cut);
                        }
                    }
                    break;
                }
            }
            if self.buf.is_empty() && !last {
                break;
            }
            if self.buf.is_empty() && last {
                break;
            }
        }
        out
    }
}

/// Byte index just after the last whitespace in `s` (a candidate cut), if any.
fn last_cut(s: &str) -> Option<usize> {
    s.char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, c)| i + c.len_utf8())
}

fn is_fence(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("```") || t.starts_with("~~~")
}

/// Leading indentation width (tab = 4) and its byte length.
fn indent(line: &str) -> (usize, usize) {
    let mut width = 0;
    let mut bytes = 0;
    for c in line.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width += 4,
            _ => break,
        }
        bytes += 1;
    }
    (width, bytes)
}

/// Decides how a line starts: `(bytes to drop, kind)`, or `None` if more text is needed.
fn decide_line(line: &str, complete: bool, in_fence: bool) -> Option<(usize, LineKind)> {
    let (width, ib) = indent(line);
    let rest = &line[ib..];
    let fence_prefix = rest.len() < 3 && ("```".starts_with(rest) || "~~~".starts_with(rest));
    if in_fence {
        if is_fence(line) && width < 4 {
            return Some((line.len(), LineKind::Drop));
        }
        if fence_prefix && !rest.is_empty() && !complete {
            return None;
        }
        return Some((0, LineKind::Verbatim));
    }
    if width >= 4 {
        return Some((0, LineKind::Plain));
    }
    if rest.is_empty() && !complete {
        return None;
    }
    if is_fence(line) {
        return Some((line.len(), LineKind::Drop));
    }
    if fence_prefix && !rest.is_empty() && !complete {
        return None;
    }
    // Horizontal rule: only one of - * _ (3 or more) and spaces/tabs.
    if rest
        .chars()
        .all(|c| matches!(c, '-' | '*' | '_' | ' ' | '\t'))
        && !rest.is_empty()
    {
        if !complete {
            return None;
        }
        let marks: Vec<char> = rest.chars().filter(|c| !c.is_whitespace()).collect();
        if marks.len() >= 3 && marks.iter().all(|c| *c == marks[0]) {
            return Some((line.len(), LineKind::Drop));
        }
    }
    let mut chars = rest.chars();
    match chars.next() {
        Some('#') => {
            let hashes = rest.chars().take_while(|c| *c == '#').count();
            match rest[hashes..].chars().next() {
                Some(' ') | Some('\t') if hashes <= 6 => {
                    let after =
                        rest[hashes..].len() - rest[hashes..].trim_start_matches([' ', '\t']).len();
                    Some((ib + hashes + after, LineKind::Plain))
                }
                None if !complete => None,
                _ => Some((0, LineKind::Plain)),
            }
        }
        Some('>') => match chars.next() {
            Some(' ') => Some((ib + 2, LineKind::Plain)),
            None if !complete => None,
            _ => Some((ib + 1, LineKind::Plain)),
        },
        Some(m @ ('-' | '*' | '+')) => match chars.next() {
            Some(' ') | Some('\t') => Some((ib + m.len_utf8() + 1, LineKind::Plain)),
            None if !complete => None,
            _ => Some((0, LineKind::Plain)),
        },
        _ => Some((0, LineKind::Plain)),
    }
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '。' | '，' | '！' | '？' | '；' | '：' | '、' | '「' | '」' | '（' | '）' | '…'
        )
}

/// Filters inline markdown from `s`. Returns the text and whether no construct is left
/// open (when `last` is false, an open construct means the piece must wait).
fn inline(s: &str, last: bool) -> (String, bool) {
    let (plain, closed) = strip_spans(s, last);
    let (text, emph_closed) = strip_emphasis(&plain);
    (text, closed && (last || emph_closed))
}

/// Links/images keep their text, `~~…~~` spans go, backticks go.
fn strip_spans(s: &str, last: bool) -> (String, bool) {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let image = c == '!' && chars.get(i + 1) == Some(&'[');
        if c == '[' || image {
            let open = if image { i + 1 } else { i };
            match find_link(&chars, open) {
                Link::Complete { text_end, end } => {
                    out.extend(&chars[open + 1..text_end]);
                    i = end;
                    continue;
                }
                Link::Incomplete if !last => return (out, false),
                _ => {}
            }
        } else if c == '~' && chars.get(i + 1) == Some(&'~') {
            match chars.get(i + 2) {
                None if !last => return (out, false),
                Some(n) if !n.is_whitespace() && *n != '~' => {
                    let close = (i + 3..chars.len().saturating_sub(1)).find(|&j| {
                        chars[j] == '~' && chars[j + 1] == '~' && !chars[j - 1].is_whitespace()
                    });
                    match close {
                        Some(j) => {
                            i = j + 2;
                            continue;
                        }
                        None if !last => return (out, false),
                        None => {}
                    }
                }
                _ => {}
            }
            out.push_str("~~");
            i += 2;
            continue;
        } else if c == '`' {
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, true)
}

enum Link {
    Complete { text_end: usize, end: usize },
    Incomplete,
    Plain,
}

/// Looks for `[text](target)` starting at the `[` at `open`.
fn find_link(chars: &[char], open: usize) -> Link {
    let Some(close) = (open + 1..chars.len()).find(|&j| chars[j] == ']') else {
        return Link::Incomplete;
    };
    match chars.get(close + 1) {
        None => Link::Incomplete,
        Some('(') => match (close + 2..chars.len()).find(|&j| chars[j] == ')') {
            Some(end) => Link::Complete {
                text_end: close,
                end: end + 1,
            },
            None => Link::Incomplete,
        },
        Some(_) => Link::Plain,
    }
}

struct Run {
    start: usize,
    len: usize,
    ch: char,
    open: bool,
    close: bool,
}

/// Removes paired `*`/`_` delimiter runs. Returns the text and whether no opener is left.
fn strip_emphasis(s: &str) -> (String, bool) {
    let chars: Vec<char> = s.chars().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch != '*' && ch != '_' {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] == ch {
            i += 1;
        }
        let len = i - start;
        let prev = start.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i).copied();
        let ws_or_punct = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || is_punct(c));
        let left = next.is_some_and(|n| !n.is_whitespace() && (!is_punct(n) || ws_or_punct(prev)));
        let right = prev.is_some_and(|p| !p.is_whitespace() && (!is_punct(p) || ws_or_punct(next)));
        let (open, close) = if len > 3 {
            (false, false)
        } else if ch == '*' {
            (
                left && !prev.is_some_and(|p| p.is_ascii_alphanumeric()),
                right && !next.is_some_and(|n| n.is_ascii_alphanumeric()),
            )
        } else {
            (
                left && (!right || prev.is_some_and(is_punct)),
                right && (!left || next.is_some_and(is_punct)),
            )
        };
        runs.push(Run {
            start,
            len,
            ch,
            open,
            close,
        });
    }
    let mut removed = vec![false; runs.len()];
    let mut stack: Vec<usize> = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        if run.close {
            let found = stack.iter().rposition(|&o| {
                let op = &runs[o];
                op.ch == run.ch
                    && op.len == run.len
                    && (run.ch != '_' || !chars[op.start + op.len..run.start].contains(&'_'))
            });
            if let Some(pos) = found {
                removed[stack[pos]] = true;
                removed[r] = true;
                stack.truncate(pos);
                continue;
            }
        }
        if run.open {
            stack.push(r);
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut next_run = 0;
    let mut i = 0;
    while i < chars.len() {
        if next_run < runs.len() && runs[next_run].start == i {
            let run = &runs[next_run];
            if !removed[next_run] {
                out.extend(std::iter::repeat_n(run.ch, run.len));
            }
            i += run.len;
            next_run += 1;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    (out, stack.is_empty())
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
