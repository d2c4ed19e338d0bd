//! The two websocket protocols GraphQL subscriptions are spoken in, as
//! messages: `graphql-transport-ws` (the `graphql-ws` npm client, Apollo,
//! urql) and the legacy `graphql-ws` of subscriptions-transport-ws. Pure:
//! reading what a client sends and writing what the server answers.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`.
    TransportWs,
    /// The legacy `graphql-ws` (subscriptions-transport-ws).
    Legacy,
}

/// Close codes, as graphql-transport-ws defines them.
pub mod close {
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    /// A second `connection_init`, or more connections than a user may hold.
    pub const TOO_MANY: u16 = 4429;
    pub const GOING_AWAY: u16 = 1001;
    /// RFC 6455: a message over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// RFC 6455: the server could not go on (the client may reconnect).
    pub const INTERNAL_ERROR: u16 = 1011;

    /// `reason` cut to the 123 bytes a close frame may carry, on a
    /// character boundary (a longer one makes clients fail the connection
    /// instead of reading the code).
    pub fn reason(reason: &str) -> &str {
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        &reason[..end]
    }
}

/// A subscribe (or legacy start) payload: one GraphQL operation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Operation {
    pub query: String,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
}

impl Operation {
    /// The operation as async-graphql executes it.
    pub fn request(&self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query.clone());
        if let Some(variables) = &self.variables {
            request = request.variables(async_graphql::Variables::from_json(variables.clone()));
        }
        if let Some(name) = &self.operation_name {
            request = request.operation_name(name.clone());
        }
        request
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Init { payload: Value },
    Subscribe { id: String, operation: Operation },
    Complete { id: String },
    Ping { payload: Option<Value> },
    Pong,
    Terminate,
}

/// Both protocols' client messages; which are allowed depends on the protocol.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Raw {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Subscribe {
        id: String,
        payload: Operation,
    },
    Start {
        id: String,
        payload: Operation,
    },
    Complete {
        id: String,
    },
    Stop {
        id: String,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Value>,
    },
    ConnectionTerminate,
}

impl Protocol {
    /// The first protocol in the client's list that we speak.
    pub fn choose(offered: &str) -> Option<Self> {
        offered.split(',').map(str::trim).find_map(|p| match p {
            "graphql-transport-ws" => Some(Protocol::TransportWs),
            "graphql-ws" => Some(Protocol::Legacy),
            _ => None,
        })
    }

    /// The name the handshake answers with.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }

    /// Reads one client message; the error says what is wrong with it.
    pub fn parse(self, text: &str) -> Result<ClientMessage, String> {
        let raw: Raw = serde_json::from_str(text).map_err(|e| format!("invalid message: {e}"))?;
        let message = match (self, raw) {
            (_, Raw::ConnectionInit { payload }) => ClientMessage::Init {
                payload: payload.unwrap_or(Value::Null),
            },
            (Protocol::TransportWs, Raw::Subscribe { id, payload })
            | (Protocol::Legacy, Raw::Start { id, payload }) => ClientMessage::Subscribe { id, operation: payload },
            (Protocol::TransportWs, Raw::Complete { id }) | (Protocol::Legacy, Raw::Stop { id }) => {
                ClientMessage::Complete { id }
            }
            (Protocol::TransportWs, Raw::Ping { payload }) => ClientMessage::Ping { payload },
            (Protocol::TransportWs, Raw::Pong { .. }) => ClientMessage::Pong,
            (Protocol::Legacy, Raw::ConnectionTerminate) => ClientMessage::Terminate,
            _ => return Err(format!("this message is not part of {}", self.name())),
        };
        Ok(message)
    }

    pub fn ack(self) -> String {
        r#"{"type":"connection_ack"}"#.to_owned()
    }

