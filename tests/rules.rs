//! Rules on products, groups and their members that roles alone do not
//! express: leaving a group takes MAINTAINER on it, a product or group keeps
//! an OWNER, observation ids reveal nothing about products the caller cannot
//! see, and the final attempt of a delivery is recorded (and logged) as the
//! failure it is.

mod common;

use std::time::Duration;

use common::peers::{Reply, WebhookServer};
use common::process::Launch;
use common::{Engine, TestApp, TestDatabase, error_code};
use serde_json::{Value, json};

const UPDATE: &str = "mutation($p: ID!, $i: ProductPatch!) { updateProduct(id: $p, input: $i) { id } }";
const GROUP_OF: &str = "query($p: ID!) { product(id: $p) { productGroup { id } } }";
const SET_MEMBER: &str =
    "mutation($p: ID!, $u: ID!, $r: Role!) { setProductMember(productId: $p, userId: $u, role: $r) { role } }";
const REMOVE_MEMBER: &str = "mutation($p: ID!, $u: ID!) { removeProductMember(productId: $p, userId: $u) }";
const SET_GROUP_MEMBER: &str = "mutation($g: ID!, $u: ID!, $r: Role!) { setProductGroupMember(productGroupId: $g, userId: $u, role: $r) { role } }";
const ADD_MEMBER: &str =
    "mutation($p: ID!, $n: String!, $r: Role!) { setProductMember(productId: $p, user: $n, role: $r) { role } }";
const ADD_GROUP_MEMBER: &str = "mutation($g: ID!, $n: String!, $r: Role!) { setProductGroupMember(productGroupId: $g, user: $n, role: $r) { role } }";
const REMOVE_GROUP_MEMBER: &str =
    "mutation($g: ID!, $u: ID!) { removeProductGroupMember(productGroupId: $g, userId: $u) }";

