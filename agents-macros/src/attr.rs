//! One grammar for the arguments of every attribute (`key = value` pairs and bare flags), read
//! with syn's `parse_nested_meta`: a key given twice, a flag given a value, a value of the wrong
//! kind and an unknown key are reported the same way on every attribute, at the offending token.

use crate::diag::Errors;
use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Lit, LitStr, Token};

/// A `key = value` argument; a second occurrence is an error at the second key.
pub struct Attr<T> {
    name: &'static str,
    value: Option<T>,
}

impl<T> Attr<T> {
    pub fn new(name: &'static str) -> Self {
        Attr { name, value: None }
    }

    pub fn set(&mut self, meta: &ParseNestedMeta, value: T, errors: &mut Errors) {
        if self.value.is_some() {
            errors.at(&meta.path, format!("duplicate argument `{}`", self.name));
        } else {
            self.value = Some(value);
        }
    }

    pub fn get(self) -> Option<T> {
        self.value
    }
}

/// A bare flag (`sensitive`); a value or a second occurrence is an error.
pub struct Flag {
    name: &'static str,
    set: bool,
}

impl Flag {
    pub fn new(name: &'static str) -> Self {
        Flag { name, set: false }
    }

    /// Reads the flag at `meta`, consuming any value given to it.
    pub fn parse(&mut self, meta: &ParseNestedMeta, errors: &mut Errors) -> syn::Result<()> {
        let name = self.name;
        if meta.input.peek(Token![=]) {
            let value: Expr = meta.value()?.parse()?;
            let path = &meta.path;
            errors.at(
                quote::quote!(#path = #value),
                format!("`{name}` is a flag: write `{name}`, without a value"),
            );
            return Ok(());
        }
        if meta.input.peek(syn::token::Paren) {
            let group: proc_macro2::Group = meta.input.parse()?;
            let path = &meta.path;
            errors.at(
                quote::quote!(#path #group),
                format!("`{name}` is a flag: write `{name}`, without arguments"),
            );
            return Ok(());
        }
        if self.set {
            errors.at(&meta.path, format!("duplicate argument `{name}`"));
        }
        self.set = true;
        Ok(())
    }

    pub fn is_set(&self) -> bool {
        self.set
    }
}

/// The string literal after `key =`; any other value is an error at the value.
pub fn string_value(meta: &ParseNestedMeta, errors: &mut Errors) -> syn::Result<Option<LitStr>> {
    let value: Expr = meta.value()?.parse()?;
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(Some(s)),
        other => {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            errors.at(
                other,
                format!("`{key}` takes a string literal: `{key} = \"...\"`"),
            );
            Ok(None)
        }
    }
}

/// Reports an unknown key at its path and skips its value (an expression or a type), so the
/// arguments after it are still read.
pub fn unknown(meta: &ParseNestedMeta, expected: &str, errors: &mut Errors) -> syn::Result<()> {
    let path = &meta.path;
    let shown = quote::quote!(#path).to_string().replace(' ', "");
    errors.at(
        path,
        format!("unknown argument `{shown}`; expected {expected}"),
    );
    if meta.input.peek(Token![=]) {
        let input = meta.value()?;
        let fork = input.fork();
        if fork.parse::<Expr>().is_ok() && (fork.is_empty() || fork.peek(Token![,])) {
            input.parse::<Expr>()?;
        } else {
            input.parse::<syn::Type>()?;
        }
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
}

/// Runs `each` on every argument of `args` (the tokens inside the attribute's parentheses). A
/// syntax error is recorded and ends the reading; returns whether every argument was read.
pub fn parse_args(
    args: TokenStream,
    errors: &mut Errors,
    mut each: impl FnMut(&ParseNestedMeta, &mut Errors) -> syn::Result<()>,
) -> bool {
    let mut inner = Errors::new();
    let parser = syn::meta::parser(|meta| each(&meta, &mut inner));
    let result = parser.parse2(args);
    let read_all = result.is_ok();
    if let Err(e) = result {
        inner.push(e);
    }
    errors.append(inner);
    read_all
}
