//! `GET /graphql/ws`: GraphQL over a websocket, in the protocol the client
//! prefers of the two we speak (see `live::protocol`); the protocol named in
//! the handshake is the one spoken.
//!
//! One task per connection runs a small state machine: `connection_init`
//! within the configured time (else 4408), a good token (else 4403), then
//! operations. `notificationCreated` results come from the live fan-out,
//! already serialised; every other operation is executed by async-graphql
//! for this connection, as the user its token names now (the token is
//! checked again for each operation). The session closes with 4403 when its
//! token expires or is revoked (the revocation arrives as an event, from any
//! replica), with 1009 when a message is over the size limit, and with 1001
//! when the server shuts down; idle clients are pinged.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Response;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::stream::{self, BoxStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::Value;
use tokio_stream::StreamMap;

use super::HttpState;
use crate::auth::identity::{authenticate, bearer_token};
use crate::auth::{Auth, Identity, api_token};
use crate::graphql::context::ClientAddress;
use crate::live::fanout::{Outbox, Registration, Slot};
use crate::live::protocol::{ClientMessage, Operation, Protocol, close};
use crate::live::sessions::Session;
use crate::notify::failure::report_response_errors;
use crate::state::AppState;

/// How often the server pings an idle client.
pub const KEEPALIVE: Duration = Duration::from_secs(25);
/// How long one write may wait for the client: one that stopped reading
/// must not keep its connection, and its place under the per-user limit.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn upgrade(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> HttpResponse {
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(protocol) = Protocol::choose(offered) else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the websocket subprotocol graphql-transport-ws (or the legacy graphql-ws)",
        )
            .into_response();
    };
    // Logins over the socket are throttled per client, as over HTTP.
    let client = super::client_address(&s.app.config, peer, &headers);
    ws.protocols([protocol.name()])
        // Small buffers: a few KiB per idle subscriber instead of about
        // 143 KiB (see stack-notes). Client messages are small; a larger one
        // still fits, read in more steps. Writes are flushed per message,
        // except queued live results, which are written together up to 8 KiB.
        .read_buffer_size(1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(256 * 1024)
        .on_upgrade(move |socket| Connection::new(socket, s, protocol, client).run())
}

/// A token of a `connection_init` payload: `{"authorization": "Bearer …"}`
/// or `{"token": "…"}`.
fn token_of(payload: &Value) -> Option<String> {
    let field = |name: &str| {
        payload
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
    };
    field("authorization")
        .and_then(|h| bearer_token(&h).map(str::to_owned))
        .or_else(|| field("token"))
}

/// A running operation of the connection.
enum Running {
    /// Executed by async-graphql for this connection; it may still hand
    /// itself to the fan-out (its slot then holds the registration).
    Executing(Arc<Slot>),
    /// Receives its results from the fan-out.
    FannedOut(Registration),
}

/// Why the connection ends.
enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// The client went away.
    Gone,
}

type Results = BoxStream<'static, Option<Response>>;

struct Connection {
    socket: WebSocket,
    s: HttpState,
    protocol: Protocol,
    /// The client's address (a trusted proxy's client, else the peer).
    client: IpAddr,
    who: Option<Arc<Identity>>,
    /// The token of `connection_init`, checked again for every operation
    /// and whenever the user's credentials change.
    token: Option<String>,
    /// Open once initialised: counts against the per-user limit, and is
    /// told when the user's credentials change.
    session: Option<Session>,
    /// When the session token expires (API tokens do not).
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    running: HashMap<Arc<str>, Running>,
    /// Results of executing operations; `None` when one has ended.
    results: StreamMap<Arc<str>, Results>,
    outbox: Outbox,
}

impl Connection {
    fn new(socket: WebSocket, s: HttpState, protocol: Protocol, client: IpAddr) -> Self {
        Self {
            socket,
            s,
            protocol,
            client,
            who: None,
            token: None,
            session: None,
            expires_at: None,
            running: HashMap::new(),
            results: StreamMap::new(),
            outbox: Outbox::default(),
        }
    }

