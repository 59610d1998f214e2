//! A tiny chat page on socketio-wasm: every message goes to the server, which broadcasts it
//! to the room `chat`, and shows up in every open page when it comes back. Build, serve and
//! open it with `node crates/socketio-wasm/browser-tests.js chat` (it starts the Node test
//! server too and prints the page's URL).
//!
//! The page's query string: `server` (the Socket.IO server, default `http://localhost:3000`),
//! `name` (default `guest`), and `say` (a message sent once connected: the round trip the
//! page test checks).

#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod page {
    use serde_json::json;
    use socketio_wasm::Options;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::prelude::wasm_bindgen;
    use web_sys::{Document, Event, HtmlInputElement, UrlSearchParams};

    #[wasm_bindgen(start)]
    pub fn start() {
        wasm_bindgen_futures::spawn_local(async {
            if let Err(e) = run().await {
                set_status(&format!("error: {e}"));
            }
        });
    }

    fn document() -> Document {
        web_sys::window()
            .and_then(|w| w.document())
            .expect("a page with a document")
    }

    fn set_status(text: &str) {
        if let Some(status) = document().get_element_by_id("status") {
            status.set_text_content(Some(text));
        }
    }

    /// Appends one line to the log (as text: never as HTML).
    fn show(from: &str, text: &str) {
        let doc = document();
        let (Some(log), Ok(item)) = (doc.get_element_by_id("log"), doc.create_element("li")) else {
            return;
        };
        item.set_class_name("message");
        item.set_text_content(Some(&format!("{from}: {text}")));
        let _ = log.append_child(&item);
    }

    async fn run() -> Result<(), socketio_wasm::Error> {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let params = UrlSearchParams::new_with_str(&search).ok();
        let param = |name: &str| params.as_ref().and_then(|p| p.get(name));
        let server = param("server").unwrap_or_else(|| "http://localhost:3000".to_owned());
        let name = param("name").unwrap_or_else(|| "guest".to_owned());

        set_status(&format!("connecting to {server}…"));
        let socket = socketio_wasm::builder(&server, Options::default())?
            .on("message", |msg| {
                if let Ok(m) = msg.args.get::<serde_json::Value>(0) {
                    show(
                        m["from"].as_str().unwrap_or("?"),
                        m["text"].as_str().unwrap_or(""),
                    );
                }
            })
            .on_connect(|_| set_status("connected"))
            .on_disconnect(|reason| {
                set_status(&format!("disconnected ({reason:?}), reconnecting…"))
            })
            .connect()
            .await?;
        // The test server's rooms: join `chat`, then broadcast into it (ourselves included).
        let () = socket.emit_with_ack("join", "chat").await?;
        set_status(&format!("connected as {name}"));

        let say = {
            let socket = socket.clone();
            let name = name.clone();
            move |text: String| {
                if !text.is_empty() {
                    let message = json!({ "from": name, "text": text });
                    let _ = socket.emit("broadcast", ("chat", "message", message));
                }
            }
        };
        if let Some(text) = param("say") {
            say(text);
        }
        let doc = document();
        if let (Some(form), Some(input)) = (
            doc.get_element_by_id("form"),
            doc.get_element_by_id("text")
                .and_then(|e| e.dyn_into::<HtmlInputElement>().ok()),
        ) {
            let on_submit = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                event.prevent_default();
                say(input.value());
                input.set_value("");
            });
            let _ =
                form.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
            // The page lives as long as the listener: keep the closure for good.
            on_submit.forget();
        }
        Ok(())
    }
}