async fn group(app: &TestApp, token: &str, name: &str) -> String {
    app.ok(
        token,
        "mutation($n: String!) { createProductGroup(input: { name: $n }) { id } }",
        json!({ "n": name }),
    )
    .await["createProductGroup"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn group_of(app: &TestApp, product: &str) -> Value {
    app.ok(&app.admin_token, GROUP_OF, json!({ "p": product })).await["product"]["productGroup"].clone()
}

fn bad_input_field(body: &Value) -> &str {
    assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
    body["errors"][0]["extensions"]["field"].as_str().unwrap()
}

async fn leaving_a_group_takes_maintainer_on_the_group(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let home = group(&app, &admin, "home").await;
    let product = app
        .product(&admin, json!({ "name": "shop", "productGroupId": home }))
        .await;
    let (maintainer_id, maintainer) = app.user("maintainer").await;
    app.set_member(&product, &maintainer_id, "MAINTAINER").await;
    // The product maintainer owns a group of their own.
    let elsewhere = group(&app, &maintainer, "elsewhere").await;

    for (what, target) in [
        ("out of its group", json!(null)),
        ("into their own group", json!(elsewhere)),
    ] {
        let body = app
            .gql(
                Some(&maintainer),
                UPDATE,
                json!({ "p": product, "i": { "productGroupId": target } }),
            )
            .await;
        // A group they hold no role on reads as NOT_FOUND, as when joining.
        assert_eq!(error_code(&body), "NOT_FOUND", "moving it {what}: {body}");
        assert_eq!(group_of(&app, &product).await, json!({ "id": home }), "{what}");
    }
    // Everything else about the product is still theirs to change.
    app.ok(&maintainer, UPDATE, json!({ "p": product, "i": { "name": "shop 2" } }))
        .await;

    // MAINTAINER on the group may take it out; then the product maintainer
    // may put it into a group where they are MAINTAINER.
    let (group_maintainer_id, group_maintainer) = app.user("groupmaintainer").await;
    app.ok(
        &admin,
        SET_GROUP_MEMBER,
        json!({ "g": home, "u": group_maintainer_id, "r": "MAINTAINER" }),
    )
    .await;
    app.ok(
        &group_maintainer,
        UPDATE,
        json!({ "p": product, "i": { "productGroupId": null } }),
    )
    .await;
    assert_eq!(group_of(&app, &product).await, json!(null));
    app.ok(
        &maintainer,
        UPDATE,
        json!({ "p": product, "i": { "productGroupId": elsewhere } }),
    )
    .await;
    assert_eq!(group_of(&app, &product).await, json!({ "id": elsewhere }));
}

async fn a_product_and_a_group_keep_an_owner(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let (owner_id, owner) = app.user("owner").await;
    let product = app.product(&owner, json!({ "name": "shop" })).await;
    let members = "query($p: ID!) { product(id: $p) { members { user { username } role } } }";
    let before = app.ok(&admin, members, json!({ "p": product })).await;

    // The only OWNER can neither leave nor step down, whoever asks.
    for token in [&owner, &admin] {
        let body = app
            .gql(Some(token), REMOVE_MEMBER, json!({ "p": product, "u": owner_id }))
            .await;
        assert_eq!(bad_input_field(&body), "userId");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("must keep an OWNER"), "{message}");
        let body = app
            .gql(
                Some(token),
                SET_MEMBER,
                json!({ "p": product, "u": owner_id, "r": "MAINTAINER" }),
            )
            .await;
        assert_eq!(bad_input_field(&body), "role");
    }
    assert_eq!(app.ok(&admin, members, json!({ "p": product })).await, before);

    // With a second OWNER, either may step down, and the other then stays.
    let (second_id, second) = app.user("second").await;
    app.ok(&owner, ADD_MEMBER, json!({ "p": product, "n": "second", "r": "OWNER" }))
        .await;
    app.ok(
        &owner,
        SET_MEMBER,
        json!({ "p": product, "u": owner_id, "r": "MAINTAINER" }),
    )
    .await;
    let body = app
        .gql(Some(&second), REMOVE_MEMBER, json!({ "p": product, "u": second_id }))
        .await;
    assert_eq!(bad_input_field(&body), "userId");
    app.ok(&second, REMOVE_MEMBER, json!({ "p": product, "u": owner_id }))
        .await;

    // A group's OWNERs do not count for its products: the product could
    // leave the group, and administrators own everything anyway.
    let home = group(&app, &second, "home").await;
    app.ok(
        &second,
        UPDATE,
        json!({ "p": product, "i": { "productGroupId": home } }),
    )
    .await;
    let body = app
        .gql(Some(&second), REMOVE_MEMBER, json!({ "p": product, "u": second_id }))
        .await;
    assert_eq!(bad_input_field(&body), "userId");

    // The same for a group.
    for (query, vars, field) in [
        (REMOVE_GROUP_MEMBER, json!({ "g": home, "u": second_id }), "userId"),
        (
            SET_GROUP_MEMBER,
            json!({ "g": home, "u": second_id, "r": "READER" }),
            "role",
        ),
    ] {
        let body = app.gql(Some(&second), query, vars).await;
        assert_eq!(bad_input_field(&body), field);
    }
    app.ok(
        &second,
        ADD_GROUP_MEMBER,
        json!({ "g": home, "n": "owner", "r": "OWNER" }),
    )
    .await;
    app.ok(&second, REMOVE_GROUP_MEMBER, json!({ "g": home, "u": second_id }))
        .await;
}

async fn observation_ids_reveal_nothing_about_hidden_products(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "secret" })).await;
    let observation = app
        .ok(
            &admin,
            "mutation($p: ID!) { createObservation(input: { productId: $p, title: \"t\", severity: LOW }) { id } }",
            json!({ "p": product }),
        )
        .await["createObservation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, stranger) = app.user("stranger").await;
    let queries = [
        "mutation($id: ID!) { updateObservation(id: $id, input: { status: RESOLVED }) { id } }",
        "mutation($id: ID!) { deleteObservation(id: $id) }",
    ];
    for query in queries {
        let hidden = app.gql(Some(&stranger), query, json!({ "id": observation })).await;
        let missing = app.gql(Some(&stranger), query, json!({ "id": "424242" })).await;
        assert_eq!(error_code(&hidden), "NOT_FOUND", "{hidden}");
        assert_eq!(
            hidden["errors"][0]["message"], missing["errors"][0]["message"],
            "an existing observation on a hidden product reads like a missing one"
        );
        assert_eq!(hidden["errors"][0]["extensions"], missing["errors"][0]["extensions"]);
    }
    let data = app
        .ok(
            &admin,
            "query($p: ID!) { product(id: $p) { observations { id status } } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(
        data["product"]["observations"],
        json!([{ "id": observation, "status": "OPEN" }])
    );
    // A member below WRITER still learns that it is not allowed.
    let (reader_id, reader) = app.user("reader").await;
    app.set_member(&product, &reader_id, "READER").await;
    let body = app.gql(Some(&reader), queries[1], json!({ "id": observation })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

/// The JSON log lines of the delivery worker's attempts at one delivery, in order.
fn attempt_lines(output: &str, delivery_id: i64) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "delivery attempt" && line["delivery_id"] == delivery_id)
        .collect()
}

