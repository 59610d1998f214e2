// The real socket.io server for the interop tests. Started by the tests themselves on
// 127.0.0.1 with a free port (PORT=0); prints "LISTENING <port>" once ready and exits when its
// stdin closes, so a crashed test never leaves it running.
//
// Settings come from the environment:
//   PORT, PING_INTERVAL, PING_TIMEOUT, MAX_HTTP_BUFFER_SIZE, TRANSPORTS (comma list),
//   RECOVERY=1 (connection state recovery), MSGPACK=1, COOKIE=1, PATH_PREFIX,
//   TLS_KEY / TLS_CERT (PEM files: serve https), TLS_CLIENT_CA (PEM: require client
//   certificates from this CA), TLS_OPTIONS (extra JSON for the https server, e.g.
//   {"ciphers": "...", "maxVersion": "TLSv1.2"}), SERVER_OPTIONS (extra JSON),
//   SEEN_FILE (append every "numbered" event's number to this file),
//   ONCE_FILE (the tokens the `/once` namespace has accepted, kept across restarts).
//
// Every Engine.IO request and WebSocket handshake is logged (method, URL, headers) and can be
// read back with the "requests" event; requests for other paths get 404.
"use strict";

const http = require("http");
const https = require("https");
const fs = require("fs");
const { Server } = require("socket.io");

const env = process.env;
const int = (name, fallback) => (env[name] ? parseInt(env[name], 10) : fallback);

const options = {
  pingInterval: int("PING_INTERVAL", 25000),
  pingTimeout: int("PING_TIMEOUT", 20000),
  maxHttpBufferSize: int("MAX_HTTP_BUFFER_SIZE", 1e6),
  path: env.PATH_PREFIX || "/socket.io",
};
if (env.TRANSPORTS) options.transports = env.TRANSPORTS.split(",");
if (env.RECOVERY === "1") {
  options.connectionStateRecovery = { maxDisconnectionDuration: 60000, skipMiddlewares: true };
}
if (env.MSGPACK === "1") options.parser = require("socket.io-msgpack-parser");
if (env.COOKIE === "1") options.cookie = { name: "io", httpOnly: true, path: "/" };
if (env.SERVER_OPTIONS) Object.assign(options, JSON.parse(env.SERVER_OPTIONS));

const tlsOptions = () => {
  const tls = { key: fs.readFileSync(env.TLS_KEY), cert: fs.readFileSync(env.TLS_CERT) };
  if (env.TLS_CLIENT_CA) {
    // Mutual TLS: only clients with a certificate from this CA get in.
    Object.assign(tls, { ca: fs.readFileSync(env.TLS_CLIENT_CA), requestCert: true, rejectUnauthorized: true });
  }
  if (env.TLS_OPTIONS) Object.assign(tls, JSON.parse(env.TLS_OPTIONS));
  return tls;
};
const httpServer = env.TLS_KEY ? https.createServer(tlsOptions()) : http.createServer();

// Echo the request's headers so tests can check extra headers and cookies.
httpServer.on("request", (req, res) => {
  if (req.url.startsWith("/headers")) {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(req.headers));
  } else if (!res.headersSent) {
    // Not the server's path (e.g. a missing trailing slash): say so rather than hang.
    res.statusCode = 404;
    res.end();
  }
});

const io = new Server(httpServer, options);

// The requests the server saw, before the engine handles them.
const requests = [];
const record = (req) => {
  if (!req.url.startsWith("/headers")) {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
  }
};
httpServer.prependListener("request", record);
// Only where the engine listens for upgrades: without a listener Node drops the connection,
// which is how a polling-only server refuses a WebSocket.
if (!options.transports || options.transports.includes("websocket")) {
  httpServer.prependListener("upgrade", record);
}

// Over https, the protocol and cipher (OpenSSL names) the handshake request's connection
// negotiated; null over http or once that connection is gone.
const tlsInfo = (sock) => {
  const cipher = sock && sock.getCipher ? sock.getCipher() : null;
  return cipher ? { protocol: sock.getProtocol(), cipher: cipher.name } : null;
};

