//! The proxy against a std echo server.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::{Direction, FaultProxy, Trigger};

/// An echo server on 127.0.0.1 (one thread per connection, lives as long as the process).
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    if stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn connect(proxy: &FaultProxy) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

fn echo(stream: &mut TcpStream, data: &[u8]) -> Vec<u8> {
    stream.write_all(data).unwrap();
    let mut back = vec![0; data.len()];
    stream.read_exact(&mut back).unwrap();
    back
}

/// Whether the stream ends (EOF or reset) rather than times out, after whatever was
/// still on its way.
fn ends(stream: &mut TcpStream) -> bool {
    let mut buf = [0; 16];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    }
}

#[test]
fn forwards_and_counts() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    let mut stream = connect(&proxy);
    assert_eq!(echo(&mut stream, b"hello"), b"hello");
    let stats = proxy.stats();
    assert_eq!((stats.accepted, stats.open), (1, 1));
    assert_eq!((stats.to_server, stats.to_client), (5, 5));
}

#[test]
fn cut_all_ends_every_connection_and_new_ones_work() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    let mut a = connect(&proxy);
    let mut b = connect(&proxy);
    echo(&mut a, b"a");
    echo(&mut b, b"b");
    assert_eq!(proxy.cut_all(), 2);
    assert!(ends(&mut a) && ends(&mut b));
    let mut c = connect(&proxy);
    assert_eq!(echo(&mut c, b"c"), b"c");
    assert_eq!(proxy.stats().cut, 2);
}

#[test]
fn a_black_hole_swallows_without_closing() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    let mut stream = connect(&proxy);
    echo(&mut stream, b"x");
    proxy.black_hole(true);
    stream.write_all(b"lost").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0; 4];
    let error = stream.read(&mut buf).unwrap_err();
    assert!(matches!(
        error.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    assert_eq!(proxy.stats().swallowed, 4);
    proxy.black_hole(false);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(echo(&mut stream, b"back"), b"back");
}

#[test]
fn refusing_closes_the_port_and_reopens_it() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    let mut open = connect(&proxy);
    // Accepted, not just waiting in the backlog (which a refusal empties).
    echo(&mut open, b"in");
    proxy.refuse(true);
    let refused = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    // Open connections are untouched.
    assert_eq!(echo(&mut open, b"still"), b"still");
    proxy.refuse(false);
    let mut again = connect(&proxy);
    assert_eq!(echo(&mut again, b"again"), b"again");
    assert_eq!(proxy.stats().refusals, 1);
}

#[test]
fn a_trigger_cuts_before_forwarding_and_fires_once() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    proxy.cut_on(Trigger::bytes(Direction::ToServer, &b"boom"[..]).this_connection_only());
    let mut other = connect(&proxy);
    let mut stream = connect(&proxy);
    echo(&mut stream, b"fine");
    stream.write_all(b"bo").unwrap();
    stream.write_all(b"om").unwrap();
    assert!(ends(&mut stream));
    // Only that connection, and the echo never saw "om" come back.
    assert_eq!(echo(&mut other, b"boom"), b"boom");
    let stats = proxy.stats();
    assert_eq!((stats.triggered, stats.cut, proxy.armed()), (1, 1, 0));
}

#[test]
fn a_throttled_link_keeps_to_its_rate() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    proxy.throttle(Some(20_000));
    let mut stream = connect(&proxy);
    let data = vec![7; 10_000];
    let started = Instant::now();
    assert_eq!(echo(&mut stream, &data), data);
    // 10 kB at 20 kB/s: half a second at least (the echo overlaps the two directions).
    assert!(started.elapsed() >= Duration::from_millis(500));
}

#[test]
fn delay_holds_each_chunk() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    proxy.delay(Duration::from_millis(100));
    let mut stream = connect(&proxy);
    let started = Instant::now();
    echo(&mut stream, b"late");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn after_forwarding_nothing_else_crosses_the_connection() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    proxy.cut_on(Trigger::bytes(Direction::ToServer, &b"ping"[..]).after_forwarding());
    let mut stream = connect(&proxy);
    stream.write_all(b"ping").unwrap();
    // The echo answered at once, but the connection was cut with the last byte of the match.
    let mut back = Vec::new();
    let _ = stream.read_to_end(&mut back);
    assert!(back.is_empty(), "{back:?} came back");
    assert_eq!(proxy.stats().to_server, 4);
}

#[test]
fn a_cut_falls_exactly_before_or_after_the_match() {
    for (trigger, forwarded) in [
        (Trigger::bytes(Direction::ToServer, &b"XYZ"[..]), 3),
        (
            Trigger::bytes(Direction::ToServer, &b"XYZ"[..]).after_forwarding(),
            6,
        ),
    ] {
        let proxy = FaultProxy::start(echo_server()).unwrap();
        proxy.cut_on(trigger);
        let mut stream = connect(&proxy);
        stream.write_all(b"abcXYZdef").unwrap();
        assert!(ends(&mut stream));
        assert_eq!(proxy.stats().to_server, forwarded);
    }
}

#[test]
fn a_black_hole_swallows_closes_until_it_ends() {
    // A server that hangs up on every connection at once.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    let proxy = FaultProxy::start(addr).unwrap();
    proxy.black_hole(true);
    let mut stream = connect(&proxy);
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0; 4];
    let error = stream.read(&mut buf).unwrap_err();
    assert!(matches!(
        error.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    proxy.black_hole(false);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(ends(&mut stream));
}

#[test]
fn a_client_close_is_counted_even_through_a_black_hole() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    let mut stream = connect(&proxy);
    echo(&mut stream, b"x");
    proxy.black_hole(true);
    drop(stream);
    // Counted once the proxy has read the end of the stream.
    assert!(
        proxy.wait_for(Duration::from_secs(10), |s| s.client_closed > 0),
        "the close was not counted"
    );
    assert_eq!(proxy.stats().open, 1, "held open towards the server");
}

#[test]
fn then_refuse_keeps_new_connections_out_until_healed() {
    let proxy = FaultProxy::start(echo_server()).unwrap();
    proxy.cut_on(Trigger::bytes(Direction::ToServer, &b"bye"[..]).then_refuse());
    let mut stream = connect(&proxy);
    assert_eq!(echo(&mut stream, b"hi"), b"hi");
    stream.write_all(b"bye").unwrap();
    assert!(ends(&mut stream));
    // Refused from the cut on: by the kernel once the listener is closed, by the proxy
    // (accepted and dropped, never forwarded) before that.
    match TcpStream::connect(("127.0.0.1", proxy.port())) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused),
        Ok(mut late) => {
            late.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let _ = late.write_all(b"x");
            assert!(ends(&mut late), "a connection after the cut was forwarded");
        }
    }
    proxy.refuse(false);
    let mut again = connect(&proxy);
    assert_eq!(echo(&mut again, b"back"), b"back");
}
