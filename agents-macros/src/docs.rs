//! Rustdoc → descriptions: the text of `#[doc]` attributes, the first paragraph, and the
//! `# Arguments` list, each entry keeping the span of the doc line it starts on.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Lit, Meta};

/// One doc line, with the single leading space rustdoc adds removed.
struct Line {
    text: String,
    span: Span,
}

fn lines(attrs: &[Attribute]) -> Vec<Line> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        let Expr::Lit(lit) = &nv.value else { continue };
        let Lit::Str(s) = &lit.lit else { continue };
        for line in s.value().split('\n') {
            lines.push(Line {
                text: line.strip_prefix(' ').unwrap_or(line).to_string(),
                span: attr.span(),
            });
        }
    }
    lines
}

/// All doc text, trimmed, lines joined with newlines.
pub fn full_text(attrs: &[Attribute]) -> String {
    lines(attrs)
        .iter()
        .map(|l| l.text.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The first paragraph, lines joined with spaces: the tool description.
pub fn first_paragraph(attrs: &[Attribute]) -> String {
    let mut out = Vec::new();
    for line in lines(attrs) {
        let t = line.text.trim().to_string();
        if t.is_empty() || t.starts_with('#') {
            if out.is_empty() {
                continue;
            }
            break;
        }
        out.push(t);
    }
    out.join(" ")
}

/// One entry of a `# Arguments` section.
pub struct ArgDoc {
    pub name: String,
    pub text: String,
    /// The doc line the entry starts on.
    pub span: Span,
}

/// Entries of the `# Arguments` section: `* `name` - text` (also `-` bullets and `:` separators).
pub fn arguments_section(attrs: &[Attribute]) -> Vec<ArgDoc> {
    let mut out: Vec<ArgDoc> = Vec::new();
    let mut inside = false;
    for line in lines(attrs) {
        let t = line.text.trim();
        if t.starts_with('#') {
            inside = t
                .trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case("arguments");
            continue;
        }
        if !inside || t.is_empty() {
            continue;
        }
        let Some(rest) = t.strip_prefix("* ").or_else(|| t.strip_prefix("- ")) else {
            // A continuation line of the previous entry.
            if let Some(last) = out.last_mut() {
                last.text.push(' ');
                last.text.push_str(t);
            }
            continue;
        };
        let rest = rest.trim();
        let (name, text) = match rest.strip_prefix('`').and_then(|r| r.split_once('`')) {
            Some((name, text)) => (name.to_string(), text),
            None => match rest.split_once([':', ' ']) {
                Some((name, text)) => (name.to_string(), text),
                None => (rest.to_string(), ""),
            },
        };
        let text = text
            .trim()
            .trim_start_matches(['-', ':', '—', '–'])
            .trim()
            .to_string();
        out.push(ArgDoc {
            name,
            text,
            span: line.span,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(src: &str) -> Vec<Attribute> {
        let item: syn::ItemFn = syn::parse_str(&format!("{src}\nfn f() {{}}")).unwrap();
        item.attrs
    }

    #[test]
    fn paragraphs_and_arguments() {
        let a = attrs(
            "/// Record commute flexibility\n/// and method.\n///\n/// More.\n///\n/// # Arguments\n/// * `can_commute` - Whether the candidate can commute\n/// * `commute_method`: Transportation\n///   method",
        );
        assert_eq!(
            first_paragraph(&a),
            "Record commute flexibility and method."
        );
        let args: Vec<(String, String)> = arguments_section(&a)
            .into_iter()
            .map(|d| (d.name, d.text))
            .collect();
        assert_eq!(
            args,
            vec![
                (
                    "can_commute".into(),
                    "Whether the candidate can commute".into()
                ),
                ("commute_method".into(), "Transportation method".into())
            ]
        );
    }

    #[test]
    fn text_outside_the_arguments_section_is_not_an_entry() {
        let a = attrs("/// Does it.\n///\n/// * `not_an_arg` - a list item\n///\n/// # Errors\n/// * `x` - no");
        assert!(arguments_section(&a).is_empty());
        assert_eq!(full_text(&a).lines().next(), Some("Does it."));
    }
}
