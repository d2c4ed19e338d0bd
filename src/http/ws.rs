//! `GET /graphql/ws`: GraphQL subscriptions over a websocket, in the protocol
//! the client prefers of the two we speak (`graphql-transport-ws`, and the
//! legacy `graphql-ws` of subscriptions-transport-ws). The protocol named in
//! the handshake is the one spoken.
//!
//! async-graphql's protocol state machine runs the subscriptions; around it
//! this handler adds what it lacks: the 10 s limit for `connection_init`
//! (4408), 4403 for a bad token and when a session token expires, keepalive
//! pings, and 1001 when the server shuts down.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{WebSocket as GraphQLWebSocket, WebSocketProtocols as Protocols, WsMessage};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};
use tokio::sync::{Mutex, mpsc};

use super::HttpState;
use crate::auth::identity::{authenticate, bearer_token};
use crate::auth::{Auth, api_token};

/// How often the server pings an idle client.
pub const KEEPALIVE: Duration = Duration::from_secs(25);

/// The first protocol in the client's list that we speak.
pub fn choose_protocol(offered: &str) -> Option<Protocols> {
    offered.split(',').map(str::trim).find_map(|p| match p {
        "graphql-transport-ws" => Some(Protocols::GraphQLWS),
        "graphql-ws" => Some(Protocols::SubscriptionsTransportWS),
        _ => None,
    })
}

pub(super) async fn upgrade(State(s): State<HttpState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(protocol) = choose_protocol(offered) else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the websocket subprotocol graphql-transport-ws (or the legacy graphql-ws)",
        )
            .into_response();
    };
    ws.protocols([protocol.sec_websocket_protocol()])
        // A small read buffer and no write buffer: about 15 KiB per idle
        // subscriber instead of about 143 KiB (see stack-notes).
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(256 * 1024)
        .on_upgrade(move |socket| serve(socket, s, protocol))
}

/// What `connection_init` established.
#[derive(Default)]
struct Session {
    refused: AtomicBool,
    /// Refused because the user holds too many connections already.
    over_limit: AtomicBool,
    /// The user counted against the per-user connection limit.
    counted_user: Mutex<Option<i64>>,
    /// When the session token expires (API tokens do not).
    expires_at: Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

/// The `type` and `id` of a protocol message.
fn kind_and_id(bytes: &[u8]) -> Option<(String, Option<String>)> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let kind = value.get("type")?.as_str()?.to_owned();
    let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
    Some((kind, id))
}

/// The error a protocol sends for one refused subscription.
fn subscription_error(protocol: Protocols, id: &str, message: &str) -> String {
    let payload = match protocol {
        Protocols::GraphQLWS => serde_json::json!([{ "message": message }]),
        Protocols::SubscriptionsTransportWS => serde_json::json!({ "message": message }),
    };
    serde_json::json!({ "id": id, "type": "error", "payload": payload }).to_string()
}

/// The token of a `connection_init` payload: `{"authorization": "Bearer …"}`
/// or `{"token": "…"}`.
fn token_of(payload: &serde_json::Value) -> Option<String> {
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

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_owned().into(),
    }))
}

