//! Live subscriptions over a real websocket client, both protocols, on both
//! engines.

mod common;

use std::time::Duration;

use common::ws::{LEGACY_WS, Received, TRANSPORT_WS, WsClient, connect};
use common::{Engine, JWT_SECRET, TestApp};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(700);
const CREATED: &str = "subscription { notificationCreated { id type name message product { name } viewed } }";

/// A product whose gate the test flips to prove that a subscription is
/// attached and that nothing forbidden came before: events reach each
/// subscriber in commit order, so a leaked notification would arrive ahead
/// of the canary. A silence alone also passes when the subscription is late.
struct Canary {
    product: String,
    failed: bool,
}

impl Canary {
    async fn new(app: &TestApp) -> Canary {
        let product = app.product(&app.admin_token, json!({ "name": "canary" })).await;
        Canary { product, failed: false }
    }

    /// Flips the canary's gate; returns the notification's name.
    async fn fire(&mut self, app: &TestApp) -> &'static str {
        self.failed = !self.failed;
        let findings: &[(&str, &str)] = if self.failed { &[("canary", "CRITICAL")] } else { &[] };
        let imported = app.import(&app.admin_token, &self.product, findings).await;
        assert!(imported.get("errors").is_none(), "{imported}");
        if self.failed {
            "Security gate has changed to Failed"
        } else {
            "Security gate has changed to Passed"
        }
    }
}

/// The next notification on subscription `id` is the canary `name`.
async fn expect_canary(client: &mut WsClient, id: &str, who: &str, name: &str) {
    let data = client.next_data(id, WAIT).await;
    let created = &data["notificationCreated"];
    assert_eq!(
        (&created["product"]["name"], &created["name"]),
        (&json!("canary"), &json!(name)),
        "{who} must receive the canary, and nothing before it: {data}"
    );
}

/// The next notification on subscription `id`: its type, product and message.
async fn expect_notification(client: &mut WsClient, id: &str, who: &str, kind: &str, message: Value) -> Value {
    let data = client.next_data(id, WAIT).await;
    let created = data["notificationCreated"].clone();
    assert_eq!(created["type"], kind, "{who}: {data}");
    assert_eq!(created["product"]["name"], "live", "{who}: {data}");
    assert_eq!(created["message"], message, "{who}: {data}");
    created
}

