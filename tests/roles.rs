//! The role matrix: every actor (an administrator, each role held on the
//! product, each role held only through the product's group, a stranger)
//! against every mutation of the schema and every field that carries a
//! secret, on both engines.
//!
//! The expectations are the two tables below, one row per operation and one
//! column per actor, so that the rule can be read off them (design.md:
//! MAINTAINER+ edits a product and reads its webhooks, OWNER deletes,
//! WRITER+ writes observations, UPLOAD+ imports, a group role counts on the
//! group's products, administrators do everything). Every cell checks
//! something that a careless change would break: an allowed mutation must
//! have its effect, a refused one must answer with its exact code and leave
//! everything as it was; a secret is either shown whole or nowhere in the
//! response.

mod common;

use std::time::Duration;

use common::peers::WebhookServer;
use common::{Engine, TestApp, error_code};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Admin,
    /// Signed in, but a member of nothing here.
    Stranger,
    /// The role is held on the product (and its spare sibling), not the group.
    Product(&'static str),
    /// The role is held on the product's group only.
    Group(&'static str),
}

/// The columns of both tables, in this order.
const ACTORS: [Actor; 12] = [
    Actor::Admin,
    Actor::Stranger,
    Actor::Product("READER"),
    Actor::Product("UPLOAD"),
    Actor::Product("WRITER"),
    Actor::Product("MAINTAINER"),
    Actor::Product("OWNER"),
    Actor::Group("READER"),
    Actor::Group("UPLOAD"),
    Actor::Group("WRITER"),
    Actor::Group("MAINTAINER"),
    Actor::Group("OWNER"),
];

/// What a mutation does for an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Can {
    /// Allowed: no error, and the change is there afterwards.
    Yes,
    /// Refused with FORBIDDEN: the caller sees the object but lacks the role.
    Forbidden,
    /// Refused with NOT_FOUND: the caller cannot see the object at all.
    NotFound,
    /// No error, but the ids the caller cannot see are skipped: nothing changes.
    Skipped,
}

const OK: Can = Can::Yes;
const FB: Can = Can::Forbidden;
const NF: Can = Can::NotFound;
const SK: Can = Can::Skipped;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    CreateProductGroup,
    UpdateProductGroup,
    SetProductGroupMember,
    RemoveProductGroupMember,
    CreateProduct,
    CreateProductInGroup,
    UpdateProduct,
    /// `updateProduct(productGroupId: null)`: taking a product out of its group.
    LeaveGroup,
    SetProductMember,
    RemoveProductMember,
    CreateObservation,
    UpdateObservation,
    DeleteObservation,
    ImportObservations,
    MarkNotificationsViewed,
    Redeliver,
    SendTestNotification,
    UpdateSettings,
    CreateUser,
    CreateApiToken,
    RevokeOwnApiToken,
    RevokeSomeoneElsesApiToken,
    DeleteNotifications,
    DeleteProduct,
}

/// Every mutation of the schema (but `login`, which takes no role), run in
/// this order for each actor: deleting the notification and the product
/// comes last, since the rows before need them.
#[rustfmt::skip]
const MUTATIONS: &[(Op, [Can; 12])] = &[
    //                                  admin stranger  |------ on the product ------|  |------ on the group ------|
    //                                                   READ  UPL  WRIT MAINT OWN       READ  UPL  WRIT MAINT OWN
    (Op::CreateProductGroup,         [OK,   OK,          OK,   OK,  OK,  OK,   OK,       OK,   OK,  OK,  OK,   OK]),
    (Op::UpdateProductGroup,         [OK,   NF,          NF,   NF,  NF,  NF,   NF,       FB,   FB,  FB,  OK,   OK]),
    (Op::SetProductGroupMember,      [OK,   NF,          NF,   NF,  NF,  NF,   NF,       FB,   FB,  FB,  OK,   OK]),
    (Op::RemoveProductGroupMember,   [OK,   NF,          NF,   NF,  NF,  NF,   NF,       FB,   FB,  FB,  OK,   OK]),
    (Op::CreateProduct,              [OK,   OK,          OK,   OK,  OK,  OK,   OK,       OK,   OK,  OK,  OK,   OK]),
    (Op::CreateProductInGroup,       [OK,   NF,          NF,   NF,  NF,  NF,   NF,       FB,   FB,  FB,  OK,   OK]),
    (Op::UpdateProduct,              [OK,   NF,          FB,   FB,  FB,  OK,   OK,       FB,   FB,  FB,  OK,   OK]),
    // Leaving a group needs MAINTAINER+ on the group, as joining one does (issue 10, item 6).
    (Op::LeaveGroup,                 [OK,   NF,          FB,   FB,  FB,  NF,   NF,       FB,   FB,  FB,  OK,   OK]),
    (Op::SetProductMember,           [OK,   NF,          FB,   FB,  FB,  OK,   OK,       FB,   FB,  FB,  OK,   OK]),
    (Op::RemoveProductMember,        [OK,   NF,          FB,   FB,  FB,  OK,   OK,       FB,   FB,  FB,  OK,   OK]),
    (Op::CreateObservation,          [OK,   NF,          FB,   FB,  OK,  OK,   OK,       FB,   FB,  OK,  OK,   OK]),
    (Op::UpdateObservation,          [OK,   NF,          FB,   FB,  OK,  OK,   OK,       FB,   FB,  OK,  OK,   OK]),
    (Op::DeleteObservation,          [OK,   NF,          FB,   FB,  OK,  OK,   OK,       FB,   FB,  OK,  OK,   OK]),
    (Op::ImportObservations,         [OK,   NF,          FB,   OK,  OK,  OK,   OK,       FB,   OK,  OK,  OK,   OK]),
    (Op::MarkNotificationsViewed,    [OK,   SK,          OK,   OK,  OK,  OK,   OK,       OK,   OK,  OK,  OK,   OK]),
    (Op::Redeliver,                  [OK,   NF,          FB,   FB,  FB,  OK,   OK,       FB,   FB,  FB,  OK,   OK]),
    (Op::SendTestNotification,       [OK,   FB,          FB,   FB,  FB,  FB,   FB,       FB,   FB,  FB,  FB,   FB]),
    (Op::UpdateSettings,             [OK,   FB,          FB,   FB,  FB,  FB,   FB,       FB,   FB,  FB,  FB,   FB]),
    (Op::CreateUser,                 [OK,   FB,          FB,   FB,  FB,  FB,   FB,       FB,   FB,  FB,  FB,   FB]),
    (Op::CreateApiToken,             [OK,   OK,          OK,   OK,  OK,  OK,   OK,       OK,   OK,  OK,  OK,   OK]),
    (Op::RevokeOwnApiToken,          [OK,   OK,          OK,   OK,  OK,  OK,   OK,       OK,   OK,  OK,  OK,   OK]),
    (Op::RevokeSomeoneElsesApiToken, [OK,   NF,          NF,   NF,  NF,  NF,   NF,       NF,   NF,  NF,  NF,   NF]),
    (Op::DeleteNotifications,        [OK,   SK,          FB,   FB,  FB,  FB,   OK,       FB,   FB,  FB,  FB,   OK]),
    (Op::DeleteProduct,              [OK,   NF,          FB,   FB,  FB,  FB,   OK,       FB,   FB,  FB,  FB,   OK]),
];