    async fn run(mut self) {
        let init_deadline = tokio::time::sleep(self.s.app.config.ws_init_timeout);
        tokio::pin!(init_deadline);
        let mut keepalive = tokio::time::interval(KEEPALIVE);
        keepalive.tick().await;
        let mut stopping = self.s.app.shutdown_signal();
        let shutdown = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        tokio::pin!(shutdown);
        let end = loop {
            let until_expiry = self
                .expires_at
                .map(|at| (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::MAX);
            // Deadlines first, so a chatty client cannot postpone them.
            let step = tokio::select! {
                biased;
                _ = &mut shutdown => Err(End::Close(close::GOING_AWAY, "server shutting down".into())),
                _ = &mut init_deadline, if self.who.is_none() => {
                    Err(End::Close(close::INIT_TIMEOUT, "Connection initialisation timeout".into()))
                }
                _ = tokio::time::sleep(until_expiry), if self.expires_at.is_some() => {
                    Err(End::Close(close::FORBIDDEN, "Forbidden: the session token expired".into()))
                }
                _ = recheck_requested(&self.session) => self.on_credentials_changed().await,
                message = self.socket.recv() => match message {
                    Some(Ok(Message::Text(text))) => self.on_message(text.as_str()).await,
                    Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                        Ok(text) => self.on_message(text).await,
                        Err(_) => Err(End::Close(close::BAD_REQUEST, "messages are UTF-8 JSON".into())),
                    },
                    // Pings are answered by the websocket layer.
                    Some(Ok(_)) => Ok(()),
                    Some(Err(e)) if is_too_big(&e) => {
                        Err(End::Close(close::TOO_BIG, "the message is over the size limit".into()))
                    }
                    Some(Err(_)) | None => Err(End::Gone),
                },
                _ = self.outbox.ready() => self.on_fanned_out().await,
                Some((id, result)) = self.results.next(), if !self.results.is_empty() => self.on_result(id, result).await,
                _ = keepalive.tick() => match self.write(Message::Ping(Vec::new().into())).await {
                    Ok(()) => self.flush().await,
                    Err(end) => Err(end),
                },
            };
            if let Err(end) = step {
                break end;
            }
        };
        if let End::Close(code, reason) = end {
            let frame = CloseFrame {
                code,
                reason: close::reason(&reason).to_owned().into(),
            };
            let _ = tokio::time::timeout(WRITE_TIMEOUT, self.socket.send(Message::Close(Some(frame)))).await;
        }
    }