    /// A result of subscription `id`; `payload` is the serialised response.
    pub fn next(self, id: &str, payload: &str) -> String {
        let kind = match self {
            Protocol::TransportWs => "next",
            Protocol::Legacy => "data",
        };
        let id = Value::from(id);
        let mut frame = String::with_capacity(payload.len() + 40);
        frame.push_str(r#"{"id":"#);
        frame.push_str(&id.to_string());
        frame.push_str(r#","type":""#);
        frame.push_str(kind);
        frame.push_str(r#"","payload":"#);
        frame.push_str(payload);
        frame.push('}');
        frame
    }

    /// Subscription `id` failed before producing a result; `errors` is a
    /// non-empty list of GraphQL errors. It ends the subscription.
    pub fn error(self, id: &str, errors: Value) -> String {
        let payload = match (self, errors) {
            (Protocol::TransportWs, errors) => errors,
            // subscriptions-transport-ws carries one error object.
            (Protocol::Legacy, Value::Array(mut errors)) if !errors.is_empty() => errors.swap_remove(0),
            (Protocol::Legacy, error) => error,
        };
        serde_json::json!({ "id": id, "type": "error", "payload": payload }).to_string()
    }

    /// One error message as a GraphQL error list.
    pub fn error_message(self, id: &str, message: &str) -> String {
        self.error(id, serde_json::json!([{ "message": message }]))
    }

    pub fn complete(self, id: &str) -> String {
        serde_json::json!({ "id": id, "type": "complete" }).to_string()
    }

    pub fn pong(self, payload: Option<Value>) -> String {
        match payload {
            Some(payload) => serde_json::json!({ "type": "pong", "payload": payload }).to_string(),
            None => r#"{"type":"pong"}"#.to_owned(),
        }
    }

    /// The legacy protocol's refusal of `connection_init`.
    pub fn connection_error(self, message: &str) -> String {
        serde_json::json!({ "type": "connection_error", "payload": { "message": message } }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn takes_the_clients_first_supported_protocol() {
        assert_eq!(
            Protocol::choose("graphql-ws, graphql-transport-ws"),
            Some(Protocol::Legacy)
        );
        assert_eq!(
            Protocol::choose("graphql-transport-ws,graphql-ws"),
            Some(Protocol::TransportWs)
        );
        assert_eq!(
            Protocol::choose("mqtt, graphql-transport-ws"),
            Some(Protocol::TransportWs)
        );
        assert_eq!(Protocol::choose("mqtt"), None);
        assert_eq!(Protocol::choose(""), None);
    }

    #[test]
    fn reads_each_protocols_own_messages_only() {
        let subscribe = r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { a }","variables":{"x":1},"operationName":"S"}}"#;
        let expected = ClientMessage::Subscribe {
            id: "1".into(),
            operation: Operation {
                query: "subscription { a }".into(),
                variables: Some(json!({"x": 1})),
                operation_name: Some("S".into()),
            },
        };
        assert_eq!(Protocol::TransportWs.parse(subscribe), Ok(expected.clone()));
        assert!(Protocol::Legacy.parse(subscribe).is_err());
        let start = subscribe.replace("subscribe", "start");
        assert_eq!(Protocol::Legacy.parse(&start), Ok(expected));
        assert!(Protocol::TransportWs.parse(&start).is_err());
        assert_eq!(
            Protocol::Legacy.parse(r#"{"type":"stop","id":"7"}"#),
            Ok(ClientMessage::Complete { id: "7".into() })
        );
        assert_eq!(
            Protocol::TransportWs.parse(r#"{"type":"connection_init"}"#),
            Ok(ClientMessage::Init { payload: Value::Null })
        );
        assert_eq!(
            Protocol::Legacy.parse(r#"{"type":"connection_terminate"}"#),
            Ok(ClientMessage::Terminate)
        );
        assert!(Protocol::TransportWs.parse(r#"{"type":"subscribe","id":"1"}"#).is_err());
        assert!(Protocol::TransportWs.parse("not json").is_err());
    }

    #[test]
    fn results_carry_the_subscription_id_escaped() {
        let frame = Protocol::TransportWs.next("a\"b", r#"{"data":{"x":1}}"#);
        let value: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            value,
            json!({ "id": "a\"b", "type": "next", "payload": { "data": { "x": 1 } } })
        );
        let legacy: Value = serde_json::from_str(&Protocol::Legacy.next("1", "{}")).unwrap();
        assert_eq!(legacy["type"], "data");
    }

    #[test]
    fn errors_are_a_list_or_one_object() {
        let errors = json!([{ "message": "no" }]);
        let modern: Value = serde_json::from_str(&Protocol::TransportWs.error("1", errors.clone())).unwrap();
        assert_eq!(modern["payload"], errors);
        let legacy: Value = serde_json::from_str(&Protocol::Legacy.error("1", errors)).unwrap();
        assert_eq!(legacy["payload"], json!({ "message": "no" }));
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        assert_eq!(close::reason("short"), "short");
        let long = "é".repeat(100);
        let cut = close::reason(&long);
        assert!(cut.len() <= 123 && long.starts_with(cut) && cut.len() >= 121);
    }

    proptest::proptest! {
        // Whatever a client sends, reading it never panics, and a frame
        // written for any id is valid JSON carrying that id.
        #[test]
        fn reading_client_input_never_panics(raw in proptest::prelude::any::<String>()) {
            if let Some(p) = Protocol::choose(&raw) {
                proptest::prop_assert!(raw.contains(p.name()));
            }
            let _ = Protocol::TransportWs.parse(&raw);
            let _ = Protocol::Legacy.parse(&raw);
            let frame: Value = serde_json::from_str(&Protocol::TransportWs.next(&raw, "null")).unwrap();
            proptest::prop_assert_eq!(frame["id"].as_str(), Some(raw.as_str()));
        }
    }
}
