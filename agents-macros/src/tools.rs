//! `#[function_tools]` on an impl block: parse the methods, validate tool signatures, expand to
//! the `Activity` implementation (tool table built once, dispatch by name, hooks).

use crate::diag::Errors;
use crate::docs;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Expr, ExprLit, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, Lit, LitStr, Meta, Pat, Token,
    Type,
};

/// Methods recognised as hooks by name.
const HOOKS: [&str; 4] = ["on_enter", "on_exit", "on_dtmf", "on_timer"];

/// Names of the context types a tool or hook may take; recognised by the last path segment.
const CONTEXT_TYPES: [&str; 3] = ["Context", "AgentContext", "TaskContext"];

/// One tool parameter that the LLM fills in.
struct Param {
    ident: Ident,
    ty: Type,
    description: Option<String>,
    optional: bool,
}

/// One argument in the method's order: either the context or a JSON parameter.
enum Arg {
    Context(Box<Type>),
    Json(usize),
}

struct Tool {
    method: Ident,
    name: String,
    name_span: Span,
    description: String,
    ignore_on_enter: bool,
    is_async: bool,
    args: Vec<Arg>,
    params: Vec<Param>,
}

struct Hook {
    method: Ident,
    is_async: bool,
    ctx: Option<Type>,
    /// `on_dtmf` also takes the digits as `&str`.
    takes_digits: bool,
}

struct Model {
    self_ty: Type,
    tools: Vec<Tool>,
    on_enter: Option<Hook>,
    on_exit: Option<Hook>,
    on_dtmf: Option<Hook>,
    on_timer: Option<Hook>,
    instructions: Option<Ident>,
    is_sensitive: Option<Ident>,
    tool_enabled: Option<Ident>,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    if !attr.is_empty() {
        errors.at(&attr, "`#[function_tools]` takes no arguments");
    }
    let mut imp: ItemImpl = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(_) => {
            let e = syn::Error::new(
                Span::call_site(),
                "`#[function_tools]` goes on an inherent `impl` block of an agent or task",
            )
            .to_compile_error();
            return quote!(#e #item);
        }
    };
    if let Some((_, path, _)) = &imp.trait_ {
        errors.at(
            path,
            "`#[function_tools]` goes on an inherent `impl` block, not a trait impl",
        );
    }
    let model = parse(&mut imp, &mut errors);
    match errors.finish() {
        Ok(()) => {
            let activity = expand_activity(&model);
            quote!(#imp #activity)
        }
        Err(e) => {
            let e = e.to_compile_error();
            let fallback = fallback(&imp.self_ty);
            quote!(#e #imp #fallback)
        }
    }
}

/// Walks the impl block, strips the markers rustc must not see, and builds the model.
fn parse(imp: &mut ItemImpl, errors: &mut Errors) -> Model {
    let mut model = Model {
        self_ty: (*imp.self_ty).clone(),
        tools: Vec::new(),
        on_enter: None,
        on_exit: None,
        on_dtmf: None,
        on_timer: None,
        instructions: None,
        is_sensitive: None,
        tool_enabled: None,
    };
    for item in &mut imp.items {
        let ImplItem::Fn(f) = item else { continue };
        let marker = take_marker(f);
        let name = f.sig.ident.to_string();
        match marker {
            Some(attr) => {
                if let Some(tool) = parse_tool(f, attr, errors) {
                    if let Some(prev) = model.tools.iter().find(|t| t.name == tool.name) {
                        let mut e = syn::Error::new(
                            tool.name_span,
                            format!("duplicate tool name `{}`: every tool of an agent needs its own name", tool.name),
                        );
                        e.combine(syn::Error::new(prev.name_span, "first defined here"));
                        errors.push(e);
                    } else {
                        model.tools.push(tool);
                    }
                }
            }
            None if HOOKS.contains(&name.as_str()) => {
                let hook = parse_hook(f, errors);
                match name.as_str() {
                    "on_enter" => model.on_enter = hook,
                    "on_exit" => model.on_exit = hook,
                    "on_dtmf" => model.on_dtmf = hook,
                    _ => model.on_timer = hook,
                }
            }
            None if name == "tool_enabled" => {
                if f.sig.asyncness.is_some() || f.sig.inputs.len() != 2 {
                    errors.at(
                        &f.sig,
                        "`tool_enabled` must be `fn tool_enabled(&self, name: &str) -> bool` (not async)",
                    );
                } else {
                    model.tool_enabled = Some(f.sig.ident.clone());
                }
            }
            None if name == "is_sensitive" => {
                if f.sig.asyncness.is_some() || f.sig.inputs.len() != 1 {
                    errors.at(
                        &f.sig,
                        "`is_sensitive` must be `fn is_sensitive(&self) -> bool` (not async)",
                    );
                } else {
                    model.is_sensitive = Some(f.sig.ident.clone());
                }
            }
            None if name == "instructions" => {
                if f.sig.asyncness.is_some() || f.sig.inputs.len() != 1 {
                    errors.at(
                        &f.sig,
                        "`instructions` must be `fn instructions(&self) -> String` (not async)",
                    );
                } else {
                    model.instructions = Some(f.sig.ident.clone());
                }
            }
            None => {}
        }
        // Parameter docs are read by `parse_tool`; rustc rejects them on parameters.
        for input in &mut f.sig.inputs {
            if let FnArg::Typed(pt) = input {
                pt.attrs.retain(|a| !a.path().is_ident("doc"));
            }
        }
    }
    model
}

struct Marker {
    attr: syn::Attribute,
}

fn take_marker(f: &mut ImplItemFn) -> Option<Marker> {
    let pos = f.attrs.iter().position(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "function_tool")
    })?;
    Some(Marker {
        attr: f.attrs.remove(pos),
    })
}

