//! A small GraphQL-over-WebSocket client for end-to-end tests: speaks
//! `graphql-transport-ws` (and the legacy `graphql-ws` subprotocol) to the real
//! server, keeps messages of other subscriptions until asked for, and waits for
//! everything with a bound so a missing message fails the test instead of
//! hanging it.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The modern protocol (the `graphql-ws` npm library, Apollo's GraphQLWsLink).
pub const TRANSPORT_WS: &str = "graphql-transport-ws";
/// The legacy `subscriptions-transport-ws` protocol.
pub const LEGACY_WS: &str = "graphql-ws";

/// How long a wait lasts unless the test says otherwise: long enough for a busy
/// two-core machine, short enough that a lost message fails the test quickly.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15);

/// What the server said about one operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `next` (legacy: `data`): the execution result, `{data, errors}`.
    Next(Value),
    /// `error`: the GraphQL errors; the operation is over.
    Error(Value),
    Complete,
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    legacy: bool,
    /// Messages with an id, read while waiting for another id, with the
    /// instant each arrived.
    pending: VecDeque<(String, Reply, chrono::DateTime<chrono::Utc>)>,
    /// The close frame, once the server sent it.
    closed: Option<(u16, String)>,
    pub wait: Duration,
}

/// The WebSocket URL of a server's GraphQL endpoint.
fn ws_url(base_url: &str) -> String {
    format!("{}/graphql", base_url.replacen("http", "ws", 1))
}

impl WsClient {
    /// Opens a connection to `base_url` (the server's `http://` base) asking for
    /// `subprotocol`; panics when the server refuses the upgrade.
    pub async fn connect(base_url: &str, subprotocol: &str) -> WsClient {
        WsClient::connect_with(base_url, subprotocol, None).await
    }

    /// As `connect`, with the socket's receive buffer at `receive_buffer` bytes:
    /// a client that stops reading then stops the server's sending after a few
    /// kilobytes instead of the megabytes the kernel would otherwise take in.
    pub async fn connect_with(
        base_url: &str,
        subprotocol: &str,
        receive_buffer: Option<u32>,
    ) -> WsClient {
        let mut request = ws_url(base_url)
            .into_client_request()
            .expect("a WebSocket request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(subprotocol).expect("a header value"),
        );
        let host = request.uri().authority().expect("a host").to_string();
        let addr: std::net::SocketAddr = tokio::net::lookup_host(&host)
            .await
            .expect("resolve the server")
            .next()
            .expect("an address");
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .expect("a TCP socket");
        if let Some(bytes) = receive_buffer {
            socket
                .set_recv_buffer_size(bytes)
                .expect("set the receive buffer");
        }
        let handshake = async {
            let stream = socket.connect(addr).await.expect("connect to the server");
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await
        };
        let (socket, response) = tokio::time::timeout(DEFAULT_WAIT, handshake)
            .await
            .expect("the WebSocket upgrade timed out")
            .unwrap_or_else(|e| panic!("WebSocket upgrade refused: {e}"));
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        assert_eq!(
            chosen,
            Some(subprotocol),
            "the server chose another protocol"
        );
        WsClient {
            socket,
            legacy: subprotocol == LEGACY_WS,
            pending: VecDeque::new(),
            closed: None,
            wait: DEFAULT_WAIT,
        }
    }

    /// A connection that has been initialised with `token` (none: the public).
    pub async fn connected(base_url: &str, token: Option<&str>) -> WsClient {
        let mut client = WsClient::connect(base_url, TRANSPORT_WS).await;
        client.init(token).await;
        client
    }

    /// Sends one text message as is.
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send on the WebSocket");
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    /// Sends `connection_init` with the token as the `graphql-ws` library does.
    pub async fn send_init(&mut self, token: Option<&str>) {
        let payload = match token {
            Some(t) if !t.is_empty() => json!({"Authorization": format!("Bearer {t}")}),
            _ => json!({}),
        };
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
    }

    /// `connection_init`, then waits for `connection_ack`.
    pub async fn init(&mut self, token: Option<&str>) {
        self.send_init(token).await;
        loop {
            let message = self
                .read(self.wait)
                .await
                .unwrap_or_else(|| panic!("no connection_ack; closed with {:?}", self.closed));
            match message["type"].as_str() {
                Some("connection_ack") => return,
                Some("ka" | "ping" | "pong") => {}
                _ => panic!("expected connection_ack, got {message}"),
            }
        }
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.legacy { "start" } else { "subscribe" };
        self.send(
            json!({"type": kind, "id": id, "payload": {"query": query, "variables": variables}}),
        )
        .await;
    }

