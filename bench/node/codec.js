// The JS parsers on the same bytes as the Rust codec measurement.
//   node codec.js <cases.json> <seconds per case>
// cases.json: [{ "name": ..., "messages": [{ "text": ... } | { "hex": ... }] }]
// Decode: socket.io-parser's Decoder fed the engine messages (what socket.io-client does after
// engine.io-parser split them). Encode: its Encoder on the decoded packet.
// Prints one JSON line per case: { name, decode, encode } in packets per second.
"use strict";

const fs = require("fs");
const { Decoder, Encoder } = require("socket.io-parser");

const [file, secondsArg] = process.argv.slice(2);
const seconds = parseFloat(secondsArg || "1");
const cases = JSON.parse(fs.readFileSync(file, "utf8"));

function rate(fn) {
  // Warm up, then count whole batches within the time.
  for (let i = 0; i < 1000; i++) fn();
  let done = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 100; i++) fn();
    done += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  return done / (Number(elapsed) / 1e9);
}

for (const c of cases) {
  const messages = c.messages.map((m) => (m.text !== undefined ? m.text : Buffer.from(m.hex, "hex")));
  const decoder = new Decoder();
  let last = null;
  decoder.on("decoded", (packet) => {
    last = packet;
  });
  const decode = rate(() => {
    for (const m of messages) decoder.add(m);
  });
  const encoder = new Encoder();
  const packet = last;
  const encode = rate(() => encoder.encode(packet));
  console.log(JSON.stringify({ name: c.name, decode, encode }));
}