function wire(nsp) {
  nsp.on("connection", (socket) => {
    socket.emit("welcome", {
      nsp: nsp.name,
      auth: socket.handshake.auth,
      query: socket.handshake.query,
      headers: socket.handshake.headers,
      recovered: socket.recovered,
      url: socket.handshake.url,
      engine: socket.conn.id,
      transport: socket.conn.transport.name,
      tls: tlsInfo(socket.request.socket),
    });

    // Echo: with an ack, answer through it; without, emit the arguments back.
    socket.on("echo", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      if (ack) ack(...args);
      else socket.emit("echo", ...args);
    });

    // Ask the client a question with an ack, and report its answer.
    socket.on("ask", (...args) => {
      socket.timeout(5000).emit("question", ...args, (err, ...answer) => {
        socket.emit("answer", err ? { error: err.message } : answer);
      });
    });

    // Binary, nested, several buffers.
    socket.on("binary", (ack) => {
      const payload = [Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]), text: "t" }];
      if (typeof ack === "function") ack(...payload);
      else socket.emit("binary", ...payload);
    });

    // Emit `count` numbered events, for throughput and ordering.
    socket.on("burst", (count, size) => {
      const pad = "x".repeat(size || 0);
      for (let i = 0; i < count; i++) socket.emit("burst", i, pad);
    });

    // Flow control: emit "flood" (n, pad of `size` bytes) as fast as the connection takes
    // them, until at least `count` are out AND `pongs` heartbeats have been answered since
    // the start (so the flood spans that many heartbeats, however fast the client reads),
    // then "flood_done" with the total. "As fast as the connection takes them": a batch goes
    // into engine.io's write buffer, the next when the transport has written it (the
    // socket's "drain"), so the server's memory stays bounded and a ping it queues waits
    // only behind one batch and what the OS buffers hold (docs/flow-control.md).
    socket.on("flood", (count, size, pongs) => {
      const pad = "x".repeat(size || 0);
      const conn = socket.conn;
      let n = 0;
      let answered = 0;
      const onPacket = (packet) => {
        if (packet.type === "pong") answered++;
      };
      conn.on("packet", onPacket);
      const pump = () => {
        if (conn.readyState !== "open") return conn.off("packet", onPacket);
        while (conn.writeBuffer.length < 64 && (n < count || answered < (pongs || 0))) {
          socket.emit("flood", n++, pad);
        }
        if (n < count || answered < (pongs || 0)) {
          // Emitted everything the buffer takes: go on when it drains. With nothing
          // buffered (all flushed at once), go on at the next turn of the event loop.
          if (conn.writeBuffer.length) conn.once("drain", pump);
          else setImmediate(pump);
        } else {
          conn.off("packet", onPacket);
          socket.emit("flood_done", n);
        }
      };
      pump();
    });

    // Tally of numbered events, for at-least-once checks. With SEEN_FILE, every arrival is
    // also appended to that file (synchronously, so before the ack leaves): the tally
    // survives the server being killed and restarted.
    const seen = new Set();
    socket.on("numbered", (n, ack) => {
      seen.add(n);
      if (env.SEEN_FILE) fs.appendFileSync(env.SEEN_FILE, `${n}\n`);
      if (typeof ack === "function") ack(n);
    });
    socket.on("seen", (ack) => ack([...seen].sort((a, b) => a - b)));

    // Emit "tick" 0..count-1, one every interval_ms, whether the client is connected or not
    // (with RECOVERY=1 the ones it misses are kept for it).
    socket.on("stream", (count, intervalMs) => {
      let n = 0;
      const timer = setInterval(() => {
        socket.emit("tick", n++);
        if (n >= count) clearInterval(timer);
      }, intervalMs);
    });

    // Never acks: for timeouts and retries.
    socket.on("ignore", () => {});

    // Acks only from the `n`th time it arrives: for retries.
    let tries = 0;
    socket.on("flaky", (n, ack) => {
      tries++;
      if (tries >= n && typeof ack === "function") ack(tries);
    });

    // What the server saw: every request so far, and the number of open connections.
    socket.on("requests", (ack) => ack(requests));
    socket.on("stats", (ack) => ack({ clientsCount: io.engine.clientsCount }));

    socket.on("kick", () => socket.disconnect());
    socket.on("drop", () => socket.conn.close());
    socket.on("transport", (ack) => ack(socket.conn.transport.name));
    // `size` bytes of binary through the ack: one WebSocket frame of that size.
    socket.on("big", (size, ack) => ack(Buffer.alloc(size, 7)));
    // An Engine.IO message that is no Socket.IO packet: the client's parser must refuse it.
    socket.on("garble", () => socket.conn.send("x"));
    // The open sessions of every client (engine.io's own count).
    socket.on("sessions", (ack) => ack(io.engine.clientsCount));
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack();
    });
    socket.on("broadcast", (room, ...args) => io.of(nsp.name).to(room).emit(...args));
  });
}

wire(io.of("/"));
wire(io.of("/chat"));

const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { reason: "bad token" };
  next(err);
});
wire(admin);

// Accepts each `auth.token` once: a reused (or missing) token is refused. With ONCE_FILE the
// accepted tokens survive a restart, so a client must bring a fresh token to every
// reconnection.
const onceTokens = new Set();
if (env.ONCE_FILE && fs.existsSync(env.ONCE_FILE)) {
  for (const t of fs.readFileSync(env.ONCE_FILE, "utf8").split("\n")) if (t) onceTokens.add(t);
}
const once = io.of("/once");
once.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  if (typeof token !== "string" || token === "" || onceTokens.has(token)) {
    const err = new Error("token already used");
    err.data = { token: token === undefined ? null : token };
    return next(err);
  }
  onceTokens.add(token);
  if (env.ONCE_FILE) fs.appendFileSync(env.ONCE_FILE, `${token}\n`);
  next();
});
wire(once);

// Connects, then disconnects at once: the CONNECT answer and the DISCONNECT travel together.
io.of("/brief").on("connection", (socket) => socket.disconnect());

httpServer.listen(int("PORT", 0), "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});

// The test that started us holds our stdin; when it goes away, so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
