//! `#[function_tools]` on an impl block: [`ast`] reads the block and the `#[function_tool]`
//! markers, [`classify`] validates each method into a tool or hook ([`model`]), and [`expand`]
//! emits the `FunctionTools` impl: the tool table built once, dispatch by name, the hooks, and
//! spanned checks of parameter, context and return types.

pub mod ast;
pub mod classify;
pub mod expand;
pub mod model;
pub mod types;

use crate::diag::Errors;
use proc_macro2::{Span, TokenStream};
use quote::quote;

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    if !attr.is_empty() {
        errors.at(&attr, "`#[function_tools]` takes no arguments");
    }
    let mut imp: syn::ItemImpl = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(_) => {
            errors.push(syn::Error::new(
                Span::call_site(),
                "`#[function_tools]` goes on the inherent `impl` block of an agent or task",
            ));
            let errors = errors.to_compile_errors();
            return quote!(#errors #item);
        }
    };
    let block = ast::Block::read(&mut imp, &mut errors);
    let model = classify::classify(block, &mut errors);
    let errs = errors.to_compile_errors();
    let generated = if errors.is_empty() {
        expand::function_tools(&model)
    } else {
        expand::fallback(&model)
    };
    quote!(#errs #imp #generated)
}

/// `#[function_tool]` outside a `#[function_tools]` block: an error at the marker, and the
/// method unchanged.
pub fn stray_marker(item: TokenStream) -> TokenStream {
    let err = syn::Error::new(
        Span::call_site(),
        "`#[function_tool]` only works on methods of an `impl` block marked `#[function_tools]`",
    )
    .to_compile_error();
    quote!(#err #item)
}