    /// Queues a message for the client (written when the buffer fills or
    /// on [`Connection::flush`]).
    async fn write(&mut self, message: Message) -> Result<(), End> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.socket.feed(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(End::Gone),
        }
    }

    async fn flush(&mut self) -> Result<(), End> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.socket.flush()).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(End::Gone),
        }
    }

    async fn send(&mut self, text: String) -> Result<(), End> {
        self.write(Message::Text(text.into())).await?;
        self.flush().await
    }

    async fn on_message(&mut self, text: &str) -> Result<(), End> {
        let message = self
            .protocol
            .parse(text)
            .map_err(|reason| End::Close(close::BAD_REQUEST, reason))?;
        match message {
            ClientMessage::Init { payload } => self.on_init(payload).await,
            ClientMessage::Subscribe { id, operation } => self.on_subscribe(id, operation).await,
            ClientMessage::Complete { id } => {
                if self.running.remove(id.as_str()).is_some() {
                    self.results.remove(id.as_str());
                    return self.send(self.protocol.complete(&id)).await;
                }
                Ok(())
            }
            ClientMessage::Ping { payload } => self.send(self.protocol.pong(payload)).await,
            ClientMessage::Pong => Ok(()),
            ClientMessage::Terminate => Err(End::Close(1000, "terminated".into())),
        }
    }

    async fn on_init(&mut self, payload: Value) -> Result<(), End> {
        if self.who.is_some() {
            return Err(End::Close(close::TOO_MANY, "Too many initialisation requests".into()));
        }
        let app = &self.s.app;
        let token = token_of(&payload);
        let auth = authenticate(&app.db, &app.jwt, token.as_deref())
            .await
            .unwrap_or(Auth::Rejected);
        let Auth::User(identity) = auth else {
            return self.refuse(close::FORBIDDEN, "Forbidden").await;
        };
        let Some(session) = app
            .sessions
            .open(identity.user_id(), app.config.ws_max_connections_per_user)
        else {
            return self.refuse(close::TOO_MANY, "Too many connections").await;
        };
        if let Some(token) = token.as_deref().filter(|t| !api_token::looks_like_api_token(t))
            && let Some(claims) = app.jwt.verify(token)
        {
            self.expires_at = chrono::DateTime::from_timestamp(claims.exp, 0);
        }
        self.session = Some(session);
        self.token = token;
        self.who = Some(Arc::new(identity));
        self.send(self.protocol.ack()).await
    }

    /// The user the connection's token names now (a future that does not
    /// borrow the connection).
    fn current_identity(&self) -> impl Future<Output = Result<Arc<Identity>, End>> + Send + use<> {
        let expected = self.session.as_ref().map(Session::user_id);
        identity_now(self.s.app.clone(), self.token.clone(), expected)
    }

    async fn on_credentials_changed(&mut self) -> Result<(), End> {
        self.who = Some(self.current_identity().await?);
        Ok(())
    }

    /// Refuses `connection_init`; the legacy protocol first says why.
    async fn refuse(&mut self, code: u16, reason: &str) -> Result<(), End> {
        if self.protocol == Protocol::Legacy {
            self.send(self.protocol.connection_error(reason)).await?;
        }
        Err(End::Close(code, reason.into()))
    }

    async fn on_subscribe(&mut self, id: String, operation: Operation) -> Result<(), End> {
        if self.who.is_none() {
            return Err(End::Close(close::UNAUTHORIZED, "Unauthorized".into()));
        }
        if self.running.contains_key(id.as_str()) {
            return Err(End::Close(
                close::SUBSCRIBER_EXISTS,
                format!("Subscriber for {id} already exists"),
            ));
        }
        let cap = self.s.app.config.ws_max_subscriptions;
        if self.running.len() >= cap {
            let refusal = self
                .protocol
                .error_message(&id, &format!("at most {cap} subscriptions per connection"));
            return self.send(refusal).await;
        }
        let who = self.current_identity().await?;
        self.who = Some(who.clone());
        let id: Arc<str> = id.into();
        let request = operation
            .request()
            .data(Auth::User((*who).clone()))
            .data(ClientAddress(self.client));
        let slot = Arc::new(Slot::new(id.clone(), operation, who, self.outbox.clone()));
        let request = request.data(slot.clone());
        let results: Results = self
            .s
            .schema
            .execute_stream(request)
            .map(Some)
            .chain(stream::once(async { None }.boxed()))
            .boxed();
        self.results.insert(id.clone(), results);
        self.running.insert(id, Running::Executing(slot));
        Ok(())
    }

    async fn on_result(&mut self, id: Arc<str>, result: Option<Response>) -> Result<(), End> {
        let Some(response) = result else {
            // Ended: handed to the fan-out, or finished.
            let Some(Running::Executing(slot)) = self.running.remove(&id) else {
                return Ok(());
            };
            if let Some(registration) = slot.take_registration() {
                self.running.insert(id, Running::FannedOut(registration));
                return Ok(());
            }
            return self.send(self.protocol.complete(&id)).await;
        };
        let user_id = self.who.as_ref().map(|who| who.user_id());
        report_response_errors(&self.s.app, &response.errors, user_id);
        if response.data == async_graphql::Value::Null && !response.errors.is_empty() {
            // Refused before producing anything (invalid, forbidden…): an
            // error, which ends the operation.
            self.results.remove(&id);
            self.running.remove(&id);
            let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
            return self.send(self.protocol.error(&id, errors)).await;
        }
        let payload = serde_json::to_string(&response).unwrap_or_else(|_| "null".to_owned());
        self.send(self.protocol.next(&id, &payload)).await
    }

    /// Sends what the fan-out queued. Subscriptions whose results the
    /// client did not read fast enough then end with an error telling it to
    /// reload and subscribe again: after their queued results, so the notice
    /// is the last thing they receive.
    async fn on_fanned_out(&mut self) -> Result<(), End> {
        let delivery = self.outbox.take();
        // Everything queued goes out in as few writes as the buffer allows:
        // a connection that got behind catches up with one system call
        // instead of one per result. A result whose subscription has ended
        // since (or whose id now names another one) is dropped.
        for frame in delivery.frames {
            if self.fanned_out_key(&frame.id) != Some(frame.key) {
                continue;
            }
            let text = self.protocol.next(&frame.id, &frame.payload);
            self.write(Message::Text(text.into())).await?;
        }
        for (key, id) in delivery.fell_behind {
            if self.fanned_out_key(&id) == Some(key) {
                self.running.remove(&id);
                self.results.remove(&id);
                let notice = self.protocol.error_message(
                    &id,
                    "fell behind: results were not read in time; reload and subscribe again",
                );
                self.write(Message::Text(notice.into())).await?;
            }
        }
        self.flush().await
    }

    /// The fan-out's key of the subscription running as `id`, if it went
    /// to the fan-out.
    fn fanned_out_key(&self, id: &str) -> Option<u64> {
        match self.running.get(id)? {
            Running::FannedOut(registration) => Some(registration.key()),
            Running::Executing(slot) => slot.registered_key(),
        }
    }
}

