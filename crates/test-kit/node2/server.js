// The real socket.io 2.x server (Engine.IO 3) for the interop tests, mirroring the events of
// ../node/server.js that the Engine.IO 3 tests use. Started by the tests on 127.0.0.1 with a
// free port (PORT=0); prints "LISTENING <port>" once ready and exits when its stdin closes.
//
// Settings come from the environment: PORT, PING_INTERVAL, PING_TIMEOUT, TRANSPORTS (comma
// list).
"use strict";

const http = require("http");

const env = process.env;
const int = (name, fallback) => (env[name] ? parseInt(env[name], 10) : fallback);

const options = {
  pingInterval: int("PING_INTERVAL", 25000),
  pingTimeout: int("PING_TIMEOUT", 5000),
};
if (env.TRANSPORTS) options.transports = env.TRANSPORTS.split(",");

const httpServer = http.createServer();
const io = require("socket.io")(httpServer, options);

function wire(nsp) {
  nsp.on("connection", (socket) => {
    socket.emit("welcome", {
      nsp: nsp.name,
      id: socket.id,
      query: socket.handshake.query,
      engine: socket.conn.id,
      transport: socket.conn.transport.name,
      version: "2",
    });

    // Echo: with an ack, answer through it; without, emit the arguments back.
    socket.on("echo", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      if (ack) ack(...args);
      else socket.emit("echo", ...args);
    });

    // Ask the client a question with an ack, and report its answer (2.x has no timeout()).
    socket.on("ask", (...args) => {
      socket.emit("question", ...args, (...answer) => socket.emit("answer", answer));
    });

    socket.on("binary", (ack) => {
      const payload = [Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]), text: "t" }];
      if (typeof ack === "function") ack(...payload);
      else socket.emit("binary", ...payload);
    });

    socket.on("ignore", () => {});
    socket.on("kick", () => socket.disconnect());
    socket.on("transport", (ack) => ack(socket.conn.transport.name));
    socket.on("stats", (ack) => ack({ clientsCount: io.engine.clientsCount }));
  });
}

wire(io.of("/"));
wire(io.of("/chat"));

const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.query && socket.handshake.query.token === "secret") return next();
  next(new Error("not authorized"));
});
wire(admin);

httpServer.listen(int("PORT", 0), "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});

process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
