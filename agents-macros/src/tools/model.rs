//! The validated form of a `#[function_tools]` block, which [`super::expand`] turns into code.

use proc_macro2::Span;
use syn::{Ident, Type};

pub struct Model {
    pub self_ty: Type,
    /// The block's generics (a generic block is an error; its stand-in impl keeps them).
    pub generics: syn::Generics,
    pub tools: Vec<Tool>,
    pub on_enter: Option<Hook>,
    pub on_exit: Option<Hook>,
    pub on_dtmf: Option<Hook>,
    pub on_timer: Option<Hook>,
    pub instructions: Option<Getter>,
    pub is_sensitive: Option<Getter>,
    pub tool_enabled: Option<Getter>,
}

/// A `#[function_tool]` method.
pub struct Tool {
    pub method: Ident,
    pub name: String,
    pub name_span: Span,
    pub description: String,
    pub ignore_on_enter: bool,
    pub is_async: bool,
    /// The arguments after the receiver, in the method's order.
    pub args: Vec<Arg>,
    pub params: Vec<Param>,
    /// The declared return type (`None` for `()`).
    pub ret: Option<Type>,
}

/// One argument of a tool or hook call.
pub enum Arg {
    /// The `&mut` parameter; holds the referenced type (`TaskContext<'_, T>`, an alias, ...).
    Context(Box<Type>),
    /// A value the LLM fills in: an index into `Tool::params`.
    Json(usize),
    /// `on_dtmf`'s digits.
    Digits,
}

/// A tool parameter the LLM fills in.
pub struct Param {
    pub ident: Ident,
    pub ty: Type,
    pub description: Option<String>,
    /// `Option<_>`: may be left out of the JSON.
    pub optional: bool,
}

/// `on_enter`, `on_exit`, `on_dtmf` or `on_timer`.
pub struct Hook {
    pub method: Ident,
    pub is_async: bool,
    pub args: Vec<Arg>,
    pub ret: Option<Type>,
}

/// `instructions`, `is_sensitive` or `tool_enabled`: synchronous, `&self`.
pub struct Getter {
    pub method: Ident,
    pub ret: Type,
}