/// The user `token` names now; a token revoked (or a user gone) since
/// `connection_init` ends the connection with 4403. Owned arguments: the
/// connection's future must stay `Send`.
async fn identity_now(app: AppState, token: Option<String>, expected: Option<i64>) -> Result<Arc<Identity>, End> {
    match authenticate(&app.db, &app.jwt, token.as_deref()).await {
        Ok(Auth::User(identity)) if Some(identity.user_id()) == expected => Ok(Arc::new(identity)),
        Ok(_) => Err(End::Close(
            close::FORBIDDEN,
            "Forbidden: the token is no longer valid".into(),
        )),
        // Failing closed: the client reconnects, and is checked afresh.
        Err(e) => {
            tracing::error!(error = %e, "checking a websocket's token again failed");
            Err(End::Close(close::INTERNAL_ERROR, "Internal error; reconnect".into()))
        }
    }
}

/// Resolves when the session is asked to check its credential again;
/// never before `connection_init`.
async fn recheck_requested(session: &Option<Session>) {
    match session {
        Some(session) => session.recheck_requested().await,
        None => std::future::pending().await,
    }
}

/// Whether a read failed because the message is over the size limit.
fn is_too_big(error: &axum::Error) -> bool {
    let source: &(dyn std::error::Error + 'static) = error;
    std::iter::successors(Some(source), |e| e.source()).any(|e| {
        matches!(
            e.downcast_ref::<tungstenite::Error>(),
            Some(tungstenite::Error::Capacity(_))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_token_both_ways() {
        let bearer = serde_json::json!({ "Authorization": "Bearer abc" });
        assert_eq!(token_of(&bearer).as_deref(), Some("abc"));
        let plain = serde_json::json!({ "token": "xyz" });
        assert_eq!(token_of(&plain).as_deref(), Some("xyz"));
        assert_eq!(token_of(&serde_json::json!({})), None);
        assert_eq!(token_of(&serde_json::json!("nope")), None);
    }

    proptest::proptest! {
        #[test]
        fn reading_any_init_payload_never_panics(raw in proptest::prelude::any::<String>()) {
            if let Ok(value) = serde_json::from_str::<Value>(&raw) {
                let _ = token_of(&value);
            }
        }
    }
}
