//! What a line of input asks for: plain lines (`EVENT [JSON args...] [--ack]`,
//! `--reply N [JSON args...]`) and JSON lines (`{"event": ..., "args": [...], "ack": true}`,
//! `{"reply": N, "args": [...]}`).

use serde_json::Value;

use crate::binary::Arg;

/// One request from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Emit an event.
    Emit {
        /// The event name.
        event: String,
        /// Its arguments.
        args: Vec<Arg>,
        /// Whether to ask for an ack.
        ack: bool,
        /// The caller's name for the ack (JSON mode), echoed in the ack line.
        id: Option<Value>,
    },
    /// Answer the server's ack request number `id` (shown as `reply` on its event).
    Reply {
        /// The number sio gave the request.
        id: u64,
        /// The answer's arguments.
        args: Vec<Arg>,
    },
}

/// Event names a socket.io server keeps for itself: emitting one is refused.
const RESERVED: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Refuses the reserved event names before anything connects.
pub fn check_event(event: &str) -> Result<(), String> {
    if RESERVED.contains(&event) {
        return Err(format!(
            "{event:?} is a reserved event name and cannot be emitted"
        ));
    }
    Ok(())
}

/// Parses a plain line; `None` for a blank line.
pub fn parse_plain(line: &str) -> Result<Option<Input>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    if let Some(rest) = line.strip_prefix("--reply") {
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            return Err(format!("unknown option {line:?}: did you mean --reply N?"));
        }
        let rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let id = rest[..end]
            .parse()
            .map_err(|_| "--reply needs the request number: --reply N [JSON args...]")?;
        return Ok(Some(Input::Reply {
            id,
            args: parse_args(&rest[end..])?,
        }));
    }
    let (event, rest) = split_event(line)?;
    if event.starts_with("--") && !line.starts_with('"') {
        return Err(format!(
            "unknown option {event:?} (write an event name that starts with -- as a JSON string)"
        ));
    }
    let (rest, ack) = match rest.trim_end().strip_suffix("--ack") {
        Some(before) if before.is_empty() || before.ends_with(char::is_whitespace) => {
            (before, true)
        }
        _ => (rest, false),
    };
    check_event(&event)?;
    Ok(Some(Input::Emit {
        event,
        args: parse_args(rest)?,
        ack,
        id: None,
    }))
}

/// The event name (a bare word, or a JSON string for names with spaces) and what follows.
fn split_event(line: &str) -> Result<(String, &str), String> {
    if line.starts_with('"') {
        let mut stream = serde_json::Deserializer::from_str(line).into_iter::<String>();
        return match stream.next() {
            Some(Ok(name)) => Ok((name, &line[stream.byte_offset()..])),
            _ => Err("the event name starts with a quote but is not a JSON string".into()),
        };
    }
    let end = line.find(char::is_whitespace).unwrap_or(line.len());
    Ok((line[..end].to_owned(), &line[end..]))
}

/// Whitespace-separated JSON values.
fn parse_args(text: &str) -> Result<Vec<Arg>, String> {
    let mut args = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let start = stream.byte_offset();
        match stream.next() {
            None => return Ok(args),
            Some(Ok(value)) => args.push(crate::binary::from_json(value)?),
            Some(Err(e)) => {
                let bad = text[start..].trim_start();
                let word = bad.split_whitespace().next().unwrap_or(bad);
                return Err(format!(
                    "argument {} is not JSON ({e}): {word} (strings need double quotes: \"text\")",
                    args.len() + 1
                ));
            }
        }
    }
}

/// Parses one command-line argument of `sio emit` as a JSON value.
pub fn parse_arg(text: &str) -> Result<Arg, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        format!("argument {text:?} is not JSON ({e}); strings need double quotes: '\"text\"'")
    })?;
    crate::binary::from_json(value)
}

