//! The browser's IO behind [`Runtime`]. wasm32-unknown-unknown runs one thread, and the
//! browser's objects (`WebSocket`, promises, callbacks) are `!Send`; the runtime's futures
//! and sockets must be `Send`, so they hold them in a [`SendWrapper`], which is sound on one
//! thread (it would panic, not race, if ever touched from another).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use engineio_proto::WsFrame;
use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use js_sys::{Array, ArrayBuffer, Function, Promise, Reflect, Uint8Array};
use send_wrapper::SendWrapper;
use socketio_async::runtime::{
    BoxFuture, HttpRequest, HttpResponse, IoErrorKind, TransportFailure, Unsupported, WebSocket,
    WsConnection, WsRequest,
};
use socketio_async::{Error, Options, Runtime, Socket, SocketBuilder, TransportKind};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, BinaryType, CloseEvent, MessageEvent, RequestCredentials, RequestInit,
    Response,
};
use web_time::Instant;

/// The browser [`Runtime`]: tasks on the page's event loop, `setTimeout` timers, `fetch` and
/// `WebSocket`. Works in windows and in workers (it uses the global scope, not `window`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WasmRuntime {
    credentials: bool,
}

impl WasmRuntime {
    /// A runtime whose requests send cookies to the same origin only (`credentials:
    /// "same-origin"`), for connections with `with_credentials` off (the default).
    pub fn new() -> Self {
        Self::default()
    }

    /// A runtime for the connections of `options`: `credentials: "include"` on every fetch
    /// when `options.with_credentials` is set (cross-origin cookies; the server must answer
    /// with `Access-Control-Allow-Credentials` and the page's exact origin).
    pub fn for_options(options: &Options) -> Self {
        Self {
            credentials: options.with_credentials,
        }
    }

    /// As a shareable runtime object.
    pub fn shared(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl Runtime for WasmRuntime {
    fn check_options(&self, options: &Options) -> Result<(), Unsupported> {
        let websocket = options.transports.contains(&TransportKind::WebSocket);
        if websocket && !options.extra_headers.is_empty() {
            return Err(Unsupported::WebSocketHeaders);
        }
        if options.with_credentials != self.credentials {
            // The credentials mode is the runtime's (fetch needs it per request, and a
            // request carries no options): a runtime built for other options would send
            // cookies the caller did not ask for, or not send those it did.
            return Err(Unsupported::CredentialsMode);
        }
        Ok(())
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(SendWrapper::new(async move {
            // setTimeout takes an i32 of milliseconds and may fire a little early or late:
            // sleep again until the clock has passed the deadline.
            loop {
                let now = Instant::now();
                if now >= deadline {
                    return;
                }
                let micros = (deadline - now).as_micros();
                let ms = micros.div_ceil(1000).min(i32::MAX as u128) as i32;
                Timer::new(ms).await;
            }
        }))
    }

    fn http(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'static, Result<HttpResponse, TransportFailure>> {
        let credentials = self.credentials;
        Box::pin(SendWrapper::new(fetch(request, credentials)))
    }

    fn websocket(
        &self,
        request: WsRequest,
    ) -> BoxFuture<'static, Result<WsConnection, TransportFailure>> {
        Box::pin(SendWrapper::new(open_websocket(request)))
    }
}

/// Connects to the namespace in `url`'s path on the page's event loop (see
/// [`socketio_async::io`]). Options the browser cannot honour are refused with
/// [`Error::Unsupported`].
///
/// Listeners added after this call may miss the first events: the connection runs on its
/// own task. Register them first with [`builder`].
pub fn io(url: &str, options: Options) -> Result<Socket, Error> {
    let runtime = WasmRuntime::for_options(&options).shared();
    socketio_async::io(url, options, runtime)
}

/// A socket to register listeners on before it connects (see [`SocketBuilder`]).
///
/// ```no_run
/// # #[cfg(target_arch = "wasm32")]
/// # async fn demo() -> Result<(), socketio_wasm::Error> {
/// let socket = socketio_wasm::builder("https://example.com", Default::default())?
///     .on("welcome", |msg| drop(msg))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
pub fn builder(url: &str, options: Options) -> Result<SocketBuilder, Error> {
    let runtime = WasmRuntime::for_options(&options).shared();
    SocketBuilder::new(url, options, runtime)
}

/// The text of a JavaScript error (an `Error`'s message, or the value as a string).
fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

fn failure(kind: IoErrorKind, what: &str, value: &JsValue) -> TransportFailure {
    TransportFailure::new(kind, format!("{what}: {}", describe(value)))
}

/// A global function (`setTimeout`, `fetch`...) of the current scope: a window or a worker.
fn global_function(name: &str) -> Result<Function, TransportFailure> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| {
            TransportFailure::new(
                IoErrorKind::Other,
                format!("this JavaScript environment has no `{name}`"),
            )
        })
}