/// How much of a secret an actor gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sees {
    /// The secret exactly as configured.
    Whole,
    /// Scheme and host only (`http://127.0.0.1/…`).
    Masked,
    /// The field is null (or the object holding it is hidden).
    Nothing,
    /// The query is refused with FORBIDDEN.
    Refused,
    /// The object holding the field is hidden (null, no error).
    Hidden,
}

const WH: Sees = Sees::Whole;
const MA: Sees = Sees::Masked;
const NO: Sees = Sees::Nothing;
const RF: Sees = Sees::Refused;
const HI: Sees = Sees::Hidden;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    /// `product(id).notificationSlackWebhook`: the product's own URL.
    ProductWebhook,
    /// `productGroup(id).notificationSlackWebhook`.
    GroupSlackWebhook,
    /// `productGroup(id).notificationMsTeamsWebhook`.
    GroupTeamsWebhook,
    /// `product(id).productGroup.notificationMsTeamsWebhook`.
    GroupWebhookThroughProduct,
    /// `settings.exceptionSlackWebhook`.
    SettingsSlackWebhook,
    /// `settings.exceptionMsTeamsWebhook`.
    SettingsTeamsWebhook,
    /// `notification(gate).deliveries[SLACK].target`: the product's own URL.
    GateDeliveryToProductWebhook,
    /// `notification(gate).deliveries[MS_TEAMS].target`: the group's URL,
    /// the product having none of its own.
    GateDeliveryToGroupWebhook,
    /// `delivery(id).target` of the delivery to the product's URL.
    DeliveryToProductWebhook,
    /// `delivery(id).target` of the delivery to the group's URL.
    DeliveryToGroupWebhook,
    /// `notification(task).deliveries[SLACK].target`: the global exception webhook.
    TaskDeliveryToSettingsWebhook,
    /// `product(id).members.user.email` of another member.
    OtherMembersEmail,
}

