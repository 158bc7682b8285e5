//! `#[agent_task(result = T)]` and `#[agent]` on a struct: [`args`] reads and validates the
//! arguments, [`expand`] emits `ActivityInfo`, the `AgentTask`/`Agent` marker and `Activity`.

pub mod args;
pub mod expand;

use crate::diag::Errors;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;

/// Which struct attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Task,
    Agent,
}

impl Kind {
    pub fn attribute(self) -> &'static str {
        match self {
            Kind::Task => "agent_task",
            Kind::Agent => "agent",
        }
    }
}

pub fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    let args = args::parse(kind, attr, &mut errors);
    let strukt = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(s)) => s,
        Ok(other) => {
            errors.push(syn::Error::new(
                item_keyword_span(&other),
                format!(
                    "`#[{}]` goes on a struct: keep the {} state in a struct's fields",
                    kind.attribute(),
                    if kind == Kind::Task {
                        "task's"
                    } else {
                        "agent's"
                    }
                ),
            ));
            let errors = errors.to_compile_errors();
            return quote!(#errors #item);
        }
        Err(e) => {
            errors.push(e);
            let errors = errors.to_compile_errors();
            return quote!(#errors #item);
        }
    };
    let errors_out = errors.to_compile_errors();
    // With errors, the impls are still emitted when the result type is known, so code using
    // the type reports only the mistake above.
    let impls = match args.result_type(kind) {
        Some(result) => expand::impls(kind, &strukt, &args, &result),
        None => TokenStream::new(),
    };
    quote!(#errors_out #strukt #impls)
}

/// The item's leading keyword (`enum`, `fn`, `impl`, ...), where "this is not a struct" belongs.
fn item_keyword_span(item: &syn::Item) -> Span {
    match item {
        syn::Item::Enum(e) => e.enum_token.span,
        syn::Item::Union(u) => u.union_token.span,
        syn::Item::Fn(f) => f.sig.fn_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        syn::Item::Trait(t) => t.trait_token.span,
        syn::Item::Type(t) => t.type_token.span,
        other => other.span(),
    }
}
