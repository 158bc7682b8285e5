//! The instruction template the capture tasks share, and the texts their tools return to the LLM.
//!
//! One template keeps the tasks consistent: each is one step of a larger system, treats its input
//! as possibly noisy speech, records guesses early through its tools, never invents values, and
//! speaks without markdown.

/// What a task fills into the shared template.
pub(crate) struct Spec<'a> {
    /// What is collected, e.g. "email address".
    pub(crate) what: &'a str,
    /// The tool recording a value.
    pub(crate) update_tool: &'a str,
    /// The tool ending the task without a value.
    pub(crate) decline_tool: &'a str,
    /// How this kind of value is said aloud, and how to write it down.
    pub(crate) spoken_forms: &'a str,
    /// Rules particular to this value.
    pub(crate) rules: &'a str,
    /// The application's additions (`.extra_instructions(...)`).
    pub(crate) extra: &'a str,
}

/// How people spell and say digits, shared by every template.
const SPOKEN_BASICS: &str = "People spell letters one by one (\"j o h n\"), use the phonetic \
alphabet (\"J as in Juliet\", \"B for Bravo\"), say \"oh\" for zero, read digits in groups \
(\"four one five\"), and say \"double five\" for 55 or \"triple seven\" for 777.";

/// The instructions of a capture task.
pub(crate) fn capture(spec: &Spec<'_>) -> String {
    let Spec {
        what,
        update_tool,
        decline_tool,
        spoken_forms,
        rules,
        extra,
    } = spec;
    let mut text = format!(
        "You are one step of a larger system: your only job right now is to collect the user's \
{what}. Stay on that; once it is recorded, the system moves on by itself.\n\
\n\
The user's words may come from speech-to-text and be noisy. {SPOKEN_BASICS} {spoken_forms} \
Turn what they say into the written value silently; do not explain formats to them.\n\
\n\
Call `{update_tool}` as soon as you have a plausible {what}, even if you are unsure of parts of \
it: the tool checks it and tells you what is wrong or what to do next. Never invent or complete \
a value the user did not give. If you cannot make it out, ask for it again in parts. If a tool \
reports a problem, tell the user briefly and ask again. If the user will not or cannot give \
their {what}, call `{decline_tool}` with the reason.\n\
\n\
{rules}\n\
\n\
Speak naturally and briefly, in plain sentences: no markdown, lists or emoji."
    );
    if !extra.trim().is_empty() {
        text.push_str("\n\n");
        text.push_str(extra.trim());
    }
    text
}

/// Names of a task's update and confirm tools, for the read-back text.
pub(crate) struct Tools<'a> {
    /// Records a corrected value.
    pub(crate) update: &'a str,
    /// Confirms the recorded value.
    pub(crate) confirm: &'a str,
}

/// The tool output asking the LLM to read a recorded value back: `read` is what to say and
/// `confirm_with` the arguments to pass to the confirm tool.
pub(crate) fn read_back(what: &str, read: &str, confirm_with: &str, tools: &Tools<'_>) -> String {
    let Tools { update, confirm } = tools;
    format!(
        "Recorded, but not confirmed yet. Read the {what} back to the user {read}, then ask \
         whether it is correct. Only after the user confirms it, call `{confirm}` with \
         {confirm_with}. If they correct it, call `{update}` with the corrected value instead. \
         Do not call `{confirm}` before the user has answered."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_the_tools_and_appends_extra() {
        let text = capture(&Spec {
            what: "email address",
            update_tool: "update_email_address",
            decline_tool: "decline_email_capture",
            spoken_forms: "",
            rules: "Rule.",
            extra: "  Be brief.  ",
        });
        assert!(text.contains("one step of a larger system"));
        assert!(text.contains("`update_email_address`"));
        assert!(text.contains("`decline_email_capture`"));
        assert!(text.contains("no markdown"));
        assert!(text.ends_with("\n\nBe brief."));
    }
}
