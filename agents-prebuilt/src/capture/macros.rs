//! The declarative macros that stamp a capture task's methods from the shared flow.

/// Stamps a capture task's `#[function_tools]` block (a public task adds
/// [`option_builders!`] for its options).
///
/// The task is a struct with a `capture: CaptureState<Value>` field and a
/// [`Capture`](super::Capture) impl. The block gets `instructions` and `on_enter` from that impl,
/// and three tools: `update` and `confirm` check their arguments with the named method (taking
/// them by value, returning `Result<Value, ToolError>`) and hand the value to
/// [`record`](super::record) or [`confirm`](super::confirm); `decline` ends the task with
/// `CaptureDeclined`. When both tools take the same arguments, an `args(..) = check;` line names
/// them once. Otherwise each tool lists its own, and the `update` section may be left out when
/// the task records its value itself; `more { ... }` adds further methods and tools to the same block (after the update tool, so
/// the tools are offered in the order update, more, confirm, decline).
///
/// Parameter types are written `Type` or `Type<Inner>` (e.g. `String`, `Option<i64>`), so they
/// reach `#[function_tools]` as plain tokens and it can see which parameters are optional.
macro_rules! capture_tools {
    // The update and confirm tools take the same arguments, checked by the same method.
    (
        $task:ident => $value:ident;
        args($($arg:ident: $ty:ident $(<$in:ident>)?),* $(,)?) = $check:ident;
        update { $(#[$($u_attr:tt)*])* fn $update:ident; }
        confirm { $(#[$($c_attr:tt)*])* fn $confirm:ident; }
        decline { $(#[$($d_attr:tt)*])* fn $decline:ident; }
    ) => {
        $crate::capture::capture_tools! {
            $task => $value;
            update {
                $(#[$($u_attr)*])*
                fn $update($($arg: $ty $(<$in>)?),*) = $check;
            }
            confirm {
                $(#[$($c_attr)*])*
                fn $confirm($($arg: $ty $(<$in>)?),*) = $check;
            }
            decline { $(#[$($d_attr)*])* fn $decline; }
        }
    };
    // Each tool with its own arguments; `update` may be left out.
    (
        $task:ident => $value:ident;
        $(update {
            $(#[$($u_attr:tt)*])*
            fn $update:ident($($u_arg:ident: $u_ty:ident $(<$u_in:ident>)?),* $(,)?) = $u_check:ident;
        })?
        confirm {
            $(#[$($c_attr:tt)*])*
            fn $confirm:ident($($c_arg:ident: $c_ty:ident $(<$c_in:ident>)?),* $(,)?) = $c_check:ident;
        }
        decline {
            $(#[$($d_attr:tt)*])*
            fn $decline:ident;
        }
        $(more { $($more:tt)* })?
    ) => {
        impl $crate::capture::HoldsCapture for $task {
            type Value = $value;

            fn state(&self) -> &$crate::capture::CaptureState<$value> {
                &self.capture
            }

            fn state_mut(&mut self) -> &mut $crate::capture::CaptureState<$value> {
                &mut self.capture
            }
        }

        #[::agents_core::prelude::function_tools]
        impl $task {
            fn instructions(&self) -> ::std::string::String {
                $crate::capture::instructions(self)
            }

            async fn on_enter(
                &mut self,
                ctx: &mut ::agents_core::prelude::Ctx<'_, Self>,
            ) -> ::agents_core::prelude::Result<()> {
                let ask = <Self as $crate::capture::Capture>::ask(self).into_owned();
                ctx.generate_reply(ask).await
            }

            $(
                $(#[$($u_attr)*])*
                #[function_tool]
                #[allow(clippy::too_many_arguments)]
                async fn $update(
                    &mut self,
                    ctx: &mut ::agents_core::prelude::Ctx<'_, Self>,
                    $($u_arg: $u_ty $(<$u_in>)?),*
                ) -> ::core::result::Result<::std::string::String, ::agents_core::prelude::ToolError> {
                    let value = Self::$u_check(self, $($u_arg),*)?;
                    ::core::result::Result::Ok($crate::capture::record(self, ctx, value))
                }
            )?

            $($($more)*)?

            $(#[$($c_attr)*])*
            #[function_tool]
            #[allow(clippy::too_many_arguments)]
            async fn $confirm(
                &mut self,
                ctx: &mut ::agents_core::prelude::Ctx<'_, Self>,
                $($c_arg: $c_ty $(<$c_in>)?),*
            ) -> ::core::result::Result<::std::string::String, ::agents_core::prelude::ToolError> {
                let claimed = Self::$c_check(self, $($c_arg),*)?;
                $crate::capture::confirm(self, ctx, claimed)
            }

            $(#[$($d_attr)*])*
            ///
            /// # Arguments
            /// * `reason` - Why, in a few words
            #[function_tool]
            async fn $decline(
                &mut self,
                ctx: &mut ::agents_core::prelude::Ctx<'_, Self>,
                reason: ::std::string::String,
            ) -> ::std::string::String {
                $crate::capture::decline(
                    ctx,
                    <Self as $crate::capture::Capture>::DECLINED,
                    reason,
                )
            }
        }
    };
}

/// Stamps the option builders every capture task offers, over its `CaptureOptions` at `$field`.
macro_rules! option_builders {
    ($task:ident, $($field:ident).+) => {
        impl $task {
            /// Always (`true`) or never (`false`) read values back for confirmation, instead of
            /// deciding by the input modality (confirm speech, which may be misheard; not typed
            /// text).
            pub fn require_confirmation(mut self, on: bool) -> Self {
                self.$($field).+.require_confirmation = ::core::option::Option::Some(on);
                self
            }

            /// Adds the application's own instructions (tone, context) to the task's.
            pub fn extra_instructions(mut self, text: impl ::core::convert::Into<::std::string::String>) -> Self {
                self.$($field).+.extra_instructions = text.into();
                self
            }
        }
    };
}

pub(crate) use capture_tools;
pub(crate) use option_builders;
