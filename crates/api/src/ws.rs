//! GraphQL over WebSocket on `/graphql`: the `graphql-transport-ws` protocol
//! (the `graphql-ws` npm library, Apollo's `GraphQLWsLink`, Python gql's
//! `WebsocketsTransport`) and, for older clients, the legacy
//! `subscriptions-transport-ws` protocol (subprotocol `graphql-ws`).
//!
//! async-graphql ships a protocol handler, but it closes with 1002 where the
//! protocol asks for 4403, has no 4408 initialisation timeout or 4409 duplicate
//! id, and never pings: so the protocol is spoken here, and every operation is
//! still executed by the schema (`execute_stream`), with the same access table.
//!
//! Each subscription runs in a task of its own that feeds one bounded queue per
//! connection: a client that stops reading stops its own subscriptions (their
//! live feeds fall behind and later resume from the log), never anyone else's.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use async_graphql::futures_util::{SinkExt, StreamExt};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use aduan_domain::Actor;

use crate::auth::AuthError;
use crate::error_code::ClientCode;
use crate::graphql::{ClientKey, Correlation, RequestAuth};
use crate::metrics;
use crate::state::AppState;

/// The subprotocols offered, preferred first.
pub const PROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];
/// A client must send `connection_init` within this (else 4408).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Subscriptions one connection may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 100;
/// Messages waiting for a slow client, per connection.
const QUEUE: usize = 64;
/// How long closing a connection may take: sending the close frame and
/// waiting for the client's reply.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// The reason of the close (1001) a shutdown sends every connection.
pub const GOING_AWAY: &str = "server restarting: reconnect and resume after your last position";

/// Tunables (`ServeArgs`).
#[derive(Debug, Clone, Copy)]
pub struct WsSettings {
    /// How often the server pings; a client silent for two of these is dropped.
    pub ping_every: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// graphql-transport-ws
    Transport,
    /// subscriptions-transport-ws (subprotocol "graphql-ws")
    Legacy,
}

impl Protocol {
    pub fn of(name: Option<&str>) -> Protocol {
        match name {
            Some("graphql-ws") => Protocol::Legacy,
            _ => Protocol::Transport,
        }
    }
}

/// A message from the client, in either protocol's words.
enum Incoming {
    Init(Value),
    Subscribe(String, Value),
    Complete(String),
    Ping(Value),
    Pong,
    Terminate,
}

/// What a subscription task hands the connection.
enum Out {
    Text(String),
    /// The subscription with this id and generation ended by itself; `complete`
    /// says whether to tell the client (not after an `error`, which ends it).
    Done(String, u64, bool),
}

/// How a connection ends: a close frame, or (legacy protocol) a
/// `connection_error` message first.
struct Closing(u16, String);

fn parse(protocol: Protocol, text: &str) -> Result<Incoming, Closing> {
    let bad = |why: String| Closing(4400, why);
    let message: Value =
        serde_json::from_str(text).map_err(|e| bad(format!("Invalid message received: {e}")))?;
    let kind = message
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Invalid message received: no type".into()))?;
    let id = || {
        message
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty() && id.len() <= 256)
            .map(str::to_string)
            .ok_or_else(|| bad(format!("Invalid message received: {kind} needs an id")))
    };
    let payload = || message.get("payload").cloned().unwrap_or(Value::Null);
    Ok(match (protocol, kind) {
        (_, "connection_init") => Incoming::Init(payload()),
        (Protocol::Transport, "subscribe") | (Protocol::Legacy, "start") => {
            Incoming::Subscribe(id()?, payload())
        }
        (Protocol::Transport, "complete") | (Protocol::Legacy, "stop") => Incoming::Complete(id()?),
        (Protocol::Transport, "ping") => Incoming::Ping(payload()),
        (Protocol::Transport, "pong") => Incoming::Pong,
        (Protocol::Legacy, "connection_terminate") => Incoming::Terminate,
        (_, other) => {
            return Err(bad(format!(
                "Invalid message received: unknown type {other:?}"
            )))
        }
    })
}

fn text(value: Value) -> String {
    value.to_string()
}

fn next_message(protocol: Protocol, id: &str, payload: Value) -> String {
    let kind = match protocol {
        Protocol::Transport => "next",
        Protocol::Legacy => "data",
    };
    text(json!({"type": kind, "id": id, "payload": payload}))
}

fn error_message(id: &str, errors: Value) -> String {
    text(json!({"type": "error", "id": id, "payload": errors}))
}

