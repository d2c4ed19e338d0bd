//! What goes wrong on a websocket is handled as over HTTP: an internal error
//! becomes an EXCEPTION notification naming the user, and a message over
//! the size limit closes the socket with 1009 and a reason.

mod common;

use std::time::Duration;

use common::ws::{Received, TRANSPORT_WS, WsClient};
use common::{Engine, TestApp};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

async fn an_internal_error_over_the_websocket_is_reported(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mut client = WsClient::authenticated(&app.base, TRANSPORT_WS, &app.admin_token).await;
    client
        .subscribe(
            "1",
            "mutation { injectFault(kind: REQUEST, message: \"socket on fire\") }",
        )
        .await;
    let answer = client.next_json(WAIT).await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(
        answer["payload"][0]["message"], "internal server error",
        "no details for the client"
    );

    let list = "{ notifications(filter: { type: EXCEPTION }) { edges { node { name message user { username } } } } }";
    let mut seen = json!(null);
    for _ in 0..100 {
        seen = app.ok(&app.admin_token, list, json!({})).await["notifications"]["edges"].clone();
        if seen.as_array().is_some_and(|e| !e.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen,
        json!([{ "node": {
            "name": "Exception \"InjectedFault\" has occurred",
            "message": "socket on fire",
            "user": { "username": "admin" },
        } }]),
        "stored like the same error over HTTP"
    );
}

async fn an_oversize_message_closes_with_1009(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mut client = WsClient::authenticated(&app.base, TRANSPORT_WS, &app.admin_token).await;
    let huge = format!("{{ me {{ id }} }} # {}", "x".repeat(300 * 1024));
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": huge } }))
        .await;
    assert_eq!(client.next(WAIT).await, Some(Received::Closed(Some(1009))));
}

on_both_engines!(
    an_internal_error_over_the_websocket_is_reported,
    an_oversize_message_closes_with_1009,
);
