//! Reads a `#[function_tools]` impl block: its type, and each method with the arguments of its
//! `#[function_tool]` marker. Removes what rustc must not see (the markers, doc comments on
//! parameters) from the block, which is re-emitted as written otherwise.

use crate::attr::{self, Attr, Flag};
use crate::diag::Errors;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, Type};

/// The impl block.
pub struct Block {
    pub self_ty: Type,
    /// Set on a generic block (`impl<T> X<T>`), which is rejected.
    pub generics: Option<syn::Generics>,
    /// Set on a trait impl, which is rejected.
    pub trait_path: Option<syn::Path>,
    pub methods: Vec<Method>,
}

/// One method of the block, as written (markers and parameter docs included).
pub struct Method {
    pub func: ImplItemFn,
    /// `Some` when the method carries `#[function_tool]`.
    pub marker: Option<ToolArgs>,
}

/// The arguments of `#[function_tool(...)]`.
pub struct ToolArgs {
    pub name: Option<LitStr>,
    pub description: Option<LitStr>,
    pub ignore_on_enter: bool,
}

impl Block {
    pub fn read(imp: &mut ItemImpl, errors: &mut Errors) -> Block {
        let mut methods = Vec::new();
        for item in &mut imp.items {
            let ImplItem::Fn(f) = item else { continue };
            let marker = take_marker(f).map(|a| read_marker(&a, errors));
            methods.push(Method {
                func: f.clone(),
                marker,
            });
            // Parameter docs are read from the copy above; rustc rejects them on parameters.
            for input in &mut f.sig.inputs {
                if let FnArg::Typed(pt) = input {
                    pt.attrs.retain(|a| !a.path().is_ident("doc"));
                }
            }
        }
        Block {
            self_ty: (*imp.self_ty).clone(),
            generics: (!imp.generics.params.is_empty() || imp.generics.where_clause.is_some())
                .then(|| imp.generics.clone()),
            trait_path: imp.trait_.as_ref().map(|(_, path, _)| path.clone()),
            methods,
        }
    }
}

/// Removes the `#[function_tool]` marker (recognised by its last path segment, since an
/// attribute inside the block cannot be resolved) and returns it.
fn take_marker(f: &mut ImplItemFn) -> Option<syn::Attribute> {
    let pos = f.attrs.iter().position(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "function_tool")
    })?;
    Some(f.attrs.remove(pos))
}

fn read_marker(attr: &syn::Attribute, errors: &mut Errors) -> ToolArgs {
    let mut name = Attr::<LitStr>::new("name");
    let mut description = Attr::<LitStr>::new("description");
    let mut ignore_on_enter = Flag::new("ignore_on_enter");
    match &attr.meta {
        syn::Meta::Path(_) => {}
        syn::Meta::List(list) => {
            attr::parse_args(list.tokens.clone(), errors, |meta, errors| {
                let key = meta
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                match key.as_str() {
                    "name" => {
                        if let Some(s) = attr::string_value(meta, errors)? {
                            name.set(meta, s, errors);
                        }
                    }
                    "description" => {
                        if let Some(s) = attr::string_value(meta, errors)? {
                            description.set(meta, s, errors);
                        }
                    }
                    "ignore_on_enter" => ignore_on_enter.parse(meta, errors)?,
                    _ => attr::unknown(
                        meta,
                        "`name = \"...\"`, `description = \"...\"` or `ignore_on_enter`",
                        errors,
                    )?,
                }
                Ok(())
            });
        }
        syn::Meta::NameValue(nv) => errors.at(
            nv,
            "write `#[function_tool]` or `#[function_tool(name = \"...\")]`",
        ),
    }
    ToolArgs {
        name: name.get(),
        description: description.get(),
        ignore_on_enter: ignore_on_enter.is_set(),
    }
}