fn parse_tool(f: &ImplItemFn, marker: Marker, errors: &mut Errors) -> Option<Tool> {
    let mut name: Option<LitStr> = None;
    let mut description: Option<LitStr> = None;
    let mut ignore_on_enter = false;
    if let Meta::List(list) = &marker.attr.meta {
        match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(list.tokens.clone()) {
            Ok(metas) => {
                for meta in metas {
                    match &meta {
                        Meta::Path(p) if p.is_ident("ignore_on_enter") => ignore_on_enter = true,
                        Meta::NameValue(nv) if nv.path.is_ident("name") || nv.path.is_ident("description") => {
                            match &nv.value {
                                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => {
                                    if nv.path.is_ident("name") {
                                        name = Some(s.clone());
                                    } else {
                                        description = Some(s.clone());
                                    }
                                }
                                other => errors.at(other, "expected a string literal"),
                            }
                        }
                        other => errors.at(
                            other,
                            "unknown argument; expected `name = \"...\"`, `description = \"...\"` or `ignore_on_enter`",
                        ),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }

    let sig = &f.sig;
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() => {}
        Some(FnArg::Receiver(r)) => {
            errors.at(
                r,
                "a tool takes `&mut self` or `&self`, not `self` by value",
            );
        }
        _ => {
            errors.at(
                &sig.ident,
                "a tool is a method: its first parameter is `&mut self` or `&self`",
            );
            return None;
        }
    }
    if !sig.generics.params.is_empty() {
        errors.at(
            &sig.generics,
            "a tool cannot be generic: its parameters must have one JSON schema",
        );
    }

    let doc_args = docs::arguments_section(&f.attrs);
    let mut args = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let mut seen_ctx = false;
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(pt) = input else { continue };
        if let Some(ctx) = context_type(&pt.ty) {
            if seen_ctx {
                errors.at(&pt.ty, "a tool takes at most one context parameter");
            }
            seen_ctx = true;
            if !matches!(&*pt.ty, Type::Reference(r) if r.mutability.is_some()) {
                errors.at(
                    &pt.ty,
                    "take the context as `&mut`, e.g. `ctx: &mut TaskContext<'_, T>`",
                );
            }
            args.push(Arg::Context(Box::new(ctx)));
            continue;
        }
        let Pat::Ident(pi) = &*pt.pat else {
            errors.at(
                &pt.pat,
                "tool parameters need plain names: the name is the JSON field the LLM fills in",
            );
            continue;
        };
        if let Some(problem) = unsupported_type(&pt.ty) {
            errors.at(&pt.ty, problem);
            continue;
        }
        let ident = pi.ident.clone();
        let json_name = ident.to_string();
        let json_name = json_name
            .strip_prefix("r#")
            .unwrap_or(&json_name)
            .to_string();
        let own_doc = docs::full_text(&pt.attrs).replace('\n', " ");
        let description = if !own_doc.is_empty() {
            Some(own_doc)
        } else {
            doc_args
                .iter()
                .find(|(n, _)| *n == json_name)
                .map(|(_, d)| d.clone())
                .filter(|d| !d.is_empty())
        };
        args.push(Arg::Json(params.len()));
        params.push(Param {
            optional: is_option(&pt.ty),
            ident,
            ty: (*pt.ty).clone(),
            description,
        });
    }
    for (doc_name, _) in &doc_args {
        if !params.iter().any(|p| p.ident == doc_name.as_str()) {
            errors.at(
                &sig.ident,
                format!("the `# Arguments` docs describe `{doc_name}`, which is not a parameter of this tool"),
            );
        }
    }

    let (name_str, name_span) = match &name {
        Some(n) => (n.value(), n.span()),
        None => (sig.ident.to_string(), sig.ident.span()),
    };
    let valid = !name_str.is_empty()
        && name_str.len() <= 64
        && name_str
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        errors.push(syn::Error::new(
            name_span,
            "tool names are 1 to 64 characters of letters, digits, `_` and `-`",
        ));
    }
    let description = description
        .map(|d| d.value())
        .unwrap_or_else(|| docs::first_paragraph(&f.attrs));
    Some(Tool {
        method: sig.ident.clone(),
        name: name_str,
        name_span,
        description,
        ignore_on_enter,
        is_async: sig.asyncness.is_some(),
        args,
        params,
    })
}

fn parse_hook(f: &ImplItemFn, errors: &mut Errors) -> Option<Hook> {
    let sig = &f.sig;
    let wants_digits = sig.ident == "on_dtmf";
    let mut ok = matches!(sig.inputs.first(), Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_some());
    let mut ctx = None;
    let mut takes_digits = false;
    for input in sig.inputs.iter().skip(1) {
        match input {
            FnArg::Typed(pt)
                if ctx.is_none() && !takes_digits && context_type(&pt.ty).is_some() =>
            {
                ctx = context_type(&pt.ty)
            }
            FnArg::Typed(pt) if wants_digits && !takes_digits && is_str_ref(&pt.ty) => {
                takes_digits = true
            }
            _ => ok = false,
        }
    }
    if wants_digits && !takes_digits {
        ok = false;
    }
    if !ok {
        let extra = if wants_digits { ", digits: &str" } else { "" };
        errors.at(
            sig,
            format!(
                "`{name}` is a hook: write it as `async fn {name}(&mut self, ctx: &mut TaskContext<'_, T>{extra}) -> Result<()>` (or with `AgentContext<'_>` in an agent)",
                name = sig.ident
            ),
        );
        return None;
    }
    Some(Hook {
        method: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        ctx,
        takes_digits,
    })
}

fn is_str_ref(ty: &Type) -> bool {
    matches!(ty, Type::Reference(r) if matches!(&*r.elem, Type::Path(p) if p.path.is_ident("str")))
}

/// The context type behind `&mut Context<..>` / `&mut TaskContext<..>` / `&mut AgentContext<..>`.
fn context_type(ty: &Type) -> Option<Type> {
    let inner = match ty {
        Type::Reference(r) => &*r.elem,
        other => other,
    };
    let Type::Path(tp) = inner else { return None };
    let last = tp.path.segments.last()?;
    CONTEXT_TYPES
        .iter()
        .any(|c| last.ident == c)
        .then(|| inner.clone())
}

/// Why a parameter type cannot be decoded from JSON, if it cannot.
fn unsupported_type(ty: &Type) -> Option<String> {
    match ty {
        Type::Reference(r) => {
            let hint = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => {
                    "use `String` instead of `&str`".to_string()
                }
                Type::Slice(s) => {
                    let elem = &s.elem;
                    format!("use `Vec<{}>` instead of a slice", quote!(#elem))
                }
                other => format!("use an owned `{}`", quote!(#other)),
            };
            Some(format!(
                "tool parameters are decoded from the LLM's JSON and cannot borrow: {hint}"
            ))
        }
        Type::ImplTrait(_) => {
            Some("tool parameters need a concrete type with a JSON schema, not `impl Trait`".into())
        }
        Type::TraitObject(_) => {
            Some("tool parameters need a concrete type, not a trait object".into())
        }
        Type::Tuple(t) if !t.elems.is_empty() => {
            Some("tuples have no OpenAI strict schema: use a struct with named fields".into())
        }
        Type::Path(p) => {
            for seg in &p.path.segments {
                if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                    for arg in &a.args {
                        match arg {
                            syn::GenericArgument::Type(t) => {
                                if let Some(problem) = unsupported_type(t) {
                                    return Some(problem);
                                }
                            }
                            syn::GenericArgument::Lifetime(_) => {
                                return Some("tool parameters are decoded from JSON and cannot borrow: use owned types".into())
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

fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

fn expand_activity(model: &Model) -> TokenStream {
    let p = quote!(::agents_core::__private);
    let self_ty = &model.self_ty;
    let ctx_ty = quote!(#p::Context<'_, <#self_ty as #p::ActivityInfo>::Result>);

    let mut arg_structs = Vec::new();
    let mut defs = Vec::new();
    let mut arms = Vec::new();
    for tool in &model.tools {
        let args_ident = format_ident!("__{}Args", camel(&tool.method.to_string()));
        let fields = tool.params.iter().map(|param| {
            let ident = &param.ident;
            let ty = &param.ty;
            let doc = param.description.as_ref().map(|d| quote!(#[doc = #d]));
            let default = param.optional.then(|| quote!(#[serde(default)]));
            quote_spanned!(ty.span()=> #doc #default #ident: #ty)
        });
        arg_structs.push(quote! {
            #[derive(#p::serde::Deserialize, #p::schemars::JsonSchema)]
            #[serde(crate = "::agents_core::__private::serde")]
            #[schemars(crate = "::agents_core::__private::schemars")]
            #[allow(non_camel_case_types, dead_code)]
            struct #args_ident { #(#fields,)* }
        });
        let name = &tool.name;
        let description = &tool.description;
        let ignore = tool.ignore_on_enter.then(|| quote!(.ignore_on_enter()));
        defs.push(quote! {
            #p::Arc::new(#p::ToolDefinition::for_args::<#args_ident>(#name, #description) #ignore)
        });

        let method = &tool.method;
        let call_args = tool.args.iter().map(|a| match a {
            Arg::Context(ty) => {
                let at = located(ty.span());
                quote_spanned!(at=> { let __c: &mut #ty = ctx; __c })
            }
            Arg::Json(i) => {
                let ident = &tool.params[*i].ident;
                quote!(__args.#ident)
            }
        });
        let call = if tool.is_async {
            {
                let path = quote_spanned!(located(method.span())=> Self::#method);
                quote!(#path(self, #(#call_args),*).await)
            }
        } else {
            {
                let path = quote_spanned!(located(method.span())=> Self::#method);
                quote!(#path(self, #(#call_args),*))
            }
        };
        arms.push(quote! {
            #name => {
                let __args = match #p::decode_arguments::<#args_ident>(&call.name, &call.arguments) {
                    ::core::result::Result::Ok(a) => a,
                    ::core::result::Result::Err(e) => {
                        return ::std::boxed::Box::pin(async move { #p::ToolOutput::error(e) })
                    }
                };
                ::std::boxed::Box::pin(async move {
                    let __ret = #call;
                    #[allow(unused_imports)]
                    use #p::dispatch::{ViaIntoToolOutput as _, ViaSerialize as _, ViaSerializeResult as _};
                    (&&&#p::dispatch::Ret::new(__ret)).__tool_output()
                })
            }
        });
    }

    let hook = |hook: &Option<Hook>, trait_fn: &str| {
        let hook = hook.as_ref()?;
        let trait_fn = Ident::new(trait_fn, Span::call_site());
        let method = &hook.method;
        let mut args = Vec::new();
        if let Some(ty) = &hook.ctx {
            let at = located(ty.span());
            args.push(quote_spanned!(at=> { let __c: &mut #ty = ctx; __c }));
        }
        if hook.takes_digits {
            args.push(quote!(digits));
        }
        let call = if hook.is_async {
            {
                let path = quote_spanned!(located(method.span())=> Self::#method);
                quote!(#path(self, #(#args),*).await)
            }
        } else {
            {
                let path = quote_spanned!(located(method.span())=> Self::#method);
                quote!(#path(self, #(#args),*))
            }
        };
        let unused = hook.ctx.is_none().then(|| quote!(let _ = ctx;));
        let digits_param = hook.takes_digits.then(|| quote!(, digits: &'a str));
        Some(quote! {
            fn #trait_fn<'a>(&'a mut self, ctx: &'a mut #ctx_ty #digits_param) -> #p::BoxFuture<'a, ::agents_core::Result<()>> {
                #unused
                ::std::boxed::Box::pin(async move { #p::IntoHookResult::into_hook_result(#call) })
            }
        })
    };
    let on_enter = hook(&model.on_enter, "on_enter");
    let on_exit = hook(&model.on_exit, "on_exit");
    let on_dtmf = hook(&model.on_dtmf, "on_dtmf");
    let on_timer = hook(&model.on_timer, "on_timer");
    let instructions = model.instructions.as_ref().map(|m| {
        quote! {
            fn instructions(&self) -> ::std::string::String {
                ::std::string::String::from(Self::#m(self))
            }
        }
    });
    let is_sensitive = model.is_sensitive.as_ref().map(|m| {
        quote! {
            fn is_sensitive(&self) -> bool {
                Self::#m(self)
            }
        }
    });
    let tools_result = match &model.tool_enabled {
        Some(m) => quote! {
            TOOLS.iter().filter(|t| Self::#m(self, &t.name)).cloned().collect()
        },
        None => quote!(TOOLS.clone()),
    };
    let unknown = quote! {
        __other => {
            let __msg = ::std::format!("Unknown tool `{}`.", __other);
            ::std::boxed::Box::pin(async move { #p::ToolOutput::Error(__msg) })
        }
    };

    quote! {
        const _: () = {
            #(#arg_structs)*

            #[allow(unused_imports)]
            use #p::IntoHookResult as _;

            impl #p::Activity for #self_ty {
                #instructions
                #is_sensitive

                fn tools(&self) -> ::std::vec::Vec<#p::Arc<#p::ToolDefinition>> {
                    static TOOLS: #p::LazyLock<::std::vec::Vec<#p::Arc<#p::ToolDefinition>>> =
                        #p::LazyLock::new(|| ::std::vec![#(#defs),*]);
                    #tools_result
                }

                #[allow(unused_variables)]
                fn call_tool<'a>(
                    &'a mut self,
                    ctx: &'a mut #ctx_ty,
                    call: &'a #p::FunctionCall,
                ) -> #p::BoxFuture<'a, #p::ToolOutput> {
                    match call.name.as_str() {
                        #(#arms)*
                        #unknown
                    }
                }

                #on_enter
                #on_exit
                #on_dtmf
                #on_timer
            }
        };
    }
}

/// Emitted beside the errors so the type still implements `Activity` and the user sees only the
/// real mistake, not a cascade of "`Activity` is not implemented".
fn fallback(self_ty: &Type) -> TokenStream {
    let p = quote!(::agents_core::__private);
    quote! {
        impl #p::Activity for #self_ty {
            fn tools(&self) -> ::std::vec::Vec<#p::Arc<#p::ToolDefinition>> {
                ::std::unimplemented!()
            }
            fn call_tool<'a>(
                &'a mut self,
                _: &'a mut #p::Context<'_, <#self_ty as #p::ActivityInfo>::Result>,
                _: &'a #p::FunctionCall,
            ) -> #p::BoxFuture<'a, #p::ToolOutput> {
                ::std::unimplemented!()
            }
        }
    }
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

/// A span that points at `at` for diagnostics but resolves names at the macro's call site, so
/// generated locals (`self`, `ctx`) stay visible when the user's tokens come from a
/// `macro_rules!` expansion.
fn located(at: Span) -> Span {
    Span::call_site().located_at(at)
}
