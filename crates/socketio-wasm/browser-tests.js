#!/usr/bin/env node
// The browser side of socketio-wasm, driven from Node (which the interop tests need anyway):
//
//   node crates/socketio-wasm/browser-tests.js test        the wasm-bindgen tests (tests/browser.rs)
//                                                         in headless Chromium against the Node server
//   node crates/socketio-wasm/browser-tests.js chat        build the chat example, serve it with the
//                                                         Node server, print the page's URL
//   node crates/socketio-wasm/browser-tests.js chat-test   the same (a debug build), then headless Chromium (through
//                                                         chromedriver) loads the page, waits for a
//                                                         message that went round trip in its DOM and
//                                                         saves a screenshot
//   node crates/socketio-wasm/browser-tests.js size        the chat example's release .wasm size (opt-level z,
//                                                         LTO, as a page would ship it), raw
//                                                         and after wasm-opt -Oz when it is installed
//
// Needs: the wasm32-unknown-unknown target, wasm-bindgen-cli of the lockfile's wasm-bindgen
// version (wasm-bindgen and wasm-bindgen-test-runner on PATH), chromium and chromedriver
// (CHROMEDRIVER, default /usr/bin/chromedriver). The Node server is crates/test-kit/node's
// server.js, with CORS open to the test page's origin (credentials included).
"use strict";

const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const http = require("http");
const path = require("path");

const root = path.resolve(__dirname, "../..");
const crate = __dirname;
const nodeDir = path.join(root, "crates/test-kit/node");
const target = process.env.CARGO_TARGET_DIR || path.join(root, "target");
const chromedriver = process.env.CHROMEDRIVER || "/usr/bin/chromedriver";

function run(cmd, args, options = {}) {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  const result = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${cmd} exited with ${result.status}`);
}

// Asynchronously: the control server below lives in this process and must answer meanwhile.
function runAsync(cmd, args, options = {}) {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: "inherit", cwd: root, ...options });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

function ensureNodeModules() {
  if (!fs.existsSync(path.join(nodeDir, "node_modules/socket.io"))) {
    run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: nodeDir });
  }
}

// The Node socket.io server as a child that can be stopped and started again on its port.
class NodeServer {
  constructor() {
    this.port = 0;
    this.child = null;
  }

  start() {
    return new Promise((resolve, reject) => {
      const env = {
        ...process.env,
        PORT: String(this.port),
        // Any page origin, with credentials (the reflected origin, as browsers require).
        SERVER_OPTIONS: JSON.stringify({ cors: { origin: true, credentials: true } }),
      };
      const child = spawn("node", ["server.js"], { cwd: nodeDir, env, stdio: ["pipe", "pipe", "inherit"] });
      this.child = child;
      let out = "";
      const onData = (chunk) => {
        out += chunk;
        const m = out.match(/LISTENING (\d+)/);
        if (m) {
          child.stdout.off("data", onData);
          child.stdout.resume();
          this.port = parseInt(m[1], 10);
          resolve();
        }
      };
      child.stdout.on("data", onData);
      child.on("exit", (code) => reject(new Error(`the Node server exited with ${code} before listening`)));
    });
  }

  stop() {
    return new Promise((resolve) => {
      if (!this.child || this.child.exitCode !== null) return resolve();
      this.child.removeAllListeners("exit");
      this.child.on("exit", () => resolve());
      this.child.kill("SIGTERM");
      this.child = null;
    });
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
}

// Lets the browser tests stop and start the server (a real process restart on the same port):
// GET /stop answers once the process is gone, GET /start once the new one listens.
function controlServer(server) {
  const control = http.createServer(async (req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    console.error(`control: ${req.method} ${req.url}`);
    try {
      if (req.url === "/stop") await server.stop();
      else if (req.url === "/start") await server.start();
      else {
        res.statusCode = 404;
        return res.end();
      }
      res.end("ok");
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  });
  return listen(control);
}

function listen(httpServer) {
  return new Promise((resolve) => httpServer.listen(0, "127.0.0.1", () => resolve(httpServer)));
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };

// The chat page and its wasm-bindgen output, from examples/chat.
function staticServer(dir) {
  const files = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = path.join(dir, name === "/" ? "index.html" : name);
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.statusCode = 404;
      return res.end();
    }
    res.setHeader("content-type", TYPES[path.extname(file)] || "application/octet-stream");
    fs.createReadStream(file).pipe(res);
  });
  return listen(files);
}

async function testCommand() {
  ensureNodeModules();
  const server = new NodeServer();
  await server.start();
  const control = await controlServer(server);
  try {
    await runAsync("cargo", ["test", "--locked", "--target", "wasm32-unknown-unknown", "-p", "socketio-wasm", ...process.argv.slice(3)], {
      env: {
        ...process.env,
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: "wasm-bindgen-test-runner",
        CHROMEDRIVER: chromedriver,
        // Per test; the restart test waits for a real process to stop and start.
        WASM_BINDGEN_TEST_TIMEOUT: process.env.WASM_BINDGEN_TEST_TIMEOUT || "120",
        SOCKETIO_TEST_URL: server.url,
        SOCKETIO_TEST_CONTROL: `http://127.0.0.1:${control.address().port}`,
      },
    });
  } finally {
    control.close();
    await server.stop();
  }
}

