//! When a scripted LLM's rules fire.

use super::reply::Reply;
use crate::llm::{ChatItem, ChatRequest, Role};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

type Predicate = Arc<dyn Fn(&ChatRequest) -> bool + Send + Sync>;

#[derive(Clone)]
pub(super) enum Trigger {
    User(String),
    Instructions(String),
    AfterTool(String),
    When(Predicate),
}

impl fmt::Debug for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::User(p) => write!(f, "on_user({p:?})"),
            Trigger::Instructions(p) => write!(f, "on_instructions({p:?})"),
            Trigger::AfterTool(t) => write!(f, "after_tool({t:?})"),
            Trigger::When(_) => f.write_str("when(..)"),
        }
    }
}

/// A rule of a [`ScriptedLlm`](super::ScriptedLlm): when it fires and what it replies.
///
/// A rule whose reply calls tools fires only when every one of those tools is offered in the
/// request, so a rule for a task's tool stays quiet while another agent is in control (opt out
/// with [`Rule::allow_unoffered_tools`]). A rule without [`Rule::reply`] answers with the default
/// reply.
///
/// ```
/// use agents_core::testing::{Reply, Rule, ScriptedLlm};
/// use serde_json::json;
///
/// let llm = ScriptedLlm::new()
///     .rule(Rule::on_user("yes").reply(Reply::call("consent_given", json!({}))).times(1))
///     .rule(Rule::after_tool("consent_given").reply(Reply::text("Thanks!")));
/// # let _ = llm;
/// ```
#[derive(Clone, Debug)]
pub struct Rule {
    pub(super) trigger: Trigger,
    pub(super) reply: Option<Reply>,
    pub(super) times: Option<usize>,
    pub(super) required_tools: Vec<String>,
    pub(super) allow_unoffered: bool,
}

impl Rule {
    fn new(trigger: Trigger) -> Self {
        Rule {
            trigger,
            reply: None,
            times: None,
            required_tools: Vec::new(),
            allow_unoffered: false,
        }
    }

    /// Fires when the request is fresh from the user: its last item (after any trailing
    /// reply instructions) is a user message containing `pattern`, ignoring case.
    pub fn on_user(pattern: &str) -> Self {
        Self::new(Trigger::User(pattern.to_lowercase()))
    }

    /// Fires when the request ends with reply instructions (the system message the session
    /// appends for `generate_reply(instructions)`) containing `pattern`, ignoring case.
    ///
    /// The agent's own instructions (the first item) never count. When tools are offered, the
    /// rule does not fire on the step right after tool outputs, so a rule that calls a tool does
    /// not loop; use [`Rule::after_tool`] for that step. A speech-only reply (no tools offered,
    /// as from a tool body) is always fresh. A hook's reply is offered tools, so the first reply
    /// of a task whose history ends with a tool output (a task-group step returned to with
    /// `out_of_scope`) looks like that step too: match it with [`Rule::when`].
    pub fn on_instructions(pattern: &str) -> Self {
        Self::new(Trigger::Instructions(pattern.to_lowercase()))
    }

    /// Fires right after an output of the tool `tool_name`: the request's last item (after any
    /// trailing reply instructions) is a tool output, and the outputs of that step include one of
    /// `tool_name`.
    pub fn after_tool(tool_name: &str) -> Self {
        Self::new(Trigger::AfterTool(tool_name.to_string()))
    }

    /// Fires when `predicate` returns true for the request.
    pub fn when(predicate: impl Fn(&ChatRequest) -> bool + Send + Sync + 'static) -> Self {
        Self::new(Trigger::When(Arc::new(predicate)))
    }

    /// What the rule replies.
    pub fn reply(mut self, reply: Reply) -> Self {
        self.reply = Some(reply);
        self
    }

    /// Fires at most `n` times.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    /// Fires only when a tool named `name` is offered in the request.
    pub fn if_tool_offered(mut self, name: &str) -> Self {
        self.required_tools.push(name.to_string());
        self
    }

    /// Lets the rule call tools that are not offered (to test how unknown tools are handled).
    pub fn allow_unoffered_tools(mut self) -> Self {
        self.allow_unoffered = true;
        self
    }

    pub(super) fn triggers(&self, request: &ChatRequest) -> bool {
        if !self.required_tools.iter().all(|t| request.offers_tool(t)) {
            return false;
        }
        let (body, instructions) = split_request(request);
        match &self.trigger {
            Trigger::User(pattern) => matches!(
                last_sent(body),
                Some(ChatItem::Message(m)) if m.role == Role::User && contains_ci(&m.content, pattern)
            ),
            Trigger::Instructions(pattern) => {
                !instructions.is_empty()
                    && (request.tools.is_empty()
                        || !matches!(last_sent(body), Some(ChatItem::FunctionCallOutput(_))))
                    && instructions
                        .iter()
                        .filter_map(ChatItem::as_message)
                        .any(|m| contains_ci(&m.content, pattern))
            }
            Trigger::AfterTool(tool) => {
                matches!(last_sent(body), Some(ChatItem::FunctionCallOutput(_)))
                    && body
                        .iter()
                        .rev()
                        .take_while(|i| {
                            matches!(
                                i,
                                ChatItem::FunctionCall(_)
                                    | ChatItem::FunctionCallOutput(_)
                                    | ChatItem::AgentHandoff(_)
                            )
                        })
                        .any(|i| matches!(i, ChatItem::FunctionCallOutput(o) if &o.name == tool))
            }
            Trigger::When(predicate) => predicate(request),
        }
    }
}

pub(super) struct RuleSlot {
    pub(super) rule: Rule,
    pub(super) fired: AtomicUsize,
}

impl RuleSlot {
    /// Takes one use of the rule; false when it is used up.
    pub(super) fn claim(&self) -> bool {
        match self.rule.times {
            None => {
                self.fired.fetch_add(1, Ordering::SeqCst);
                true
            }
            Some(max) => self
                .fired
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < max).then_some(n + 1)
                })
                .is_ok(),
        }
    }
}

/// Splits the request into the conversation and the trailing reply instructions (system or
/// developer messages at the end, not counting the agent's own instructions at the start).
pub(super) fn split_request(request: &ChatRequest) -> (&[ChatItem], &[ChatItem]) {
    let items = request.chat_ctx.items();
    let is_instructions = |i: &ChatItem| matches!(i, ChatItem::Message(m) if matches!(m.role, Role::System | Role::Developer));
    let mut start = items.len();
    while start > 0 && is_instructions(&items[start - 1]) {
        start -= 1;
    }
    // The first item is the agent's own instructions when it is followed by more, or carries the
    // session's instructions id; only a lone ad-hoc system message counts as reply instructions.
    if start == 0
        && !items.is_empty()
        && (items.len() > 1 || items[0].id().ends_with(".instructions"))
    {
        start = 1;
    }
    items.split_at(start)
}

/// The last item a provider sends to the model: handoffs are records of the session, not part
/// of any request on the wire, so the script does not see them either.
pub(super) fn last_sent(body: &[ChatItem]) -> Option<&ChatItem> {
    body.iter()
        .rev()
        .find(|i| !matches!(i, ChatItem::AgentHandoff(_)))
}

pub(super) fn contains_ci(haystack: &str, lowercase_needle: &str) -> bool {
    haystack.to_lowercase().contains(lowercase_needle)
}
