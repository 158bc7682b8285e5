//! The embedded page: HTML and one script, compiled into the binary.

/// The page's script (capture and playback worklets are inlined in it as Blob URLs).
pub(crate) const SCRIPT: &str = include_str!("page/app.js");

const HTML: &str = include_str!("page/index.html");

/// The page with `title` (HTML-escaped) filled in.
pub(crate) fn html(title: &str) -> String {
    let escaped = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    HTML.replace("{{TITLE}}", &escaped)
}
