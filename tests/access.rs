//! Who reads what a setting holds, wherever it shows up: a delivery's target
//! is whole only for who may read the setting it came from (the product's,
//! its group's when the product falls back to it, or the global settings'),
//! and a product's group shows its recipients and members only to members
//! of the group.

mod common;

use std::time::Duration;

use common::peers::WebhookServer;
use common::ws::{TRANSPORT_WS, WsClient};
use common::{Engine, TestApp, TestDatabase};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

const ONE: &str = "query($id: ID!) { notification(id: $id) { id deliveries { id channel target } } }";
const DELIVERY: &str = "query($id: ID!) { delivery(id: $id) { id channel target } }";
const REDELIVER: &str = "mutation($id: ID!) { redeliver(deliveryId: $id) { id channel target } }";

/// The ids of the admin's notifications of one type and product.
async fn admin_ids(app: &TestApp, kind: &str, product: &str) -> Vec<String> {
    let data = app
        .ok(
            &app.admin_token,
            "query($f: NotificationFilter) { notifications(filter: $f) { edges { node { id } } } }",
            json!({ "f": { "type": kind, "productId": product } }),
        )
        .await;
    data["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The target of the delivery on `channel` among `deliveries`.
fn target_on(deliveries: &Value, channel: &str) -> (String, String) {
    let d = deliveries
        .as_array()
        .unwrap_or_else(|| panic!("no deliveries: {deliveries}"))
        .iter()
        .find(|d| d["channel"] == channel)
        .unwrap_or_else(|| panic!("no {channel} delivery in {deliveries}"));
    (
        d["id"].as_str().unwrap().to_owned(),
        d["target"].as_str().unwrap().to_owned(),
    )
}

fn assert_masked(who: &str, target: &str, secret: &str) {
    assert_ne!(target, secret, "{who}: the target must be masked");
    assert!(!target.contains("SECRET"), "{who}: masked target {target:?}");
    assert!(
        target.starts_with("http://127.0.0.1"),
        "{who}: masked target {target:?}"
    );
}

struct World {
    app: TestApp,
    _hooks: WebhookServer,
    group_slack: String,
    group_teams: String,
    product_slack: String,
    settings_slack: String,
    /// Falls back to the group for Slack and Teams.
    p: String,
    /// Has its own Slack webhook, and the group's Teams one.
    q: String,
    /// MAINTAINER of P and Q, no role on the group.
    product_maintainer: String,
    /// MAINTAINER of P and Q, READER on the group.
    group_reader: String,
    /// MAINTAINER on the group.
    group_maintainer: String,
    /// WRITER of P and Q.
    writer: String,
}

async fn world(engine: Engine) -> World {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let group_slack = hooks.url("/group-slack-SECRET");
    let group_teams = hooks.url("/group-teams-SECRET");
    let product_slack = hooks.url("/product-slack-SECRET");
    let settings_slack = hooks.url("/settings-slack-SECRET");
    let group = app
        .ok(
            &admin,
            "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }",
            json!({ "i": {
                "name": "platform",
                "notificationEmailTo": ["platform-team@example.com"],
                "notificationSlackWebhook": group_slack,
                "notificationMsTeamsWebhook": group_teams,
            } }),
        )
        .await["createProductGroup"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = app
        .product(&admin, json!({ "name": "p", "productGroupId": group }))
        .await;
    let q = app
        .product(
            &admin,
            json!({ "name": "q", "productGroupId": group, "notificationSlackWebhook": product_slack }),
        )
        .await;
    app.ok(
        &admin,
        "mutation($i: SettingsInput!) { updateSettings(input: $i) { exceptionSlackWebhook } }",
        json!({ "i": { "exceptionSlackWebhook": settings_slack } }),
    )
    .await;
    let set_group_member = |user: String, role: &'static str| {
        let (app, group, admin) = (&app, group.clone(), admin.clone());
        async move {
            app.ok(
                &admin,
                "mutation($g: ID!, $u: ID!, $r: Role!) { setProductGroupMember(productGroupId: $g, userId: $u, role: $r) { role } }",
                json!({ "g": group, "u": user, "r": role }),
            )
            .await;
        }
    };
    let (pm_id, product_maintainer) = app.user("product-maintainer").await;
    let (gr_id, group_reader) = app.user("group-reader").await;
    let (gm_id, group_maintainer) = app.user("group-maintainer").await;
    let (w_id, writer) = app.user("writer").await;
    for product in [&p, &q] {
        app.set_member(product, &pm_id, "MAINTAINER").await;
        app.set_member(product, &gr_id, "MAINTAINER").await;
        app.set_member(product, &w_id, "WRITER").await;
    }
    set_group_member(gr_id, "READER").await;
    set_group_member(gm_id, "MAINTAINER").await;
    World {
        app,
        _hooks: hooks,
        group_slack,
        group_teams,
        product_slack,
        settings_slack,
        p,
        q,
        product_maintainer,
        group_reader,
        group_maintainer,
        writer,
    }
}

async fn delivery_targets_follow_the_setting_they_came_from(engine: Engine) {
    let w = world(engine).await;
    let app = &w.app;
    let admin = app.admin_token.clone();
    for product in [&w.p, &w.q] {
        let imported = app.import(&admin, product, &[("rce", "CRITICAL")]).await;
        assert_eq!(
            imported["data"]["importObservations"]["securityGate"], "FAILED",
            "{imported}"
        );
    }
    let fault = app
        .ok(
            &admin,
            "mutation($p: ID!) { injectFault(kind: TASK, message: \"m\", productId: $p) }",
            json!({ "p": w.p }),
        )
        .await;
    assert_eq!(fault["injectFault"], true);
    app.eventually("the TASK notification", || async {
        admin_ids(app, "TASK", &w.p).await.len() == 1
    })
    .await;
    let p_gate = admin_ids(app, "SECURITY_GATE", &w.p).await[0].clone();
    let q_gate = admin_ids(app, "SECURITY_GATE", &w.q).await[0].clone();
    let task = admin_ids(app, "TASK", &w.p).await[0].clone();

    // (actor, reads the group's webhooks, reads the product's, reads the settings')
    let actors = [
        ("admin", admin.clone(), true, true, true),
        ("product maintainer", w.product_maintainer.clone(), false, true, false),
        ("group reader", w.group_reader.clone(), false, true, false),
        ("group maintainer", w.group_maintainer.clone(), true, true, false),
        ("writer", w.writer.clone(), false, false, false),
    ];
    for (who, token, reads_group, reads_product, reads_settings) in &actors {
        let expect = |target: &str, secret: &str, whole: bool, what: &str| {
            if whole {
                assert_eq!(target, secret, "{who}: {what} whole");
            } else {
                assert_masked(&format!("{who}: {what}"), target, secret);
            }
        };
        // P falls back to the group for both webhooks.
        let p_node = app.ok(token, ONE, json!({ "id": p_gate })).await["notification"].clone();
        let (p_slack_id, target) = target_on(&p_node["deliveries"], "SLACK");
        expect(&target, &w.group_slack, *reads_group, "P's group Slack");
        let (_, target) = target_on(&p_node["deliveries"], "MS_TEAMS");
        expect(&target, &w.group_teams, *reads_group, "P's group Teams");
        // Q has its own Slack webhook, and the group's Teams one.
        let q_node = app.ok(token, ONE, json!({ "id": q_gate })).await["notification"].clone();
        let (_, target) = target_on(&q_node["deliveries"], "SLACK");
        expect(&target, &w.product_slack, *reads_product, "Q's own Slack");
        let (_, target) = target_on(&q_node["deliveries"], "MS_TEAMS");
        expect(&target, &w.group_teams, *reads_group, "Q's group Teams");
        // The TASK notification goes to the global exception webhook.
        let task_node = app.ok(token, ONE, json!({ "id": task })).await["notification"].clone();
        let (task_slack_id, target) = target_on(&task_node["deliveries"], "SLACK");
        expect(&target, &w.settings_slack, *reads_settings, "the settings' Slack");

        // delivery(id) and redeliver answer MAINTAINER+ of the product, with
        // the same masking.
        if *who == "writer" {
            let body = app.gql(Some(token), DELIVERY, json!({ "id": p_slack_id })).await;
            assert_eq!(body["data"]["delivery"], Value::Null, "{who}: {body}");
            assert!(!body.to_string().contains("SECRET"), "{who}: {body}");
            continue;
        }
        let one = app.ok(token, DELIVERY, json!({ "id": p_slack_id })).await["delivery"].clone();
        expect(
            one["target"].as_str().unwrap(),
            &w.group_slack,
            *reads_group,
            "delivery(id) of the group's",
        );
        let one = app.ok(token, DELIVERY, json!({ "id": task_slack_id })).await["delivery"].clone();
        expect(
            one["target"].as_str().unwrap(),
            &w.settings_slack,
            *reads_settings,
            "delivery(id) of the settings'",
        );
        let again = app.ok(token, REDELIVER, json!({ "id": p_slack_id })).await["redeliver"].clone();
        expect(
            again["target"].as_str().unwrap(),
            &w.group_slack,
            *reads_group,
            "redeliver's answer",
        );
    }
}

/// The live fan-out shares one rendering among viewers with the same role
/// on the product; a product MAINTAINER and a group MAINTAINER have the
/// same one, yet only the second may read the group's webhook.
async fn live_targets_follow_the_viewer_not_the_class(engine: Engine) {
    let w = world(engine).await;
    let app = &w.app;
    let query = "subscription { notificationCreated { id deliveries { id channel target } } }";
    let mut product_maintainer = WsClient::authenticated(&app.base, TRANSPORT_WS, &w.product_maintainer).await;
    let mut group_maintainer = WsClient::authenticated(&app.base, TRANSPORT_WS, &w.group_maintainer).await;
    product_maintainer.subscribe("1", query).await;
    group_maintainer.subscribe("1", query).await;
    let fanout = app.server.state.fanout.clone();
    app.eventually("both subscriptions attached", || {
        let fanout = fanout.clone();
        async move { fanout.subscribers() >= 2 }
    })
    .await;
    app.import(&app.admin_token, &w.p, &[("rce", "CRITICAL")]).await;
    // Both receive it (the subscription is attached), each with their own view.
    let seen = product_maintainer.next_data("1", WAIT).await;
    let (_, target) = target_on(&seen["notificationCreated"]["deliveries"], "SLACK");
    assert_masked("product maintainer, live", &target, &w.group_slack);
    let seen = group_maintainer.next_data("1", WAIT).await;
    let (_, target) = target_on(&seen["notificationCreated"]["deliveries"], "SLACK");
    assert_eq!(target, w.group_slack, "group maintainer, live");
}

/// `product.productGroup` names the group to the product's members, but its
/// recipients and members only to members of the group.
async fn a_products_group_shows_its_people_only_to_its_members(engine: Engine) {
    let w = world(engine).await;
    let app = &w.app;
    let query = "query($id: ID!) { product(id: $id) { productGroup {
        name notificationEmailTo notificationSlackWebhook members { user { username } role }
    } } }";
    let group_of = |token: String| {
        let p = w.p.clone();
        async move { app.ok(&token, query, json!({ "id": p })).await["product"]["productGroup"].clone() }
    };
    for (who, token) in [
        ("product maintainer", w.product_maintainer.clone()),
        ("writer", w.writer.clone()),
    ] {
        let group = group_of(token).await;
        assert_eq!(group["name"], "platform", "{who}: {group}");
        assert_eq!(group["notificationEmailTo"], json!([]), "{who}: {group}");
        assert_eq!(group["members"], json!([]), "{who}: {group}");
        assert_eq!(group["notificationSlackWebhook"], Value::Null, "{who}: {group}");
    }
    let group = group_of(w.group_reader.clone()).await;
    assert_eq!(
        group["notificationEmailTo"],
        json!(["platform-team@example.com"]),
        "{group}"
    );
    // The admin who created it, and the two members.
    assert_eq!(group["members"].as_array().unwrap().len(), 3, "{group}");
    assert_eq!(group["notificationSlackWebhook"], Value::Null, "group reader: {group}");
    for token in [w.group_maintainer.clone(), app.admin_token.clone()] {
        let group = group_of(token).await;
        assert_eq!(
            group["notificationEmailTo"],
            json!(["platform-team@example.com"]),
            "{group}"
        );
        assert_eq!(group["members"].as_array().unwrap().len(), 3, "{group}");
        assert_eq!(group["notificationSlackWebhook"], w.group_slack.as_str(), "{group}");
    }
}

