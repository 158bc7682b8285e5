//! What can be told from a parameter's type alone: why a type cannot be decoded from JSON, and
//! whether it names a context (used only to word errors; the context itself is recognised by
//! type in the generated code).

use quote::quote;
use syn::{GenericArgument, PathArguments, Type};

/// The names the crate gives its context types, used to word "take the context as `&mut`".
const CONTEXT_NAMES: [&str; 4] = ["Context", "AgentContext", "TaskContext", "Ctx"];

/// Whether `ty` looks like a context type by name (for error wording only).
pub fn looks_like_context(ty: &Type) -> bool {
    let Type::Path(tp) = ty else { return false };
    tp.path
        .segments
        .last()
        .is_some_and(|s| CONTEXT_NAMES.iter().any(|c| s.ident == c))
}

/// Why a tool parameter type cannot be decoded from the LLM's JSON, if that shows in its syntax.
pub fn parameter_problem(ty: &Type) -> Option<String> {
    match ty {
        Type::Reference(r) => {
            if looks_like_context(&r.elem) {
                let elem = &r.elem;
                return Some(format!(
                    "take the context as `&mut`: `&mut {}`",
                    pretty(quote!(#elem))
                ));
            }
            let hint = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => {
                    "use `String` instead of `&str`".to_string()
                }
                Type::Slice(s) => {
                    let elem = &s.elem;
                    format!("use `Vec<{}>` instead of a slice", pretty(quote!(#elem)))
                }
                other => format!(
                    "use an owned `{}` (or, if this is the context, take it as `&mut`)",
                    pretty(quote!(#other))
                ),
            };
            Some(format!(
                "tool parameters are decoded from the LLM's JSON and cannot borrow: {hint}"
            ))
        }
        Type::Path(_) if looks_like_context(ty) => Some(format!(
            "take the context as `&mut`: `&mut {}`",
            pretty(quote!(#ty))
        )),
        Type::ImplTrait(_) => {
            Some("tool parameters need a concrete type with a JSON schema, not `impl Trait`".into())
        }
        Type::TraitObject(_) => {
            Some("tool parameters need a concrete type, not a trait object".into())
        }
        Type::Ptr(_) => Some("tool parameters cannot be raw pointers: use an owned type".into()),
        Type::BareFn(_) => {
            Some("tool parameters cannot be functions: the LLM fills them in as JSON".into())
        }
        Type::Tuple(t) if !t.elems.is_empty() => {
            Some("tuples have no OpenAI strict schema: use a struct with named fields".into())
        }
        Type::Paren(p) => parameter_problem(&p.elem),
        Type::Path(p) => {
            if p.qself.is_some() {
                return Some("tool parameters need a concrete type, not an associated type".into());
            }
            for seg in &p.path.segments {
                if seg.ident == "Self" {
                    return Some(
                        "tool parameter types cannot mention `Self`: name the type".into(),
                    );
                }
                if let PathArguments::AngleBracketed(a) = &seg.arguments {
                    for arg in &a.args {
                        match arg {
                            GenericArgument::Type(t) => {
                                if let Some(problem) = parameter_problem(t) {
                                    return Some(problem);
                                }
                            }
                            GenericArgument::Lifetime(_) => {
                                return Some("tool parameters are decoded from the LLM's JSON and cannot borrow: use owned types".into())
                            }
                            _ => {}
                        }
                    }
                }
            }
            None
        }
        _ => None,
    }
}

/// `Option<_>` by its last path segment: the parameter may be left out of the JSON.
pub fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// `&str`.
pub fn is_str_ref(ty: &Type) -> bool {
    matches!(ty, Type::Reference(r) if r.mutability.is_none() && matches!(&*r.elem, Type::Path(p) if p.path.is_ident("str")))
}

/// Tokens as a user would write them: `TaskContext<'_, bool>`, not `TaskContext < '_ , bool >`.
pub fn pretty(tokens: proc_macro2::TokenStream) -> String {
    let mut s = tokens.to_string();
    for (from, to) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("' ", "'"),
        (" :: ", "::"),
        (":: ", "::"),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
    ] {
        s = s.replace(from, to);
    }
    s
}
