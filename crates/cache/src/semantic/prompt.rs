//! A request split in two for the semantic cache: the bucket body, which is the request with
//! the wording of its prompt taken out, and the prompt text that is embedded. Two requests
//! may share an answer only when their bucket bodies are equal (same model, parameters,
//! roles, messages, parts, tools, tool calls and results, images, ...) and their prompts are
//! close in meaning.

use serde_json::Value;

/// The bucket body and the prompt of a request to `operation` (`chat.completions`,
/// `messages`, `responses`, `completions`). Every text part is emptied in the bucket body, in
/// place, and becomes the prompt line `role: text`, in order (the Anthropic `system` and the
/// Responses `instructions` come first). What the embedding cannot see stays in the bucket
/// body as it is: images, audio and files, tool calls and tool results. `None` for other
/// operations, for a body not shaped as the operation expects, and for a prompt with no text.
pub fn split(operation: &str, body: &Value) -> Option<(Value, String)> {
    let mut bucket = body.clone();
    let mut prompt = Prompt::default();
    match operation {
        "chat.completions" => chat(&mut bucket, &mut prompt)?,
        "messages" => messages(&mut bucket, &mut prompt)?,
        "responses" => responses(&mut bucket, &mut prompt)?,
        "completions" => completions(&mut bucket, &mut prompt)?,
        _ => return None,
    }
    prompt.any_text.then_some((bucket, prompt.text))
}

/// The prompt as the texts are taken out of the body.
#[derive(Default)]
struct Prompt {
    text: String,
    /// Whether some text is more than white space.
    any_text: bool,
}

impl Prompt {
    /// Moves the string in `slot` to the prompt as the line `role: text`, leaving `""` in its
    /// place. `None` when `slot` holds no string.
    fn take(&mut self, role: &str, slot: &mut Value) -> Option<()> {
        let Value::String(s) = slot else {
            return None;
        };
        let text = std::mem::take(s);
        self.any_text |= !text.trim().is_empty();
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(role);
        self.text.push_str(": ");
        self.text.push_str(&text);
        Some(())
    }

    /// A message's content: a string, or parts of which those typed as one of `text_types`
    /// hold their wording in `text` (the others stay). No content (`null`, or none at all, as
    /// an assistant message with tool calls has) is fine.
    fn content(
        &mut self,
        role: &str,
        content: Option<&mut Value>,
        text_types: &[&str],
    ) -> Option<()> {
        match content {
            None | Some(Value::Null) => Some(()),
            Some(s @ Value::String(_)) => self.take(role, s),
            Some(Value::Array(parts)) => {
                for part in parts {
                    let textual = part
                        .get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| text_types.contains(&t));
                    if textual {
                        self.take(role, part.get_mut("text")?)?;
                    }
                }
                Some(())
            }
            Some(_) => None,
        }
    }
}

/// The role a message names.
fn role_of(message: &Value) -> Option<String> {
    message.get("role")?.as_str().map(str::to_owned)
}

/// OpenAI chat completions: `messages`, each with a string content or `text` parts (image,
/// audio and file parts stay). A `tool` (or old `function`) message's content is a tool's
/// result and stays as it is.
fn chat(body: &mut Value, prompt: &mut Prompt) -> Option<()> {
    for m in body.get_mut("messages")?.as_array_mut()? {
        let role = role_of(m)?;
        if role == "tool" || role == "function" {
            continue;
        }
        prompt.content(&role, m.get_mut("content"), &["text"])?;
    }
    Some(())
}

/// Anthropic Messages: the `system` string or text blocks, then `messages`, each with a
/// string content or blocks of which the `text` ones are the wording (image, document,
/// tool_use, tool_result, thinking and other blocks stay).
fn messages(body: &mut Value, prompt: &mut Prompt) -> Option<()> {
    prompt.content("system", body.get_mut("system"), &["text"])?;
    for m in body.get_mut("messages")?.as_array_mut()? {
        let role = role_of(m)?;
        prompt.content(&role, m.get_mut("content"), &["text"])?;
    }
    Some(())
}

/// OpenAI Responses: the `instructions` string, then the `input`: a string (the user's), or
/// items of which the messages hold wording in a string content or in `input_text` and
/// `output_text` parts (image, file and audio parts stay). Other items (function calls and
/// their outputs, reasoning, references, ...) stay as they are.
fn responses(body: &mut Value, prompt: &mut Prompt) -> Option<()> {
    match body.get_mut("instructions") {
        None | Some(Value::Null) => {}
        Some(s @ Value::String(_)) => prompt.take("instructions", s)?,
        Some(_) => return None,
    }
    match body.get_mut("input") {
        None | Some(Value::Null) => {}
        Some(s @ Value::String(_)) => prompt.take("user", s)?,
        Some(Value::Array(items)) => {
            for item in items {
                let message = match item.get("type").and_then(Value::as_str) {
                    Some(t) => t == "message",
                    // The short form of a message names no type.
                    None => item.get("role").is_some(),
                };
                if message {
                    let role = role_of(item)?;
                    prompt.content(
                        &role,
                        item.get_mut("content"),
                        &["input_text", "output_text"],
                    )?;
                }
            }
        }
        Some(_) => return None,
    }
    Some(())
}

/// OpenAI legacy completions: `prompt`, a string or strings (token ids are not text).
fn completions(body: &mut Value, prompt: &mut Prompt) -> Option<()> {
    match body.get_mut("prompt")? {
        s @ Value::String(_) => prompt.take("prompt", s),
        Value::Array(items) => {
            for item in items {
                prompt.take("prompt", item)?;
            }
            Some(())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
