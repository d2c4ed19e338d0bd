//! Live subscriptions over a real websocket client, both protocols, on both
//! engines.

mod common;

use std::time::Duration;

use common::ws::{LEGACY_WS, Received, TRANSPORT_WS, WsClient, connect};
use common::{Engine, JWT_SECRET, TestApp};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(700);
const CREATED: &str = "subscription { notificationCreated { id type name product { name } viewed } }";

async fn members_receive_gate_changes_and_others_do_not(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "live" })).await;
    let (reader_id, reader) = app.user("reader").await;
    app.set_member(&product, &reader_id, "READER").await;
    let (_, outsider) = app.user("outsider").await;

    let mut member = WsClient::authenticated(&app.base, TRANSPORT_WS, &reader).await;
    member.subscribe("1", CREATED).await;
    let mut stranger = WsClient::authenticated(&app.base, TRANSPORT_WS, &outsider).await;
    stranger.subscribe("1", CREATED).await;
    let mut boss = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    boss.subscribe("a", CREATED).await;
    // Subscriptions start asynchronously; give them a moment to attach.
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.import(&admin, &product, &[("x", "CRITICAL")]).await;
    let data = member.next_data("1", WAIT).await;
    assert_eq!(
        data["notificationCreated"]["name"],
        "Security gate has changed to Failed"
    );
    assert_eq!(data["notificationCreated"]["type"], "SECURITY_GATE");
    assert_eq!(data["notificationCreated"]["product"]["name"], "live");
    assert_eq!(data["notificationCreated"]["viewed"], false);
    let seen_by_admin = boss.next_data("a", WAIT).await;
    assert_eq!(
        seen_by_admin["notificationCreated"]["id"],
        data["notificationCreated"]["id"]
    );

    // An exception is for administrators only.
    app.gql(
        Some(&admin),
        "mutation { injectFault(kind: REQUEST, message: \"boom\") }",
        json!({}),
    )
    .await;
    let exception = boss.next_data("a", WAIT).await;
    assert_eq!(exception["notificationCreated"]["type"], "EXCEPTION");
    member.expect_silence(QUIET).await;
    stranger.expect_silence(QUIET).await;

    // Revoking the membership stops the stream at once, without reconnecting.
    app.ok(
        &admin,
        "mutation($p: ID!, $u: ID!) { removeProductMember(productId: $p, userId: $u) }",
        json!({ "p": product, "u": reader_id }),
    )
    .await;
    app.import(&admin, &product, &[]).await;
    assert_eq!(
        boss.next_data("a", WAIT).await["notificationCreated"]["name"],
        "Security gate has changed to Passed"
    );
    member.expect_silence(QUIET).await;
}

/// The fan-out executes each notification once per viewer class; what one
/// member may see must never reach another: roles differ per member, and a
/// user's own email is theirs (and administrators') alone.
async fn each_viewer_gets_their_own_view_of_a_shared_notification(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "classes" })).await;
    let (uploader_id, uploader) = app.user("uploader").await;
    let (peer_id, peer) = app.user("peer").await;
    let (owner_id, owner) = app.user("owner").await;
    app.set_member(&product, &uploader_id, "UPLOAD").await;
    app.set_member(&product, &peer_id, "UPLOAD").await;
    app.set_member(&product, &owner_id, "OWNER").await;
    const VIEW: &str = "subscription { notificationCreated { id product { myRole } user { username email } } }";
    let mut clients = Vec::new();
    for token in [&uploader, &peer, &owner, &admin] {
        let mut client = WsClient::authenticated(&app.base, TRANSPORT_WS, token).await;
        client.subscribe("view", VIEW).await;
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The uploader's own import: they are the notification's user.
    app.import(&uploader, &product, &[("x", "CRITICAL")]).await;
    let mut seen = Vec::new();
    for client in &mut clients {
        seen.push(client.next_data("view", WAIT).await["notificationCreated"].clone());
    }
    let [by_uploader, by_peer, by_owner, by_admin] = &seen[..] else {
        unreachable!()
    };
    assert_eq!(by_uploader["id"], by_admin["id"]);
    assert_eq!(by_uploader["user"]["username"], "uploader");
    assert_eq!(by_uploader["user"]["email"], "uploader@example.com", "their own email");
    assert_eq!(by_peer["user"]["email"], json!(null), "same role, someone else's email");
    assert_eq!(by_admin["user"]["email"], "uploader@example.com");
    assert_eq!(by_uploader["product"]["myRole"], "UPLOAD");
    assert_eq!(by_peer["product"]["myRole"], "UPLOAD");
    assert_eq!(by_owner["product"]["myRole"], "OWNER");
    assert_eq!(by_owner["user"]["email"], json!(null));

    // Over HTTP the subscription is refused with a clear error.
    let over_http = app.gql(Some(&admin), VIEW, json!({})).await;
    assert!(over_http.get("errors").is_some(), "{over_http}");
}

