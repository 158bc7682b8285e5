//! The `FunctionTools` impl for a validated block.
//!
//! Each tool gets an argument struct (`Deserialize` + `JsonSchema`, derived through
//! `__private`), read once into a static tool table. Type checks are spanned at the user's
//! tokens so their `on_unimplemented` messages land there: every field goes through
//! `__private::ToolParameter`, the context through `__private::ContextOf`, tool results
//! through `__private::Returned` and hook results through `__private::HookReturn`.

use super::model::{Arg, Getter, Hook, Model, Tool};
use crate::paths::{private, private_at, PRIVATE};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

pub fn function_tools(model: &Model) -> TokenStream {
    let p = private();
    let self_ty = &model.self_ty;
    let ctx_ty = quote!(#p::Context<'_, <Self as #p::ActivityInfo>::Result>);
    let fut = quote!(#p::BoxFuture<'a, #p::HookResult>);

    let arg_structs = model.tools.iter().map(args_struct);
    let tools = (!model.tools.is_empty()).then(|| tool_table(model));
    let call_tool = (!model.tools.is_empty()).then(|| {
        let arms = model.tools.iter().map(dispatch_arm);
        quote! {
            #[allow(unused_variables)]
            fn call_tool<'a>(
                &'a mut self,
                ctx: &'a mut #ctx_ty,
                call: &'a #p::FunctionCall,
            ) -> #p::BoxFuture<'a, #p::ToolOutput> {
                match call.name.as_str() {
                    #(#arms)*
                    __other => #p::unknown_tool(__other),
                }
            }
        }
    });
    let hook = |hook: &Option<Hook>, trait_fn: &str| {
        let hook = hook.as_ref()?;
        let trait_fn = Ident::new(trait_fn, Span::call_site());
        let args = hook.args.iter().map(|a| match a {
            Arg::Context(ty) => context_arg(ty),
            Arg::Digits => quote!(digits),
            Arg::Json(_) => unreachable!("hooks take no JSON parameters"),
        });
        let call = method_call(&hook.method, hook.is_async, args);
        let at = located(hook.ret.as_ref().map_or_else(Span::call_site, anchor));
        let pa = private_at(at);
        let result = quote_spanned!(at=> #pa::HookReturn::into_hook_result(__r));
        let uses_ctx = hook.args.iter().any(|a| matches!(a, Arg::Context(_)));
        let unused = (!uses_ctx).then(|| quote!(let _ = ctx;));
        let digits_param = (trait_fn == "on_dtmf").then(|| quote!(, digits: &'a str));
        Some(quote! {
            fn #trait_fn<'a>(&'a mut self, ctx: &'a mut #ctx_ty #digits_param) -> #fut {
                #unused
                ::std::boxed::Box::pin(async move {
                    let __r = #call;
                    #result
                })
            }
        })
    };
    let on_enter = hook(&model.on_enter, "on_enter");
    let on_exit = hook(&model.on_exit, "on_exit");
    let on_dtmf = hook(&model.on_dtmf, "on_dtmf");
    let on_timer = hook(&model.on_timer, "on_timer");
    let instructions = model.instructions.as_ref().map(|g| {
        let call = getter_call(g, quote!());
        let at = located(anchor(&g.ret));
        let pa = private_at(at);
        let conv = quote_spanned!(at=> #pa::IntoInstructions::into_instructions(__r));
        quote!(fn instructions(&self) -> ::std::string::String { let __r = #call; #conv })
    });
    let is_sensitive = model.is_sensitive.as_ref().map(|g| {
        let call = getter_call(g, quote!());
        let check = bool_check(g);
        quote!(fn is_sensitive(&self) -> bool { let __r = #call; #check })
    });

    quote! {
        const _: () = {
            #(#arg_structs)*

            impl #p::FunctionTools for #self_ty {
                #instructions
                #is_sensitive
                #tools
                #call_tool
                #on_enter
                #on_exit
                #on_dtmf
                #on_timer
            }
        };
    }
}

/// Emitted beside the errors: the type keeps its (default) `FunctionTools`, so code using it
/// reports only the mistake.
pub fn fallback(model: &Model) -> TokenStream {
    let p = private();
    let self_ty = &model.self_ty;
    let (impl_g, _, where_g) = model.generics.split_for_impl();
    quote!(impl #impl_g #p::FunctionTools for #self_ty #where_g {})
}

fn args_ident(tool: &Tool) -> Ident {
    format_ident!("__{}Args", camel(&tool.method.to_string()))
}

/// `struct __NameArgs { field: Type, ... }`, each field read through `ToolParameter` so a type
/// that is not `Deserialize + JsonSchema` is one error at the parameter's type.
fn args_struct(tool: &Tool) -> TokenStream {
    let p = private();
    let ident = args_ident(tool);
    let schema_fns = tool.params.iter().map(|param| {
        let f = schema_fn(tool, param);
        let ty = &param.ty;
        quote! {
            #[allow(non_snake_case)]
            fn #f(generator: &mut #p::schemars::SchemaGenerator) -> #p::schemars::Schema {
                #[allow(unused_imports)]
                use #p::{SchemaOfInvalidParameter as _, SchemaOfParameter as _};
                (&#p::SchemaProbe::<#ty>::NEW).__schema(generator)
            }
        }
    });
    let fields = tool.params.iter().map(|param| {
        let name = &param.ident;
        let ty = &param.ty;
        let doc = param.description.as_ref().map(|d| quote!(#[doc = #d]));
        let default = param.optional.then(|| quote!(#[serde(default)]));
        let de = LitStr::new(&format!("{PRIVATE}::deserialize_parameter"), ty.span());
        let schema = LitStr::new(&schema_fn(tool, param).to_string(), ty.span());
        quote_spanned! {ty.span()=>
            #doc
            #default
            #[serde(deserialize_with = #de)]
            #[schemars(schema_with = #schema)]
            #name: #ty
        }
    });
    let serde_crate = format!("{PRIVATE}::serde");
    let schemars_crate = format!("{PRIVATE}::schemars");
    quote! {
        #(#schema_fns)*

        #[derive(#p::serde::Deserialize, #p::schemars::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate)]
        #[allow(non_camel_case_types, dead_code)]
        struct #ident { #(#fields,)* }
    }
}

/// The schema function of one parameter (`#[schemars(schema_with)]`).
fn schema_fn(tool: &Tool, param: &super::model::Param) -> Ident {
    let method = tool.method.to_string();
    let param = param.ident.to_string();
    format_ident!(
        "__schema_{}_{}",
        method.trim_start_matches("r#"),
        param.trim_start_matches("r#")
    )
}

fn tool_table(model: &Model) -> TokenStream {
    let p = private();
    let defs = model.tools.iter().map(|tool| {
        let args = args_ident(tool);
        let name = &tool.name;
        let description = &tool.description;
        let ignore = tool.ignore_on_enter.then(|| quote!(.ignore_on_enter()));
        quote! {
            #p::Arc::new(#p::ToolDefinition::for_args::<#args>(#name, #description) #ignore)
        }
    });
    let result = match &model.tool_enabled {
        Some(g) => {
            let call = getter_call(g, quote!(, &__t.name));
            let check = bool_check(g);
            quote!(TOOLS.iter().filter(|__t| { let __r = #call; #check }).cloned().collect())
        }
        None => quote!(TOOLS.clone()),
    };
    quote! {
        fn tools(&self) -> ::std::vec::Vec<#p::Arc<#p::ToolDefinition>> {
            static TOOLS: #p::LazyLock<::std::vec::Vec<#p::Arc<#p::ToolDefinition>>> =
                #p::LazyLock::new(|| ::std::vec![#(#defs),*]);
            #result
        }
    }
}

fn dispatch_arm(tool: &Tool) -> TokenStream {
    let p = private();
    let args_ty = args_ident(tool);
    let name = &tool.name;
    let call_args = tool.args.iter().map(|a| match a {
        Arg::Context(ty) => context_arg(ty),
        Arg::Json(i) => {
            let ident = &tool.params[*i].ident;
            quote!(__args.#ident)
        }
        Arg::Digits => unreachable!("tools take no digits"),
    });
    let call = method_call(&tool.method, tool.is_async, call_args);
    let at = located(tool.ret.as_ref().map_or_else(Span::call_site, anchor));
    let pa = private_at(at);
    let output = quote_spanned! {at=>
        (&&&#pa::Returned::new(__ret)).__tool_output()
    };
    quote! {
        #name => {
            let __args = match #p::decode_arguments::<#args_ty>(&call.name, &call.arguments) {
                ::core::result::Result::Ok(a) => a,
                ::core::result::Result::Err(e) => {
                    return ::std::boxed::Box::pin(async move { #p::ToolOutput::error(e) })
                }
            };
            ::std::boxed::Box::pin(async move {
                let __ret = #call;
                #[allow(unused_imports)]
                use #p::{ReturnsToolOutput as _, ReturnsSerializeResult as _, ReturnsSerialize as _};
                #output
            })
        }
    }
}

/// The context passed as the parameter's own type: `ContextOf` is implemented only by
/// `Context<'_, Self::Result>`, so an alias works and anything else is an error at the type.
fn context_arg(ty: &syn::Type) -> TokenStream {
    let p = private();
    let at = located(ty.span());
    quote_spanned!(at=> <#ty as #p::ContextOf<'_, <Self as #p::ActivityInfo>::Result>>::cast(ctx))
}

fn method_call(
    method: &Ident,
    is_async: bool,
    args: impl Iterator<Item = TokenStream>,
) -> TokenStream {
    let path = quote_spanned!(located(method.span())=> Self::#method);
    let await_ = is_async.then(|| quote!(.await));
    quote!(#path(self, #(#args),*) #await_)
}

/// `__r` as a `bool`, a type error at the getter's return type otherwise.
fn bool_check(g: &Getter) -> TokenStream {
    let at = located(anchor(&g.ret));
    quote_spanned!(at=> { let __b: bool = __r; __b })
}

fn getter_call(g: &Getter, extra: TokenStream) -> TokenStream {
    let m = &g.method;
    let path = quote_spanned!(located(m.span())=> Self::#m);
    quote!(#path(self #extra))
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Where an error about a type is shown: a path type's last segment (`Instant` in
/// `std::time::Instant`), else the type's first token (a span cannot cover several tokens).
fn anchor(ty: &syn::Type) -> Span {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map_or_else(|| ty.span(), |s| s.ident.span()),
        other => other.span(),
    }
}

/// A span that points at `at` for diagnostics but resolves names at the macro's call site, so
/// generated locals (`self`, `ctx`, `__ret`) stay visible when the user's tokens come from a
/// `macro_rules!` expansion.
fn located(at: Span) -> Span {
    Span::call_site().located_at(at)
}