/// One `setTimeout`, cleared when dropped (the driver drops a sleep whenever its next
/// deadline changes).
struct Timer {
    handle: JsValue,
    fired: oneshot::Receiver<()>,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    fn new(ms: i32) -> Self {
        let (tx, fired) = oneshot::channel();
        let mut tx = Some(tx);
        let callback = Closure::<dyn FnMut()>::new(move || {
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
        });
        let handle = global_function("setTimeout")
            .and_then(|set| {
                set.call2(&JsValue::UNDEFINED, callback.as_ref(), &JsValue::from(ms))
                    .map_err(|e| failure(IoErrorKind::Other, "setTimeout", &e))
            })
            // Every browser and worker scope has setTimeout; without it the timer never
            // fires, which a missing timer would mean anyway.
            .unwrap_or(JsValue::UNDEFINED);
        Self {
            handle,
            fired,
            _callback: callback,
        }
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match Pin::new(&mut self.fired).poll(cx) {
            Poll::Ready(_) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Ok(clear) = global_function("clearTimeout") {
            let _ = clear.call1(&JsValue::UNDEFINED, &self.handle);
        }
    }
}

/// Aborts a fetch whose future was dropped (the driver gave up on it, or closed).
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// One long-polling request through `fetch`.
async fn fetch(request: HttpRequest, credentials: bool) -> Result<HttpResponse, TransportFailure> {
    let init = RequestInit::new();
    init.set_method(if request.post { "POST" } else { "GET" });
    init.set_credentials(if credentials {
        RequestCredentials::Include
    } else {
        RequestCredentials::SameOrigin
    });
    let headers =
        web_sys::Headers::new().map_err(|e| failure(IoErrorKind::Other, "fetch headers", &e))?;
    for (name, value) in &request.headers {
        // The engine's cookie header only exists when it saw a `set-cookie`, which fetch
        // never shows: the browser's own cookie store stands in for the jar.
        if name.eq_ignore_ascii_case("cookie") {
            continue;
        }
        headers
            .append(name, value)
            .map_err(|e| failure(IoErrorKind::Other, "a request header", &e))?;
    }
    init.set_headers(&headers);
    if request.post {
        init.set_body(&Uint8Array::from(request.body.as_ref()));
    }
    let controller =
        AbortController::new().map_err(|e| failure(IoErrorKind::Other, "AbortController", &e))?;
    init.set_signal(Some(&controller.signal()));
    let mut guard = AbortOnDrop(Some(controller));

    let req = web_sys::Request::new_with_str_and_init(request.url.as_str(), &init)
        .map_err(|e| failure(IoErrorKind::Other, "fetch request", &e))?;
    let fetch = global_function("fetch")?;
    let promise = fetch
        .call1(&JsValue::UNDEFINED, &req)
        .map_err(|e| failure(IoErrorKind::Connect, "fetch", &e))?;
    let promise: Promise = promise
        .dyn_into()
        .map_err(|e| failure(IoErrorKind::Other, "fetch returned no promise", &e))?;
    // A rejected fetch is a network failure (refused, unreachable, or blocked by CORS: the
    // browser does not tell these apart).
    let response: Response = JsFuture::from(promise)
        .await
        .map_err(|e| failure(IoErrorKind::Connect, "fetch", &e))?
        .dyn_into()
        .map_err(|e| failure(IoErrorKind::Protocol, "fetch resolved to no Response", &e))?;
    let status = response.status();
    let mut out_headers = Vec::new();
    if let Ok(Some(entries)) = js_sys::try_iter(&response.headers()) {
        for entry in entries.flatten() {
            let pair = Array::from(&entry);
            if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out_headers.push((name, value));
            }
        }
    }
    let length = out_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    if length.is_some_and(|l| l > request.max_body) {
        return Err(too_large(request.max_body));
    }
    let body = response
        .array_buffer()
        .map_err(|e| failure(IoErrorKind::Protocol, "response body", &e))?;
    let body = JsFuture::from(body)
        .await
        .map_err(|e| failure(IoErrorKind::Closed, "response body", &e))?;
    let body = Uint8Array::new(&body);
    if body.length() as usize > request.max_body {
        return Err(too_large(request.max_body));
    }
    // Done: nothing left to abort.
    guard.0 = None;
    Ok(HttpResponse {
        status,
        headers: out_headers,
        body: Bytes::from(body.to_vec()),
    })
}

