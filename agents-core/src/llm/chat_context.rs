//! The conversation as a list of typed items, shared by agents, tasks and LLM requests.

use serde::{Deserialize, Serialize};
use std::any::Any;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions from the platform.
    System,
    /// Instructions from the developer (treated like `System` by most providers).
    Developer,
    /// The human on the other side.
    User,
    /// The agent.
    Assistant,
}

impl Role {
    /// The lowercase wire name (`"user"`, `"assistant"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message in the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Unique id within a session.
    pub id: String,
    /// Author of the message.
    pub role: Role,
    /// Text content.
    pub content: String,
    /// True when the agent was cut off while saying it.
    #[serde(default)]
    pub interrupted: bool,
    /// Creation time, microseconds since the Unix epoch.
    pub created_at: u64,
}

/// A tool call the LLM asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Unique id within a session.
    pub id: String,
    /// The provider's id for the call; outputs refer to it.
    pub call_id: String,
    /// Tool name.
    pub name: String,
    /// Arguments as a JSON text, exactly as the LLM produced them.
    pub arguments: String,
    /// Creation time, microseconds since the Unix epoch.
    pub created_at: u64,
}

/// The result of a tool call, sent back to the LLM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallOutput {
    /// Unique id within a session.
    pub id: String,
    /// The `call_id` of the [`FunctionCall`] this answers.
    pub call_id: String,
    /// Tool name.
    pub name: String,
    /// Output text the LLM sees.
    pub output: String,
    /// True when the tool failed; the output then says why.
    pub is_error: bool,
    /// Creation time, microseconds since the Unix epoch.
    pub created_at: u64,
}

/// Control passed from one agent (or task) to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentHandoff {
    /// Unique id within a session.
    pub id: String,
    /// Id of the agent that had control, if any.
    pub old_agent_id: Option<String>,
    /// Id of the agent that takes control.
    pub new_agent_id: String,
    /// Creation time, microseconds since the Unix epoch.
    pub created_at: u64,
}

/// One entry of a [`ChatContext`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatItem {
    /// A message.
    Message(ChatMessage),
    /// A tool call.
    FunctionCall(FunctionCall),
    /// A tool result.
    FunctionCallOutput(FunctionCallOutput),
    /// A change of agent.
    AgentHandoff(AgentHandoff),
}

impl ChatItem {
    /// The item's unique id.
    pub fn id(&self) -> &str {
        match self {
            ChatItem::Message(m) => &m.id,
            ChatItem::FunctionCall(c) => &c.id,
            ChatItem::FunctionCallOutput(o) => &o.id,
            ChatItem::AgentHandoff(h) => &h.id,
        }
    }

    /// The item's creation time in microseconds since the Unix epoch.
    pub fn created_at(&self) -> u64 {
        match self {
            ChatItem::Message(m) => m.created_at,
            ChatItem::FunctionCall(c) => c.created_at,
            ChatItem::FunctionCallOutput(o) => o.created_at,
            ChatItem::AgentHandoff(h) => h.created_at,
        }
    }

    /// The message, if this item is one.
    pub fn as_message(&self) -> Option<&ChatMessage> {
        match self {
            ChatItem::Message(m) => Some(m),
            _ => None,
        }
    }

    fn is_instructions(&self) -> bool {
        matches!(self, ChatItem::Message(m) if matches!(m.role, Role::System | Role::Developer))
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id with the given prefix, unique within the process.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// Current time in microseconds since the Unix epoch, strictly increasing within the process so
/// that items created in order sort in order.
pub fn now_micros() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let mut prev = LAST.load(Ordering::Relaxed);
    loop {
        let next = wall.max(prev + 1);
        match LAST.compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(actual) => prev = actual,
        }
    }
}

impl ChatMessage {
    /// A new message with a fresh id and the current time.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        ChatMessage {
            id: new_id("item"),
            role,
            content: content.into(),
            interrupted: false,
            created_at: now_micros(),
        }
    }
}