async fn the_final_attempt_of_an_exhausted_delivery_is_a_failure(engine: Engine) {
    let hooks = WebhookServer::start().await;
    hooks.script(vec![Reply::Status(500, "down"), Reply::Status(500, "still down")]);
    let database = TestDatabase::create(engine).await;
    let herald = Launch::new("exhausted", &database.url)
        .env("RUST_LOG", "info")
        .env("HERALD_LOG_FORMAT", "json")
        .env("HERALD_RETRY_SCHEDULE", "200ms")
        .start()
        .await;
    let admin = herald.login().await;
    let product = herald
        .ok(
            &admin,
            "mutation($h: String!) { createProduct(input: { name: \"shop\", notificationSlackWebhook: $h }) { id } }",
            json!({ "h": hooks.url("/services/T/B/X") }),
        )
        .await["createProduct"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    herald
        .ok(
            &admin,
            "mutation($p: ID!) { importObservations(productId: $p, scanner: \"s\", observations: [{ title: \"x\", severity: CRITICAL }]) { created } }",
            json!({ "p": product }),
        )
        .await;
    let deliveries = "{ notifications { edges { node { deliveries { id status } } } } }";
    let mut delivery = Value::Null;
    for _ in 0..200 {
        let data = herald.ok(&admin, deliveries, json!({})).await;
        delivery = data["notifications"]["edges"][0]["node"]["deliveries"][0].clone();
        if delivery["status"] == "FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivery["status"], "FAILED", "{delivery}");
    let history = herald
        .ok(
            &admin,
            "query($id: ID!) { delivery(id: $id) { history { outcome statusCode } } }",
            json!({ "id": delivery["id"] }),
        )
        .await;
    assert_eq!(
        history["delivery"]["history"],
        json!([{ "outcome": "RETRY", "statusCode": 500 }, { "outcome": "FAILED", "statusCode": 500 }])
    );
    let id: i64 = delivery["id"].as_str().unwrap().parse().unwrap();
    let lines = attempt_lines(&herald.output(), id);
    let outcomes: Vec<&Value> = lines.iter().map(|l| &l["outcome"]).collect();
    assert_eq!(outcomes, [&json!("RETRY"), &json!("FAILED")], "{lines:?}");
    assert_eq!(lines[1]["attempt"], 2);
}

on_both_engines!(
    leaving_a_group_takes_maintainer_on_the_group,
    a_product_and_a_group_keep_an_owner,
    observation_ids_reveal_nothing_about_hidden_products,
    the_final_attempt_of_an_exhausted_delivery_is_a_failure,
);
