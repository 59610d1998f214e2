//! What one client process is asked to do: the test, its size and the transport.

use std::str::FromStr;

/// The transports a client is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// WebSocket only (no polling handshake).
    WebSocket,
    /// Long-polling only.
    Polling,
    /// The default: a polling handshake, then an upgrade to WebSocket.
    Upgrade,
}

impl Transport {
    /// The name used on command lines (and by the Node script).
    pub fn name(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::Polling => "polling",
            Transport::Upgrade => "upgrade",
        }
    }
}

impl FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "websocket" => Ok(Transport::WebSocket),
            "polling" => Ok(Transport::Polling),
            "upgrade" => Ok(Transport::Upgrade),
            _ => Err(format!("unknown transport {s}")),
        }
    }
}

/// The test a client process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// Receive `n` `burst` events after asking for them with `burst(n, 0)`.
    Recv,
    /// `n` sequential `emit_with_ack("echo", i)`.
    Ack,
    /// `n` sequential connections, each to its `connect` event, then closed.
    Connect,
    /// `n` concurrent idle clients.
    Scale,
    /// Receive `n` `burst` events with a consumer that spends [`SLOW_EVENT`] on each, far
    /// slower than the server sends them; reports the peak resident memory.
    Slow,
}

/// What the slow consumer spends on each event (busy, as real work would): 10 µs, about a
/// tenth of the rate the replay server sends at to a client that keeps up.
pub const SLOW_EVENT: std::time::Duration = std::time::Duration::from_micros(10);

/// Busy-waits `d`, as work on an event would.
pub fn spin(d: std::time::Duration) {
    let end = std::time::Instant::now() + d;
    while std::time::Instant::now() < end {
        std::hint::spin_loop();
    }
}

impl Test {
    /// The name used on command lines (and by the Node script).
    pub fn name(self) -> &'static str {
        match self {
            Test::Recv => "recv",
            Test::Ack => "ack",
            Test::Connect => "connect",
            Test::Scale => "scale",
            Test::Slow => "slow",
        }
    }
}

impl FromStr for Test {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "recv" => Ok(Test::Recv),
            "ack" => Ok(Test::Ack),
            "connect" => Ok(Test::Connect),
            "scale" => Ok(Test::Scale),
            "slow" => Ok(Test::Slow),
            _ => Err(format!("unknown test {s}")),
        }
    }
}

/// One client run.
#[derive(Debug, Clone)]
pub struct Workload {
    /// What to do.
    pub test: Test,
    /// The server's base URL (`http://127.0.0.1:port`).
    pub url: String,
    /// Events, acks, connections or clients.
    pub n: u64,
    /// The client's transports.
    pub transport: Transport,
}

/// Connections opened at once in the scale test: more would overflow the listen backlog and
/// measure SYN retries instead of the client.
pub const SCALE_IN_FLIGHT: usize = 256;