fn too_large(limit: usize) -> TransportFailure {
    TransportFailure::new(
        IoErrorKind::TooLarge,
        format!("the response body is larger than {limit} bytes"),
    )
}

/// What the browser's callbacks report to the socket's reader.
enum WsEvent {
    Frame(WsFrame),
    /// The connection ended: cleanly (a close frame) or not.
    Closed {
        clean: bool,
        code: u16,
        reason: String,
    },
    Error,
}

/// Opens a browser WebSocket and waits for `open` (or the failure).
async fn open_websocket(request: WsRequest) -> Result<WsConnection, TransportFailure> {
    if !request.headers.is_empty() {
        // Only a `before_connect` hook gets here (the options were checked): say why rather
        // than drop the headers.
        return Err(TransportFailure::new(
            IoErrorKind::Other,
            Unsupported::WebSocketHeaders.to_string(),
        ));
    }
    let ws = if request.protocols.is_empty() {
        web_sys::WebSocket::new(request.url.as_str())
    } else {
        let protocols: Array = request
            .protocols
            .iter()
            .map(|p| JsValue::from_str(p))
            .collect();
        web_sys::WebSocket::new_with_str_sequence(request.url.as_str(), &protocols)
    }
    .map_err(|e| failure(IoErrorKind::Connect, "WebSocket", &e))?;
    ws.set_binary_type(BinaryType::Arraybuffer);

    let (events_tx, events) = mpsc::unbounded();
    let (open_tx, opened) = oneshot::channel::<bool>();
    let max = request.max_message;

    let on_open = Closure::<dyn FnMut()>::new({
        let mut open_tx = Some(open_tx);
        move || {
            if let Some(tx) = open_tx.take() {
                let _ = tx.send(true);
            }
        }
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let tx = events_tx.clone();
        move |event: MessageEvent| {
            let data = event.data();
            let frame = if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
                let bytes = Uint8Array::new(buffer);
                if bytes.length() as usize > max {
                    let _ = tx.unbounded_send(WsEvent::Error);
                    return;
                }
                WsFrame::Binary(Bytes::from(bytes.to_vec()))
            } else if let Some(text) = data.as_string() {
                if text.len() > max {
                    let _ = tx.unbounded_send(WsEvent::Error);
                    return;
                }
                WsFrame::Text(Bytes::from(text))
            } else {
                // Binary type is arraybuffer: a Blob cannot arrive.
                return;
            };
            let _ = tx.unbounded_send(WsEvent::Frame(frame));
        }
    });
    // Before `open`, `error` then `close` mean the handshake failed; after it, `close` ends
    // the stream (its code says whether cleanly).
    let opened_flag = std::rc::Rc::new(std::cell::Cell::new(false));
    let (fail_tx, failed) = oneshot::channel::<String>();
    let mut fail_tx = Some(fail_tx);
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new({
        let tx = events_tx.clone();
        let opened_flag = opened_flag.clone();
        move |event: CloseEvent| {
            if opened_flag.get() {
                let _ = tx.unbounded_send(WsEvent::Closed {
                    clean: event.was_clean(),
                    code: event.code(),
                    reason: event.reason(),
                });
            } else if let Some(fail) = fail_tx.take() {
                let _ = fail.send(format!("closed with code {} before opening", event.code()));
            }
        }
    });
    let on_error = Closure::<dyn FnMut()>::new({
        let tx = events_tx;
        let opened_flag = opened_flag.clone();
        move || {
            // The browser gives no detail (on purpose); `close` follows with a code.
            if opened_flag.get() {
                let _ = tx.unbounded_send(WsEvent::Error);
            }
        }
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let socket = BrowserWebSocket {
        inner: SendWrapper::new(Inner {
            ws,
            events,
            _callbacks: Callbacks {
                _open: on_open,
                _message: on_message,
                _close: on_close,
                _error: on_error,
            },
            ended: false,
        }),
    };
    // `socket` closes the WebSocket if this future is dropped while it is opening.
    match futures_util::future::select(opened, failed).await {
        futures_util::future::Either::Left((Ok(_), _)) => {
            opened_flag.set(true);
            Ok(WsConnection {
                headers: Vec::new(),
                socket: Box::new(socket),
            })
        }
        futures_util::future::Either::Right((Ok(why), _)) => Err(TransportFailure::new(
            IoErrorKind::Connect,
            format!(
                "the WebSocket to {} failed: {why}",
                request.url.host_str().unwrap_or("")
            ),
        )),
        _ => Err(TransportFailure::new(
            IoErrorKind::Closed,
            "the WebSocket was dropped while opening",
        )),
    }
}

struct Inner {
    ws: web_sys::WebSocket,
    events: mpsc::UnboundedReceiver<WsEvent>,
    _callbacks: Callbacks,
    ended: bool,
}

/// The socket's event handlers, kept alive as long as the socket (freed after unhooking).
struct Callbacks {
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
    _error: Closure<dyn FnMut()>,
}

/// An open browser WebSocket as the driver's [`WebSocket`]: the callbacks queue frames, the
/// driver's task reads them in order.
struct BrowserWebSocket {
    inner: SendWrapper<Inner>,
}

impl BrowserWebSocket {
    fn send_error(e: &JsValue) -> TransportFailure {
        failure(IoErrorKind::Closed, "WebSocket send", e)
    }
}

impl WebSocket for BrowserWebSocket {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<WsFrame, TransportFailure>>> {
        let inner = &mut *self.inner;
        if inner.ended {
            return Poll::Ready(None);
        }
        match inner.events.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(WsEvent::Frame(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(Some(WsEvent::Closed {
                clean,
                code,
                reason,
            })) => {
                inner.ended = true;
                if clean {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(TransportFailure::new(
                        IoErrorKind::Closed,
                        format!("the WebSocket closed abnormally (code {code}) {reason}"),
                    ))))
                }
            }
            Poll::Ready(Some(WsEvent::Error)) => {
                inner.ended = true;
                let _ = inner.ws.close();
                Poll::Ready(Some(Err(TransportFailure::new(
                    IoErrorKind::Closed,
                    "the WebSocket failed (or a message exceeded max_websocket_message)",
                ))))
            }
            Poll::Ready(None) => {
                inner.ended = true;
                Poll::Ready(None)
            }
        }
    }

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        // The browser buffers sends itself (bufferedAmount) and gives no writable event to
        // wait on.
        Poll::Ready(Ok(()))
    }

    fn start_send(&mut self, frame: WsFrame) -> Result<(), TransportFailure> {
        let ws = &self.inner.ws;
        match frame {
            WsFrame::Text(text) => {
                let text = std::str::from_utf8(&text).map_err(|_| {
                    TransportFailure::new(IoErrorKind::Protocol, "a text frame that is not UTF-8")
                })?;
                ws.send_with_str(text).map_err(|e| Self::send_error(&e))
            }
            WsFrame::Binary(bytes) => ws
                .send_with_u8_array(&bytes)
                .map_err(|e| Self::send_error(&e)),
        }
    }

    fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        // Starts the closing handshake; the server's answer ends `poll_next` through `close`.
        let _ = self.inner.ws.close();
        Poll::Ready(Ok(()))
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Unhook the callbacks before they are freed, and let the server go.
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close();
    }
}
