//! Attribute macros for `agents-core`. Use them through `agents_core` (or its prelude), which
//! re-exports them; generated code refers only to `::agents_core::__private`.
//!
//! | attribute | on | generates |
//! |---|---|---|
//! | `#[agent_task(result = T)]` | a struct | `ActivityInfo` (result type, id, instructions from rustdoc), `AgentTask`, and `Activity` |
//! | `#[agent]` | a struct | `ActivityInfo` with no result, `Agent`, and `Activity` |
//! | `#[function_tools]` | the struct's `impl` block (optional) | the tools and the methods it recognises by name: `on_enter`, `on_exit`, `on_dtmf`, `on_timer`, `instructions`, `is_sensitive`, `tool_enabled` |
//! | `#[function_tool]` | a method inside that block | marks it as a tool (`name = "..."`, `description = "..."`, `ignore_on_enter`) |
//!
//! **The context.** A tool's or hook's `&mut` parameter is its context, whatever its type is
//! called: values the LLM fills in are owned (they are decoded from JSON), so a `&mut` parameter
//! cannot be one. The generated dispatch passes the context through
//! `<ParamType as __private::ContextOf<'_, Result>>::cast`, which only `Context<'_, Result>`
//! implements: an alias (`use agents_core::prelude::Context as MyCtx`, a
//! `type Ctx<'a, A> = Context<'a, <A as ActivityInfo>::Result>`) works, and any other type, or
//! the context of another result type, is an error at the parameter's type.
//!
//! **Types.** Tool parameters are decoded through `__private::ToolParameter` (`Deserialize` +
//! `JsonSchema`), tool results converted through `__private::Returned` (`IntoToolOutput`, a
//! `Result` of `Serialize`, or `Serialize`), hook results through `__private::HookReturn`: each
//! check is spanned at the user's type and its `on_unimplemented` message says what to write.
//!
//! **Generic types.** A generic struct's `Activity` requires a `#[function_tools]` block for the
//! concrete type it is used as (`#[function_tools] impl Ask<Email> { ... }`); generic blocks
//! are rejected, since a type's tool table is built once.
//!
//! Each macro parses its input (`activity::args`, `tools::ast`), validates it into a model
//! whose every error is spanned at the offending token (`tools::classify`), and expands the
//! model (`activity::expand`, `tools::expand`). On error the item is re-emitted with the
//! errors and stand-in impls, so a user sees the mistake and not a cascade.

mod activity;
mod attr;
mod diag;
mod docs;
mod paths;
mod tools;

use proc_macro::TokenStream;

/// Makes a struct an agent task completing with `result = T`. Instructions come from the
/// struct's rustdoc or `instructions = "..."`; the id defaults to the type name in snake_case.
#[proc_macro_attribute]
pub fn agent_task(attr: TokenStream, item: TokenStream) -> TokenStream {
    activity::expand(activity::Kind::Task, attr.into(), item.into()).into()
}

/// Makes a struct a plain agent. Instructions come from the struct's rustdoc or
/// `instructions = "..."`.
#[proc_macro_attribute]
pub fn agent(attr: TokenStream, item: TokenStream) -> TokenStream {
    activity::expand(activity::Kind::Agent, attr.into(), item.into()).into()
}

/// Collects the `#[function_tool]` methods and the hooks (`on_enter`, `on_exit`, `on_dtmf`,
/// `on_timer`, `instructions`, `is_sensitive`, `tool_enabled`) of an `impl` block into the
/// type's tools. A type without tools or hooks needs no such block.
#[proc_macro_attribute]
pub fn function_tools(attr: TokenStream, item: TokenStream) -> TokenStream {
    tools::expand(attr.into(), item.into()).into()
}

/// Marks a method as a tool. Only meaningful inside a `#[function_tools]` impl block, which
/// removes it; reaching this macro means the block is not marked.
#[proc_macro_attribute]
pub fn function_tool(_attr: TokenStream, item: TokenStream) -> TokenStream {
    tools::stray_marker(item.into()).into()
}
