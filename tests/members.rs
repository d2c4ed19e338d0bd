//! Members are added by exact username or email; a user id reveals nothing
//! about an account the caller has no business with, and whether a user is
//! an administrator is told only to administrators and to the user.

mod common;

use common::{Engine, TestApp, error_code};
use serde_json::{Value, json};

const SET_BY_ID: &str = "mutation($p: ID!, $u: ID!, $r: Role!) { setProductMember(productId: $p, userId: $u, role: $r) { role user { username } } }";
const SET_BY_NAME: &str = "mutation($p: ID!, $u: String!, $r: Role!) { setProductMember(productId: $p, user: $u, role: $r) { role user { username } } }";

async fn members(app: &TestApp, token: &str, product: &str) -> Value {
    app.ok(
        token,
        "query($p: ID!) { product(id: $p) { members { role user { username isAdmin } } } }",
        json!({ "p": product }),
    )
    .await["product"]["members"]
        .clone()
}

async fn owners_add_members_by_username_or_email_not_by_probing_ids(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (_, owner) = app.user("owner").await;
    let (bob_id, _) = app.user("bob").await;
    let (carol_id, _) = app.user("carol").await;
    let product = app.product(&owner, json!({ "name": "p" })).await;

    // Someone the owner has nothing to do with, and an id no one has: the
    // same answer, with nothing about the account in it.
    let mut answers = Vec::new();
    for id in [carol_id.as_str(), "424242", "1"] {
        let body = app
            .gql(Some(&owner), SET_BY_ID, json!({ "p": product, "u": id, "r": "READER" }))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        assert!(body["data"].is_null(), "{body}");
        assert!(!body.to_string().contains("carol") && !body.to_string().contains("admin"));
        answers.push(body["errors"][0]["message"].clone());
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(
        members(&app, &owner, &product).await.as_array().unwrap().len(),
        1,
        "nobody added"
    );

    let by_name = app
        .ok(&owner, SET_BY_NAME, json!({ "p": product, "u": "bob", "r": "READER" }))
        .await;
    assert_eq!(by_name["setProductMember"]["user"]["username"], "bob");
    let by_email = app
        .ok(
            &owner,
            SET_BY_NAME,
            json!({ "p": product, "u": "carol@example.com", "r": "WRITER" }),
        )
        .await;
    assert_eq!(by_email["setProductMember"]["user"]["username"], "carol");
    // A member the owner sees may be addressed by id, to change the role.
    let changed = app
        .ok(&owner, SET_BY_ID, json!({ "p": product, "u": bob_id, "r": "UPLOAD" }))
        .await;
    assert_eq!(changed["setProductMember"]["role"], "UPLOAD");

    let unknown = app
        .gql(
            Some(&owner),
            SET_BY_NAME,
            json!({ "p": product, "u": "nobody@example.com", "r": "READER" }),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let neither = app
        .gql(
            Some(&owner),
            "mutation($p: ID!) { setProductMember(productId: $p, role: READER) { role } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(error_code(&neither), "BAD_USER_INPUT");
    assert_eq!(neither["errors"][0]["extensions"]["field"], "user", "{neither}");
}

async fn is_admin_is_told_only_to_administrators_and_the_user(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (_, owner) = app.user("owner").await;
    let product = app.product(&owner, json!({ "name": "p" })).await;
    app.ok(
        &app.admin_token,
        SET_BY_NAME,
        json!({ "p": product, "u": "admin", "r": "READER" }),
    )
    .await;
    let admin_row = |list: Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["username"] == "admin")
            .unwrap()["user"]["isAdmin"]
            .clone()
    };
    assert_eq!(
        admin_row(members(&app, &owner, &product).await),
        false,
        "hidden from a member"
    );
    assert_eq!(admin_row(members(&app, &app.admin_token, &product).await), true);
    app.ok(
        &app.admin_token,
        "mutation { createUser(input: { username: \"second\", password: \"password-for-tests\", isAdmin: true }) { id } }",
        json!({}),
    )
    .await;
    let users = app
        .ok(&app.admin_token, "{ users { username isAdmin } }", json!({}))
        .await;
    let second = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "second");
    assert_eq!(
        second.unwrap()["isAdmin"],
        true,
        "an administrator is told about another one"
    );
    let me = app.ok(&app.admin_token, "{ me { isAdmin } }", json!({})).await;
    assert_eq!(me["me"]["isAdmin"], true, "the user knows");
    let signed_in = app
        .gql(
            None,
            "mutation($p: String!) { login(username: \"admin\", password: $p) { user { isAdmin } } }",
            json!({ "p": common::ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(signed_in["data"]["login"]["user"]["isAdmin"], true, "{signed_in}");
}

on_both_engines!(
    owners_add_members_by_username_or_email_not_by_probing_ids,
    is_admin_is_told_only_to_administrators_and_the_user,
);
