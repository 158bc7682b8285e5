//! Attribute macros for `agents-core`. Use them through `agents_core` (or its prelude), which
//! re-exports them; generated code refers only to `::agents_core::__private`.
//!
//! | attribute | on | generates |
//! |---|---|---|
//! | `#[agent_task(result = T)]` | a struct | `ActivityInfo` (result type, id, instructions from rustdoc) and `AgentTask` |
//! | `#[agent]` | a struct | `ActivityInfo` with no result, and `Agent` |
//! | `#[function_tools]` | the struct's `impl` block | `Activity`: tool schemas, dispatch, and the methods it recognises by name: `on_enter`, `on_exit`, `on_dtmf`, `on_timer`, `instructions`, `tool_enabled` |
//! | `#[function_tool]` | a method inside that block | marks it as a tool (`name = "..."`, `ignore_on_enter`) |

mod activity;
mod diag;
mod docs;
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

/// Collects the `#[function_tool]` methods and the `on_enter`, `on_exit` and `instructions`
/// methods of an `impl` block into the type's `Activity` implementation.
#[proc_macro_attribute]
pub fn function_tools(attr: TokenStream, item: TokenStream) -> TokenStream {
    tools::expand(attr.into(), item.into()).into()
}

/// Marks a method as a tool. Only meaningful inside a `#[function_tools]` impl block, which
/// removes it; reaching this macro means the block is not marked.
#[proc_macro_attribute]
pub fn function_tool(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let err = syn::Error::new(
        proc_macro2::Span::call_site(),
        "`#[function_tool]` only works on methods of an `impl` block marked `#[function_tools]`",
    )
    .to_compile_error();
    quote::quote!(#err #item).into()
}