/// Every secret-bearing field. A delivery's target is readable in full only
/// by whoever may read the setting it came from (issue 10, item 4).
#[rustfmt::skip]
const SECRETS: &[(Secret, [Sees; 12])] = &[
    //                                     admin stranger  |------ on the product ------|  |------ on the group ------|
    //                                                      READ  UPL  WRIT MAINT OWN       READ  UPL  WRIT MAINT OWN
    (Secret::ProductWebhook,                [WH,  HI,        NO,   NO,  NO,  WH,   WH,       NO,   NO,  NO,  WH,   WH]),
    (Secret::GroupSlackWebhook,             [WH,  HI,        HI,   HI,  HI,  HI,   HI,       NO,   NO,  NO,  WH,   WH]),
    (Secret::GroupTeamsWebhook,             [WH,  HI,        HI,   HI,  HI,  HI,   HI,       NO,   NO,  NO,  WH,   WH]),
    (Secret::GroupWebhookThroughProduct,    [WH,  HI,        NO,   NO,  NO,  NO,   NO,       NO,   NO,  NO,  WH,   WH]),
    (Secret::SettingsSlackWebhook,          [WH,  RF,        RF,   RF,  RF,  RF,   RF,       RF,   RF,  RF,  RF,   RF]),
    (Secret::SettingsTeamsWebhook,          [WH,  RF,        RF,   RF,  RF,  RF,   RF,       RF,   RF,  RF,  RF,   RF]),
    (Secret::GateDeliveryToProductWebhook,  [WH,  HI,        MA,   MA,  MA,  WH,   WH,       MA,   MA,  MA,  WH,   WH]),
    (Secret::GateDeliveryToGroupWebhook,    [WH,  HI,        MA,   MA,  MA,  MA,   MA,       MA,   MA,  MA,  WH,   WH]),
    (Secret::DeliveryToProductWebhook,      [WH,  HI,        RF,   RF,  RF,  WH,   WH,       RF,   RF,  RF,  WH,   WH]),
    (Secret::DeliveryToGroupWebhook,        [WH,  HI,        RF,   RF,  RF,  MA,   MA,       RF,   RF,  RF,  WH,   WH]),
    (Secret::TaskDeliveryToSettingsWebhook, [WH,  HI,        MA,   MA,  MA,  MA,   MA,       MA,   MA,  MA,  MA,   MA]),
    (Secret::OtherMembersEmail,             [WH,  HI,        NO,   NO,  NO,  NO,   NO,       NO,   NO,  NO,  NO,   NO]),
];

/// What `WebhookUrl::masked` makes of every URL of the webhook stand-in.
const MASKED: &str = "http://127.0.0.1/…";

/// One actor's world: a group with webhooks, a product in it with a Slack
/// webhook of its own (its Teams messages fall back to the group's), a
/// spare product in the same group, helpers to add and remove, a gate
/// notification and a TASK notification with their deliveries.
struct World {
    n: usize,
    actor: Actor,
    token: String,
    group: String,
    product: String,
    spare: String,
    /// Product READERs: one to promote, one to remove.
    promote: (String, String),
    remove: String,
    /// Group READERs: one to promote, one to remove.
    group_promote: String,
    group_remove: String,
    observations: [String; 2],
    gate_notification: String,
    task_notification: String,
    /// The gate notification's deliveries: to the product's Slack URL and
    /// to the group's Teams URL.
    product_delivery: String,
    group_delivery: String,
    own_token: String,
    helpers_token: String,
    product_slack: String,
    group_slack: String,
    group_teams: String,
}

struct Globals {
    settings_slack: String,
    settings_teams: String,
}

const ADMIN_NOTIFICATIONS: &str =
    "query($f: NotificationFilter) { notifications(filter: $f) { edges { node { id deliveries { id channel } } } } }";

const DELIVERY: &str =
    "query($id: ID!) { delivery(id: $id) { id channel target status attempts history { outcome } } }";

fn str_at<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what}: not a string: {value}"))
}

/// The id of the one delivery on `channel` in a list of deliveries.
fn delivery_on(deliveries: &Value, channel: &str) -> String {
    let found: Vec<&Value> = deliveries
        .as_array()
        .unwrap_or_else(|| panic!("no deliveries: {deliveries}"))
        .iter()
        .filter(|d| d["channel"] == channel)
        .collect();
    assert_eq!(found.len(), 1, "one {channel} delivery in {deliveries}");
    str_at(&found[0]["id"], "delivery id").to_owned()
}

/// The only notification of `kind` on `product`, as (id, deliveries).
async fn only_notification(app: &TestApp, kind: &str, product: &str) -> Option<(String, Value)> {
    let data = app
        .ok(
            &app.admin_token,
            ADMIN_NOTIFICATIONS,
            json!({ "f": { "type": kind, "productId": product } }),
        )
        .await;
    let edges = data["notifications"]["edges"].as_array().unwrap().clone();
    assert!(edges.len() <= 1, "at most one {kind} notification on {product}: {data}");
    edges.first().map(|e| {
        (
            str_at(&e["node"]["id"], "notification id").to_owned(),
            e["node"]["deliveries"].clone(),
        )
    })
}

async fn delivery_as_admin(app: &TestApp, id: &str) -> Value {
    app.ok(&app.admin_token, DELIVERY, json!({ "id": id })).await["delivery"].clone()
}

