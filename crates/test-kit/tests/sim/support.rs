//! Building simulations of the Engine.IO client.

use std::time::Duration;

use engineio_proto::{Client, Config, Event, Message, TransportKind};
use socketio_test_kit::{Application, LinkConfig, ServerConfig, SessionCtx, Sim, SimConfig};

/// The Engine.IO client in a simulation.
pub type EngineSim<A> = Sim<Client, A>;

/// A client config for the simulated server, at `/socket.io/` like the captures.
pub fn client_config(transports: &[TransportKind]) -> Config {
    let mut c = Config::new("http://localhost:3000").unwrap();
    c.path = "/socket.io".into();
    c.transports = transports.to_vec();
    c
}

/// A server config at `/socket.io/` handing out `sids`.
pub fn server_config(sids: &[&str]) -> ServerConfig {
    ServerConfig::default()
        .with_path("/socket.io/")
        .with_sids(sids.iter().copied())
}

/// A simulation with a fixed 1 ms link.
pub fn sim<A: Application>(
    seed: u64,
    server: ServerConfig,
    app: A,
    client: Config,
) -> EngineSim<A> {
    sim_with_link(
        seed,
        LinkConfig::fixed(Duration::from_millis(1)),
        server,
        app,
        client,
    )
}

/// A simulation with the given link.
pub fn sim_with_link<A: Application>(
    seed: u64,
    link: LinkConfig,
    server: ServerConfig,
    app: A,
    client: Config,
) -> EngineSim<A> {
    let config = SimConfig::new(seed).link(link).server(server);
    Sim::new(config, app, move |now, rng| {
        Client::new(client, now, rng, false).unwrap()
    })
}

/// Runs until the client's session is open (at most a second).
pub fn open<A: Application>(sim: &mut EngineSim<A>) {
    assert!(
        sim.run_until(Duration::from_secs(1), |s| has_event(s, |e| matches!(
            e,
            Event::Open(_)
        ))),
        "no open:\n{}",
        sim.transcript()
    );
}

/// Whether the client emitted an event matching `f`.
pub fn has_event<A>(sim: &EngineSim<A>, f: impl Fn(&Event) -> bool) -> bool {
    sim.events().iter().any(|(_, e)| f(e))
}

/// The close reason string, if the client closed.
pub fn close_reason<A>(sim: &EngineSim<A>) -> Option<&'static str> {
    sim.events().iter().find_map(|(_, e)| match e {
        Event::Close(r) => Some(r.as_str()),
        _ => None,
    })
}

/// The messages the client received, as text (binary as hex).
pub fn received<A>(sim: &EngineSim<A>) -> Vec<String> {
    sim.events()
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Message(m) => Some(show(m)),
            _ => None,
        })
        .collect()
}

/// A message as text (binary as `<hex>`).
pub fn show(m: &Message) -> String {
    match m {
        Message::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
        Message::Binary(b) => {
            let hex: Vec<String> = b.iter().map(|b| format!("{b:02x}")).collect();
            format!("<{}>", hex.join(" "))
        }
    }
}

/// Sends a text message now.
pub fn send<A: Application>(sim: &mut EngineSim<A>, text: &str) {
    sim.with_client(|c, now| c.send(now, Message::text(text)).unwrap());
}

/// Sends a binary message now.
pub fn send_binary<A: Application>(sim: &mut EngineSim<A>, bytes: &[u8]) {
    let data = bytes::Bytes::copy_from_slice(bytes);
    sim.with_client(|c, now| c.send(now, Message::Binary(data)).unwrap());
}

/// A scripted stand-in for a Socket.IO server at the Engine.IO level: answers CONNECT with
/// `connect_reply` (plus `extra` messages), and `2<id>["echo",x]` with `3<id>[x]`.
#[derive(Debug, Default)]
pub struct Script {
    pub connect_reply: Vec<Message>,
}

impl Application for Script {
    fn on_message(&mut self, ctx: &mut SessionCtx<'_>, message: Message) {
        let Message::Text(t) = &message else { return };
        let text = std::str::from_utf8(t).unwrap();
        if text.starts_with('0') {
            for m in &self.connect_reply {
                ctx.send(m.clone());
            }
        } else if let Some(rest) = text.strip_prefix('2')
            && let Some(i) = rest.find("[\"echo\",")
        {
            let id = &rest[..i];
            let arg = &rest[i + "[\"echo\",".len()..rest.len() - 1];
            ctx.send_text(&format!("3{id}[{arg}]"));
        }
    }
}