impl FunctionCall {
    /// A new call with a fresh item id and the current time.
    pub fn new(
        call_id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        FunctionCall {
            id: new_id("item"),
            call_id: call_id.into(),
            name: name.into(),
            arguments: arguments.into(),
            created_at: now_micros(),
        }
    }
}

impl FunctionCallOutput {
    /// A new output answering `call`.
    pub fn new(call: &FunctionCall, output: impl Into<String>, is_error: bool) -> Self {
        FunctionCallOutput {
            id: new_id("item"),
            call_id: call.call_id.clone(),
            name: call.name.clone(),
            output: output.into(),
            is_error,
            created_at: now_micros(),
        }
    }
}

impl AgentHandoff {
    /// A new handoff record.
    pub fn new(old_agent_id: Option<String>, new_agent_id: impl Into<String>) -> Self {
        AgentHandoff {
            id: new_id("item"),
            old_agent_id,
            new_agent_id: new_agent_id.into(),
            created_at: now_micros(),
        }
    }
}

/// Which items [`ChatContext::copy`] and [`ChatContext::merge`] leave out.
///
/// Build it with the chained constructors, e.g.
/// `CopyOptions::default().exclude_instructions().exclude_function_calls()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// Leave out system and developer messages.
    pub exclude_instructions: bool,
    /// Leave out function calls and their outputs.
    pub exclude_function_calls: bool,
    /// Leave out agent handoffs.
    pub exclude_handoffs: bool,
    /// Leave out messages whose text is empty or whitespace.
    pub exclude_empty_messages: bool,
    /// When set, keep only the calls (and outputs) of these tools.
    pub only_tools: Option<Vec<String>>,
}

impl CopyOptions {
    /// Everything is kept.
    pub fn all() -> Self {
        Self::default()
    }
    /// Also leave out system and developer messages.
    pub fn exclude_instructions(mut self) -> Self {
        self.exclude_instructions = true;
        self
    }
    /// Also leave out function calls and outputs.
    pub fn exclude_function_calls(mut self) -> Self {
        self.exclude_function_calls = true;
        self
    }
    /// Also leave out agent handoffs.
    pub fn exclude_handoffs(mut self) -> Self {
        self.exclude_handoffs = true;
        self
    }
    /// Also leave out empty messages.
    pub fn exclude_empty_messages(mut self) -> Self {
        self.exclude_empty_messages = true;
        self
    }
    /// Keep only the function calls and outputs of the named tools.
    pub fn only_tools<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.only_tools = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Whether `item` passes these filters.
    pub fn keeps(&self, item: &ChatItem) -> bool {
        match item {
            ChatItem::Message(m) => {
                !(self.exclude_instructions && item.is_instructions()
                    || self.exclude_empty_messages && m.content.trim().is_empty())
            }
            ChatItem::FunctionCall(FunctionCall { name, .. })
            | ChatItem::FunctionCallOutput(FunctionCallOutput { name, .. }) => {
                !self.exclude_function_calls
                    && self
                        .only_tools
                        .as_ref()
                        .is_none_or(|tools| tools.iter().any(|t| t == name))
            }
            ChatItem::AgentHandoff(_) => !self.exclude_handoffs,
        }
    }
}

/// The conversation history of an agent, a task or a request.
///
/// Cloning is cheap: the items are shared and copied only when a clone is changed while another
/// still holds them, so handing the history to every LLM request costs nothing per item.
///
/// Items are never changed in place, and a conversation mostly grows at its end, so a provider
/// may keep its encoding of the leading items with the context: the next request, which resends
/// them, copies those bytes and encodes only what was added since. That costs memory: a context
/// that has sent a request keeps that request's body (the kept bytes are a slice of it).
#[derive(Clone, Default)]
pub struct ChatContext {
    items: Arc<Items>,
}

/// The items, and a provider's encoding of a leading run of them.
#[derive(Default)]
struct Items {
    list: Vec<ChatItem>,
    prefix: Mutex<Option<EncodedPrefix>>,
}

