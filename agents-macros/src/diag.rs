//! Collects spanned errors so a user sees all of them at once, combined into one
//! `compile_error!` group.

use proc_macro2::Span;

/// Errors found so far, in source order of discovery.
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn new() -> Self {
        Errors(None)
    }

    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(e) => e.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// An error spanning `tokens` (first to last token).
    pub fn at<T: quote::ToTokens>(&mut self, tokens: T, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    /// An error at one span.
    pub fn at_span(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The errors as `compile_error!` invocations (nothing when there are none).
    pub fn to_compile_errors(&self) -> proc_macro2::TokenStream {
        self.0
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}

impl Errors {
    /// Moves `other`'s errors after these.
    pub fn append(&mut self, other: Errors) {
        if let Some(e) = other.0 {
            self.push(e);
        }
    }
}

impl Errors {
    /// How many errors have been collected.
    pub fn count(&self) -> usize {
        self.0.as_ref().map_or(0, |e| e.into_iter().count())
    }
}

#[cfg(test)]
impl Errors {
    /// The messages, for tests.
    pub fn messages(&self) -> Vec<String> {
        self.0
            .as_ref()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    }
}
