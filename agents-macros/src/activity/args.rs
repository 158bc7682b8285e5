//! The arguments of `#[agent_task(...)]` / `#[agent(...)]`, read with the shared grammar
//! ([`crate::attr`]) and checked against the attribute kind.

use super::Kind;
use crate::attr::{self, Attr, Flag};
use crate::diag::Errors;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{LitStr, Type};

pub struct Args {
    result: Option<Type>,
    pub instructions: Option<LitStr>,
    pub id: Option<LitStr>,
    pub sensitive: bool,
    pub preserve_function_calls: bool,
}

impl Args {
    /// The `ActivityInfo::Result` type: the task's `result`, or `NoResult` for an agent. `None`
    /// for a task whose `result` is missing or unreadable.
    pub fn result_type(&self, kind: Kind) -> Option<TokenStream> {
        match kind {
            Kind::Task => self.result.as_ref().map(|t| quote!(#t)),
            Kind::Agent => {
                let p = crate::paths::private();
                Some(quote!(#p::NoResult))
            }
        }
    }
}

pub fn parse(kind: Kind, attr: TokenStream, errors: &mut Errors) -> Args {
    let mut result = Attr::<Type>::new("result");
    let mut instructions = Attr::<LitStr>::new("instructions");
    let mut id = Attr::<LitStr>::new("id");
    let mut sensitive = Flag::new("sensitive");
    let mut preserve = Flag::new("preserve_function_calls");
    let expected = match kind {
        Kind::Task => "`result`, `instructions`, `id`, `sensitive` or `preserve_function_calls`",
        Kind::Agent => "`instructions`, `id` or `sensitive`",
    };
    let read_all = attr::parse_args(attr, errors, |meta, errors| {
        let key = meta
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match key.as_str() {
            "result" if kind == Kind::Task => {
                let ty: Type = meta.value()?.parse()?;
                result.set(meta, ty, errors);
            }
            "result" => {
                errors.at(
                    &meta.path,
                    "an agent has no result: use `#[agent_task(result = T)]` for a task that completes with a value",
                );
                meta.value()?.parse::<Type>()?;
            }
            "instructions" => {
                if let Some(s) = attr::string_value(meta, errors)? {
                    instructions.set(meta, s, errors);
                }
            }
            "id" => {
                if let Some(s) = attr::string_value(meta, errors)? {
                    if s.value().trim().is_empty() {
                        errors.at(&s, "`id` cannot be empty");
                    }
                    id.set(meta, s, errors);
                }
            }
            "sensitive" => sensitive.parse(meta, errors)?,
            "preserve_function_calls" if kind == Kind::Task => preserve.parse(meta, errors)?,
            "preserve_function_calls" => {
                errors.at(
                    &meta.path,
                    "`preserve_function_calls` is for tasks (`#[agent_task]`): only a task's conversation merges back",
                );
                preserve.parse(meta, &mut Errors::new())?;
            }
            _ => attr::unknown(meta, expected, errors)?,
        }
        Ok(())
    });
    let result = result.get();
    if kind == Kind::Task && result.is_none() && read_all {
        errors.push(syn::Error::new(
            Span::call_site(),
            "missing `result = <type>`: the type this task completes with, e.g. `#[agent_task(result = bool)]`",
        ));
    }
    Args {
        result,
        instructions: instructions.get(),
        id: id.get(),
        sensitive: sensitive.is_set(),
        preserve_function_calls: kind == Kind::Task && preserve.is_set(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(kind: Kind, src: &str) -> (Args, Vec<String>) {
        let mut errors = Errors::new();
        let args = parse(kind, src.parse().unwrap(), &mut errors);
        (args, errors.messages())
    }

    #[test]
    fn a_result_type_is_read_as_a_type() {
        let (args, errors) = parse_str(Kind::Task, "result = Vec<Option<String>>, sensitive");
        assert!(errors.is_empty(), "{errors:?}");
        let ty = args.result_type(Kind::Task).unwrap().to_string();
        assert_eq!(ty.replace(' ', ""), "Vec<Option<String>>");
        assert!(args.sensitive);
    }

    #[test]
    fn every_key_has_one_duplicate_rule() {
        let (_, errors) = parse_str(
            Kind::Task,
            "result = bool, result = u8, id = \"a\", id = \"b\", sensitive, sensitive",
        );
        assert_eq!(
            errors,
            [
                "duplicate argument `result`",
                "duplicate argument `id`",
                "duplicate argument `sensitive`"
            ]
        );
    }

    #[test]
    fn an_unknown_key_does_not_hide_the_ones_after_it() {
        let (args, errors) = parse_str(Kind::Task, "colour = Red<u8>, result = bool");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("unknown argument `colour`"));
        assert!(args.result_type(Kind::Task).is_some());
    }
}