fn complete_message(id: &str) -> String {
    text(json!({"type": "complete", "id": id}))
}

/// The connection's caller once `connection_init` is accepted.
struct Session {
    actor: Actor,
    /// When the token stops being valid (no token: never).
    expires: Option<chrono::DateTime<chrono::Utc>>,
}

/// The bearer token in `connection_init`'s payload (`Authorization`, any case,
/// or inside `headers`, as GraphiQL sends it), else the upgrade request's.
fn token_of(payload: &Value, header: Option<&str>) -> Option<String> {
    let find = |v: &Value| {
        v.as_object().and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        })
    };
    find(payload)
        .or_else(|| payload.get("headers").and_then(find))
        .or_else(|| header.map(str::to_string))
}

async fn authenticate(
    state: &AppState,
    payload: &Value,
    header: Option<&str>,
) -> Result<Session, Closing> {
    let Some(value) = token_of(payload, header) else {
        return Ok(Session {
            actor: Actor::public(),
            expires: None,
        });
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(&value)
        .trim();
    match state.keys.verify_expiring(token).await {
        Ok((actor, expires)) => Ok(Session {
            actor,
            expires: Some(expires),
        }),
        Err(e) => Err(Closing(4403, format!("Forbidden: {e}"))),
    }
}

/// One client connection, until either side closes it.
pub async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: Protocol,
    peer: Option<SocketAddr>,
    header_token: Option<String>,
) {
    let _open = metrics::WsConnection::open();
    let _counted = state.shutdown.socket();
    let (mut sink, mut stream) = socket.split();
    let mut connection = Connection {
        state,
        protocol,
        peer,
        session: None,
        subscriptions: HashMap::new(),
        generation: 0,
        queue: mpsc::channel(QUEUE),
    };
    let closing = connection.run(&mut sink, &mut stream, header_token).await;
    for (_, (_, task)) in connection.subscriptions.drain() {
        task.abort();
        metrics::subscription_ended();
    }
    close(&mut sink, &mut stream, protocol, closing).await;
}

/// Ends the connection: the close the server chose, if any (legacy protocol:
/// a `connection_error` first), then the client's reply, all within
/// `CLOSE_WAIT`, so a client that stopped reading cannot hold a shutdown up.
async fn close(sink: &mut Sink, stream: &mut Source, protocol: Protocol, closing: Option<Closing>) {
    let handshake = async {
        if let Some(Closing(code, reason)) = closing {
            if protocol == Protocol::Legacy && code >= 4000 {
                let error = json!({"type": "connection_error", "payload": {"message": reason}});
                let _ = sink.send(Message::Text(error.to_string().into())).await;
            }
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from(truncate(&reason, 120)),
            };
            if sink.send(Message::Close(Some(frame))).await.is_ok() {
                // Dropped before the reply, the connection could be reset and
                // the close frame lost on the way.
                while let Some(Ok(message)) = stream.next().await {
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                }
            }
        }
        let _ = sink.close().await;
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, handshake).await;
}

/// How to answer a frame that could not be read: 1009 for one over the size
/// limit (the client may retry smaller), else nothing (the socket is broken).
fn closing_for(error: axum::Error) -> Option<Closing> {
    let too_big = error
        .into_inner()
        .downcast_ref::<tungstenite::Error>()
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)));
    too_big.then(|| {
        Closing(
            1009,
            format!(
                "messages are limited to {} bytes",
                crate::body_limit::MAX_BODY_BYTES
            ),
        )
    })
}

/// A close reason must fit a control frame (125 bytes).
fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

struct Connection {
    state: AppState,
    protocol: Protocol,
    peer: Option<SocketAddr>,
    session: Option<Session>,
    subscriptions: HashMap<String, (u64, tokio::task::AbortHandle)>,
    generation: u64,
    queue: (mpsc::Sender<Out>, mpsc::Receiver<Out>),
}

type Sink = async_graphql::futures_util::stream::SplitSink<WebSocket, Message>;
type Source = async_graphql::futures_util::stream::SplitStream<WebSocket>;

