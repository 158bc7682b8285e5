//! Validates each method of a `#[function_tools]` block into a tool, a hook, a getter or a
//! plain method. Every error is spanned at the offending token: the receiver, the parameter,
//! the `# Arguments` line, the `async` keyword, the tool name.

use super::ast::{Block, Method, ToolArgs};
use super::model::{Arg, Getter, Hook, Model, Param, Tool};
use super::types;
use crate::diag::Errors;
use crate::docs;
use proc_macro2::Span;
use syn::{FnArg, Pat, PatType, Receiver, Signature, Type};

/// Hooks, recognised by name.
const HOOKS: [&str; 4] = ["on_enter", "on_exit", "on_dtmf", "on_timer"];

pub fn classify(block: Block, errors: &mut Errors) -> Model {
    if let Some(path) = &block.trait_path {
        errors.at(
            path,
            "`#[function_tools]` goes on an inherent `impl` block, not a trait impl: tools and hooks are methods of the type itself",
        );
    }
    if let Some(generics) = &block.generics {
        errors.at(
            generics,
            "`#[function_tools]` does not take a generic impl block: a type's tool schemas are built once, so write the block for a concrete type",
        );
    }
    let mut model = Model {
        self_ty: block.self_ty,
        generics: block.generics.clone().unwrap_or_default(),
        tools: Vec::new(),
        on_enter: None,
        on_exit: None,
        on_dtmf: None,
        on_timer: None,
        instructions: None,
        is_sensitive: None,
        tool_enabled: None,
    };
    for Method { func, marker } in block.methods {
        let name = func.sig.ident.to_string();
        if let Some(args) = marker {
            let Some(tool) = tool(&func, args, errors) else {
                continue;
            };
            if let Some(prev) = model.tools.iter().find(|t| t.name == tool.name) {
                let mut e = syn::Error::new(
                    tool.name_span,
                    format!(
                        "duplicate tool name `{}`: every tool of an agent needs its own name",
                        tool.name
                    ),
                );
                e.combine(syn::Error::new(prev.name_span, "first defined here"));
                errors.push(e);
            } else {
                model.tools.push(tool);
            }
        } else if HOOKS.contains(&name.as_str()) {
            let hook = hook(&func.sig, errors);
            match name.as_str() {
                "on_enter" => model.on_enter = hook,
                "on_exit" => model.on_exit = hook,
                "on_dtmf" => model.on_dtmf = hook,
                _ => model.on_timer = hook,
            }
        } else if name == "instructions" {
            model.instructions = getter(&func.sig, "-> String", &[], errors);
        } else if name == "is_sensitive" {
            model.is_sensitive = getter(&func.sig, "-> bool", &[], errors);
        } else if name == "tool_enabled" {
            model.tool_enabled = getter(&func.sig, "-> bool", &["name: &str"], errors);
        }
    }
    model
}

