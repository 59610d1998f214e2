//! Time going backwards is treated as no time passing.

use std::time::Duration;

use engineio_proto::{Event, Message, State};

use crate::support::*;

#[test]
fn a_clock_that_jumps_back_is_clamped() {
    let mut h = H::new(config());
    h.at(10_000);
    let id = h.open_polling();
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(55_000))
    );
    // Inputs dated before the last one count as happening at the last one.
    h.at(5_000);
    let d = h.get_ok(id, "2");
    assert_eq!(d.events, [Event::Ping]);
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(55_000))
    );
    h.at(0);
    assert!(h.timeout().all.is_empty());
    h.client.send(h.now, Message::text("x")).unwrap();
    assert_eq!(h.client.state(), State::Open);
    // Even the beginning of time (before the client's construction) is harmless.
    h.now = h.t0;
    h.client.handle_timeout(h.t0);
    h.at(55_000);
    assert_eq!(h.timeout().close_reason(), Some("ping timeout"));
}

#[test]
fn a_backwards_clock_cannot_postpone_the_deadline() {
    let mut h = H::new(config());
    let id = h.open_polling();
    h.at(40_000);
    h.get_ok(id, "4x");
    h.at(1_000);
    // A ping dated earlier arms the deadline from the latest time seen, not from the past.
    h.get_ok(id, "2");
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(85_000))
    );
}
