//! A websocket GraphQL client speaking graphql-transport-ws or the legacy
//! graphql-ws protocol, over tokio-tungstenite.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const TRANSPORT_WS: &str = "graphql-transport-ws";
pub const LEGACY_WS: &str = "graphql-ws";

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The protocol the server named in the handshake.
    pub protocol: String,
}

/// What the server sent next.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    Json(Value),
    Closed(Option<u16>),
}

/// Opens `/graphql/ws` offering `protocols` in that order.
pub async fn connect(base: &str, protocols: &[&str]) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
    let url = format!("{}/graphql/ws", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request()?;
    if !protocols.is_empty() {
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(&protocols.join(", ")).unwrap(),
        );
    }
    let (socket, response) = tokio_tungstenite::connect_async(request).await?;
    let protocol = response
        .headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Ok(WsClient { socket, protocol })
}

impl WsClient {
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    /// The next JSON message or close, skipping keepalives; `None` on timeout.
    pub async fn next(&mut self, timeout: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next()).await.ok()?;
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if value["type"] == "ka" {
                        continue;
                    }
                    return Some(Received::Json(value));
                }
                Some(Ok(Message::Close(frame))) => return Some(Received::Closed(frame.map(|f| u16::from(f.code)))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Some(Received::Closed(None)),
            }
        }
    }

    pub async fn next_json(&mut self, timeout: Duration) -> Value {
        match self.next(timeout).await {
            Some(Received::Json(v)) => v,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Sends `connection_init` with `payload` and returns the answer.
    pub async fn init(&mut self, payload: Value) -> Option<Received> {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        self.next(Duration::from_secs(5)).await
    }

    /// Connects as the holder of `token` and waits for the acknowledgement.
    pub async fn authenticated(base: &str, protocol: &str, token: &str) -> WsClient {
        let mut client = connect(base, &[protocol]).await.expect("websocket opens");
        let ack = client.init(json!({ "authorization": format!("Bearer {token}") })).await;
        assert_eq!(ack, Some(Received::Json(json!({ "type": "connection_ack" }))));
        client
    }

    /// Starts a subscription with the message type of the protocol in use.
    pub async fn subscribe(&mut self, id: &str, query: &str) {
        let kind = if self.protocol == LEGACY_WS {
            "start"
        } else {
            "subscribe"
        };
        self.send(json!({ "id": id, "type": kind, "payload": { "query": query } }))
            .await;
    }

    /// The data of the next result for subscription `id`.
    pub async fn next_data(&mut self, id: &str, timeout: Duration) -> Value {
        let message = self.next_json(timeout).await;
        let expected = if self.protocol == LEGACY_WS { "data" } else { "next" };
        assert_eq!(message["type"], expected, "{message}");
        assert_eq!(message["id"], id, "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        message["payload"]["data"].clone()
    }

    /// Asserts nothing arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(message) = self.next(wait).await {
            panic!("expected nothing, got {message:?}");
        }
    }
}