/// Errors for what no tool or hook signature may have: generics, `unsafe`, an ABI, `...`.
fn plain_signature(sig: &Signature, what: &str, errors: &mut Errors) {
    if !sig.generics.params.is_empty() {
        errors.at(
            &sig.generics,
            format!("{what} cannot be generic: it is called with one concrete signature"),
        );
    }
    if let Some(w) = &sig.generics.where_clause {
        errors.at(w, format!("{what} cannot have a `where` clause"));
    }
    if let Some(u) = &sig.unsafety {
        errors.at(u, format!("{what} cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi, format!("{what} cannot have an `extern` ABI"));
    }
    if let Some(v) = &sig.variadic {
        errors.at(v, format!("{what} cannot be variadic"));
    }
}

/// The span of the parameter list's parentheses, where a missing parameter belongs.
fn parens(sig: &Signature) -> Span {
    sig.paren_token.span.join()
}

/// `&self` / `&mut self` (also written `self: &Self` / `self: &mut Self`): `Some(mutable)`.
fn reference_receiver(r: &Receiver) -> Option<bool> {
    if r.reference.is_some() {
        return Some(r.mutability.is_some());
    }
    match &*r.ty {
        Type::Reference(t) if matches!(&*t.elem, Type::Path(p) if p.path.is_ident("Self")) => {
            Some(t.mutability.is_some())
        }
        _ => None,
    }
}

fn tool(f: &syn::ImplItemFn, args: ToolArgs, errors: &mut Errors) -> Option<Tool> {
    let sig = &f.sig;
    plain_signature(sig, "a tool", errors);
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if reference_receiver(r).is_some() => {}
        Some(FnArg::Receiver(r)) => errors.at(
            r,
            "a tool takes `&mut self` or `&self`, not `self` by value: the agent lives on after the call",
        ),
        _ => {
            errors.at_span(
                parens(sig),
                "a tool is a method: its first parameter is `&mut self` or `&self`",
            );
            return None;
        }
    }

    let doc_args = docs::arguments_section(&f.attrs);
    let mut call_args = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let mut context: Option<&PatType> = None;
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(pt) = input else { continue };
        if let Type::Reference(r) = &*pt.ty {
            if r.mutability.is_some() {
                if context.is_some() {
                    errors.at(
                        &pt.ty,
                        "a tool takes one context: the only `&mut` parameter (values the LLM fills in are taken by value)",
                    );
                } else {
                    context = Some(pt);
                }
                call_args.push(Arg::Context(r.elem.clone()));
                continue;
            }
        }
        let ident = match &*pt.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
            other => {
                errors.at(
                    other,
                    "tool parameters need plain names: the name is the JSON field the LLM fills in",
                );
                continue;
            }
        };
        if let Some(problem) = types::parameter_problem(&pt.ty) {
            errors.at(&pt.ty, problem);
            continue;
        }
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
                .find(|d| d.name == json_name)
                .map(|d| d.text.clone())
                .filter(|d| !d.is_empty())
        };
        call_args.push(Arg::Json(params.len()));
        params.push(Param {
            optional: types::is_option(&pt.ty),
            ident,
            ty: (*pt.ty).clone(),
            description,
        });
    }
    check_argument_docs(&doc_args, &params, context, errors);

    let (name, name_span) = match &args.name {
        Some(n) => (n.value(), n.span()),
        None => (sig.ident.to_string(), sig.ident.span()),
    };
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        errors.at_span(
            name_span,
            "tool names are 1 to 64 characters of ASCII letters, digits, `_` and `-`",
        );
    }
    let description = args
        .description
        .map(|d| d.value())
        .unwrap_or_else(|| docs::first_paragraph(&f.attrs));
    Some(Tool {
        method: sig.ident.clone(),
        name,
        name_span,
        description,
        ignore_on_enter: args.ignore_on_enter,
        is_async: sig.asyncness.is_some(),
        args: call_args,
        params,
        ret: return_type(sig),
    })
}

/// Every `# Arguments` entry names a parameter the LLM fills in, once.
fn check_argument_docs(
    doc_args: &[docs::ArgDoc],
    params: &[Param],
    context: Option<&PatType>,
    errors: &mut Errors,
) {
    let context_name = context.and_then(|pt| match &*pt.pat {
        Pat::Ident(pi) => Some(pi.ident.to_string()),
        _ => None,
    });
    for (i, entry) in doc_args.iter().enumerate() {
        let known = params.iter().any(|p| {
            let n = p.ident.to_string();
            n.strip_prefix("r#").unwrap_or(&n) == entry.name
        });
        if doc_args[..i].iter().any(|d| d.name == entry.name) {
            errors.at_span(
                entry.span,
                format!("`# Arguments` describes `{}` twice", entry.name),
            );
        } else if !known && context_name.as_deref() == Some(entry.name.as_str()) {
            errors.at_span(
                entry.span,
                format!(
                    "`{}` is the context, not a value the LLM fills in: leave it out of `# Arguments`",
                    entry.name
                ),
            );
        } else if !known {
            let names: Vec<String> = params.iter().map(|p| format!("`{}`", p.ident)).collect();
            let list = if names.is_empty() {
                "this tool has no parameters the LLM fills in".to_string()
            } else {
                format!("its parameters are {}", names.join(", "))
            };
            errors.at_span(
                entry.span,
                format!(
                    "`# Arguments` describes `{}`, which is not a parameter of this tool ({list})",
                    entry.name
                ),
            );
        }
    }
}