/// What graphql-transport-ws says about misbehaving clients, and the
/// operations besides subscriptions that a socket may carry.
async fn protocol_errors_close_with_their_codes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();

    let mut early = connect(&app.base, &[TRANSPORT_WS]).await.unwrap();
    early.subscribe("1", CREATED).await;
    assert_eq!(early.next(WAIT).await, Some(Received::Closed(Some(4401))));

    let mut twice = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    let again = twice.init(json!({ "token": admin })).await;
    assert_eq!(again, Some(Received::Closed(Some(4429))));

    let mut duplicate = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    duplicate.subscribe("1", CREATED).await;
    duplicate.subscribe("1", CREATED).await;
    assert_eq!(duplicate.next(WAIT).await, Some(Received::Closed(Some(4409))));

    // serde's message for an unknown type is longer than a close frame may
    // carry; the client must still read the code.
    let mut typo = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    typo.send(json!({ "type": "subscribe_with_a_rather_long_misspelled_message_type_name", "id": "1" }))
        .await;
    assert_eq!(typo.next(WAIT).await, Some(Received::Closed(Some(4400))));

    let mut garbled = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    garbled
        .send(json!({ "type": "start", "id": "1", "payload": { "query": "{ me { id } }" } }))
        .await;
    assert_eq!(garbled.next(WAIT).await, Some(Received::Closed(Some(4400))));

    let mut client = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    client.send(json!({ "type": "ping", "payload": { "n": 1 } })).await;
    assert_eq!(
        client.next_json(WAIT).await,
        json!({ "type": "pong", "payload": { "n": 1 } })
    );
    // A query runs once: its result, then complete.
    client.subscribe("q", "{ me { username } }").await;
    assert_eq!(client.next_data("q", WAIT).await["me"]["username"], "admin");
    assert_eq!(client.next_json(WAIT).await, json!({ "id": "q", "type": "complete" }));
    // An invalid subscription is an error for its id; the socket stays open.
    client
        .subscribe("bad", "subscription { notificationCreated { nope } }")
        .await;
    let refused = client.next_json(WAIT).await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["id"], "bad");
    assert!(
        refused["payload"][0]["message"].as_str().unwrap().contains("nope"),
        "{refused}"
    );
    // A subscription selects exactly one root field.
    client
        .subscribe("two", "subscription { notificationCreated { id } notificationDeleted }")
        .await;
    let refused = client.next_json(WAIT).await;
    assert_eq!((&refused["type"], &refused["id"]), (&json!("error"), &json!("two")));
    assert!(
        refused["payload"][0]["message"]
            .as_str()
            .unwrap()
            .contains("exactly one root field"),
        "{refused}"
    );
    client.subscribe("q2", "{ me { username } }").await;
    assert_eq!(client.next_data("q2", WAIT).await["me"]["username"], "admin");
}

