//! Rustdoc → descriptions: the text of `#[doc]` attributes, the first paragraph, and the
//! `# Arguments` list.

use syn::{Attribute, Expr, Lit, Meta};

/// The doc comment lines, with the single leading space rustdoc adds removed.
pub fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(lit) = &nv.value {
                if let Lit::Str(s) = &lit.lit {
                    for line in s.value().split('\n') {
                        lines.push(line.strip_prefix(' ').unwrap_or(line).to_string());
                    }
                }
            }
        }
    }
    lines
}

/// All doc text, trimmed, lines joined with newlines.
pub fn full_text(attrs: &[Attribute]) -> String {
    doc_lines(attrs)
        .iter()
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The first paragraph, lines joined with spaces: the tool description.
pub fn first_paragraph(attrs: &[Attribute]) -> String {
    let lines = doc_lines(attrs);
    let mut out = Vec::new();
    for line in lines.iter().map(|l| l.trim()) {
        if line.is_empty() || line.starts_with('#') {
            if out.is_empty() {
                continue;
            }
            break;
        }
        out.push(line);
    }
    out.join(" ")
}

/// Entries of the `# Arguments` section: `* `name` - text` (also `-` bullets and `:` separators).
pub fn arguments_section(attrs: &[Attribute]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in doc_lines(attrs) {
        let t = line.trim();
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
                last.1.push(' ');
                last.1.push_str(t);
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
        out.push((name, text));
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
        assert_eq!(
            arguments_section(&a),
            vec![
                (
                    "can_commute".into(),
                    "Whether the candidate can commute".into()
                ),
                ("commute_method".into(), "Transportation method".into())
            ]
        );
    }
}
