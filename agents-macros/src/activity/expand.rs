//! `ActivityInfo`, the `AgentTask`/`Agent` marker and `Activity` for a marked struct.
//!
//! `Activity` forwards to the type's `#[function_tools]` block when it has one, else to the
//! defaults (no tools, no hooks): the choice is made at compile time by `__private::Probe`, so
//! a task without tools needs no block. A generic struct forwards to its block unconditionally,
//! since a probe inside a generic impl cannot see blocks written for one instantiation.

use super::args::Args;
use super::Kind;
use crate::docs;
use crate::paths::private;
use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemStruct;

pub fn impls(kind: Kind, strukt: &ItemStruct, args: &Args, result: &TokenStream) -> TokenStream {
    let p = private();
    let name = &strukt.ident;
    let (impl_g, ty_g, where_g) = strukt.generics.split_for_impl();
    let id = args
        .id
        .as_ref()
        .map(|s| s.value())
        .unwrap_or_else(|| snake_case(&name.to_string()));
    let instructions = args
        .instructions
        .as_ref()
        .map(|s| s.value())
        .unwrap_or_else(|| docs::full_text(&strukt.attrs));
    let sensitive = args.sensitive;
    let preserve = args.preserve_function_calls;
    let marker = match kind {
        Kind::Task => quote!(#p::AgentTask),
        Kind::Agent => quote!(#p::Agent),
    };
    let activity = activity(strukt);
    // A generic type is an agent or task for the parameters its blocks are written for.
    let marker_where = if strukt.generics.params.is_empty() {
        quote!(#where_g)
    } else {
        let mut w = where_g.cloned().unwrap_or_else(|| syn::parse_quote!(where));
        w.predicates.push(syn::parse_quote!(Self: #p::Activity));
        if kind == Kind::Agent {
            // Stated again: the bound above would otherwise hide the impl that fixes `Result`.
            w.predicates
                .push(syn::parse_quote!(Self: #p::ActivityInfo<Result = #p::NoResult>));
        }
        quote!(#w)
    };
    quote! {
        impl #impl_g #p::ActivityInfo for #name #ty_g #where_g {
            type Result = #result;
            const ID: &'static str = #id;
            const INSTRUCTIONS: &'static str = #instructions;
            const SENSITIVE: bool = #sensitive;
            const PRESERVE_FUNCTION_CALLS: bool = #preserve;
        }

        impl #impl_g #marker for #name #ty_g #marker_where {}

        #activity
    }
}

fn activity(strukt: &ItemStruct) -> TokenStream {
    let p = private();
    let name = &strukt.ident;
    let generic = !strukt.generics.params.is_empty();
    let (impl_g, ty_g, where_g) = strukt.generics.split_for_impl();
    let (target, where_g, uses) = if generic {
        let mut where_clause = where_g.cloned().unwrap_or_else(|| syn::parse_quote!(where));
        where_clause
            .predicates
            .push(syn::parse_quote!(Self: #p::FunctionTools));
        (
            quote!(<Self as #p::FunctionTools>),
            quote!(#where_clause),
            TokenStream::new(),
        )
    } else {
        (
            quote!((&#p::Probe::<Self>::NEW)),
            quote!(#where_g),
            quote! {
                #[allow(unused_imports)]
                use #p::{ForwardToDefaults as _, ForwardToFunctionTools as _};
            },
        )
    };
    // `Probe` methods take the activity as an argument; `FunctionTools` methods as `self`.
    let call = |method: &str, args: TokenStream| {
        if generic {
            let m = syn::Ident::new(method, proc_macro2::Span::call_site());
            quote!(#target::#m(self #args))
        } else {
            let m = quote::format_ident!("__{}", method);
            quote!(#target.#m(self #args))
        }
    };
    let instructions = call("instructions", quote!());
    let is_sensitive = call("is_sensitive", quote!());
    let tools = call("tools", quote!());
    let call_tool = call("call_tool", quote!(, ctx, call));
    let on_enter = call("on_enter", quote!(, ctx));
    let on_exit = call("on_exit", quote!(, ctx));
    let on_dtmf = call("on_dtmf", quote!(, ctx, digits));
    let on_timer = call("on_timer", quote!(, ctx));
    let ctx = quote!(#p::Context<'_, <Self as #p::ActivityInfo>::Result>);
    let fut = quote!(#p::BoxFuture<'a, #p::HookResult>);
    quote! {
        const _: () = {
            #uses
            impl #impl_g #p::Activity for #name #ty_g #where_g {
                fn instructions(&self) -> ::std::string::String { #instructions }
                fn is_sensitive(&self) -> bool { #is_sensitive }
                fn tools(&self) -> ::std::vec::Vec<#p::Arc<#p::ToolDefinition>> { #tools }
                fn call_tool<'a>(
                    &'a mut self,
                    ctx: &'a mut #ctx,
                    call: &'a #p::FunctionCall,
                ) -> #p::BoxFuture<'a, #p::ToolOutput> {
                    #call_tool
                }
                fn on_enter<'a>(&'a mut self, ctx: &'a mut #ctx) -> #fut { #on_enter }
                fn on_exit<'a>(&'a mut self, ctx: &'a mut #ctx) -> #fut { #on_exit }
                fn on_dtmf<'a>(&'a mut self, ctx: &'a mut #ctx, digits: &'a str) -> #fut {
                    #on_dtmf
                }
                fn on_timer<'a>(&'a mut self, ctx: &'a mut #ctx) -> #fut { #on_timer }
            }
        };
    }
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