/// The live count adds one per new notification without a query; one
/// committed while the first count is read must not be counted twice.
async fn the_live_count_matches_the_stored_count_after_a_burst(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "burst" })).await;
    let (owner_id, owner) = app.user("owner").await;
    app.set_member(&product, &owner_id, "OWNER").await;

    let mut tab = WsClient::authenticated(&app.base, TRANSPORT_WS, &owner).await;
    let flips = async {
        for i in 0..12 {
            let findings: &[(&str, &str)] = if i % 2 == 0 { &[("x", "CRITICAL")] } else { &[] };
            app.import(&admin, &product, findings).await;
        }
    };
    let subscribe = async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        tab.subscribe("count", "subscription { unviewedNotificationCount }")
            .await;
    };
    tokio::join!(flips, subscribe);
    let mut last = None;
    while let Some(common::ws::Received::Json(message)) = tab.next(QUIET).await {
        assert_eq!(message["type"], "next", "{message}");
        last = message["payload"]["data"]["unviewedNotificationCount"].as_i64();
    }
    let stored = app.ok(&owner, "{ unviewedNotificationCount }", json!({})).await;
    assert_eq!(stored["unviewedNotificationCount"], 12);
    assert_eq!(last, Some(12), "the live count ends where the stored one is");
}

async fn deletions_and_unviewed_counts_follow_other_connections(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "counts" })).await;
    let (owner_id, owner) = app.user("owner").await;
    app.set_member(&product, &owner_id, "OWNER").await;
    app.import(&admin, &product, &[("x", "CRITICAL")]).await;

    let mut tab = WsClient::authenticated(&app.base, TRANSPORT_WS, &owner).await;
    tab.subscribe("count", "subscription { unviewedNotificationCount }")
        .await;
    assert_eq!(
        tab.next_data("count", WAIT).await["unviewedNotificationCount"],
        1,
        "the current value first"
    );
    tab.subscribe("gone", "subscription { notificationDeleted }").await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.import(&admin, &product, &[]).await;
    assert_eq!(tab.next_data("count", WAIT).await["unviewedNotificationCount"], 2);

    // Another tab (plain HTTP) marks both viewed.
    let list = app
        .ok(&owner, "{ notifications { edges { node { id } } } }", json!({}))
        .await;
    let ids: Vec<String> = list["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    app.ok(
        &owner,
        "mutation($ids: [ID!]!) { markNotificationsViewed(ids: $ids) }",
        json!({ "ids": ids }),
    )
    .await;
    assert_eq!(tab.next_data("count", WAIT).await["unviewedNotificationCount"], 0);

    app.ok(
        &owner,
        "mutation($ids: [ID!]!) { deleteNotifications(ids: $ids) }",
        json!({ "ids": [ids[0]] }),
    )
    .await;
    let deleted = tab.next_data("gone", WAIT).await;
    assert_eq!(deleted["notificationDeleted"], ids[0].as_str());
    tab.expect_silence(QUIET).await;
}

async fn the_legacy_protocol_works_and_the_clients_preference_wins(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "legacy" })).await;

    // Python's gql offers the legacy protocol first and relies on getting it.
    let mut legacy = connect(&app.base, &[LEGACY_WS, TRANSPORT_WS]).await.unwrap();
    assert_eq!(legacy.protocol, LEGACY_WS);
    let ack = legacy.init(json!({ "token": admin })).await;
    assert_eq!(ack, Some(Received::Json(json!({ "type": "connection_ack" }))));
    legacy.subscribe("1", CREATED).await;
    let modern = connect(&app.base, &[TRANSPORT_WS, LEGACY_WS]).await.unwrap();
    assert_eq!(modern.protocol, TRANSPORT_WS);
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.import(&admin, &product, &[("x", "HIGH")]).await;
    let data = legacy.next_data("1", WAIT).await;
    assert_eq!(
        data["notificationCreated"]["name"],
        "Security gate has changed to Failed"
    );

    // No subprotocol we speak: refused at the handshake.
    assert!(connect(&app.base, &["mqtt"]).await.is_err());
    assert!(connect(&app.base, &[]).await.is_err());
}

