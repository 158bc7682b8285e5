use agents_core::prelude::*;

#[derive(serde::Deserialize)]
struct Address {
    street: String,
}

#[derive(schemars::JsonSchema)]
struct Phone {
    number: String,
}

/// Greets.
#[agent]
struct Greeter;

#[function_tools]
impl Greeter {
    /// Store an address.
    #[function_tool]
    async fn store(&mut self, address: Address, phone: Option<Phone>) {
        let _ = address.street;
        let _ = phone.map(|p| p.number);
    }
}

fn main() {}
