//! Rules on products, groups and their members that roles alone do not
//! express: leaving a group takes MAINTAINER on it.

mod common;

use common::{Engine, TestApp, error_code};
use serde_json::{Value, json};

const UPDATE: &str = "mutation($p: ID!, $i: ProductPatch!) { updateProduct(id: $p, input: $i) { id } }";
const GROUP_OF: &str = "query($p: ID!) { product(id: $p) { productGroup { id } } }";
const SET_GROUP_MEMBER: &str = "mutation($g: ID!, $u: ID!, $r: Role!) { setProductGroupMember(productGroupId: $g, userId: $u, role: $r) { role } }";

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

on_both_engines!(leaving_a_group_takes_maintainer_on_the_group,);