async fn members_receive_gate_changes_and_others_do_not(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let group = app.group(&admin, json!({ "name": "live group" })).await;
    let product = app
        .product(&admin, json!({ "name": "live", "productGroupId": group }))
        .await;
    let mut canary = Canary::new(&app).await;
    let (reader_id, reader) = app.user("reader").await;
    app.set_member(&product, &reader_id, "READER").await;
    let (grouped_id, grouped) = app.user("grouped").await;
    app.set_group_member(&group, &grouped_id, "READER").await;
    let (outsider_id, outsider) = app.user("outsider").await;
    // Everybody sees the canary; only the outsider is a stranger to "live".
    for id in [&reader_id, &grouped_id, &outsider_id] {
        app.set_member(&canary.product, id, "READER").await;
    }

    let mut member = WsClient::authenticated(&app.base, TRANSPORT_WS, &reader).await;
    let mut via_group = WsClient::authenticated(&app.base, TRANSPORT_WS, &grouped).await;
    let mut stranger = WsClient::authenticated(&app.base, TRANSPORT_WS, &outsider).await;
    let mut boss = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    for client in [&mut member, &mut via_group, &mut stranger, &mut boss] {
        client.subscribe("1", CREATED).await;
        client.subscribe("gone", "subscription { notificationDeleted }").await;
    }
    // Each subscription is attached once its canary arrived.
    let name = canary.fire(&app).await;
    for (who, client) in [
        ("member", &mut member),
        ("group member", &mut via_group),
        ("stranger", &mut stranger),
        ("admin", &mut boss),
    ] {
        expect_canary(client, "1", who, name).await;
    }

    // A gate change of the product reaches its members, direct or through
    // the group, and administrators.
    app.import(&admin, &product, &[("x", "CRITICAL")]).await;
    let data = expect_notification(&mut member, "1", "member", "SECURITY_GATE", Value::Null).await;
    assert_eq!(data["name"], "Security gate has changed to Failed");
    assert_eq!(data["viewed"], false);
    expect_notification(&mut via_group, "1", "group member", "SECURITY_GATE", Value::Null).await;
    let seen_by_admin = expect_notification(&mut boss, "1", "admin", "SECURITY_GATE", Value::Null).await;
    assert_eq!(seen_by_admin["id"], data["id"]);

    // A failed job of the product: its members see it without the details.
    let fault = "mutation($p: ID!, $m: String!) { injectFault(kind: TASK, message: $m, productId: $p) }";
    app.ok(&admin, fault, json!({ "p": product, "m": "job failed" })).await;
    expect_notification(&mut boss, "1", "admin", "TASK", json!("job failed")).await;
    expect_notification(&mut member, "1", "member", "TASK", Value::Null).await;
    expect_notification(&mut via_group, "1", "group member", "TASK", Value::Null).await;

    // An exception is for administrators only.
    app.gql(
        Some(&admin),
        "mutation { injectFault(kind: REQUEST, message: \"boom\") }",
        json!({}),
    )
    .await;
    let exception = boss.next_data("1", WAIT).await;
    assert_eq!(exception["notificationCreated"]["type"], "EXCEPTION");

    // The stranger got neither the gate change, nor the TASK, nor the
    // exception; the members not the exception.
    let name = canary.fire(&app).await;
    for (who, client) in [
        ("member", &mut member),
        ("group member", &mut via_group),
        ("stranger", &mut stranger),
        ("admin", &mut boss),
    ] {
        expect_canary(client, "1", who, name).await;
    }

    // Revoking the membership stops the stream at once, without reconnecting.
    app.ok(
        &admin,
        "mutation($p: ID!, $u: ID!) { removeProductMember(productId: $p, userId: $u) }",
        json!({ "p": product, "u": reader_id }),
    )
    .await;
    app.import(&admin, &product, &[]).await;
    assert_eq!(
        boss.next_data("1", WAIT).await["notificationCreated"]["name"],
        "Security gate has changed to Passed"
    );
    app.ok(&admin, fault, json!({ "p": product, "m": "job failed again" }))
        .await;
    expect_notification(&mut boss, "1", "admin", "TASK", json!("job failed again")).await;
    expect_notification(&mut via_group, "1", "group member", "SECURITY_GATE", Value::Null).await;
    expect_notification(&mut via_group, "1", "group member", "TASK", Value::Null).await;
    let name = canary.fire(&app).await;
    for (who, client) in [
        ("former member", &mut member),
        ("group member", &mut via_group),
        ("stranger", &mut stranger),
        ("admin", &mut boss),
    ] {
        expect_canary(client, "1", who, name).await;
    }

    // Deleting the product's notifications tells only those who see them;
    // then a canary notification is deleted, which everybody sees.
    let ids = |data: Value| -> Vec<String> {
        data["notifications"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let filter = "query($p: ID!) { notifications(filter: { productId: $p }) { edges { node { id } } } }";
    let of_product = ids(app.ok(&admin, filter, json!({ "p": product })).await);
    assert_eq!(of_product.len(), 4, "two gate changes and two TASKs: {of_product:?}");
    let of_canary = ids(app.ok(&admin, filter, json!({ "p": canary.product })).await);
    let delete = "mutation($ids: [ID!]!) { deleteNotifications(ids: $ids) }";
    app.ok(&admin, delete, json!({ "ids": of_product })).await;
    let mut deleted: Vec<String> = Vec::new();
    for _ in 0..4 {
        let data = via_group.next_data("gone", WAIT).await;
        deleted.push(data["notificationDeleted"].as_str().unwrap().to_owned());
    }
    deleted.sort();
    let mut expected = of_product.clone();
    expected.sort();
    assert_eq!(deleted, expected, "the group member saw all four deleted");
    app.ok(&admin, delete, json!({ "ids": [of_canary[0]] })).await;
    for (who, client) in [("former member", &mut member), ("stranger", &mut stranger)] {
        let data = client.next_data("gone", WAIT).await;
        assert_eq!(
            data["notificationDeleted"],
            of_canary[0].as_str(),
            "{who} learns only of the canary's deletion: {data}"
        );
    }
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

/// A subscriber's live count follows a membership granted while it is
/// open, and a product it creates: the next notification of the new
/// product counts, as the stored count does.
async fn a_live_count_follows_a_membership_granted_while_open(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let first = app.product(&admin, json!({ "name": "first" })).await;
    let second = app.product(&admin, json!({ "name": "second" })).await;
    let (reader_id, reader) = app.user("reader").await;
    app.set_member(&first, &reader_id, "READER").await;

    let mut tab = WsClient::authenticated(&app.base, TRANSPORT_WS, &reader).await;
    tab.subscribe("count", "subscription { unviewedNotificationCount }")
        .await;
    assert_eq!(tab.next_data("count", WAIT).await["unviewedNotificationCount"], 0);
    // The subscriber has now judged a notification with the roles it had.
    app.import(&admin, &first, &[("x", "CRITICAL")]).await;
    assert_eq!(tab.next_data("count", WAIT).await["unviewedNotificationCount"], 1);

    app.set_member(&second, &reader_id, "READER").await;
    app.import(&admin, &second, &[("x", "CRITICAL")]).await;
    assert_eq!(tab.next_data("count", WAIT).await["unviewedNotificationCount"], 2);
    // A product the subscriber creates is theirs at once, too.
    let third = app.product(&reader, json!({ "name": "third" })).await;
    app.import(&admin, &third, &[("x", "CRITICAL")]).await;
    assert_eq!(tab.next_data("count", WAIT).await["unviewedNotificationCount"], 3);
    let stored = app.ok(&reader, "{ unviewedNotificationCount }", json!({})).await;
    assert_eq!(stored["unviewedNotificationCount"], 3);
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
    a_live_count_follows_a_membership_granted_while_open,
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