impl Connection {
    /// Runs the connection; returns the close to send, if the server closes it.
    async fn run(
        &mut self,
        sink: &mut Sink,
        stream: &mut Source,
        header_token: Option<String>,
    ) -> Option<Closing> {
        let settings = self.state.ws;
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(init_deadline);
        let mut ping = tokio::time::interval(settings.ping_every);
        ping.tick().await;
        let mut heard = Instant::now();
        let shutdown = self.state.shutdown.clone();
        let stopping = shutdown.stopping();
        tokio::pin!(stopping);
        loop {
            let expiry = self
                .session
                .as_ref()
                .and_then(|s| s.expires)
                .map(|at| (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO));
            let step = tokio::select! {
                message = stream.next() => {
                    if let Some(Ok(_)) = &message {
                        heard = Instant::now();
                    }
                    self.incoming(sink, message, header_token.as_deref()).await
                }
                out = self.queue.1.recv() => self.outgoing(sink, out).await,
                _ = &mut init_deadline, if self.session.is_none() => {
                    ControlFlow::Break(Some(Closing(4408, "Connection initialisation timeout".into())))
                }
                _ = ping.tick() => self.keep_alive(sink, heard, settings.ping_every).await,
                () = &mut stopping => ControlFlow::Break(Some(Closing(1001, GOING_AWAY.into()))),
                _ = tokio::time::sleep(expiry.unwrap_or(Duration::MAX)), if expiry.is_some() => {
                    ControlFlow::Break(Some(Closing(4403, "Forbidden: the token has expired".into())))
                }
            };
            if let ControlFlow::Break(closing) = step {
                return closing;
            }
        }
    }

    /// A frame from the client (or the end of its stream).
    async fn incoming(
        &mut self,
        sink: &mut Sink,
        message: Option<Result<Message, axum::Error>>,
        header_token: Option<&str>,
    ) -> ControlFlow<Option<Closing>> {
        let message = match message {
            Some(Ok(message)) => message,
            Some(Err(e)) => return ControlFlow::Break(closing_for(e)),
            None => return ControlFlow::Break(None),
        };
        let text = match message {
            Message::Text(t) => t,
            Message::Close(_) => return ControlFlow::Break(None),
            Message::Ping(_) | Message::Pong(_) => return ControlFlow::Continue(()),
            Message::Binary(_) => {
                return ControlFlow::Break(Some(Closing(
                    4400,
                    "Invalid message received: binary".into(),
                )))
            }
        };
        let incoming = match parse(self.protocol, text.as_str()) {
            Ok(m) => m,
            Err(closing) => return ControlFlow::Break(Some(closing)),
        };
        match self.handle(sink, incoming, header_token).await {
            Some(closing) => ControlFlow::Break(Some(closing)),
            None => ControlFlow::Continue(()),
        }
    }

    /// What an operation queued for the client.
    async fn outgoing(
        &mut self,
        sink: &mut Sink,
        out: Option<Out>,
    ) -> ControlFlow<Option<Closing>> {
        // The connection holds a sender itself, so the queue never closes.
        let Some(out) = out else {
            return ControlFlow::Break(None);
        };
        let text = match out {
            Out::Text(t) => t,
            Out::Done(id, generation, complete) => {
                if self
                    .subscriptions
                    .get(&id)
                    .is_some_and(|(g, _)| *g == generation)
                {
                    self.subscriptions.remove(&id);
                    metrics::subscription_ended();
                }
                if !complete {
                    return ControlFlow::Continue(());
                }
                complete_message(&id)
            }
        };
        if sink.send(Message::Text(text.into())).await.is_err() {
            return ControlFlow::Break(None);
        }
        ControlFlow::Continue(())
    }

