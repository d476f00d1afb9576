//! Agent scripts: the model's side of an agent loop, played turn by turn.
//!
//! A test posts a plan to `POST /_mock/script`: a list of steps, each a tool call or a text.
//! The mock stays stateless about conversations: it picks the step from the number of
//! assistant turns the request already holds (or, with `"count": "requests"`, from how many
//! requests the script has answered, for clients whose prompts hold example turns). A request
//! that offers no tools while the plan waits for a call is a side request: it gets plain text
//! and does not move the plan.
//!
//! A call step lists alternatives, because each agent names its tools its own way (Claude
//! Code's `Write`, Cline's `write_to_file`, Codex's `apply_patch`): the first one the request
//! offers is called. An alternative gives `arguments` (a JSON object) or `input` (the text of a
//! freeform tool; offered as a function tool, its one string parameter gets the text). In a
//! text, `{last_result}` stands for the text of the latest tool result in the request.

use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A plan as posted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    pub steps: Vec<Step>,
    /// What advances the plan.
    #[serde(default)]
    pub count: Count,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Count {
    /// Assistant turns already in the request.
    #[default]
    Turns,
    /// Requests the script has answered.
    Requests,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Step {
    /// Call the first of these tools that the request offers.
    Call(Vec<Alternative>),
    /// Answer with this text.
    Text(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    pub name: String,
    #[serde(default)]
    pub arguments: Option<Map<String, Value>>,
    #[serde(default)]
    pub input: Option<String>,
}

/// A tool as a request offers it.
pub(crate) struct Offered<'a> {
    pub name: &'a str,
    /// A freeform tool (Responses `custom`): called with text, not JSON arguments.
    pub custom: bool,
    /// The JSON schema of its parameters, when it has one.
    pub schema: Option<&'a Value>,
}

/// What a request shows the script, read by each format's handler.
pub(crate) struct Seen<'a> {
    pub tools: Vec<Offered<'a>>,
    pub assistant_turns: usize,
    pub last_result: Option<String>,
}

/// The model's turn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Turn {
    /// A call: `arguments` is JSON text, or the raw input of a freeform tool.
    Call {
        name: String,
        arguments: String,
        custom: bool,
    },
    Text(String),
}

/// The script's state on the server.
#[derive(Default)]
pub(crate) struct Player {
    script: Option<Script>,
    /// Requests answered by the script (for `Count::Requests`).
    answered: usize,
    /// The steps played, in order (for tests to read).
    played: Vec<usize>,
}

impl Player {
    pub fn load(&mut self, script: Script) {
        *self = Player {
            script: Some(script),
            ..Player::default()
        };
    }

    pub fn clear(&mut self) {
        *self = Player::default();
    }

    pub fn report(&self) -> Value {
        json!({"loaded": self.script.is_some(),
            "steps": self.script.as_ref().map_or(0, |s| s.steps.len()),
            "played": self.played})
    }

    /// The turn for a request, or None when no script is loaded.
    pub fn play(&mut self, seen: &Seen) -> Option<Turn> {
        let script = self.script.as_ref()?;
        let index = match script.count {
            Count::Turns => seen.assistant_turns,
            Count::Requests => self.answered,
        };
        let last = script.steps.len().checked_sub(1)?;
        let step = &script.steps[index.min(last)];
        let turn = match step {
            Step::Text(t) => Turn::Text(fill(t, seen)),
            Step::Call(_) if seen.tools.is_empty() && script.count == Count::Turns => {
                return Some(Turn::Text(SIDE_ANSWER.into()));
            }
            Step::Call(alts) => call(alts, seen),
        };
        self.answered += 1;
        self.played.push(index.min(last));
        Some(turn)
    }
}

/// The scripted turn for a request, when a script is loaded.
pub(crate) fn play(state: &crate::State, seen: &Seen) -> Option<Turn> {
    crate::lock(&state.script).play(seen)
}

/// The answer to a request that offers no tools while the plan waits for a call.
const SIDE_ANSWER: &str = "Scripted agent run";

fn fill(text: &str, seen: &Seen) -> String {
    text.replace(
        "{last_result}",
        seen.last_result
            .as_deref()
            .unwrap_or("(no tool result)")
            .trim(),
    )
}

fn call(alts: &[Alternative], seen: &Seen) -> Turn {
    for alt in alts {
        let Some(tool) = seen.tools.iter().find(|t| t.name == alt.name) else {
            continue;
        };
        let arguments = match (&alt.input, &alt.arguments, tool.custom) {
            (Some(input), _, true) => input.clone(),
            (Some(input), _, false) => {
                let mut args = Map::new();
                args.insert(string_parameter(tool.schema), json!(input));
                Value::Object(args).to_string()
            }
            (None, Some(args), _) => Value::Object(args.clone()).to_string(),
            (None, None, _) => "{}".into(),
        };
        return Turn::Call {
            name: alt.name.clone(),
            arguments,
            custom: tool.custom,
        };
    }
    let wanted: Vec<&str> = alts.iter().map(|a| a.name.as_str()).collect();
    let offered: Vec<&str> = seen.tools.iter().map(|t| t.name).collect();
    Turn::Text(format!(
        "script: none of the tools {wanted:?} is offered; the request offers {offered:?}"
    ))
}

