use proc_macro::TokenStream;
#[proc_macro_attribute]
pub fn agent(_a: TokenStream, i: TokenStream) -> TokenStream {
    i
}
#[proc_macro_attribute]
pub fn agent_task(_a: TokenStream, i: TokenStream) -> TokenStream {
    i
}
#[proc_macro_attribute]
pub fn function_tools(_a: TokenStream, i: TokenStream) -> TokenStream {
    i
}
#[proc_macro_attribute]
pub fn function_tool(_a: TokenStream, i: TokenStream) -> TokenStream {
    i
}