/// A provider's encoding of the first `items` items; the provider's own type, found by type.
/// Only the built-in OpenAI-compatible provider keeps one, so without it nothing reads it.
#[derive(Clone)]
#[cfg_attr(not(feature = "openai"), allow(dead_code))]
struct EncodedPrefix {
    items: usize,
    encoding: Arc<dyn Any + Send + Sync>,
}

impl Clone for Items {
    fn clone(&self) -> Self {
        Items {
            list: self.list.clone(),
            prefix: Mutex::new(self.kept_prefix()),
        }
    }
}

impl Items {
    fn new(list: Vec<ChatItem>) -> Self {
        Items {
            list,
            prefix: Mutex::default(),
        }
    }

    fn kept_prefix(&self) -> Option<EncodedPrefix> {
        self.prefix.lock().ok().and_then(|p| p.clone())
    }

    /// Forgets the kept encoding if it covers `index`, which is about to change.
    fn changing(&mut self, index: usize) {
        let prefix = self
            .prefix
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if prefix.as_ref().is_some_and(|p| index < p.items) {
            *prefix = None;
        }
    }

    fn insert(&mut self, index: usize, item: ChatItem) {
        self.changing(index);
        self.list.insert(index, item);
    }

    fn remove(&mut self, index: usize) -> ChatItem {
        self.changing(index);
        self.list.remove(index)
    }
}

impl std::fmt::Debug for ChatContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatContext")
            .field("items", &self.items.list)
            .finish()
    }
}

impl PartialEq for ChatContext {
    fn eq(&self, other: &Self) -> bool {
        self.items.list == other.items.list
    }
}

/// The serialised shape: `{"items": [...]}`.
#[derive(Serialize)]
struct ChatContextRef<'a> {
    items: &'a [ChatItem],
}

#[derive(Deserialize)]
struct ChatContextOwned {
    items: Vec<ChatItem>,
}

impl Serialize for ChatContext {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ChatContextRef {
            items: &self.items.list,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ChatContext {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ChatContextOwned::deserialize(deserializer).map(|c| ChatContext::from_items(c.items))
    }
}

impl ChatContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// A context holding `items` in the given order.
    pub fn from_items(items: Vec<ChatItem>) -> Self {
        ChatContext {
            items: Arc::new(Items::new(items)),
        }
    }

    /// The items for changing, copied first if another clone shares them.
    fn items_mut(&mut self) -> &mut Items {
        Arc::make_mut(&mut self.items)
    }

    /// All items, oldest first.
    pub fn items(&self) -> &[ChatItem] {
        &self.items.list
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.list.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.list.is_empty()
    }

    /// Appends an item.
    pub fn push(&mut self, item: impl Into<ChatItem>) {
        self.items_mut().list.push(item.into());
    }

    /// Appends a new message and returns a reference to it.
    pub fn add_message(&mut self, role: Role, content: impl Into<String>) -> &ChatMessage {
        self.items_mut()
            .list
            .push(ChatItem::Message(ChatMessage::new(role, content)));
        match self.items.list.last() {
            Some(ChatItem::Message(m)) => m,
            _ => unreachable!("a message was just pushed"),
        }
    }

    /// Removes the item with `id`; returns it if it was there.
    pub fn remove(&mut self, id: &str) -> Option<ChatItem> {
        let pos = self.items.list.iter().position(|i| i.id() == id)?;
        Some(self.items_mut().remove(pos))
    }

    /// Inserts `item` at `index` (clamped to the end).
    pub fn insert(&mut self, index: usize, item: impl Into<ChatItem>) {
        let index = index.min(self.len());
        self.items_mut().insert(index, item.into());
    }

    /// Keeps only the last `max_items` items (instructions at the start are kept too).
    pub fn truncate(&mut self, max_items: usize) {
        let len = self.len();
        if len <= max_items {
            return;
        }
        let list = &self.items.list;
        let lead = list.iter().take_while(|i| i.is_instructions()).count();
        let start = len - max_items;
        let kept: Vec<ChatItem> = list[..lead]
            .iter()
            .chain(list[start..].iter().filter(|i| {
                let id = i.id();
                !list[..lead].iter().any(|l| l.id() == id)
            }))
            .cloned()
            .collect();
        self.items = Arc::new(Items::new(kept));
    }

