//! The kit catches clients that break the protocol: a hand-written client that misbehaves on
//! purpose (also an example of driving something other than `engineio_proto::Client`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio_proto::{PollRequest, Transmit, TransportEvent, TransportId};
use socketio_test_kit::{
    ClientOutput, SansIoClient, ServerConfig, Silent, Sim, SimConfig, ViolationKind,
};

/// Sends the scripted transmits at start, and records what comes back.
#[derive(Debug, Default)]
struct Rogue {
    out: VecDeque<Transmit>,
    responses: Vec<(TransportId, PollRequest, u16, Bytes)>,
}

impl SansIoClient for Rogue {
    type Event = ();

    fn poll_output(&mut self) -> Option<ClientOutput<()>> {
        self.out.pop_front().map(ClientOutput::Transmit)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn handle_transport(&mut self, _: Instant, t: TransportId, event: TransportEvent) {
        // The tests check the server's polling answers; other reports are ignored.
        if let TransportEvent::HttpResponse { request, response } = event {
            self.responses
                .push((t, request, response.status, response.body));
        }
    }
}

fn get(sid: Option<&str>) -> Transmit {
    let mut url = "http://localhost/engine.io/?EIO=4&transport=polling".to_owned();
    if let Some(sid) = sid {
        url.push_str("&sid=");
        url.push_str(sid);
    }
    Transmit::HttpGet {
        transport: TransportId(1),
        url: url.parse().unwrap(),
        headers: vec![],
    }
}

fn rogue_sim(strict: bool, transmits: Vec<Transmit>) -> Sim<Rogue, Silent> {
    let server = ServerConfig::default().with_sids(["r"]).with_strict(strict);
    let config = SimConfig::new(1).server(server);
    Sim::new(config, Silent, move |_, _| Rogue {
        out: transmits.into(),
        ..Rogue::default()
    })
}

#[test]
fn two_gets_in_flight_are_reported() {
    let mut sim = rogue_sim(false, vec![get(None)]);
    sim.run_for(Duration::from_millis(10));
    sim.with_client(|c, _| {
        c.out.push_back(get(Some("r")));
        c.out.push_back(get(Some("r")));
    });
    sim.run_for(Duration::from_millis(10));
    let kinds: Vec<&ViolationKind> = sim.violations().iter().map(|v| &v.kind).collect();
    // Seen twice: by the simulation watching the client, and by the server (parked GET).
    assert_eq!(
        kinds,
        [
            &ViolationKind::GetWhileGetInFlight,
            &ViolationKind::ConcurrentGet
        ]
    );
    // The reference's answer: the parked GET gets `1`, the second 400.
    let statuses: Vec<(u16, Bytes)> = sim.client().responses[1..]
        .iter()
        .map(|r| (r.2, r.3.clone()))
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&(200, Bytes::from_static(b"1"))));
    assert!(statuses.iter().any(|(s, _)| *s == 400));
    assert!(sim.violations()[0].to_string().contains("previous GET"));
}

#[test]
#[should_panic(expected = "client protocol violation")]
fn a_strict_server_fails_the_test_at_the_violation() {
    let post = Transmit::HttpPost {
        transport: TransportId(1),
        url: "http://localhost/engine.io/?EIO=4&transport=polling"
            .parse()
            .unwrap(),
        headers: vec![],
        body: Bytes::from_static(b"4x"),
    };
    let mut sim = rogue_sim(true, vec![post]);
    sim.run_for(Duration::from_millis(10));
}

#[test]
fn a_client_ping_is_reported_and_kills_the_session() {
    let mut sim = rogue_sim(false, vec![get(None)]);
    sim.run_for(Duration::from_millis(10));
    sim.with_client(|c, _| {
        c.out.push_back(Transmit::HttpPost {
            transport: TransportId(1),
            url: "http://localhost/engine.io/?EIO=4&transport=polling&sid=r"
                .parse()
                .unwrap(),
            headers: vec![("content-type".into(), "text/plain;charset=UTF-8".into())],
            body: Bytes::from_static(b"2"),
        })
    });
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.violations()[0].kind, ViolationKind::ClientPing);
    assert_eq!(
        sim.server().session("r").unwrap().closed.as_deref(),
        Some("transport error")
    );
}
