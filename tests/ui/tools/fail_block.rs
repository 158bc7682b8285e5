use agents_core::prelude::*;

/// Helps.
#[agent]
struct Helper;

#[function_tools]
impl Default for Helper {
    fn default() -> Self {
        Helper
    }
}

/// Wraps.
#[agent]
struct Wrapper<T: Send + 'static>(T);

#[function_tools]
impl<T: Send + 'static> Wrapper<T> {
    /// Look up.
    #[function_tool]
    async fn lookup(&mut self) {}
}

/// Other.
#[agent]
struct Other;

#[function_tools(strict)]
impl Other {}

#[function_tools]
fn not_an_impl() {}

fn main() {}