/// Parses a JSON line; `None` for a blank line.
pub fn parse_json(line: &str) -> Result<Option<Input>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut map) = value else {
        return Err("expected an object: {\"event\": \"name\", \"args\": [...]}".into());
    };
    let args = match map.remove("args") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(crate::binary::from_json)
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("\"args\" must be an array".into()),
    };
    if let Some(reply) = map.remove("reply") {
        let id = reply
            .as_u64()
            .ok_or("\"reply\" must be the request number of an event")?;
        return Ok(Some(Input::Reply { id, args }));
    }
    let event = match map.remove("event") {
        Some(Value::String(event)) => event,
        Some(_) => return Err("\"event\" must be a string".into()),
        None => return Err("missing \"event\" (or \"reply\")".into()),
    };
    check_event(&event)?;
    let ack = match map.remove("ack") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(ack)) => ack,
        Some(_) => return Err("\"ack\" must be true or false".into()),
    };
    let id = map.remove("id");
    if let Some(key) = map.keys().next() {
        return Err(format!(
            "unknown key {key:?} (known: event, args, ack, id, reply)"
        ));
    }
    Ok(Some(Input::Emit {
        event,
        args,
        ack,
        id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn emit(event: &str, args: Value, ack: bool) -> Option<Input> {
        let Value::Array(args) = args else {
            unreachable!()
        };
        Some(Input::Emit {
            event: event.into(),
            args: args
                .into_iter()
                .map(|a| crate::binary::from_json(a).unwrap())
                .collect(),
            ack,
            id: None,
        })
    }

    #[test]
    fn plain_lines() {
        assert_eq!(parse_plain("  ").unwrap(), None);
        assert_eq!(parse_plain("ping").unwrap(), emit("ping", json!([]), false));
        assert_eq!(
            parse_plain(r#"chat "hello" {"to":"bob"}"#).unwrap(),
            emit("chat", json!(["hello", {"to": "bob"}]), false)
        );
        assert_eq!(
            parse_plain(r#"chat "a --ack" 1 -2.5 null --ack"#).unwrap(),
            emit("chat", json!(["a --ack", 1, -2.5, null]), true)
        );
        assert_eq!(
            parse_plain(r#""two words" [1, 2]"#).unwrap(),
            emit("two words", json!([[1, 2]]), false)
        );
        assert_eq!(parse_plain("x --ack").unwrap(), emit("x", json!([]), true));
        assert_eq!(
            parse_plain(r#"--reply 3 "ok" 1"#).unwrap(),
            Some(Input::Reply {
                id: 3,
                args: vec![Arg::from(json!("ok")), Arg::from(json!(1))]
            })
        );
    }

    #[test]
    fn plain_errors_say_what_to_do() {
        let e = parse_plain("chat hello").unwrap_err();
        assert!(
            e.contains("argument 1") && e.contains("double quotes"),
            "{e}"
        );
        assert!(parse_plain("--reply x").is_err());
        assert!(parse_plain("--ak x").is_err());
        assert!(parse_plain(r#""open"#).is_err());
        assert!(parse_plain("disconnect").unwrap_err().contains("reserved"));
        assert!(parse_json(r#"{"event":"connect"}"#).is_err());
    }

    #[test]
    fn json_lines() {
        assert_eq!(
            parse_json(r#"{"event":"chat","args":["hi",{"$binary":"AQ=="}],"ack":true,"id":"a"}"#)
                .unwrap(),
            Some(Input::Emit {
                event: "chat".into(),
                args: vec![
                    Arg::from(json!("hi")),
                    Arg::Binary(bytes::Bytes::from_static(&[1]))
                ],
                ack: true,
                id: Some(json!("a")),
            })
        );
        assert_eq!(
            parse_json(r#"{"reply":1}"#).unwrap(),
            Some(Input::Reply {
                id: 1,
                args: vec![]
            })
        );
        assert!(parse_json(r#"["chat"]"#).is_err());
        assert!(parse_json(r#"{"event":"chat","arg":[]}"#).is_err());
        assert!(parse_json(r#"{"event":"chat","args":1}"#).is_err());
    }
}