    /// Cuts the reply in progress to `heard`, the part the user heard before an interruption.
    ///
    /// The reply is the latest assistant message after the latest user message. An empty
    /// `heard` removes it; otherwise its content becomes `heard` and it is marked interrupted
    /// (it keeps its id and place). Returns whether there was such a message.
    pub fn truncate_reply(&mut self, heard: &str) -> bool {
        let list = &self.items.list;
        let reply = list
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, item)| match item {
                ChatItem::Message(m) if m.role == Role::User => Some(None),
                ChatItem::Message(m) if m.role == Role::Assistant => Some(Some(i)),
                _ => None,
            });
        let Some(Some(index)) = reply else {
            return false;
        };
        let items = self.items_mut();
        let removed = items.remove(index);
        if heard.is_empty() {
            return true;
        }
        if let ChatItem::Message(mut msg) = removed {
            msg.content = heard.to_string();
            msg.interrupted = true;
            items.insert(index, ChatItem::Message(msg));
        }
        true
    }

    /// The messages only, oldest first.
    pub fn messages(&self) -> impl Iterator<Item = &ChatMessage> {
        self.items.list.iter().filter_map(ChatItem::as_message)
    }

    /// The text of the most recent message by `role`.
    pub fn last_message(&self, role: Role) -> Option<&ChatMessage> {
        self.messages().filter(|m| m.role == role).last()
    }

    /// A copy holding the items that pass `options`.
    pub fn copy(&self, options: &CopyOptions) -> ChatContext {
        if *options == CopyOptions::default() {
            return self.clone();
        }
        ChatContext::from_items(
            self.items
                .list
                .iter()
                .filter(|i| options.keeps(i))
                .cloned()
                .collect(),
        )
    }

    /// Adds the items of `other` that pass `options` and are not already here (by id), each placed
    /// by its creation time. Items already here keep their position.
    pub fn merge(&mut self, other: &ChatContext, options: &CopyOptions) {
        let mut present: HashSet<&str, foldhash::fast::RandomState> =
            self.items.list.iter().map(ChatItem::id).collect();
        let new: Vec<usize> = (0..other.len())
            .filter(|&i| {
                let item = &other.items.list[i];
                options.keeps(item) && present.insert(item.id())
            })
            .collect();
        drop(present);
        for i in new {
            let item = &other.items.list[i];
            let at = self
                .items
                .list
                .iter()
                .rposition(|i| i.created_at() <= item.created_at())
                .map_or(0, |p| p + 1);
            self.items_mut().insert(at, item.clone());
        }
    }

    /// The encoding of type `P` a provider kept with [`keep_encoded_prefix`], and how many
    /// leading items it covers. Only adding items at the end keeps it; any other change drops it.
    ///
    /// [`keep_encoded_prefix`]: ChatContext::keep_encoded_prefix
    #[cfg_attr(not(feature = "openai"), allow(dead_code))]
    pub(crate) fn encoded_prefix<P: Any + Send + Sync>(&self) -> Option<(usize, Arc<P>)> {
        let kept = self.items.kept_prefix()?;
        let encoding = kept.encoding.downcast::<P>().ok()?;
        (kept.items <= self.len()).then_some((kept.items, encoding))
    }

    /// Keeps a provider's encoding of the first `items` items, replacing any other. Clones that
    /// share these items see it too (they hold the same items).
    #[cfg_attr(not(feature = "openai"), allow(dead_code))]
    pub(crate) fn keep_encoded_prefix<P: Any + Send + Sync>(&self, items: usize, encoding: P) {
        if items > self.len() {
            return;
        }
        if let Ok(mut prefix) = self.items.prefix.lock() {
            *prefix = Some(EncodedPrefix {
                items,
                encoding: Arc::new(encoding),
            });
        }
    }
}

