// The JS side of benches/codec_cpu.rs: socket.io-parser 4.2's CPU time per packet on the same
// three cases (the bytes the Rust encoder produces), with process.cpuUsage() so that a shared
// machine's load matters less than with wall time. Uses bench/node's packages:
//   (cd bench/node && npm ci) && NODE_PATH=bench/node/node_modules node crates/socketio-proto/benches/codec_cpu.js [case]
"use strict";
const { Decoder, Encoder } = require("socket.io-parser");
const records = [];
for (let id = 0; id < 112; id++) records.push({ id, name: "user-name-0123456789", tags: ["alpha", "beta"], score: 12.75, active: id % 2 === 0 });
const cases = {
  small: ['2["message","hello"]'],
  "10KiB": ["2" + JSON.stringify(["update", records])],
  binary_1KiB: ['51-["upload",{"_placeholder":true,"num":0}]', Buffer.alloc(1024, 0xab)],
};
function cpu(fn, n) {
  for (let i = 0; i < Math.min(n, 20000); i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const d = process.cpuUsage(start);
  return ((d.user + d.system) * 1000) / n;
}
const which = process.argv[2];
for (const [name, messages] of Object.entries(cases)) {
  if (which && which !== name) continue;
  const n = name === "10KiB" ? 20000 : 1000000;
  const decoder = new Decoder();
  let last = null;
  decoder.on("decoded", (p) => { last = p; });
  const dec = cpu(() => { for (const m of messages) decoder.add(m); }, n);
  const encoder = new Encoder();
  const packet = last;
  const enc = cpu(() => encoder.encode(packet), n);
  console.log(`${name}: decode ${dec.toFixed(0)} ns cpu/op, encode ${enc.toFixed(0)} ns cpu/op`);
}
