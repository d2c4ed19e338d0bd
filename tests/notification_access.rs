//! Who sees, marks, redelivers and deletes which notification, and how the
//! webhook URLs (secrets) stay hidden: from readers, from error messages,
//! and from the server's own network (the SSRF guard).

mod common;

use std::time::Duration;

use common::peers::WebhookServer;
use common::{Engine, TestApp, error_code};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

const LIST: &str = "query { notifications(first: 100) {
    totalCount
    edges { node { id type message trace viewed product { id } } }
} }";

const ONE: &str = "query($id: ID!) { notification(id: $id) {
    id type message trace
    deliveries { id channel target status attempts }
} }";

const DELIVERY: &str = "query($id: ID!) { delivery(id: $id) {
    id channel target status attempts lastError lastStatusCode
    history { outcome error }
} }";

const MARK: &str = "mutation($ids: [ID!]!) { markNotificationsViewed(ids: $ids) }";
const DELETE: &str = "mutation($ids: [ID!]!) { deleteNotifications(ids: $ids) }";
const REDELIVER: &str = "mutation($id: ID!) { redeliver(deliveryId: $id) { id status attempts } }";
const UNVIEWED: &str = "{ unviewedNotificationCount }";

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {connection}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn ids_of(nodes: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = nodes.iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

async fn list(app: &TestApp, token: &str) -> Value {
    app.ok(token, LIST, json!({})).await["notifications"].clone()
}

async fn unviewed(app: &TestApp, token: &str) -> i64 {
    app.ok(token, UNVIEWED, json!({})).await["unviewedNotificationCount"]
        .as_i64()
        .unwrap()
}

/// The ids of the admin's notifications of one type (and product), newest first.
async fn admin_ids(app: &TestApp, kind: &str, product: Option<&str>) -> Vec<String> {
    let data = app
        .ok(
            &app.admin_token,
            "query($f: NotificationFilter) { notifications(filter: $f, first: 100) { edges { node { id } } } }",
            json!({ "f": { "type": kind, "productId": product } }),
        )
        .await;
    nodes(&data["notifications"])
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls the delivery (as admin) until `done` holds for it; returns it.
async fn delivery_until(app: &TestApp, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = app.ok(&app.admin_token, DELIVERY, json!({ "id": id })).await["delivery"].clone();
        if done(&d) {
            return d;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out waiting for delivery {id}: {what}; last seen {d}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn is(status: &'static str) -> impl Fn(&Value) -> bool {
    move |d: &Value| d["status"] == status
}

/// Imports as admin and checks the gate it reports; on an internal error,
/// shows what the server stored about it.
async fn import_gate(app: &TestApp, product: &str, findings: &[(&str, &str)], gate: &str) {
    let imported = app.import(&app.admin_token, product, findings).await;
    if imported["data"]["importObservations"]["securityGate"] == gate {
        return;
    }
    let mut stored = Value::Null;
    for _ in 0..40 {
        stored = app
            .ok(
                &app.admin_token,
                "query { notifications(filter: { type: EXCEPTION }) { edges { node { message } } } }",
                json!({}),
            )
            .await;
        if !nodes(&stored["notifications"]).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import into {product}: expected gate {gate}, got {imported}; exceptions stored: {stored}");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The webhook URL as configured.
    Whole,
    /// Scheme and host only.
    Masked,
    /// The notification itself is invisible.
    Unseen,
}

struct Actor {
    name: &'static str,
    token: String,
    admin: bool,
    /// Ids of the notifications it sees.
    sees: Vec<String>,
    target: Target,
    /// `None`: allowed; otherwise the error code.
    redeliver: Option<&'static str>,
}

async fn the_access_table(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let slack = hooks.url("/p");
    let port_and_path = format!(":{}/p", hooks.port());

    // P is in a group: roles held on the group count on P as well.
    let group = app.group(&admin, json!({ "name": "p-group" })).await;
    let p = app
        .product(
            &admin,
            json!({ "name": "p-product", "productGroupId": group, "notificationSlackWebhook": slack }),
        )
        .await;
    let q = app.product(&admin, json!({ "name": "q-product" })).await;
    let mut members = Vec::new();
    for (name, role) in [
        ("owner", "OWNER"),
        ("maintainer", "MAINTAINER"),
        ("reader", "READER"),
        ("upload", "UPLOAD"),
        ("writer", "WRITER"),
    ] {
        let (id, token) = app.user(name).await;
        app.set_member(&p, &id, role).await;
        members.push(token);
    }
    let mut group_members = Vec::new();
    for role in ["READER", "UPLOAD", "WRITER", "MAINTAINER", "OWNER"] {
        let (id, token) = app.user(&format!("group-{}", role.to_lowercase())).await;
        app.set_group_member(&group, &id, role).await;
        group_members.push(token);
    }
    let (_, outsider) = app.user("outsider").await;

    // The four notifications: P's gate, Q's gate, a TASK of P, an EXCEPTION.
    import_gate(&app, &p, &[("rce", "CRITICAL")], "FAILED").await;
    import_gate(&app, &q, &[("rce", "CRITICAL")], "FAILED").await;
    let fault = app
        .ok(
            &admin,
            "mutation($p: ID!) { injectFault(kind: TASK, message: \"m\", productId: $p) }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(fault["injectFault"], true);
    app.eventually("the TASK notification", || async {
        admin_ids(&app, "TASK", Some(&p)).await.len() == 1
    })
    .await;
    let failed = app
        .gql(
            Some(&admin),
            "mutation { injectFault(kind: REQUEST, message: \"x\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&failed), "INTERNAL_SERVER_ERROR");
    app.eventually("the EXCEPTION notification", || async {
        admin_ids(&app, "EXCEPTION", None).await.len() == 1
    })
    .await;

    let p_gate = admin_ids(&app, "SECURITY_GATE", Some(&p)).await;
    assert_eq!(p_gate.len(), 1, "one gate notification for P: {p_gate:?}");
    let p_gate = p_gate[0].clone();
    let q_gate = admin_ids(&app, "SECURITY_GATE", Some(&q)).await;
    assert_eq!(q_gate.len(), 1, "one gate notification for Q: {q_gate:?}");
    let q_gate = q_gate[0].clone();
    let task = admin_ids(&app, "TASK", Some(&p)).await[0].clone();
    let exception = admin_ids(&app, "EXCEPTION", None).await[0].clone();
    let all = [p_gate.clone(), q_gate.clone(), task.clone(), exception.clone()];

    // P's Slack delivery reaches the hook before anything else happens to it.
    let gate_node = app.ok(&admin, ONE, json!({ "id": p_gate })).await["notification"].clone();
    let deliveries = gate_node["deliveries"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 1, "only Slack is configured on P: {gate_node}");
    assert_eq!(deliveries[0]["channel"], "SLACK");
    let delivery_id = deliveries[0]["id"].as_str().unwrap().to_owned();
    hooks.wait_for(1, WAIT).await;
    delivery_until(&app, &delivery_id, "SENT", is("SENT")).await;

    let [owner, maintainer, reader, upload, writer]: [String; 5] = members.try_into().unwrap();
    let [group_reader, group_upload, group_writer, group_maintainer, group_owner]: [String; 5] =
        group_members.try_into().unwrap();
    let p_sees = vec![p_gate.clone(), task.clone()];
    let actors = vec![
        Actor {
            name: "admin",
            token: admin.clone(),
            admin: true,
            sees: all.to_vec(),
            target: Target::Whole,
            redeliver: None,
        },
        Actor {
            name: "owner",
            token: owner.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Whole,
            redeliver: None,
        },
        Actor {
            name: "maintainer",
            token: maintainer.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Whole,
            redeliver: None,
        },
        Actor {
            name: "reader",
            token: reader.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Masked,
            redeliver: Some("FORBIDDEN"),
        },
        Actor {
            name: "upload",
            token: upload.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Masked,
            redeliver: Some("FORBIDDEN"),
        },
        Actor {
            name: "writer",
            token: writer.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Masked,
            redeliver: Some("FORBIDDEN"),
        },
        Actor {
            name: "group reader",
            token: group_reader.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Masked,
            redeliver: Some("FORBIDDEN"),
        },
        Actor {
            name: "group upload",
            token: group_upload.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Masked,
            redeliver: Some("FORBIDDEN"),
        },
        Actor {
            name: "group writer",
            token: group_writer.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Masked,
            redeliver: Some("FORBIDDEN"),
        },
        Actor {
            name: "group maintainer",
            token: group_maintainer.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Whole,
            redeliver: None,
        },
        Actor {
            name: "group owner",
            token: group_owner.clone(),
            admin: false,
            sees: p_sees.clone(),
            target: Target::Whole,
            redeliver: None,
        },
        Actor {
            name: "outsider",
            token: outsider.clone(),
            admin: false,
            sees: vec![],
            target: Target::Unseen,
            redeliver: Some("NOT_FOUND"),
        },
    ];

    // Lists, single reads and unviewed counts.
    for actor in &actors {
        let who = actor.name;
        let seen = list(&app, &actor.token).await;
        assert_eq!(seen["totalCount"], actor.sees.len(), "{who}: totalCount of {seen}");
        let seen = nodes(&seen);
        assert_eq!(ids_of(&seen), sorted(&actor.sees), "{who}: listed ids");
        for node in &seen {
            assert_eq!(node["viewed"], false, "{who}: nothing viewed yet: {node}");
            if node["type"] == "TASK" {
                if actor.admin {
                    assert_eq!(node["message"], "m", "{who}: {node}");
                    assert!(node["trace"].is_string(), "{who}: the admin sees the trace: {node}");
                } else {
                    assert_eq!(node["message"], Value::Null, "{who}: TASK message hidden: {node}");
                    assert_eq!(node["trace"], Value::Null, "{who}: TASK trace hidden: {node}");
                }
            }
            if node["type"] == "EXCEPTION" {
                assert!(actor.admin, "{who} sees an EXCEPTION: {node}");
                assert_eq!(node["message"], "x");
            }
            if node["type"] == "SECURITY_GATE" && !actor.admin {
                assert_eq!(node["product"]["id"], p, "{who}: only P's gate: {node}");
            }
        }
        for id in &all {
            let one = app.ok(&actor.token, ONE, json!({ "id": id })).await["notification"].clone();
            if actor.sees.contains(id) {
                assert_eq!(one["id"], id.as_str(), "{who}: notification({id})");
                if one["type"] == "TASK" && !actor.admin {
                    assert_eq!(
                        (&one["message"], &one["trace"]),
                        (&Value::Null, &Value::Null),
                        "{who}: notification({id}) hides the TASK details"
                    );
                }
            } else {
                assert_eq!(one, Value::Null, "{who}: notification({id}) is hidden");
            }
        }
        assert_eq!(
            unviewed(&app, &actor.token).await,
            actor.sees.len() as i64,
            "{who}: unviewedNotificationCount"
        );
    }

    // Webhook URLs: whole for MAINTAINER+ and admins, masked for the rest.
    for actor in &actors {
        let who = actor.name;
        let one = app.ok(&actor.token, ONE, json!({ "id": p_gate })).await["notification"].clone();
        if actor.target == Target::Unseen {
            assert_eq!(one, Value::Null, "{who}");
            continue;
        }
        let target = one["deliveries"][0]["target"]
            .as_str()
            .unwrap_or_else(|| panic!("{who}: no delivery target in {one}"))
            .to_owned();
        match actor.target {
            Target::Whole => assert_eq!(target, slack, "{who}: the whole URL"),
            _ => {
                assert_ne!(target, slack, "{who}: the URL must be masked");
                assert!(!target.contains(&port_and_path), "{who}: masked target {target:?}");
                assert!(!target.contains("/p"), "{who}: masked target {target:?}");
                assert!(
                    target.starts_with("http://127.0.0.1"),
                    "{who}: masked target {target:?}"
                );
            }
        }
        // `delivery(id)` is for those who may manage it; it never shows the URL to others.
        let body = app
            .gql(Some(&actor.token), DELIVERY, json!({ "id": delivery_id }))
            .await;
        if actor.redeliver.is_none() {
            assert_eq!(body["data"]["delivery"]["target"], slack.as_str(), "{who}: {body}");
        } else {
            assert_eq!(body["data"]["delivery"], Value::Null, "{who}: delivery(id) {body}");
            assert!(!body.to_string().contains(&port_and_path), "{who}: {body}");
        }
    }
    let body = app.gql(Some(&outsider), DELIVERY, json!({ "id": delivery_id })).await;
    assert_eq!(body["data"]["delivery"], Value::Null, "outsider: delivery(id) {body}");
    assert!(!body.to_string().contains(&port_and_path), "outsider: {body}");

    // Viewed is per user: the others' marks leave the admin's count alone.
    for actor in actors.iter().filter(|a| !a.admin) {
        let who = actor.name;
        let marked = app.ok(&actor.token, MARK, json!({ "ids": all })).await;
        assert_eq!(
            marked["markNotificationsViewed"],
            actor.sees.len(),
            "{who}: only visible ones are marked"
        );
        let again = app.ok(&actor.token, MARK, json!({ "ids": all })).await;
        assert_eq!(again["markNotificationsViewed"], 0, "{who}: marked already");
        assert_eq!(unviewed(&app, &actor.token).await, 0, "{who}: unviewed after marking");
        for node in nodes(&list(&app, &actor.token).await) {
            assert_eq!(node["viewed"], true, "{who}: {node}");
        }
        assert_eq!(unviewed(&app, &admin).await, 4, "the admin's count after {who} marked");
    }
    for node in nodes(&list(&app, &admin).await) {
        assert_eq!(node["viewed"], false, "admin: others' marks are not mine: {node}");
    }
    let marked = app.ok(&admin, MARK, json!({ "ids": all })).await;
    assert_eq!(marked["markNotificationsViewed"], 4);
    assert_eq!(unviewed(&app, &admin).await, 0);
    for actor in &actors {
        assert_eq!(unviewed(&app, &actor.token).await, 0, "{}", actor.name);
    }

    // Redelivery: admins and MAINTAINER+ only; unseen is not found.
    let mut sent = 1;
    for actor in &actors {
        let who = actor.name;
        let body = app
            .gql(Some(&actor.token), REDELIVER, json!({ "id": delivery_id }))
            .await;
        match actor.redeliver {
            None => {
                assert!(body.get("errors").is_none(), "{who}: redeliver {body}");
                assert_eq!(body["data"]["redeliver"]["id"], delivery_id.as_str());
                assert_eq!(body["data"]["redeliver"]["status"], "PENDING", "{who}: {body}");
                sent += 1;
                hooks.wait_for(sent, WAIT).await;
                delivery_until(&app, &delivery_id, "SENT again", |d| {
                    d["status"] == "SENT" && d["attempts"] == 1
                })
                .await;
            }
            Some(code) => {
                assert_eq!(error_code(&body), code, "{who}: redeliver {body}");
                assert!(!body.to_string().contains(&port_and_path), "{who}: {body}");
                let d = app.ok(&admin, DELIVERY, json!({ "id": delivery_id })).await["delivery"].clone();
                assert_eq!(d["status"], "SENT", "{who}: a refused redelivery changes nothing: {d}");
            }
        }
    }
    assert_eq!(hooks.requests().len(), sent, "one request per allowed redelivery");
    // The first send, and one each for admin, owner, maintainer, group maintainer and group owner.
    assert_eq!(sent, 6);

    // Deleting: OWNER of the product or admin; unseen ids are skipped.
    for (who, token) in [
        ("maintainer", &maintainer),
        ("reader", &reader),
        ("upload", &upload),
        ("writer", &writer),
        ("group reader", &group_reader),
        ("group upload", &group_upload),
        ("group writer", &group_writer),
        ("group maintainer", &group_maintainer),
    ] {
        let body = app.gql(Some(token), DELETE, json!({ "ids": [p_gate] })).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{who}: deleteNotifications {body}");
    }
    let skipped = app.ok(&outsider, DELETE, json!({ "ids": [p_gate] })).await;
    assert_eq!(skipped["deleteNotifications"], 0, "outsider cannot see it: skipped");
    let skipped = app.ok(&outsider, DELETE, json!({ "ids": all })).await;
    assert_eq!(skipped["deleteNotifications"], 0, "outsider sees none of them");
    let unseen = app.ok(&owner, DELETE, json!({ "ids": [q_gate, exception] })).await;
    assert_eq!(
        unseen["deleteNotifications"], 0,
        "owner: Q's gate and the EXCEPTION are unseen: skipped"
    );
    let deleted = app.ok(&owner, DELETE, json!({ "ids": [p_gate] })).await;
    assert_eq!(
        deleted["deleteNotifications"], 1,
        "the OWNER of P deletes P's gate notification"
    );
    let still = ids_of(&nodes(&list(&app, &admin).await));
    assert_eq!(
        still,
        sorted(&[q_gate.clone(), task.clone(), exception.clone()]),
        "P's gate is gone, nothing else"
    );
    for actor in &actors {
        let one = app.ok(&actor.token, ONE, json!({ "id": p_gate })).await["notification"].clone();
        assert_eq!(one, Value::Null, "{}: the deleted notification is gone", actor.name);
        let listed = ids_of(&nodes(&list(&app, &actor.token).await));
        assert!(!listed.contains(&p_gate), "{}: still listed {listed:?}", actor.name);
    }

    // The admin deletes a fresh one (P's gate passes again).
    import_gate(&app, &p, &[], "PASSED").await;
    let fresh = admin_ids(&app, "SECURITY_GATE", Some(&p)).await;
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    let fresh = fresh[0].clone();
    assert!(!all.contains(&fresh));
    hooks.wait_for(sent + 1, WAIT).await;
    let fresh_delivery = app.ok(&admin, ONE, json!({ "id": fresh })).await["notification"]["deliveries"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    delivery_until(&app, &fresh_delivery, "SENT", is("SENT")).await;
    let body = app.gql(Some(&maintainer), DELETE, json!({ "ids": [fresh] })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "maintainer: {body}");
    let deleted = app.ok(&admin, DELETE, json!({ "ids": [fresh] })).await;
    assert_eq!(deleted["deleteNotifications"], 1);
    assert_eq!(
        app.ok(&admin, ONE, json!({ "id": fresh })).await["notification"],
        Value::Null
    );

    // The group's OWNER deletes the next one (P's gate fails again).
    import_gate(&app, &p, &[("rce", "CRITICAL")], "FAILED").await;
    let again = admin_ids(&app, "SECURITY_GATE", Some(&p)).await;
    assert_eq!(again.len(), 1, "{again:?}");
    let body = app.gql(Some(&group_maintainer), DELETE, json!({ "ids": again })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "group maintainer: {body}");
    let deleted = app.ok(&group_owner, DELETE, json!({ "ids": again })).await;
    assert_eq!(
        deleted["deleteNotifications"], 1,
        "the group's OWNER deletes P's notification"
    );
    assert_eq!(admin_ids(&app, "SECURITY_GATE", Some(&p)).await, Vec::<String>::new());

    assert_eq!(list(&app, &admin).await["totalCount"], 3);
    assert_eq!(
        list(&app, &owner).await["totalCount"],
        1,
        "only P's TASK is left for P's members"
    );
}

async fn the_ssrf_guard_stops_deliveries_to_the_servers_own_network(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn_with(engine, |c| c.allow_private_targets = false).await;
    let admin = app.admin_token.clone();
    let secret = format!("http://127.0.0.1:{}/secret-path", hooks.port());
    let product = app
        .product(&admin, json!({ "name": "guarded", "notificationSlackWebhook": secret }))
        .await;
    import_gate(&app, &product, &[("rce", "CRITICAL")], "FAILED").await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let delivery = loop {
        let data = app
            .ok(
                &admin,
                "query { notifications { edges { node { type deliveries { id channel status attempts lastError lastStatusCode } } } } }",
                json!({}),
            )
            .await;
        let found = nodes(&data["notifications"])
            .iter()
            .filter(|n| n["type"] == "SECURITY_GATE")
            .flat_map(|n| n["deliveries"].as_array().cloned().unwrap_or_default())
            .next();
        if let Some(d) = found.filter(|d| d["status"] == "FAILED") {
            break d;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("the delivery to a loopback webhook did not fail: {data}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(delivery["channel"], "SLACK");
    assert_eq!(delivery["attempts"], 1, "refused for good, not retried: {delivery}");
    assert_eq!(delivery["lastStatusCode"], Value::Null, "{delivery}");
    assert_refused(&delivery["lastError"], &["secret-path"]);
    let full = app.ok(&admin, DELIVERY, json!({ "id": delivery["id"] })).await["delivery"].clone();
    for attempt in full["history"].as_array().unwrap() {
        assert!(
            !attempt.to_string().contains("secret-path"),
            "the history keeps the URL secret: {attempt}"
        );
    }

    // Test notifications go through the same guard, whatever the spelling of the address.
    let port = hooks.port();
    let targets = [
        "http://169.254.169.254/latest".to_owned(),
        format!("http://localhost:{port}/secret-path"),
        format!("http://LocalHost.:{port}/secret-path"),
        format!("http://[::1]:{port}/secret-path"),
        format!("http://[::ffff:127.0.0.1]:{port}/secret-path"),
        format!("http://2130706433:{port}/secret-path"),
        format!("http://0.0.0.0:{port}/secret-path"),
    ];
    for target in &targets {
        let body = app
            .gql(
                Some(&admin),
                "mutation($t: String!) { sendTestNotification(channel: SLACK, target: $t) { id } }",
                json!({ "t": target }),
            )
            .await;
        let id = body["data"]["sendTestNotification"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{target}: queued, refused only when sent: {body}"))
            .to_owned();
        let d = delivery_until(&app, &id, "FAILED", |d| {
            d["status"] == "FAILED" || d["status"] == "SENT"
        })
        .await;
        assert_eq!(d["status"], "FAILED", "{target}: {d}");
        assert_eq!(d["attempts"], 1, "{target}: {d}");
        assert_refused(&d["lastError"], &["secret-path", "/latest"]);
    }
    assert!(
        hooks.requests().is_empty(),
        "the webhook server was reached: {:?}",
        hooks.requests()
    );
}

/// `lastError` says the target is private, and nothing of where it is.
fn assert_refused(error: &Value, secrets: &[&str]) {
    let text = error
        .as_str()
        .unwrap_or_else(|| panic!("no lastError: {error}"))
        .to_lowercase();
    assert!(
        text.contains("private") || text.contains("loopback"),
        "the error says why: {text:?}"
    );
    for secret in secrets {
        assert!(!text.contains(secret), "the error repeats {secret:?}: {text:?}");
    }
}

async fn webhook_urls_never_appear_in_error_messages(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "existing" })).await;
    let cases = [
        (
            "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "name": "leaky", "notificationSlackWebhook": "ftp://hooks.example.com/very-secret" } }),
            "notificationSlackWebhook",
        ),
        (
            "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "name": "leaky", "notificationMsTeamsWebhook": "https://user:very-secret@hooks.example.com/x" } }),
            "notificationMsTeamsWebhook",
        ),
        (
            "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "name": "leaky", "notificationSlackWebhook": "very-secret" } }),
            "notificationSlackWebhook",
        ),
        (
            "mutation($id: ID!, $i: ProductPatch!) { updateProduct(id: $id, input: $i) { id } }",
            json!({ "id": product, "i": { "notificationSlackWebhook": "ftp://hooks.example.com/very-secret" } }),
            "notificationSlackWebhook",
        ),
        (
            "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }",
            json!({ "i": { "name": "leaky", "notificationSlackWebhook": "ftp://hooks.example.com/very-secret" } }),
            "notificationSlackWebhook",
        ),
        (
            "mutation($i: SettingsInput!) { updateSettings(input: $i) { emailFrom } }",
            json!({ "i": { "exceptionSlackWebhook": "ftp://hooks.example.com/very-secret" } }),
            "exceptionSlackWebhook",
        ),
    ];
    for (query, variables, field) in cases {
        let body = app.gql(Some(&admin), query, variables.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{variables}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            !message.contains("very-secret"),
            "the message repeats the URL: {message:?}"
        );
        assert!(
            !body.to_string().contains("very-secret"),
            "the response repeats the URL: {body}"
        );
    }
    let body = app
        .gql(
            Some(&admin),
            "mutation($t: String!) { sendTestNotification(channel: SLACK, target: $t) { id } }",
            json!({ "t": "ftp://hooks.example.com/very-secret" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(!body.to_string().contains("very-secret"), "{body}");
    let products = app.ok(&admin, "{ products { name } }", json!({})).await;
    assert_eq!(
        products["products"],
        json!([{ "name": "existing" }]),
        "nothing was created"
    );
}

on_both_engines!(
    the_access_table,
    the_ssrf_guard_stops_deliveries_to_the_servers_own_network,
    webhook_urls_never_appear_in_error_messages,
);
