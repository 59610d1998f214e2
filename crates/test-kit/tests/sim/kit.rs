//! The kit's own pieces: the RNG, the link, virtual time, transcript rendering.

use std::time::Duration;

use rand_core::{RngCore, SeedableRng};
use socketio_test_kit::{Fate, Lane, Link, LinkConfig, SimRng, VirtualClock, http_date_at};

#[test]
fn the_rng_is_a_function_of_its_seed() {
    let a: Vec<u64> = (0..8)
        .map({
            let mut r = SimRng::new(1);
            move |_| r.next_u64()
        })
        .collect();
    let b: Vec<u64> = (0..8)
        .map({
            let mut r = SimRng::seed_from_u64(1);
            move |_| r.next_u64()
        })
        .collect();
    assert_eq!(a, b);
    let mut c = SimRng::new(2);
    assert_ne!(a[0], c.next_u64());
    let mut buf = [0u8; 13];
    SimRng::new(1).fill_bytes(&mut buf);
    assert_eq!(buf[..8], a[0].to_le_bytes());
    let mut r = SimRng::new(3);
    for _ in 0..1000 {
        assert!(r.below(7) < 7);
        let x = r.between(5, 9);
        assert!((5..=9).contains(&x));
    }
    assert_eq!(r.below(0), 0);
    assert!(!r.chance(0.0) && r.chance(1.0));
    let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
    assert!((2_000..3_000).contains(&hits), "{hits}");
    assert_eq!(SimRng::from_seed(7u64.to_le_bytes()), SimRng::new(7));
}

#[test]
fn the_link_keeps_websocket_order_but_not_http_order() {
    let mut link = Link::new(
        LinkConfig::jitter(Duration::from_millis(1), Duration::from_millis(50)),
        SimRng::new(9),
    );
    let lane = Lane::Ordered {
        conn: 1,
        upstream: true,
    };
    let mut last = Duration::ZERO;
    let mut http = Vec::new();
    for i in 0..200 {
        let now = Duration::from_micros(i * 100);
        let Fate::Deliver(at) = link.send(now, lane) else {
            panic!()
        };
        assert!(at >= last && at >= now + Duration::from_millis(1));
        last = at;
        let Fate::Deliver(at) = link.send(now, Lane::Http) else {
            panic!()
        };
        http.push(at);
    }
    assert!(http.windows(2).any(|w| w[1] < w[0]), "HTTP may overtake");
}

#[test]
fn cuts_swallow_and_loss_resets() {
    let config = LinkConfig::fixed(Duration::from_millis(2))
        .with_cut(Duration::from_secs(1), Duration::from_secs(2));
    let mut link = Link::new(config, SimRng::new(1));
    assert_eq!(
        link.send(Duration::from_millis(999), Lane::Http),
        Fate::Deliver(Duration::from_millis(1001))
    );
    assert_eq!(link.send(Duration::from_secs(1), Lane::Http), Fate::Vanish);
    assert_eq!(
        link.send(Duration::from_secs(2), Lane::Http),
        Fate::Deliver(Duration::from_millis(2002))
    );
    let mut lossy = Link::new(LinkConfig::ideal().with_loss(1.0), SimRng::new(1));
    assert_eq!(
        lossy.send(Duration::ZERO, Lane::Http),
        Fate::Reset(Duration::ZERO)
    );
}

#[test]
fn virtual_time_only_moves_forward() {
    let mut clock = VirtualClock::new();
    let t0 = clock.now();
    clock.advance(Duration::from_secs(5));
    clock.advance_to(t0 + Duration::from_secs(1));
    assert_eq!(clock.elapsed(), Duration::from_secs(5));
    clock.advance_to(t0 + Duration::from_secs(7));
    assert_eq!(clock.now(), t0 + Duration::from_secs(7));
    assert_eq!(
        http_date_at(Duration::ZERO),
        "Wed, 01 Jan 2025 00:00:00 GMT"
    );
    assert_eq!(
        http_date_at(Duration::from_secs(61)),
        "Wed, 01 Jan 2025 00:01:01 GMT"
    );
}
