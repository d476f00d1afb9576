//! Answers in each caller API's shape, whole and streamed, turned into each other: a cached
//! answer serves streamed and unstreamed callers alike.

pub mod chat;
pub mod messages;
pub mod responses;

use serde_json::Value;

/// A caller API whose answers stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Chat,
    Messages,
    Responses,
}

impl Shape {
    /// The shape of an operation's answers (`chat.completions`, `messages`, `responses`).
    pub fn of(operation: &str) -> Option<Shape> {
        match operation {
            "chat.completions" => Some(Shape::Chat),
            "messages" => Some(Shape::Messages),
            "responses" => Some(Shape::Responses),
            _ => None,
        }
    }

    /// The SSE a streamed call gets for `whole` (chat: the usage chunk only when asked for).
    pub fn to_events(self, whole: &Value, include_usage: bool) -> Vec<u8> {
        match self {
            Shape::Chat => chat::to_events(whole, include_usage),
            Shape::Messages => messages::to_events(whole),
            Shape::Responses => responses::to_events(whole),
        }
    }
}

/// Gathers a stream of any shape into its whole answer.
pub enum Gather {
    Chat(chat::Gather),
    Messages(messages::Gather),
    Responses(responses::Gather),
}

impl Gather {
    pub fn new(shape: Shape) -> Gather {
        match shape {
            Shape::Chat => Gather::Chat(chat::Gather::default()),
            Shape::Messages => Gather::Messages(messages::Gather::default()),
            Shape::Responses => Gather::Responses(responses::Gather::default()),
        }
    }

    /// One event (its name, if any, and data); false when it cannot be part of a stored answer.
    pub fn push(&mut self, event: Option<&str>, data: &str) -> bool {
        match self {
            Gather::Chat(g) => g.push(data),
            Gather::Messages(g) => {
                // A Messages event without its `event:` line is named by its data's type.
                let named = event.map(str::to_owned).or_else(|| {
                    serde_json::from_str::<Value>(data)
                        .ok()
                        .and_then(|v| v["type"].as_str().map(str::to_owned))
                });
                named.is_some_and(|n| g.push(&n, data))
            }
            Gather::Responses(g) => g.push(data),
        }
    }

    /// The whole answer, if the stream ended complete.
    pub fn finish(self) -> Option<Value> {
        match self {
            Gather::Chat(g) => g.finish(),
            Gather::Messages(g) => g.finish(),
            Gather::Responses(g) => g.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    /// Every shape's whole answer comes back from its own events through the common `Gather`.
    #[test]
    fn each_shape_round_trips_through_the_common_interface() {
        let wholes = [
            (
                Shape::Chat,
                json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi.", "refusal": null},
                        "logprobs": null, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
            ),
            (
                Shape::Messages,
                json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                    "content": [{"type": "text", "text": "Hi."}], "stop_reason": "end_turn",
                    "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 2}}),
            ),
        ];
        for (shape, whole) in wholes {
            let sse = String::from_utf8(shape.to_events(&whole, true)).unwrap();
            let mut g = Gather::new(shape);
            for ev in sse.split("\n\n").filter(|e| !e.is_empty()) {
                let mut name = None;
                let mut data = String::new();
                for line in ev.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n);
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = d.to_owned();
                    }
                }
                assert!(g.push(name, &data), "{shape:?}: {ev}");
            }
            assert_eq!(g.finish(), Some(whole), "{shape:?}");
        }
        assert_eq!(Shape::of("embeddings"), None);
        assert_eq!(Shape::of("responses"), Some(Shape::Responses));
    }
}