async fn bad_tokens_silence_and_expiry_close_the_socket(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| c.ws_init_timeout = Duration::from_secs(1)).await;

    let mut forged = connect(&app.base, &[TRANSPORT_WS]).await.unwrap();
    let refused = forged.init(json!({ "authorization": "Bearer not-a-token" })).await;
    assert_eq!(refused, Some(Received::Closed(Some(4403))));

    let mut silent = connect(&app.base, &[TRANSPORT_WS]).await.unwrap();
    assert_eq!(
        silent.next(Duration::from_secs(3)).await,
        Some(Received::Closed(Some(4408)))
    );

    // A session token that expires in two seconds: the socket closes then.
    let now = chrono::Utc::now().timestamp();
    let short = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "sub": "1", "iss": "herald", "iat": now, "exp": now + 2 }),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let mut expiring = WsClient::authenticated(&app.base, TRANSPORT_WS, &short).await;
    expiring
        .subscribe("1", "subscription { unviewedNotificationCount }")
        .await;
    assert_eq!(expiring.next_data("1", WAIT).await["unviewedNotificationCount"], 0);
    // The server allows the JWT library's few seconds of leeway at most.
    assert_eq!(
        expiring.next(Duration::from_secs(10)).await,
        Some(Received::Closed(Some(4403)))
    );

    // API tokens work too.
    let token = app
        .ok(
            &app.admin_token,
            "mutation { createApiToken(name: \"ws\") { token } }",
            json!({}),
        )
        .await["createApiToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut scripted = connect(&app.base, &[TRANSPORT_WS]).await.unwrap();
    let ack = scripted.init(json!({ "token": token })).await;
    assert_eq!(ack, Some(Received::Json(json!({ "type": "connection_ack" }))));
}

async fn connections_and_subscriptions_are_capped(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| {
        c.ws_max_subscriptions = 2;
        c.ws_max_connections_per_user = 1;
    })
    .await;
    let admin = app.admin_token.clone();
    let mut first = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    for id in ["1", "2", "3"] {
        first.subscribe(id, "subscription { unviewedNotificationCount }").await;
    }
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(first.next_json(WAIT).await);
    }
    let refused = answers
        .iter()
        .find(|m| m["type"] == "error")
        .expect("one subscription refused");
    assert_eq!(refused["id"], "3");
    assert!(
        refused["payload"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 2 subscriptions")
    );
    // Completing one frees a place.
    first.send(json!({ "id": "1", "type": "complete" })).await;
    assert_eq!(first.next_json(WAIT).await, json!({ "id": "1", "type": "complete" }));
    first.subscribe("4", "subscription { unviewedNotificationCount }").await;
    assert_eq!(first.next_data("4", WAIT).await["unviewedNotificationCount"], 0);

    let mut second = connect(&app.base, &[TRANSPORT_WS]).await.unwrap();
    let over = second.init(json!({ "authorization": format!("Bearer {admin}") })).await;
    assert_eq!(over, Some(Received::Closed(Some(4429))), "one connection per user here");
    drop(first);
    // The place is given back when the first socket closes.
    let mut third = None;
    for _ in 0..50 {
        let mut c = connect(&app.base, &[TRANSPORT_WS]).await.unwrap();
        if c.init(json!({ "token": admin })).await == Some(Received::Json(json!({ "type": "connection_ack" }))) {
            third = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(third.is_some(), "a closed socket frees its place");
}

async fn shutting_down_closes_sockets_with_1001(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mut client = WsClient::authenticated(&app.base, TRANSPORT_WS, &app.admin_token).await;
    client
        .subscribe("1", "subscription { unviewedNotificationCount }")
        .await;
    assert_eq!(client.next_data("1", WAIT).await["unviewedNotificationCount"], 0);
    app.server.state.begin_shutdown();
    assert_eq!(
        client.next(WAIT).await,
        Some(Received::Closed(Some(1001))),
        "clients reconnect elsewhere"
    );
}

on_both_engines!(
    shutting_down_closes_sockets_with_1001,
    connections_and_subscriptions_are_capped,
    members_receive_gate_changes_and_others_do_not,
    each_viewer_gets_their_own_view_of_a_shared_notification,
    protocol_errors_close_with_their_codes,
    the_live_count_matches_the_stored_count_after_a_burst,
    deletions_and_unviewed_counts_follow_other_connections,
    the_legacy_protocol_works_and_the_clients_preference_wins,
    bad_tokens_silence_and_expiry_close_the_socket,
);