    /// Pings the client, or drops it when it stopped answering.
    async fn keep_alive(
        &self,
        sink: &mut Sink,
        heard: Instant,
        ping_every: Duration,
    ) -> ControlFlow<Option<Closing>> {
        if heard.elapsed() > ping_every * 2 {
            tracing::info!(peer = ?self.peer, "dropping a WebSocket client that stopped answering pings");
            return ControlFlow::Break(Some(Closing(1011, "keep-alive timeout".into())));
        }
        let keepalive = match self.protocol {
            Protocol::Transport => Message::Ping(Default::default()),
            Protocol::Legacy if self.session.is_some() => Message::Text(r#"{"type":"ka"}"#.into()),
            Protocol::Legacy => Message::Ping(Default::default()),
        };
        if sink.send(keepalive).await.is_err() {
            return ControlFlow::Break(None);
        }
        ControlFlow::Continue(())
    }

    async fn handle(
        &mut self,
        sink: &mut Sink,
        incoming: Incoming,
        header_token: Option<&str>,
    ) -> Option<Closing> {
        let send = |text: String| Message::Text(text.into());
        match incoming {
            Incoming::Init(payload) => {
                if self.session.is_some() {
                    return Some(Closing(4429, "Too many initialisation requests".into()));
                }
                match authenticate(&self.state, &payload, header_token).await {
                    Ok(session) => self.session = Some(session),
                    Err(closing) => return Some(closing),
                }
                let mut acked = vec![r#"{"type":"connection_ack"}"#.to_string()];
                if self.protocol == Protocol::Legacy {
                    acked.push(r#"{"type":"ka"}"#.to_string());
                }
                for text in acked {
                    if sink.send(send(text)).await.is_err() {
                        return Some(Closing(1011, "send failed".into()));
                    }
                }
            }
            Incoming::Ping(payload) => {
                let pong = match payload {
                    Value::Null => json!({"type": "pong"}),
                    payload => json!({"type": "pong", "payload": payload}),
                };
                let _ = sink.send(send(pong.to_string())).await;
            }
            Incoming::Pong => {}
            Incoming::Terminate => return Some(Closing(1000, "terminated".into())),
            Incoming::Complete(id) => {
                if let Some((_, task)) = self.subscriptions.remove(&id) {
                    task.abort();
                    metrics::subscription_ended();
                    if self.protocol == Protocol::Legacy {
                        let _ = sink.send(send(complete_message(&id))).await;
                    }
                }
            }
            Incoming::Subscribe(id, payload) => return self.subscribe(sink, id, payload).await,
        }
        None
    }

    async fn subscribe(&mut self, sink: &mut Sink, id: String, payload: Value) -> Option<Closing> {
        let Some(session) = &self.session else {
            return Some(Closing(4401, "Unauthorized".into()));
        };
        if self.subscriptions.contains_key(&id) {
            return Some(Closing(4409, format!("Subscriber for {id} already exists")));
        }
        let refuse =
            |code: ClientCode, message: String| error_message(&id, code.errors(&message, None));
        if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            let text = refuse(
                ClientCode::TooManySubscriptions,
                format!("a connection may hold {MAX_SUBSCRIPTIONS} subscriptions at once"),
            );
            let _ = sink.send(Message::Text(text.into())).await;
            return None;
        }
        let request: async_graphql::Request = match serde_json::from_value(payload) {
            Ok(r) => r,
            Err(e) => {
                let text = refuse(
                    ClientCode::BadRequest,
                    format!("not a GraphQL request: {e}"),
                );
                let _ = sink.send(Message::Text(text.into())).await;
                return None;
            }
        };
        let auth = match session.actor.role {
            aduan_domain::Role::Public => RequestAuth(Err(AuthError::Missing)),
            _ => RequestAuth(Ok(session.actor.clone())),
        };
        let client = self
            .peer
            .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string());
        let request = request
            .data(auth)
            .data(ClientKey(client))
            .data(Correlation(uuid::Uuid::new_v4().to_string()));
        self.generation += 1;
        let generation = self.generation;
        let task = tokio::spawn(run_operation(
            self.state.schema.clone(),
            self.protocol,
            id.clone(),
            generation,
            request,
            self.queue.0.clone(),
        ));
        self.subscriptions
            .insert(id, (generation, task.abort_handle()));
        metrics::subscription_started();
        None
    }
}

/// Executes one operation (a subscription, or a query or mutation sent over the
/// socket) and queues its results for the connection.
async fn run_operation(
    schema: crate::graphql::AduanSchema,
    protocol: Protocol,
    id: String,
    generation: u64,
    request: async_graphql::Request,
    queue: mpsc::Sender<Out>,
) {
    let mut responses = schema.execute_stream(request);
    let mut first = true;
    while let Some(mut response) = responses.next().await {
        crate::graphql::limits::code_engine_errors(&mut response);
        // Refused before it produced anything (a bad document, a refused role, a
        // bad argument): the protocol's `error`, which ends the operation.
        if first && !response.errors.is_empty() && response.data == async_graphql::Value::Null {
            let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
            let _ = queue.send(Out::Text(error_message(&id, errors))).await;
            let _ = queue.send(Out::Done(id, generation, false)).await;
            return;
        }
        first = false;
        let payload = serde_json::to_value(&response).unwrap_or(Value::Null);
        if queue
            .send(Out::Text(next_message(protocol, &id, payload)))
            .await
            .is_err()
        {
            return;
        }
    }
    let _ = queue.send(Out::Done(id, generation, true)).await;
}