fn return_type(sig: &Signature) -> Option<Type> {
    match &sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, ty) => Some((**ty).clone()),
    }
}

fn hook(sig: &Signature, errors: &mut Errors) -> Option<Hook> {
    let name = sig.ident.to_string();
    let wants_digits = name == "on_dtmf";
    let usage = if wants_digits {
        "`async fn on_dtmf(&mut self, ctx: &mut TaskContext<'_, T>, digits: &str) -> Result<()>`"
            .to_string()
    } else {
        format!("`async fn {name}(&mut self, ctx: &mut TaskContext<'_, T>) -> Result<()>`")
    };
    let before = errors.count();
    plain_signature(sig, &format!("the `{name}` hook"), errors);
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if reference_receiver(r) == Some(true) => {}
        Some(FnArg::Receiver(r)) => errors.at(
            r,
            format!("the `{name}` hook takes `&mut self`: write it as {usage}"),
        ),
        _ => errors.at_span(
            parens(sig),
            format!("the `{name}` hook is a method taking `&mut self`: write it as {usage}"),
        ),
    }
    let mut args = Vec::new();
    let mut has_context = false;
    let mut has_digits = false;
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(pt) = input else { continue };
        match &*pt.ty {
            Type::Reference(r) if r.mutability.is_some() => {
                if has_context {
                    errors.at(
                        &pt.ty,
                        format!("the `{name}` hook takes one context: the only `&mut` parameter"),
                    );
                }
                has_context = true;
                args.push(Arg::Context(r.elem.clone()));
            }
            ty if wants_digits && types::is_str_ref(ty) && !has_digits => {
                has_digits = true;
                args.push(Arg::Digits);
            }
            Type::Reference(r) if types::looks_like_context(&r.elem) => errors.at(
                &pt.ty,
                format!("take the context as `&mut`: write the hook as {usage}"),
            ),
            ty if types::looks_like_context(ty) => errors.at(
                &pt.ty,
                format!("take the context as `&mut`: write the hook as {usage}"),
            ),
            _ => errors.at(
                pt,
                format!(
                    "the `{name}` hook takes {}: write it as {usage}",
                    if wants_digits {
                        "the context and the digits"
                    } else {
                        "only the context"
                    }
                ),
            ),
        }
    }
    if wants_digits && !has_digits {
        errors.at_span(
            parens(sig),
            format!("`on_dtmf` receives the keypad digits: add `digits: &str`, as in {usage}"),
        );
    }
    if errors.count() != before {
        return None;
    }
    Some(Hook {
        method: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        args,
        ret: return_type(sig),
    })
}

