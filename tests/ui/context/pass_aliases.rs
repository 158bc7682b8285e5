use agents_core::prelude::Context as MyCtx;
use agents_core::prelude::*;

/// The context of the activity `A`, without repeating its result type.
type Ctx<'a, A> = Context<'a, <A as ActivityInfo>::Result>;

mod renamed {
    pub use agents_core::prelude::TaskContext as Handle;
}

/// Ask for consent.
#[agent_task(result = bool)]
struct CollectConsent;

#[function_tools]
impl CollectConsent {
    async fn on_enter(&mut self, ctx: &mut Ctx<'_, Self>) {
        let _ = ctx;
    }

    async fn on_dtmf(&mut self, digits: &str, _: &mut MyCtx<'_, bool>) -> Result<()> {
        let _ = digits;
        Ok(())
    }

    /// Consent given.
    #[function_tool]
    async fn consent_given(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.complete(true);
    }

    /// Consent denied.
    #[function_tool]
    fn consent_denied(&mut self, why: Option<String>, c: &mut renamed::Handle<'_, bool>) -> String {
        c.complete(false);
        why.unwrap_or_default()
    }

    /// Consent given through `Context` renamed.
    #[function_tool]
    async fn consent_given_again(&mut self, ctx: &mut MyCtx<'_, bool>) {
        ctx.complete(true);
    }
}

fn main() {}
