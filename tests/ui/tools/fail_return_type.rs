use agents_core::prelude::*;

struct Receipt {
    id: u32,
}

/// Sells.
#[agent]
struct Shop;

#[function_tools]
impl Shop {
    /// Buy.
    #[function_tool]
    async fn buy(&mut self) -> Receipt {
        Receipt { id: 1 }
    }

    /// Refund.
    #[function_tool]
    fn refund(&mut self) -> Result<Receipt, ToolError> {
        Ok(Receipt { id: 2 })
    }

    /// Peek.
    #[function_tool]
    fn peek(&mut self) -> std::time::Instant {
        std::time::Instant::now()
    }
}

fn main() {
    let _ = Receipt { id: 0 }.id;
}
