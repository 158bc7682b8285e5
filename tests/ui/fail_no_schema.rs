use agents_core::prelude::*;

#[derive(serde::Deserialize)]
struct Address {
    street: String,
}

/// Greets.
#[agent]
struct Greeter;

#[function_tools]
impl Greeter {
    /// Store an address.
    #[function_tool]
    async fn store(&mut self, address: Address) {
        let _ = address.street;
    }
}

fn main() {}