    /// Ends operation `id` from the client's side.
    pub async fn complete(&mut self, id: &str) {
        let kind = if self.legacy { "stop" } else { "complete" };
        self.send(json!({"type": kind, "id": id})).await;
    }

    /// The next message for `id`, or `None` when none came within `wait` (or
    /// the connection closed).
    pub async fn reply_within(&mut self, id: &str, wait: Duration) -> Option<Reply> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.pending.iter().position(|(i, _, _)| i == id) {
                return self.pending.remove(i).map(|(_, r, _)| r);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            self.read(left).await?;
        }
    }

    /// The next message for any operation: its id, what it says, and when it
    /// arrived; `None` when none came within `wait`.
    pub async fn any_reply_within(
        &mut self,
        wait: Duration,
    ) -> Option<(String, Reply, chrono::DateTime<chrono::Utc>)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(first) = self.pending.pop_front() {
                return Some(first);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            self.read(left).await?;
        }
    }

    /// The next message for `id`; panics when none comes within `self.wait`.
    pub async fn reply(&mut self, id: &str) -> Reply {
        let wait = self.wait;
        match self.reply_within(id, wait).await {
            Some(reply) => reply,
            None => panic!(
                "no message for subscription {id} within {wait:?} (connection closed: {:?})",
                self.closed
            ),
        }
    }

    /// The next result for `id` (`{data, errors}`); panics on an `error`, a
    /// `complete` or nothing within the wait.
    pub async fn next(&mut self, id: &str) -> Value {
        match self.reply(id).await {
            Reply::Next(payload) => payload,
            other => panic!("expected a result for {id}, got {other:?}"),
        }
    }

    /// `data` of the next result for `id`, which must have no errors.
    pub async fn next_data(&mut self, id: &str) -> Value {
        let payload = self.next(id).await;
        assert!(
            payload.get("errors").is_none(),
            "subscription {id}: unexpected errors: {payload}"
        );
        payload["data"].clone()
    }

    /// The errors of the `error` message that must come next for `id`.
    pub async fn error(&mut self, id: &str) -> Value {
        match self.reply(id).await {
            Reply::Error(errors) => errors,
            other => panic!("expected an error for {id}, got {other:?}"),
        }
    }

    /// Waits for the server to close the connection; its close code and reason.
    pub async fn expect_close(&mut self) -> (u16, String) {
        self.expect_close_within(self.wait).await
    }

    pub async fn expect_close_within(&mut self, wait: Duration) -> (u16, String) {
        let deadline = tokio::time::Instant::now() + wait;
        while self.closed.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            // `read` gives `None` on a close (then `closed` is set) or a timeout.
            if self.read(left).await.is_none() && self.closed.is_none() {
                panic!("the server did not close within {wait:?}");
            }
        }
        self.closed.clone().expect("closed")
    }

    /// Reads one protocol message (answering pings, keeping operation messages
    /// in `pending`); `None` on timeout or when the connection is closed.
    async fn read(&mut self, wait: Duration) -> Option<Value> {
        if self.closed.is_some() {
            return None;
        }
        let frame = tokio::time::timeout(wait, self.socket.next()).await.ok()?;
        let text = match frame {
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(Message::Close(frame))) => {
                self.closed = Some(match frame {
                    Some(f) => (u16::from(f.code), f.reason.to_string()),
                    None => (u16::from(CloseCode::Status), String::new()),
                });
                return None;
            }
            Some(Ok(_)) => return Some(json!({"type": "frame"})),
            Some(Err(_)) | None => {
                self.closed.get_or_insert((1006, "connection lost".into()));
                return None;
            }
        };
        let message: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the server sent a non-JSON message {text:?}: {e}"));
        let id = message["id"].as_str().map(str::to_string);
        let reply = match message["type"].as_str() {
            Some("next" | "data") => Some(Reply::Next(message["payload"].clone())),
            Some("error") => Some(Reply::Error(message["payload"].clone())),
            Some("complete") => Some(Reply::Complete),
            Some("ping") => {
                self.send(json!({"type": "pong"})).await;
                None
            }
            _ => None,
        };
        if let (Some(id), Some(reply)) = (id, reply) {
            self.pending.push_back((id, reply, chrono::Utc::now()));
        }
        Some(message)
    }

    /// The server's close code and reason, once it closed the connection
    /// (1006: lost without a close frame).
    pub fn closed(&self) -> Option<&(u16, String)> {
        self.closed.as_ref()
    }

    /// Closes the connection from the client's side.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// The `extensions.code` of the first of `errors`.
pub fn error_code(errors: &Value) -> Option<&str> {
    errors[0]["extensions"]["code"].as_str()
}