/// The parameter a freeform tool's text goes in when it is offered as a function: its only
/// property, else `input`.
fn string_parameter(schema: Option<&Value>) -> String {
    let props = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object);
    match props {
        Some(p) if p.len() == 1 => p.keys().next().cloned().unwrap_or_default(),
        _ => "input".into(),
    }
}

/// The text of a tool result's content: a string, or the text of its parts.
pub(crate) fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Tools offered as `[{name, <schema_key>}]` or `[{function: {name, parameters}}]`.
pub(crate) fn offered<'a>(tools: Option<&'a Value>, schema_key: &str) -> Vec<Offered<'a>> {
    let Some(list) = tools.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|t| {
            let f = t.get("function").unwrap_or(t);
            Some(Offered {
                name: f.get("name")?.as_str()?,
                custom: t.get("type").and_then(Value::as_str) == Some("custom")
                    && t.get("input_schema").is_none(),
                schema: f.get(schema_key).or_else(|| f.get("parameters")),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(v: Value) -> Script {
        serde_json::from_value(v).expect("script")
    }

    fn seen<'a>(tools: Vec<Offered<'a>>, turns: usize, last: Option<&str>) -> Seen<'a> {
        Seen {
            tools,
            assistant_turns: turns,
            last_result: last.map(str::to_owned),
        }
    }

    #[test]
    fn plays_the_step_for_the_turn_with_the_first_tool_offered() {
        let mut p = Player::default();
        p.load(script(json!({"steps": [
            {"call": [{"name": "Write", "arguments": {"file_path": "/x"}},
                      {"name": "write_to_file", "arguments": {"path": "x"}}]},
            {"text": "saw {last_result}"}]})));
        let tools = || {
            vec![Offered {
                name: "write_to_file",
                custom: false,
                schema: None,
            }]
        };
        assert_eq!(
            p.play(&seen(tools(), 0, None)),
            Some(Turn::Call {
                name: "write_to_file".into(),
                arguments: r#"{"path":"x"}"#.into(),
                custom: false
            })
        );
        assert_eq!(
            p.play(&seen(tools(), 1, Some(" ok\n"))),
            Some(Turn::Text("saw ok".into()))
        );
        // Past the end, the last step again.
        assert_eq!(
            p.play(&seen(tools(), 5, Some("z"))),
            Some(Turn::Text("saw z".into()))
        );
        assert_eq!(p.report()["played"], json!([0, 1, 1]));
    }

    #[test]
    fn freeform_input_goes_raw_to_a_custom_tool_and_into_the_one_parameter_of_a_function() {
        let mut p = Player::default();
        p.load(script(
            json!({"steps": [{"call": [{"name": "apply_patch", "input": "*** Begin Patch"}]}]}),
        ));
        let custom = Offered {
            name: "apply_patch",
            custom: true,
            schema: None,
        };
        assert_eq!(
            p.play(&seen(vec![custom], 0, None)),
            Some(Turn::Call {
                name: "apply_patch".into(),
                arguments: "*** Begin Patch".into(),
                custom: true
            })
        );
        let schema = json!({"type": "object", "properties": {"patch": {"type": "string"}}});
        let function = Offered {
            name: "apply_patch",
            custom: false,
            schema: Some(&schema),
        };
        assert_eq!(
            p.play(&seen(vec![function], 0, None)),
            Some(Turn::Call {
                name: "apply_patch".into(),
                arguments: r#"{"patch":"*** Begin Patch"}"#.into(),
                custom: false
            })
        );
    }

    #[test]
    fn a_request_without_tools_is_a_side_request_unless_requests_are_counted() {
        let mut p = Player::default();
        p.load(script(
            json!({"steps": [{"call": [{"name": "Bash"}]}, {"text": "done"}]}),
        ));
        assert_eq!(
            p.play(&seen(vec![], 0, None)),
            Some(Turn::Text(SIDE_ANSWER.into()))
        );
        assert_eq!(p.report()["played"], json!([]));
        p.load(script(
            json!({"count": "requests", "steps": [{"text": "one"}, {"text": "two"}]}),
        ));
        assert_eq!(
            p.play(&seen(vec![], 4, None)),
            Some(Turn::Text("one".into()))
        );
        assert_eq!(
            p.play(&seen(vec![], 4, None)),
            Some(Turn::Text("two".into()))
        );
    }

    #[test]
    fn a_call_no_offered_tool_matches_says_so_in_text() {
        let mut p = Player::default();
        p.load(script(json!({"steps": [{"call": [{"name": "Bash"}]}]})));
        let tools = vec![Offered {
            name: "Read",
            custom: false,
            schema: None,
        }];
        let Some(Turn::Text(t)) = p.play(&seen(tools, 0, None)) else {
            panic!("expected text");
        };
        assert!(t.contains("\"Bash\"") && t.contains("\"Read\""), "{t}");
    }
}