impl From<ChatMessage> for ChatItem {
    fn from(m: ChatMessage) -> Self {
        ChatItem::Message(m)
    }
}
impl From<FunctionCall> for ChatItem {
    fn from(c: FunctionCall) -> Self {
        ChatItem::FunctionCall(c)
    }
}
impl From<FunctionCallOutput> for ChatItem {
    fn from(o: FunctionCallOutput) -> Self {
        ChatItem::FunctionCallOutput(o)
    }
}
impl From<AgentHandoff> for ChatItem {
    fn from(h: AgentHandoff) -> Self {
        ChatItem::AgentHandoff(h)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn truncate_reply_cuts_only_the_reply_since_the_last_user_message() {
        let mut ctx = ChatContext::new();
        ctx.add_message(Role::User, "hi");
        ctx.add_message(Role::Assistant, "Hello there, how can I help?");
        ctx.push(FunctionCall::new("c1", "lookup", "{}"));
        let id = ctx.items()[1].id().to_string();

        assert!(ctx.truncate_reply("Hello there,"));
        let cut = ctx.items()[1].as_message().unwrap();
        assert_eq!(
            (cut.id.as_str(), cut.content.as_str()),
            (id.as_str(), "Hello there,")
        );
        assert!(cut.interrupted);
        assert_eq!(ctx.len(), 3);

        assert!(ctx.truncate_reply(""));
        assert_eq!(ctx.len(), 2);
        assert!(ctx.last_message(Role::Assistant).is_none());

        // With no reply after the latest user message, earlier replies stay.
        ctx.add_message(Role::Assistant, "Earlier.");
        ctx.add_message(Role::User, "again");
        assert!(!ctx.truncate_reply(""));
        assert_eq!(
            ctx.last_message(Role::Assistant).unwrap().content,
            "Earlier."
        );
    }

    use super::*;

    fn sample() -> ChatContext {
        let mut ctx = ChatContext::new();
        ctx.add_message(Role::System, "be nice");
        ctx.add_message(Role::User, "hi");
        let call = FunctionCall::new("c1", "lookup", "{}");
        ctx.push(FunctionCallOutput::new(&call, "found", false));
        ctx.insert(2, call);
        ctx.push(FunctionCall::new("c2", "other", "{}"));
        ctx.add_message(Role::Assistant, "  ");
        ctx.push(AgentHandoff::new(None, "agent"));
        ctx
    }

    #[test]
    fn copy_filters() {
        let ctx = sample();
        assert_eq!(ctx.len(), 7);
        let c = ctx.copy(&CopyOptions::all().exclude_instructions());
        assert!(c.messages().all(|m| m.role != Role::System));
        assert_eq!(c.len(), 6);
        let c = ctx.copy(&CopyOptions::all().exclude_function_calls());
        assert_eq!(c.len(), 4);
        let c = ctx.copy(&CopyOptions::all().exclude_handoffs());
        assert_eq!(c.len(), 6);
        let c = ctx.copy(&CopyOptions::all().exclude_empty_messages());
        assert_eq!(c.len(), 6);
        let c = ctx.copy(&CopyOptions::all().only_tools(["lookup"]));
        assert_eq!(c.len(), 6);
        assert!(c
            .items()
            .iter()
            .all(|i| !matches!(i, ChatItem::FunctionCall(f) if f.name == "other")));
    }

    #[test]
    fn merge_skips_duplicates_and_orders_by_time() {
        let mut a = ChatContext::new();
        a.add_message(Role::User, "one");
        let mut b = a.clone();
        b.add_message(Role::Assistant, "two");
        a.add_message(Role::User, "three");
        a.merge(&b, &CopyOptions::all());
        let texts: Vec<_> = a.messages().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three"]);
        a.merge(&b, &CopyOptions::all());
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn truncate_keeps_leading_instructions() {
        let mut ctx = sample();
        ctx.truncate(2);
        assert_eq!(ctx.len(), 3);
        assert_eq!(ctx.items()[0].as_message().unwrap().role, Role::System);
    }
}