async fn build(app: &TestApp, hooks: &WebhookServer, n: usize, actor: Actor) -> World {
    let admin = &app.admin_token;
    let product_slack = hooks.url(&format!("/product-{n}/slack-secret"));
    let group_slack = hooks.url(&format!("/group-{n}/slack-secret"));
    let group_teams = hooks.url(&format!("/group-{n}/teams-secret"));
    let group = app
        .group(
            admin,
            json!({ "name": format!("group {n}"), "notificationSlackWebhook": group_slack, "notificationMsTeamsWebhook": group_teams }),
        )
        .await;
    let product = app
        .product(
            admin,
            json!({ "name": format!("product {n}"), "productGroupId": group, "notificationSlackWebhook": product_slack }),
        )
        .await;
    let spare = app
        .product(admin, json!({ "name": format!("spare {n}"), "productGroupId": group }))
        .await;
    let promote = app.user(&format!("promote{n}")).await;
    let (remove, _) = app.user(&format!("remove{n}")).await;
    let (group_promote, _) = app.user(&format!("gpromote{n}")).await;
    let (group_remove, _) = app.user(&format!("gremove{n}")).await;
    app.set_member(&product, &promote.0, "READER").await;
    app.set_member(&product, &remove, "READER").await;
    app.set_group_member(&group, &group_promote, "READER").await;
    app.set_group_member(&group, &group_remove, "READER").await;
    let mut observations = Vec::new();
    for i in 0..2 {
        let data = app
            .ok(
                admin,
                "mutation($i: ObservationInput!) { createObservation(input: $i) { id } }",
                json!({ "i": { "productId": product, "title": format!("finding {i}"), "severity": "LOW" } }),
            )
            .await;
        observations.push(str_at(&data["createObservation"]["id"], "observation id").to_owned());
    }
    let token = match actor {
        Actor::Admin => admin.clone(),
        Actor::Stranger => app.user(&format!("actor{n}")).await.1,
        Actor::Product(role) => {
            let (id, token) = app.user(&format!("actor{n}")).await;
            app.set_member(&product, &id, role).await;
            app.set_member(&spare, &id, role).await;
            token
        }
        Actor::Group(role) => {
            let (id, token) = app.user(&format!("actor{n}")).await;
            app.set_group_member(&group, &id, role).await;
            token
        }
    };

    // A gate change: one delivery to the product's Slack URL, one to the
    // group's Teams URL (the product has none of its own).
    let imported = app.import(admin, &product, &[("rce", "CRITICAL")]).await;
    assert_eq!(
        imported["data"]["importObservations"]["securityGate"], "FAILED",
        "{imported}"
    );
    let (gate_notification, deliveries) = only_notification(app, "SECURITY_GATE", &product)
        .await
        .expect("a gate notification");
    let product_delivery = delivery_on(&deliveries, "SLACK");
    let group_delivery = delivery_on(&deliveries, "MS_TEAMS");
    let deadline = tokio::time::Instant::now() + WAIT;
    for id in [&product_delivery, &group_delivery] {
        loop {
            let d = delivery_as_admin(app, id).await;
            if d["status"] == "SENT" {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "delivery {id} not sent: {d}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    // A failed background job of the product: delivered to the global
    // exception webhooks.
    app.ok(
        admin,
        "mutation($p: ID!, $m: String!) { injectFault(kind: TASK, message: $m, productId: $p) }",
        json!({ "p": product, "m": format!("task {n}") }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let (task_notification, task_deliveries) = loop {
        if let Some(task) = only_notification(app, "TASK", &product).await {
            break task;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no TASK notification on {product}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    delivery_on(&task_deliveries, "SLACK");

    let create_token = "mutation($n: String!) { createApiToken(name: $n) { apiToken { id } } }";
    let own_token =
        app.ok(&token, create_token, json!({ "n": format!("own-{n}") })).await["createApiToken"]["apiToken"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let helpers_token = app
        .ok(&promote.1, create_token, json!({ "n": format!("helper-{n}") }))
        .await["createApiToken"]["apiToken"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    World {
        n,
        actor,
        token,
        group,
        product,
        spare,
        promote,
        remove,
        group_promote,
        group_remove,
        observations: observations.try_into().unwrap(),
        gate_notification,
        task_notification,
        product_delivery,
        group_delivery,
        own_token,
        helpers_token,
        product_slack,
        group_slack,
        group_teams,
    }
}

/// The mutation `op` as the actor: (query, variables).
fn mutation(op: Op, w: &World, hooks: &WebhookServer) -> (&'static str, Value) {
    let n = w.n;
    match op {
        Op::CreateProductGroup => (
            "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }",
            json!({ "i": { "name": format!("made group {n}") } }),
        ),
        Op::UpdateProductGroup => (
            "mutation($id: ID!) { updateProductGroup(id: $id, input: { description: \"changed\" }) { id } }",
            json!({ "id": w.group }),
        ),
        Op::SetProductGroupMember => (
            "mutation($g: ID!, $u: ID!) { setProductGroupMember(productGroupId: $g, userId: $u, role: UPLOAD) { role } }",
            json!({ "g": w.group, "u": w.group_promote }),
        ),
        Op::RemoveProductGroupMember => (
            "mutation($g: ID!, $u: ID!) { removeProductGroupMember(productGroupId: $g, userId: $u) }",
            json!({ "g": w.group, "u": w.group_remove }),
        ),
        Op::CreateProduct => (
            "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "name": format!("made product {n}") } }),
        ),
        Op::CreateProductInGroup => (
            "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "name": format!("made grouped product {n}"), "productGroupId": w.group } }),
        ),
        Op::UpdateProduct => (
            "mutation($id: ID!) { updateProduct(id: $id, input: { description: \"changed\" }) { id } }",
            json!({ "id": w.product }),
        ),
        Op::LeaveGroup => (
            "mutation($id: ID!) { updateProduct(id: $id, input: { productGroupId: null }) { id } }",
            json!({ "id": w.spare }),
        ),
        Op::SetProductMember => (
            "mutation($p: ID!, $u: ID!) { setProductMember(productId: $p, userId: $u, role: UPLOAD) { role } }",
            json!({ "p": w.product, "u": w.promote.0 }),
        ),
        Op::RemoveProductMember => (
            "mutation($p: ID!, $u: ID!) { removeProductMember(productId: $p, userId: $u) }",
            json!({ "p": w.product, "u": w.remove }),
        ),
        Op::CreateObservation => (
            "mutation($p: ID!) { createObservation(input: { productId: $p, title: \"created\", severity: \"LOW\" }) { id } }",
            json!({ "p": w.product }),
        ),
        Op::UpdateObservation => (
            "mutation($id: ID!) { updateObservation(id: $id, input: { status: RISK_ACCEPTED }) { status } }",
            json!({ "id": w.observations[0] }),
        ),
        Op::DeleteObservation => (
            "mutation($id: ID!) { deleteObservation(id: $id) }",
            json!({ "id": w.observations[1] }),
        ),
        Op::ImportObservations => (
            "mutation($p: ID!) { importObservations(productId: $p, scanner: \"zap\", observations: [{ title: \"imported\", severity: LOW }]) { created } }",
            json!({ "p": w.product }),
        ),
        Op::MarkNotificationsViewed => (
            "mutation($ids: [ID!]!) { markNotificationsViewed(ids: $ids) }",
            json!({ "ids": [w.gate_notification] }),
        ),
        Op::Redeliver => (
            "mutation($id: ID!) { redeliver(deliveryId: $id) { id status } }",
            json!({ "id": w.product_delivery }),
        ),
        Op::SendTestNotification => (
            "mutation($t: String!) { sendTestNotification(channel: SLACK, target: $t) { id } }",
            json!({ "t": hooks.url(&format!("/test-{n}")) }),
        ),
        Op::UpdateSettings => (
            "mutation($u: String!) { updateSettings(input: { baseUrlFrontend: $u }) { baseUrlFrontend } }",
            json!({ "u": format!("https://herald-{n}.example") }),
        ),
        Op::CreateUser => (
            "mutation($u: String!) { createUser(input: { username: $u, password: \"a long password\" }) { id } }",
            json!({ "u": format!("made{n}") }),
        ),
        Op::CreateApiToken => (
            "mutation($n: String!) { createApiToken(name: $n) { token } }",
            json!({ "n": format!("made-{n}") }),
        ),
        Op::RevokeOwnApiToken => (
            "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
            json!({ "id": w.own_token }),
        ),
        Op::RevokeSomeoneElsesApiToken => (
            "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
            json!({ "id": w.helpers_token }),
        ),
        Op::DeleteNotifications => (
            "mutation($ids: [ID!]!) { deleteNotifications(ids: $ids) }",
            json!({ "ids": [w.gate_notification] }),
        ),
        Op::DeleteProduct => (
            "mutation($id: ID!) { deleteProduct(id: $id) }",
            json!({ "id": w.product }),
        ),
    }
}

/// Whether the effect of `op` is there, read by whoever may read it.
async fn happened(op: Op, app: &TestApp, w: &World, hooks: &WebhookServer) -> bool {
    let admin = &app.admin_token;
    let n = w.n;
    let product = |id: &str| {
        let id = id.to_owned();
        async move {
            app.ok(
                admin,
                "query($id: ID!) { product(id: $id) { description productGroup { id } members { user { id } role } observations { id title status } } }",
                json!({ "id": id }),
            )
            .await["product"]
                .clone()
        }
    };
    let group = || async {
        app.ok(
            admin,
            "query($id: ID!) { productGroup(id: $id) { description members { user { id } role } } }",
            json!({ "id": w.group }),
        )
        .await["productGroup"]
            .clone()
    };
    let role_of = |members: &Value, user: &str| -> Option<String> {
        members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["id"] == user)
            .map(|m| m["role"].as_str().unwrap().to_owned())
    };
    let names = |query: &'static str, token: String, list: &'static str| async move {
        let data = app.ok(&token, query, json!({})).await;
        data[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().or(x["username"].as_str()).unwrap().to_owned())
            .collect::<Vec<String>>()
    };
    let token_revoked = |token: String, name: String| async move {
        let data = app.ok(&token, "{ apiTokens { name revokedAt } }", json!({})).await;
        let found = data["apiTokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("token {name} in {data}"));
        !found["revokedAt"].is_null()
    };
    match op {
        Op::CreateProductGroup => names("{ productGroups { name } }", admin.clone(), "productGroups")
            .await
            .contains(&format!("made group {n}")),
        Op::UpdateProductGroup => group().await["description"] == "changed",
        Op::SetProductGroupMember => role_of(&group().await["members"], &w.group_promote).as_deref() == Some("UPLOAD"),
        Op::RemoveProductGroupMember => role_of(&group().await["members"], &w.group_remove).is_none(),
        Op::CreateProduct => names("{ products { name } }", admin.clone(), "products")
            .await
            .contains(&format!("made product {n}")),
        Op::CreateProductInGroup => names("{ products { name } }", admin.clone(), "products")
            .await
            .contains(&format!("made grouped product {n}")),
        Op::UpdateProduct => product(&w.product).await["description"] == "changed",
        Op::LeaveGroup => product(&w.spare).await["productGroup"].is_null(),
        Op::SetProductMember => {
            role_of(&product(&w.product).await["members"], &w.promote.0).as_deref() == Some("UPLOAD")
        }
        Op::RemoveProductMember => role_of(&product(&w.product).await["members"], &w.remove).is_none(),
        Op::CreateObservation | Op::UpdateObservation | Op::DeleteObservation | Op::ImportObservations => {
            let observations = product(&w.product).await["observations"].clone();
            let observations = observations.as_array().unwrap();
            match op {
                Op::CreateObservation => observations.iter().any(|o| o["title"] == "created"),
                Op::UpdateObservation => observations
                    .iter()
                    .any(|o| o["id"] == w.observations[0].as_str() && o["status"] == "RISK_ACCEPTED"),
                Op::DeleteObservation => !observations.iter().any(|o| o["id"] == w.observations[1].as_str()),
                _ => observations.iter().any(|o| o["title"] == "imported"),
            }
        }
        Op::MarkNotificationsViewed => {
            let data = app
                .ok(
                    &w.token,
                    "query($id: ID!) { notification(id: $id) { viewed } }",
                    json!({ "id": w.gate_notification }),
                )
                .await;
            data["notification"]["viewed"] == true
        }
        Op::Redeliver => {
            // A second attempt, after the first one had been SENT.
            let d = delivery_as_admin(app, &w.product_delivery).await;
            d["status"] != "SENT" || d["history"].as_array().unwrap().len() > 1
        }
        Op::SendTestNotification => hooks.requests().iter().any(|r| r.path == format!("/test-{n}")),
        Op::UpdateSettings => {
            app.ok(admin, "{ settings { baseUrlFrontend } }", json!({})).await["settings"]["baseUrlFrontend"]
                == format!("https://herald-{n}.example").as_str()
        }
        Op::CreateUser => names("{ users { username } }", admin.clone(), "users")
            .await
            .contains(&format!("made{n}")),
        Op::CreateApiToken => names("{ apiTokens { name } }", w.token.clone(), "apiTokens")
            .await
            .contains(&format!("made-{n}")),
        Op::RevokeOwnApiToken => token_revoked(w.token.clone(), format!("own-{n}")).await,
        Op::RevokeSomeoneElsesApiToken => token_revoked(w.promote.1.clone(), format!("helper-{n}")).await,
        Op::DeleteNotifications => app
            .ok(
                admin,
                "query($id: ID!) { notification(id: $id) { id } }",
                json!({ "id": w.gate_notification }),
            )
            .await["notification"]
            .is_null(),
        Op::DeleteProduct => product(&w.product).await.is_null(),
    }
}

/// The secrets that must not appear in a response that does not show them whole.
fn secret_of(secret: Secret, w: &World, globals: &Globals) -> String {
    match secret {
        Secret::ProductWebhook | Secret::GateDeliveryToProductWebhook | Secret::DeliveryToProductWebhook => {
            w.product_slack.clone()
        }
        Secret::GroupSlackWebhook => w.group_slack.clone(),
        Secret::GroupTeamsWebhook
        | Secret::GroupWebhookThroughProduct
        | Secret::GateDeliveryToGroupWebhook
        | Secret::DeliveryToGroupWebhook => w.group_teams.clone(),
        Secret::SettingsSlackWebhook | Secret::TaskDeliveryToSettingsWebhook => globals.settings_slack.clone(),
        Secret::SettingsTeamsWebhook => globals.settings_teams.clone(),
        Secret::OtherMembersEmail => format!("remove{}@example.com", w.n),
    }
}

/// Reads `secret` as the actor: the response, and the value (`None` when
/// the object holding it is hidden).
async fn read(secret: Secret, app: &TestApp, w: &World) -> (Value, Option<Value>) {
    let (query, variables) = match secret {
        Secret::ProductWebhook => (
            "query($id: ID!) { product(id: $id) { notificationSlackWebhook } }",
            json!({ "id": w.product }),
        ),
        Secret::GroupSlackWebhook => (
            "query($id: ID!) { productGroup(id: $id) { notificationSlackWebhook } }",
            json!({ "id": w.group }),
        ),
        Secret::GroupTeamsWebhook => (
            "query($id: ID!) { productGroup(id: $id) { notificationMsTeamsWebhook } }",
            json!({ "id": w.group }),
        ),
        Secret::GroupWebhookThroughProduct => (
            "query($id: ID!) { product(id: $id) { productGroup { notificationMsTeamsWebhook notificationSlackWebhook } } }",
            json!({ "id": w.product }),
        ),
        Secret::SettingsSlackWebhook => ("{ settings { exceptionSlackWebhook } }", json!({})),
        Secret::SettingsTeamsWebhook => ("{ settings { exceptionMsTeamsWebhook } }", json!({})),
        Secret::GateDeliveryToProductWebhook | Secret::GateDeliveryToGroupWebhook => (
            "query($id: ID!) { notification(id: $id) { deliveries { id channel target } } }",
            json!({ "id": w.gate_notification }),
        ),
        Secret::TaskDeliveryToSettingsWebhook => (
            "query($id: ID!) { notification(id: $id) { deliveries { id channel target } } }",
            json!({ "id": w.task_notification }),
        ),
        Secret::DeliveryToProductWebhook => (
            "query($id: ID!) { delivery(id: $id) { target } }",
            json!({ "id": w.product_delivery }),
        ),
        Secret::DeliveryToGroupWebhook => (
            "query($id: ID!) { delivery(id: $id) { target } }",
            json!({ "id": w.group_delivery }),
        ),
        Secret::OtherMembersEmail => (
            "query($id: ID!) { product(id: $id) { members { user { id email } } } }",
            json!({ "id": w.product }),
        ),
    };
    let body = app.gql(Some(&w.token), query, variables).await;
    let data = &body["data"];
    let parent_and_field = match secret {
        Secret::ProductWebhook => (&data["product"], "notificationSlackWebhook"),
        Secret::GroupSlackWebhook => (&data["productGroup"], "notificationSlackWebhook"),
        Secret::GroupTeamsWebhook => (&data["productGroup"], "notificationMsTeamsWebhook"),
        Secret::GroupWebhookThroughProduct => (&data["product"], "productGroup"),
        Secret::SettingsSlackWebhook => (&data["settings"], "exceptionSlackWebhook"),
        Secret::SettingsTeamsWebhook => (&data["settings"], "exceptionMsTeamsWebhook"),
        Secret::GateDeliveryToProductWebhook | Secret::GateDeliveryToGroupWebhook => {
            (&data["notification"], "deliveries")
        }
        Secret::TaskDeliveryToSettingsWebhook => (&data["notification"], "deliveries"),
        Secret::DeliveryToProductWebhook | Secret::DeliveryToGroupWebhook => (&data["delivery"], "target"),
        Secret::OtherMembersEmail => (&data["product"], "members"),
    };
    let (parent, field) = parent_and_field;
    if parent.is_null() {
        return (body.clone(), None);
    }
    let field = &parent[field];
    let value = match secret {
        Secret::GroupWebhookThroughProduct => field["notificationMsTeamsWebhook"].clone(),
        Secret::GateDeliveryToProductWebhook => target_of(field, &w.product_delivery),
        Secret::GateDeliveryToGroupWebhook => target_of(field, &w.group_delivery),
        Secret::TaskDeliveryToSettingsWebhook => {
            let slack: Vec<&Value> = field
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["channel"] == "SLACK")
                .collect();
            assert_eq!(slack.len(), 1, "{body}");
            slack[0]["target"].clone()
        }
        Secret::OtherMembersEmail => field
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["id"] == w.remove.as_str())
            .unwrap_or_else(|| panic!("the member is listed: {body}"))["user"]["email"]
            .clone(),
        _ => field.clone(),
    };
    (body.clone(), Some(value))
}

fn target_of(deliveries: &Value, id: &str) -> Value {
    deliveries
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("delivery {id} in {deliveries}"))["target"]
        .clone()
}

/// Checks one cell of `SECRETS`; what is wrong goes to `failures`.
fn check_secret(
    secret: Secret,
    expected: Sees,
    w: &World,
    globals: &Globals,
    body: &Value,
    value: Option<Value>,
    failures: &mut Vec<String>,
) {
    let actor = w.actor;
    let whole = secret_of(secret, w, globals);
    let mut fail = |what: &str| {
        failures.push(format!(
            "{actor:?} reading {secret:?} (expected {expected:?}): {what}: {body}"
        ))
    };
    let code = body["errors"][0]["extensions"]["code"].as_str();
    if expected == Sees::Refused {
        if code != Some("FORBIDDEN") {
            fail("not refused with FORBIDDEN");
        }
    } else if body.get("errors").is_some() {
        fail("unexpected errors");
    }
    let right = match expected {
        Sees::Whole => value == Some(json!(whole)),
        Sees::Masked => value == Some(json!(MASKED)),
        Sees::Nothing => value.as_ref().is_none_or(|v| v.is_null()),
        Sees::Hidden => value.is_none(),
        Sees::Refused => true,
    };
    if !right {
        fail(&format!("got {value:?}"));
    }
    if expected != Sees::Whole {
        // Not in another field, nor in an error message, nor its path alone.
        let text = body.to_string();
        let mut secrets = vec![whole.clone()];
        if secret == Secret::TaskDeliveryToSettingsWebhook {
            // Its Teams delivery comes from the same settings.
            secrets.push(globals.settings_teams.clone());
        }
        for whole in secrets {
            let path = whole.split("127.0.0.1").last().unwrap();
            if text.contains(&whole) || text.contains(path) {
                fail("the secret, or part of it, is in the response");
            }
        }
    }
}

fn column(actor: Actor) -> usize {
    ACTORS.iter().position(|a| *a == actor).unwrap()
}

async fn the_role_matrix(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn(engine).await;
    let globals = Globals {
        settings_slack: hooks.url("/settings/slack-secret"),
        settings_teams: hooks.url("/settings/teams-secret"),
    };
    app.ok(
        &app.admin_token,
        "mutation($s: String!, $t: String!) { updateSettings(input: { exceptionSlackWebhook: $s, exceptionMsTeamsWebhook: $t }) { emailFrom } }",
        json!({ "s": globals.settings_slack, "t": globals.settings_teams }),
    )
    .await;

    // Every wrong cell, reported together at the end.
    let mut failures: Vec<String> = Vec::new();
    for (n, actor) in ACTORS.into_iter().enumerate() {
        let w = build(&app, &hooks, n, actor).await;
        let col = column(actor);

        // Who sees the product at all, and with which role.
        let body = app
            .gql(
                Some(&w.token),
                "query($p: ID!) { product(id: $p) { myRole } products { id } }",
                json!({ "p": w.product }),
            )
            .await;
        let listed = body["data"]["products"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == w.product.as_str());
        let role = match actor {
            Actor::Admin => Some("OWNER"),
            Actor::Stranger => None,
            Actor::Product(role) | Actor::Group(role) => Some(role),
        };
        assert_eq!(listed, role.is_some(), "{actor:?} lists the product: {body}");
        match role {
            Some(role) => assert_eq!(body["data"]["product"]["myRole"], role, "{actor:?}: {body}"),
            None => assert_eq!(body["data"]["product"], Value::Null, "{actor:?}: {body}"),
        }

        for (secret, row) in SECRETS {
            let (body, value) = read(*secret, &app, &w).await;
            check_secret(*secret, row[col], &w, &globals, &body, value, &mut failures);
        }

        for (op, row) in MUTATIONS {
            let expected = row[col];
            let mut fail =
                |what: String| failures.push(format!("{actor:?} doing {op:?} (expected {expected:?}): {what}"));
            if happened(*op, &app, &w, &hooks).await {
                fail("done before it was asked".into());
            }
            let (query, variables) = mutation(*op, &w, &hooks);
            let body = app.gql(Some(&w.token), query, variables).await;
            let code = body["errors"][0]["extensions"]["code"].as_str();
            let code_right = match expected {
                Can::Yes | Can::Skipped => body.get("errors").is_none(),
                Can::Forbidden => code == Some("FORBIDDEN"),
                Can::NotFound => code == Some("NOT_FOUND"),
            };
            if !code_right {
                fail(format!("answered {body}"));
            }
            let answer = body["data"].as_object().and_then(|d| d.values().next()).cloned();
            match op {
                Op::MarkNotificationsViewed | Op::DeleteNotifications if code_right && expected != Can::Forbidden => {
                    let count = if expected == Can::Yes { 1 } else { 0 };
                    if answer != Some(json!(count)) {
                        fail(format!("expected a count of {count}: {body}"));
                    }
                }
                Op::Redeliver
                    if code_right && expected == Can::Yes && body["data"]["redeliver"]["status"] != "PENDING" =>
                {
                    fail(format!("not started over: {body}"));
                }
                _ => {}
            }
            if expected == Can::Yes {
                let mut done = false;
                for _ in 0..200 {
                    done = happened(*op, &app, &w, &hooks).await;
                    if done {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                if !done {
                    fail(format!("no effect after {body}"));
                }
            } else if happened(*op, &app, &w, &hooks).await {
                fail(format!("refused, yet done: {body}"));
            }
            if *op == Op::Redeliver && expected == Can::Yes {
                // Let the second attempt finish before anything else touches it.
                app.eventually("the redelivery is sent", || async {
                    delivery_as_admin(&app, &w.product_delivery).await["status"] == "SENT"
                })
                .await;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells of the role matrix are wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Only the administrator's test notification went out: a refused one
    // would have been queued long before this canary of the admin's.
    let canary = hooks.url("/test-canary");
    app.ok(
        &app.admin_token,
        "mutation($t: String!) { sendTestNotification(channel: SLACK, target: $t) { id } }",
        json!({ "t": canary }),
    )
    .await;
    app.eventually("the canary test notification", || async {
        hooks.requests().iter().any(|r| r.path == "/test-canary")
    })
    .await;
    let mut tests: Vec<String> = hooks
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/test-"))
        .map(|r| r.path)
        .collect();
    tests.sort();
    let admin_column = column(Actor::Admin);
    assert_eq!(tests, [format!("/test-{admin_column}"), "/test-canary".to_owned()]);
}

async fn only_owners_hand_out_the_owner_role(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (_, owner) = app.user("owner").await;
    let product = app.product(&owner, json!({ "name": "shop" })).await;
    let (maint_id, maintainer) = app.user("maint").await;
    app.user("other").await;
    app.set_member(&product, &maint_id, "MAINTAINER").await;
    // Members are named by username: ids are not for strangers to probe.
    let set =
        "mutation($p: ID!, $u: String!, $r: Role!) { setProductMember(productId: $p, user: $u, role: $r) { role } }";
    let body = app
        .gql(
            Some(&maintainer),
            set,
            json!({ "p": product, "u": "other", "r": "OWNER" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql(
            Some(&maintainer),
            set,
            json!({ "p": product, "u": "owner", "r": "READER" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "a maintainer cannot demote an owner");
    app.ok(&owner, set, json!({ "p": product, "u": "other", "r": "OWNER" }))
        .await;
    let members = app
        .ok(
            &owner,
            "query($p: ID!) { product(id: $p) { members { user { username } role } } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(
        members["product"]["members"],
        json!([
            { "user": { "username": "maint" }, "role": "MAINTAINER" },
            { "user": { "username": "other" }, "role": "OWNER" },
            { "user": { "username": "owner" }, "role": "OWNER" },
        ])
    );
}

on_both_engines!(the_role_matrix, only_owners_hand_out_the_owner_role);