/// `instructions`, `is_sensitive`, `tool_enabled`: `fn name(&self, <extra>) <ret>`, not async.
fn getter(sig: &Signature, ret: &str, extra: &[&str], errors: &mut Errors) -> Option<Getter> {
    let name = sig.ident.to_string();
    let usage = {
        let mut params = vec!["&self"];
        params.extend_from_slice(extra);
        format!("`fn {name}({}) {ret}`", params.join(", "))
    };
    let before = errors.count();
    plain_signature(sig, &format!("`{name}`"), errors);
    if let Some(a) = &sig.asyncness {
        errors.at(
            a,
            format!("`{name}` is called synchronously: write it as {usage}"),
        );
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if reference_receiver(r) == Some(false) => {}
        Some(FnArg::Receiver(r)) => {
            errors.at(r, format!("`{name}` takes `&self`: write it as {usage}"))
        }
        _ => errors.at_span(
            parens(sig),
            format!("`{name}` is a method: write it as {usage}"),
        ),
    }
    let typed: Vec<&PatType> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(pt) => Some(pt),
            FnArg::Receiver(_) => None,
        })
        .collect();
    for (i, pt) in typed.iter().enumerate() {
        match extra.get(i) {
            Some(_) if types::is_str_ref(&pt.ty) => {}
            Some(_) => errors.at(
                &pt.ty,
                format!("`{name}` receives the tool name as `&str`: write it as {usage}"),
            ),
            None => errors.at(
                pt,
                format!("`{name}` takes no other parameter: write it as {usage}"),
            ),
        }
    }
    if typed.len() < extra.len() {
        errors.at_span(
            parens(sig),
            format!("missing parameter: write it as {usage}"),
        );
    }
    let ret_ty = match &sig.output {
        syn::ReturnType::Type(_, ty) => Some((**ty).clone()),
        syn::ReturnType::Default => {
            errors.at_span(
                sig.paren_token.span.close(),
                format!("`{name}` returns a value: write it as {usage}"),
            );
            None
        }
    };
    if errors.count() != before {
        return None;
    }
    Some(Getter {
        method: sig.ident.clone(),
        ret: ret_ty?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn run(mut imp: syn::ItemImpl) -> (Model, Vec<String>) {
        let mut errors = Errors::new();
        let block = Block::read(&mut imp, &mut errors);
        let model = classify(block, &mut errors);
        (model, errors.messages())
    }

    #[test]
    fn the_context_is_the_mut_parameter_whatever_its_type_is_called() {
        let (model, errors) = run(parse_quote! {
            impl Survey {
                /// Record.
                #[function_tool]
                async fn record(&mut self, answer: String, c: &mut Handle<'_>, score: Option<u32>) {}
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        let tool = &model.tools[0];
        assert!(matches!(
            tool.args[..],
            [Arg::Json(0), Arg::Context(_), Arg::Json(1)]
        ));
        let names: Vec<String> = tool.params.iter().map(|p| p.ident.to_string()).collect();
        assert_eq!(names, ["answer", "score"]);
        assert_eq!(
            tool.params.iter().map(|p| p.optional).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn a_second_context_and_a_shared_context_are_errors() {
        let (_, errors) = run(parse_quote! {
            impl Survey {
                /// Twice.
                #[function_tool]
                async fn twice(&mut self, a: &mut Ctx<'_, Self>, b: &mut Ctx<'_, Self>) {}
                /// Shared.
                #[function_tool]
                async fn shared(&mut self, a: &TaskContext<'_, bool>) {}
            }
        });
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("one context"));
        assert!(errors[1].starts_with("take the context as `&mut`"));
    }

    #[test]
    fn hooks_take_the_context_and_digits_in_any_order() {
        let (model, errors) = run(parse_quote! {
            impl Pin {
                async fn on_dtmf(&mut self, digits: &str, ctx: &mut C<'_>) -> Result<()> { Ok(()) }
                fn on_enter(&mut self) {}
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        let dtmf = model.on_dtmf.expect("on_dtmf recognised");
        assert!(matches!(dtmf.args[..], [Arg::Digits, Arg::Context(_)]));
        assert!(model.on_enter.expect("on_enter recognised").args.is_empty());
    }

    #[test]
    fn argument_docs_must_name_parameters() {
        let (model, errors) = run(parse_quote! {
            impl Survey {
                /// Record.
                ///
                /// # Arguments
                /// * `answer` - What was said
                /// * `mood` - Not a parameter
                #[function_tool]
                async fn record(&mut self, answer: String) {}
            }
        });
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("`mood`"));
        assert_eq!(
            model.tools[0].params[0].description.as_deref(),
            Some("What was said")
        );
    }
}
