//! The one path generated code uses to reach `agents-core`.

use proc_macro2::TokenStream;
use quote::quote;

/// `::agents_core::__private`: every generated path goes through it, so users need no direct
/// dependency on serde, schemars or futures.
pub fn private() -> TokenStream {
    quote!(::agents_core::__private)
}

/// The same path as a string, for `#[serde(crate = "...")]`-style attributes.
pub const PRIVATE: &str = "::agents_core::__private";

/// `::agents_core::__private` with every token at `span`, for generated expressions whose
/// errors must point at one user token (a whole expression's span runs from its first token to
/// its last).
pub fn private_at(span: proc_macro2::Span) -> TokenStream {
    quote::quote_spanned!(span=> ::agents_core::__private)
}