const chatDir = path.join(crate, "examples/chat");

function buildChat(release) {
  const args = ["build", "--locked", "--target", "wasm32-unknown-unknown", "-p", "socketio-wasm", "--example", "chat"];
  if (release) args.push("--release");
  // Release builds as a page would ship them: optimized for size, whole-program (LTO).
  const sizeProfile = {
    CARGO_PROFILE_RELEASE_OPT_LEVEL: "z",
    CARGO_PROFILE_RELEASE_LTO: "true",
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS: "1",
    CARGO_PROFILE_RELEASE_PANIC: "abort",
  };
  run("cargo", args, { env: { ...process.env, ...(release ? sizeProfile : {}) } });
  const wasm = path.join(target, "wasm32-unknown-unknown", release ? "release" : "debug", "examples/chat.wasm");
  run("wasm-bindgen", ["--target", "web", "--no-typescript", "--out-dir", path.join(chatDir, "pkg"), "--out-name", "chat", wasm]);
  return path.join(chatDir, "pkg/chat_bg.wasm");
}

async function serveChat(release) {
  ensureNodeModules();
  buildChat(release);
  const server = new NodeServer();
  await server.start();
  const files = await staticServer(chatDir);
  const page = `http://127.0.0.1:${files.address().port}/?server=${encodeURIComponent(server.url)}`;
  return { server, files, page };
}

async function chatCommand() {
  const { server, files, page } = await serveChat(true);
  console.log(`\nThe chat page: ${page}&name=you\nOpen it in two tabs; Ctrl-C stops.`);
  const stop = async () => {
    files.close();
    await server.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

// A minimal WebDriver client over Node's fetch (Node 18+).
async function webdriver(base, method, url, body) {
  const res = await fetch(base + url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`webdriver ${method} ${url}: ${JSON.stringify(json.value)}`);
  return json.value;
}

async function chatTestCommand() {
  // The debug build: it reuses what the test command compiled (a release build with LTO
  // takes minutes; `size` measures that one).
  const { server, files, page } = await serveChat(false);
  const driverPort = 9515 + Math.floor(Math.random() * 1000);
  const driver = spawn(chromedriver, [`--port=${driverPort}`], { stdio: "ignore" });
  const base = `http://127.0.0.1:${driverPort}`;
  const word = `round-trip-${process.pid}`;
  let session = null;
  try {
    // chromedriver is up when its status answers.
    for (;;) {
      try {
        const status = await webdriver(base, "GET", "/status");
        if (status.ready) break;
      } catch (_) {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const created = await webdriver(base, "POST", "/session", {
      capabilities: {
        alwaysMatch: {
          "goog:chromeOptions": {
            args: ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=800,600"],
          },
        },
      },
    });
    session = created.sessionId;
    const s = `/session/${session}`;
    await webdriver(base, "POST", `${s}/url`, { url: `${page}&name=bot&say=${word}` });
    // The message is in the DOM only after the server broadcast it back to this page. Wait
    // for it (the runner's overall limit below ends a page that never gets there).
    const deadline = Date.now() + 60000;
    let text = "";
    for (;;) {
      text = await webdriver(base, "POST", `${s}/execute/sync`, {
        script: "return Array.from(document.querySelectorAll('#log li.message')).map(li => li.textContent).join('\\n') + '\\n#' + document.getElementById('status').textContent;",
        args: [],
      });
      if (text.includes(`bot: ${word}`)) break;
      if (Date.now() > deadline) throw new Error(`the page never showed the message; it shows:\n${text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const png = await webdriver(base, "GET", `${s}/screenshot`);
    const shot = path.join(target, "chat-example.png");
    fs.writeFileSync(shot, Buffer.from(png, "base64"));
    console.log(`the page shows the round trip:\n${text}\nscreenshot: ${shot}`);
  } finally {
    if (session) await webdriver(base, "DELETE", `/session/${session}`).catch(() => {});
    driver.kill();
    files.close();
    await server.stop();
  }
}

function sizeCommand() {
  const wasm = buildChat(true);
  const raw = fs.statSync(wasm).size;
  const gzip = (file) => require("zlib").gzipSync(fs.readFileSync(file), { level: 9 }).length;
  console.log(`chat_bg.wasm (wasm-bindgen output, release): ${raw} bytes, ${gzip(wasm)} gzipped`);
  const opt = spawnSync("wasm-opt", ["--version"], { encoding: "utf8" });
  if (opt.status === 0) {
    const out = wasm.replace(/\.wasm$/, ".opt.wasm");
    run("wasm-opt", ["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue", wasm, "-o", out]);
    console.log(`after ${opt.stdout.trim()} -Oz: ${fs.statSync(out).size} bytes, ${gzip(out)} gzipped`);
  } else {
    console.log("wasm-opt is not installed: no optimized size");
  }
}

const commands = { test: testCommand, chat: chatCommand, "chat-test": chatTestCommand, size: sizeCommand };
const command = commands[process.argv[2]];
if (!command) {
  console.error(`usage: node ${path.relative(process.cwd(), __filename)} ${Object.keys(commands).join("|")}`);
  process.exit(2);
}
Promise.resolve(command()).catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