async fn serve(socket: WebSocket, s: HttpState, protocol: Protocols) {
    let (mut sink, stream) = socket.split();
    // Subscriptions running on this socket, capped; a subscribe over the cap
    // is answered with an error for its id instead of being run.
    let active: Arc<std::sync::Mutex<HashSet<String>>> = Arc::default();
    let (refuse, mut refused_ids) = mpsc::channel::<String>(16);
    let cap = s.app.config.ws_max_subscriptions;
    let input = {
        let active = active.clone();
        stream.take_while(|m| future::ready(m.is_ok())).filter_map(move |m| {
            let bytes = match m {
                Ok(Message::Text(text)) => text.as_bytes().to_vec(),
                Ok(Message::Binary(bytes)) => bytes.to_vec(),
                _ => return future::ready(None),
            };
            if let Some((kind, Some(id))) = kind_and_id(&bytes) {
                let mut running = active.lock().expect("subscriptions lock");
                match kind.as_str() {
                    "subscribe" | "start" if !running.contains(&id) && running.len() >= cap => {
                        let _ = refuse.try_send(id);
                        return future::ready(None);
                    }
                    "subscribe" | "start" => {
                        running.insert(id);
                    }
                    "complete" | "stop" => {
                        running.remove(&id);
                    }
                    _ => {}
                }
            }
            future::ready(Some(bytes))
        })
    };
    let session = Arc::new(Session::default());
    let on_init = {
        let (app, session) = (s.app.clone(), session.clone());
        move |payload: serde_json::Value| async move {
            let token = token_of(&payload);
            let auth = authenticate(&app.db, &app.jwt, token.as_deref())
                .await
                .unwrap_or(Auth::Rejected);
            match auth {
                Auth::User(identity) => {
                    if !app.ws_connection_opened(identity.user_id()) {
                        session.over_limit.store(true, Ordering::Relaxed);
                        return Err(async_graphql::Error::new("Too many connections"));
                    }
                    *session.counted_user.lock().await = Some(identity.user_id());
                    if let Some(token) = token.filter(|t| !api_token::looks_like_api_token(t))
                        && let Some(claims) = app.jwt.verify(&token)
                    {
                        *session.expires_at.lock().await = chrono::DateTime::from_timestamp(claims.exp, 0);
                    }
                    let mut data = Data::default();
                    data.insert(Auth::User(identity));
                    Ok(data)
                }
                _ => {
                    session.refused.store(true, Ordering::Relaxed);
                    Err(async_graphql::Error::new("Forbidden"))
                }
            }
        }
    };
    let mut messages = GraphQLWebSocket::new(s.schema.clone(), input, protocol).on_connection_init(on_init);
    let mut acknowledged = false;
    let init_deadline = tokio::time::sleep(s.app.config.ws_init_timeout);
    tokio::pin!(init_deadline);
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.tick().await;
    let mut stopping = s.app.shutdown_signal();
    let shutdown = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    tokio::pin!(shutdown);
    loop {
        let expiry = *session.expires_at.lock().await;
        let until_expiry = expiry
            .map(|at| (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::MAX);
        let outgoing = tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => {
                    match kind_and_id(text.as_bytes()) {
                        Some((kind, _)) if kind == "connection_ack" => acknowledged = true,
                        Some((kind, Some(id))) if kind == "complete" => {
                            active.lock().expect("subscriptions lock").remove(&id);
                        }
                        _ => {}
                    }
                    Message::Text(text.into())
                }
                Some(WsMessage::Close(code, reason)) => {
                    // async-graphql closes a refused init with 1002; the
                    // protocol says 4403 Forbidden (4429 when over the limit).
                    let code = if session.over_limit.load(Ordering::Relaxed) {
                        4429
                    } else if session.refused.load(Ordering::Relaxed) {
                        4403
                    } else {
                        code
                    };
                    let _ = sink.send(close(code, &reason)).await;
                    break;
                }
                None => break,
            },
            _ = &mut init_deadline, if !acknowledged => {
                let _ = sink.send(close(4408, "Connection initialisation timeout")).await;
                break;
            }
            _ = tokio::time::sleep(until_expiry), if acknowledged && expiry.is_some() => {
                let _ = sink.send(close(4403, "Forbidden: the session token expired")).await;
                break;
            }
            Some(id) = refused_ids.recv() => {
                Message::Text(subscription_error(protocol, &id, &format!("at most {cap} subscriptions per connection")).into())
            }
            _ = keepalive.tick() => Message::Ping(Vec::new().into()),
            _ = &mut shutdown => {
                let _ = sink.send(close(1001, "server shutting down")).await;
                break;
            }
        };
        if sink.send(outgoing).await.is_err() {
            break;
        }
        // A refused legacy client got its connection_error; end here.
        if (session.refused.load(Ordering::Relaxed) || session.over_limit.load(Ordering::Relaxed))
            && protocol == Protocols::SubscriptionsTransportWS
        {
            let _ = sink.send(close(4403, "Forbidden")).await;
            break;
        }
    }
    if let Some(user_id) = *session.counted_user.lock().await {
        s.app.ws_connection_closed(user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_clients_first_supported_protocol() {
        assert_eq!(
            choose_protocol("graphql-ws, graphql-transport-ws"),
            Some(Protocols::SubscriptionsTransportWS)
        );
        assert_eq!(
            choose_protocol("graphql-transport-ws,graphql-ws"),
            Some(Protocols::GraphQLWS)
        );
        assert_eq!(
            choose_protocol("mqtt, graphql-transport-ws"),
            Some(Protocols::GraphQLWS)
        );
        assert_eq!(choose_protocol("mqtt"), None);
        assert_eq!(choose_protocol(""), None);
    }

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
        // Whatever a client sends, reading it never panics, and what is read
        // is consistent with the input.
        #[test]
        fn reading_client_input_never_panics(raw in proptest::prelude::any::<String>(), bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let chosen = choose_protocol(&raw);
            if let Some(p) = chosen {
                proptest::prop_assert!(raw.contains(p.sec_websocket_protocol()));
            }
            let _ = kind_and_id(raw.as_bytes());
            let _ = kind_and_id(&bytes);
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&raw) {
                let _ = token_of(&value);
            }
        }

        #[test]
        fn message_kinds_and_ids_are_read_back(kind in "[a-z_]{1,20}", id in "[ -~]{0,30}") {
            let message = serde_json::json!({ "type": kind, "id": id }).to_string();
            proptest::prop_assert_eq!(kind_and_id(message.as_bytes()), Some((kind, Some(id))));
        }
    }
}
