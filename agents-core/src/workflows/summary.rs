//! Folding a conversation into one message, used when a task group hands its history back.

use crate::error::{Error, Result};
use crate::llm::{ChatContext, ChatItem, ChatMessage, ChatRequest, Llm, Role, ToolChoice};

const SUMMARY_PROMPT: &str = "You summarise a conversation between a user and an assistant so \
that another assistant can continue it. Write a short, faithful summary in plain prose: state \
every fact the user gave and every result of a tool call as a fact, keep goals and decisions, \
drop greetings and chit-chat, and do not invent anything.";

/// Renders the conversation as tagged text for the summarising LLM.
fn render(chat_ctx: &ChatContext) -> String {
    let mut out = String::new();
    for item in chat_ctx.items() {
        match item {
            ChatItem::Message(m) if matches!(m.role, Role::User | Role::Assistant) => {
                let tag = m.role.as_str();
                out.push_str(&format!("<{tag}>{}</{tag}>\n", m.content));
            }
            ChatItem::FunctionCall(c) => out.push_str(&format!(
                "<function_call name=\"{}\" call_id=\"{}\">{}</function_call>\n",
                c.name, c.call_id, c.arguments
            )),
            ChatItem::FunctionCallOutput(o) => out.push_str(&format!(
                "<function_call_output name=\"{}\" call_id=\"{}\">{}</function_call_output>\n",
                o.name, o.call_id, o.output
            )),
            _ => {}
        }
    }
    out
}

/// Asks `llm` for a summary of `chat_ctx` and returns it as one assistant message wrapped in
/// `<chat_history_summary>`. Fails when the LLM fails or returns nothing.
pub async fn summarize(llm: &dyn Llm, chat_ctx: &ChatContext) -> Result<ChatMessage> {
    let mut ctx = ChatContext::new();
    ctx.add_message(Role::System, SUMMARY_PROMPT);
    ctx.add_message(
        Role::User,
        format!("<conversation>\n{}</conversation>", render(chat_ctx)),
    );
    let request = ChatRequest {
        chat_ctx: ctx,
        tool_choice: ToolChoice::None,
        ..Default::default()
    };
    let text = crate::llm::collect_text(llm, request).await?;
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Usage(
            "the LLM returned an empty summary of the task group's conversation".into(),
        ));
    }
    Ok(ChatMessage::new(
        Role::Assistant,
        format!("<chat_history_summary>\n{text}\n</chat_history_summary>"),
    ))
}