/// Deliveries stored before the origin was recorded: a gate change's target
/// that is the product's (or else its group's) own setting is credited to
/// it; everything else is for administrators only.
async fn the_migration_credits_only_what_the_settings_still_show(engine: Engine) {
    use migration::MigratorTrait;
    use sea_orm::{ConnectionTrait, Database, Statement};

    let database = TestDatabase::create(engine).await;
    let db = Database::connect(&database.url).await.unwrap();
    migration::Migrator::up(&db, Some(3)).await.unwrap();
    let at = "'2026-11-30T10:00:00Z'";
    for sql in [
        format!(
            "INSERT INTO product_groups (id, name, notification_email_to, notification_slack_webhook, created_at) \
             VALUES (1, 'g', '[\"team@example.com\"]', 'https://hooks.example.com/group', {at})"
        ),
        format!(
            "INSERT INTO products (id, name, product_group_id, notification_email_to, notification_ms_teams_webhook, created_at) \
             VALUES (1, 'p', 1, '[\"own@example.com\"]', 'https://teams.example.com/own', {at})"
        ),
        format!(
            "INSERT INTO notifications (id, type, name, product_id, created_at) VALUES (1, 'SECURITY_GATE', 'x', 1, {at})"
        ),
        format!("INSERT INTO notifications (id, type, name, product_id, created_at) VALUES (2, 'TASK', 'y', 1, {at})"),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    let deliveries = [
        (1, Some(1), "EMAIL", "own@example.com", "PRODUCT", Some(1)),
        (
            2,
            Some(1),
            "MS_TEAMS",
            "https://teams.example.com/own",
            "PRODUCT",
            Some(1),
        ),
        (
            3,
            Some(1),
            "SLACK",
            "https://hooks.example.com/group",
            "PRODUCT_GROUP",
            Some(1),
        ),
        (4, Some(1), "EMAIL", "team@example.com", "PRODUCT_GROUP", Some(1)),
        // No longer (or never) a setting of the product or its group.
        (5, Some(1), "SLACK", "https://hooks.example.com/other", "SETTINGS", None),
        (6, Some(1), "EMAIL", "own@example", "SETTINGS", None),
        // A TASK's target is the global settings', whatever it equals.
        (7, Some(2), "SLACK", "https://hooks.example.com/group", "SETTINGS", None),
        (8, None, "SLACK", "https://hooks.example.com/test", "TEST", None),
    ];
    for (id, notification, channel, target, _, _) in &deliveries {
        let notification = notification.map_or("NULL".to_owned(), |n| n.to_string());
        db.execute_unprepared(&format!(
            "INSERT INTO deliveries (id, notification_id, channel, target, status, attempts, created_at, updated_at) \
             VALUES ({id}, {notification}, '{channel}', '{target}', 'SENT', 1, {at}, {at})"
        ))
        .await
        .unwrap();
    }
    migration::Migrator::up(&db, None).await.unwrap();
    for (id, _, _, target, origin, origin_id) in deliveries {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT target_origin, target_origin_id FROM deliveries WHERE id = {id}"),
            ))
            .await
            .unwrap()
            .unwrap();
        let got: (String, Option<i64>) = (
            row.try_get("", "target_origin").unwrap(),
            row.try_get("", "target_origin_id").unwrap(),
        );
        assert_eq!(got, (origin.to_owned(), origin_id), "delivery {id} to {target}");
    }
}

on_both_engines!(
    the_migration_credits_only_what_the_settings_still_show,
    delivery_targets_follow_the_setting_they_came_from,
    live_targets_follow_the_viewer_not_the_class,
    a_products_group_shows_its_people_only_to_its_members,
);
