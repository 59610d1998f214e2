// The JS peer: socket.io-client 4.8 on Node.js, driven by the Rust harness.
//   node client.js <recv|ack|connect|scale> <url> <n> <websocket|polling|upgrade>
// Prints one JSON line with the same fields as the Rust clients (see bench/src/measure.rs).
"use strict";

const { io } = require("socket.io-client");

const [test, url, nArg, transport] = process.argv.slice(2);
const n = parseInt(nArg, 10);
const SCALE_IN_FLIGHT = 256; // as bench/src/workload.rs

const transports = {
  websocket: ["websocket"],
  polling: ["polling"],
  upgrade: ["polling", "websocket"],
}[transport];
const options = { transports, forceNew: true, reconnection: false };

const cpuSeconds = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;

function meter() {
  const wall = now();
  const cpu = process.cpuUsage();
  return (count) => ({ count, wall: now() - wall, cpu: cpuSeconds(cpu) });
}

function percentiles(outcome, samples) {
  outcome.samples_us = samples.map((s) => s * 1e6); // in order, for pooling (bench/src/ack.rs)
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length, Math.max(1, Math.ceil(samples.length * q))) - 1];
  outcome.p50_us = at(0.5) * 1e6;
  outcome.p99_us = at(0.99) * 1e6;
}

function connected() {
  return new Promise((resolve, reject) => {
    const socket = io(url, options);
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

async function recv() {
  const socket = await connected();
  let count = 0;
  let stop;
  const done = new Promise((resolve) => {
    socket.on("burst", (i) => {
      count++;
      if (count === n) resolve();
    });
  });
  stop = meter();
  socket.emit("burst", n, 0);
  await done;
  const outcome = stop(count);
  socket.disconnect();
  return outcome;
}

async function ack() {
  const socket = await connected();
  const samples = [];
  const stop = meter();
  for (let i = 0; i < n; i++) {
    const sent = now();
    const back = await socket.emitWithAck("echo", i);
    samples.push(now() - sent);
    if (back !== i) throw new Error(`echo returned ${back} for ${i}`);
  }
  const outcome = stop(n);
  percentiles(outcome, samples);
  socket.disconnect();
  return outcome;
}

async function connect() {
  const samples = [];
  const stop = meter();
  for (let i = 0; i < n; i++) {
    const started = now();
    const socket = await connected();
    samples.push(now() - started);
    socket.disconnect();
  }
  const outcome = stop(n);
  percentiles(outcome, samples);
  return outcome;
}

async function scale() {
  const before = process.memoryUsage().rss;
  const stop = meter();
  const sockets = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      sockets.push(await connected());
    }
  };
  await Promise.all(Array.from({ length: Math.min(SCALE_IN_FLIGHT, n) }, worker));
  const outcome = stop(n);
  await new Promise((resolve) => setTimeout(resolve, 500));
  outcome.rss_per_client_kib = (process.memoryUsage().rss - before) / 1024 / n;
  for (const socket of sockets) socket.disconnect();
  return outcome;
}

// A consumer far slower than the server: events are queued as they come (socket.io-client
// has no backpressure) and an async consumer spends 10 us of busy work on each, yielding to
// the event loop every 64 events so that the socket keeps being read, as an application
// doing async work would. Reports the peak resident memory.
async function slow() {
  const socket = io(url, options);
  const queue = [];
  let head = 0;
  let wake = null;
  socket.on("burst", (i) => {
    queue.push(i);
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  const stop = meter();
  socket.emit("burst", n, 0);
  let count = 0;
  while (count < n) {
    if (head === queue.length) {
      await new Promise((resolve) => (wake = resolve));
      continue;
    }
    queue[head++] = undefined;
    const end = process.hrtime.bigint() + 10000n;
    while (process.hrtime.bigint() < end);
    count++;
    if (count % 64 === 0) await new Promise(setImmediate);
  }
  const outcome = stop(count);
  outcome.peak_rss_kib = process.resourceUsage().maxRSS;
  socket.disconnect();
  return outcome;
}

const tests = { recv, ack, connect, scale, slow };
tests[test]()
  .then((outcome) => {
    console.log(JSON.stringify(outcome));
    process.exit(0);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
