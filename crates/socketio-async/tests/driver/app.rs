//! A minimal Socket.IO server on top of the fake Engine.IO server: answers CONNECT, echoes
//! events and acks, asks the client questions, and records what it received.

use std::collections::HashMap;

use engineio_proto::Message;
use serde_json::{Value, json};
use socketio_test_kit::{Application, SessionCtx};

/// One Socket.IO packet, text only (the fake tests send no binary).
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// `0` CONNECT, `1` DISCONNECT, `2` EVENT, `3` ACK, `4` CONNECT_ERROR.
    pub kind: u8,
    pub nsp: String,
    pub id: Option<u64>,
    pub data: Option<Value>,
}

impl Packet {
    pub fn parse(text: &str) -> Self {
        let bytes = text.as_bytes();
        let kind = bytes[0] - b'0';
        let mut rest = &text[1..];
        let mut nsp = "/".to_owned();
        if rest.starts_with('/') {
            let end = rest.find(',').unwrap_or(rest.len());
            nsp = rest[..end].to_owned();
            rest = rest.get(end + 1..).unwrap_or("");
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let id = (digits > 0).then(|| rest[..digits].parse().expect("ack id"));
        rest = &rest[digits..];
        let data = (!rest.is_empty()).then(|| serde_json::from_str(rest).expect("packet JSON"));
        Self {
            kind,
            nsp,
            id,
            data,
        }
    }

    pub fn encode(&self) -> String {
        let mut out = self.kind.to_string();
        if self.nsp != "/" {
            out.push_str(&self.nsp);
            out.push(',');
        }
        if let Some(id) = self.id {
            out.push_str(&id.to_string());
        }
        if let Some(data) = &self.data {
            out.push_str(&data.to_string());
        }
        out
    }
}

/// The application: what a small socket.io server script would do.
#[derive(Debug, Default)]
pub struct SioApp {
    next_socket: u64,
    next_ack: u64,
    /// Acks the server asked the client for: id → namespace.
    asked: HashMap<u64, String>,
    /// CONNECT packets received: (namespace, auth).
    pub connects: Vec<(String, Option<Value>)>,
    /// Every packet received, in order.
    pub received: Vec<Packet>,
    /// Namespace socket ids handed out, in order.
    pub socket_ids: Vec<String>,
}

impl SioApp {
    /// The events received (`[name, args...]`) with this name.
    pub fn events(&self, name: &str) -> Vec<Value> {
        self.received
            .iter()
            .filter(|p| p.kind == 2)
            .filter_map(|p| p.data.clone())
            .filter(|d| d[0] == name)
            .collect()
    }

    fn send(ctx: &mut SessionCtx<'_>, packet: Packet) {
        ctx.send_text(&packet.encode());
    }
}

impl Application for SioApp {
    fn on_message(&mut self, ctx: &mut SessionCtx<'_>, message: Message) {
        let Message::Text(text) = message else {
            panic!("the fake tests send no binary");
        };
        let packet = Packet::parse(std::str::from_utf8(&text).expect("UTF-8"));
        self.received.push(packet.clone());
        let nsp = packet.nsp.clone();
        let reply = |kind: u8, id: Option<u64>, data: Option<Value>| Packet {
            kind,
            nsp: nsp.clone(),
            id,
            data,
        };
        match packet.kind {
            0 => {
                self.connects.push((nsp.clone(), packet.data.clone()));
                let token = packet.data.as_ref().and_then(|a| a.get("token").cloned());
                if nsp == "/private" && token != Some(json!("secret")) {
                    let refusal =
                        json!({"message": "not authorized", "data": {"reason": "bad token"}});
                    return Self::send(ctx, reply(4, None, Some(refusal)));
                }
                self.next_socket += 1;
                let sid = format!("socket-{}", self.next_socket);
                self.socket_ids.push(sid.clone());
                Self::send(ctx, reply(0, None, Some(json!({ "sid": sid }))));
            }
            2 => {
                let data = packet.data.clone().expect("event data");
                let items = data.as_array().expect("event array").clone();
                let name = items[0].as_str().expect("event name").to_owned();
                let args = items[1..].to_vec();
                match name.as_str() {
                    "echo" => match packet.id {
                        Some(id) => Self::send(ctx, reply(3, Some(id), Some(Value::Array(args)))),
                        None => Self::send(ctx, reply(2, None, Some(data))),
                    },
                    "ask" => {
                        self.next_ack += 1;
                        self.asked.insert(self.next_ack, nsp.clone());
                        let mut question = vec![json!("question")];
                        question.extend(args);
                        let ask = reply(2, Some(self.next_ack), Some(Value::Array(question)));
                        Self::send(ctx, ask);
                    }
                    "spam" => {
                        let count = args[0].as_u64().expect("count");
                        for i in 0..count {
                            Self::send(ctx, reply(2, None, Some(json!(["tick", i]))));
                            Self::send(ctx, reply(2, None, Some(json!(["tock", i]))));
                        }
                    }
                    "kick" => Self::send(ctx, reply(1, None, None)),
                    // Never answered: for ack timeouts.
                    "ignore" => {}
                    _ => {
                        if let Some(id) = packet.id {
                            Self::send(ctx, reply(3, Some(id), Some(json!([]))));
                        }
                    }
                }
            }
            3 => {
                let id = packet.id.expect("ack id");
                if self.asked.remove(&id).is_some() {
                    let mut answer = vec![json!("answer")];
                    answer.extend(
                        packet
                            .data
                            .clone()
                            .and_then(|d| d.as_array().cloned())
                            .unwrap_or_default(),
                    );
                    Self::send(ctx, reply(2, None, Some(Value::Array(answer))));
                }
            }
            _ => {}
        }
    }
}
