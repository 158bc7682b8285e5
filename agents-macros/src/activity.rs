//! `#[agent_task(result = T)]` and `#[agent]` on a struct: parse the arguments, validate them,
//! expand to `ActivityInfo` plus the `AgentTask` or `Agent` marker.

use crate::diag::Errors;
use crate::docs;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token, Type};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Task,
    Agent,
}

struct Args {
    result: Option<Type>,
    instructions: Option<LitStr>,
    id: Option<LitStr>,
    sensitive: bool,
    preserve_function_calls: bool,
}

fn parse_args(kind: Kind, attr: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args {
        result: None,
        instructions: None,
        id: None,
        sensitive: false,
        preserve_function_calls: false,
    };
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr) {
        Ok(m) => m,
        Err(e) => {
            errors.push(e);
            return args;
        }
    };
    for meta in metas {
        let flag = match meta.path().get_ident().map(|i| i.to_string()).as_deref() {
            Some("sensitive") => Some(("sensitive", &mut args.sensitive)),
            Some("preserve_function_calls") if kind == Kind::Task => {
                Some(("preserve_function_calls", &mut args.preserve_function_calls))
            }
            Some("preserve_function_calls") => {
                errors.at(
                    &meta,
                    "`preserve_function_calls` is for tasks (`#[agent_task]`): only a task's conversation merges back",
                );
                continue;
            }
            _ => None,
        };
        if let Some((name, slot)) = flag {
            match &meta {
                Meta::Path(_) if *slot => errors.at(&meta, format!("`{name}` is given twice")),
                Meta::Path(_) => *slot = true,
                _ => errors.at(
                    &meta,
                    format!("`{name}` is a flag: write `{name}`, without a value"),
                ),
            }
            continue;
        }
        let Meta::NameValue(nv) = &meta else {
            errors.at(&meta, "expected `key = value` or `sensitive`");
            continue;
        };
        let key = nv
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match key.as_str() {
            "result" if kind == Kind::Task => errors.at(&nv.path, "`result` is given twice"),
            "instructions" | "id" => {
                let Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) = &nv.value
                else {
                    errors.at(&nv.value, format!("`{key}` takes a string literal"));
                    continue;
                };
                let slot = if key == "id" {
                    &mut args.id
                } else {
                    &mut args.instructions
                };
                if slot.is_some() {
                    errors.at(&nv.path, format!("`{key}` is given twice"));
                }
                *slot = Some(s.clone());
            }
            _ => {
                let known = match kind {
                    Kind::Task => {
                        "`result`, `instructions`, `id`, `sensitive` or `preserve_function_calls`"
                    }
                    Kind::Agent => "`instructions`, `id` or `sensitive`",
                };
                errors.at(&nv.path, format!("unknown argument; expected {known}"));
            }
        }
    }
    args
}

pub fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    // `result = Vec<String>` is not a valid `Meta` value expression in every form; accept a type
    // directly by parsing `result = <type>` by hand first.
    let (attr, raw_result) = split_result_arg(attr);
    let mut args = parse_args(kind, attr, &mut errors);
    if let Some(t) = raw_result {
        match t {
            Ok(t) if args.result.is_none() => args.result = Some(t),
            Ok(t) => errors.at(t, "`result` is given twice"),
            Err(e) => errors.push(e),
        }
    }
    let strukt: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(s) => s,
        Err(_) => {
            let what = if kind == Kind::Task {
                "agent_task"
            } else {
                "agent"
            };
            let e = syn::Error::new(
                Span::call_site(),
                format!("`#[{what}]` goes on a struct; put `#[function_tools]` on its impl block"),
            );
            let e = e.to_compile_error();
            return quote!(#e #item);
        }
    };
    if kind == Kind::Task && args.result.is_none() {
        errors.push(syn::Error::new(
            Span::call_site(),
            "missing `result = <type>`: the type this task completes with, e.g. `#[agent_task(result = bool)]`",
        ));
    }
    if let Err(e) = errors.finish() {
        let e = e.to_compile_error();
        return quote!(#e #strukt);
    }

    let name = &strukt.ident;
    let (impl_g, ty_g, where_g) = strukt.generics.split_for_impl();
    let id = args
        .id
        .map(|s| s.value())
        .unwrap_or_else(|| snake_case(&name.to_string()));
    let instructions = args
        .instructions
        .map(|s| s.value())
        .unwrap_or_else(|| docs::full_text(&strukt.attrs));
    let sensitive = args.sensitive;
    let preserve = args.preserve_function_calls;
    let p = quote!(::agents_core::__private);
    let (result, marker) = match kind {
        Kind::Task => {
            let r = args.result.expect("checked above");
            (quote!(#r), quote!(#p::AgentTask))
        }
        Kind::Agent => (quote!(#p::NoResult), quote!(#p::Agent)),
    };
    quote! {
        #strukt

        impl #impl_g #p::ActivityInfo for #name #ty_g #where_g {
            type Result = #result;
            const ID: &'static str = #id;
            const INSTRUCTIONS: &'static str = #instructions;
            const SENSITIVE: bool = #sensitive;
            const PRESERVE_FUNCTION_CALLS: bool = #preserve;
        }

        impl #impl_g #marker for #name #ty_g #where_g {}
    }
}

/// Takes `result = <type>` out of the attribute tokens, since a type such as `Vec<String>` is not
/// an expression `Meta` can hold.
fn split_result_arg(attr: TokenStream) -> (TokenStream, Option<syn::Result<Type>>) {
    use proc_macro2::TokenTree;
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    let mut segments: Vec<Vec<TokenTree>> = vec![Vec::new()];
    let mut depth = 0i32;
    for tt in tokens {
        if let TokenTree::Punct(p) = &tt {
            match p.as_char() {
                '<' => depth += 1,
                '>' if depth > 0 => depth -= 1,
                ',' if depth == 0 => {
                    segments.push(Vec::new());
                    continue;
                }
                _ => {}
            }
        }
        segments.last_mut().expect("never empty").push(tt);
    }
    let mut rest = TokenStream::new();
    let mut result = None;
    for seg in segments.into_iter().filter(|s| !s.is_empty()) {
        let is_result = matches!(&seg[..], [TokenTree::Ident(i), TokenTree::Punct(p), ..] if i == "result" && p.as_char() == '=');
        if is_result && result.is_none() {
            let ty: TokenStream = seg[2..].iter().cloned().collect();
            result = Some(if ty.is_empty() {
                Err(syn::Error::new_spanned(
                    &seg[0],
                    "expected a type after `result =`",
                ))
            } else {
                syn::parse2::<Type>(ty)
            });
        } else {
            if !rest.is_empty() {
                rest.extend(quote!(,));
            }
            rest.extend(seg);
        }
    }
    (rest, result)
}

pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}
