//! Bad input is refused with BAD_USER_INPUT naming the field (or NOT_FOUND),
//! and nothing is half-written.

mod common;

use common::{Engine, TestApp, error_code};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: ProductInput!) { createProduct(input: $i) { id } }";
const UPDATE: &str = "mutation($p: ID!, $i: ProductPatch!) { updateProduct(id: $p, input: $i) { name notificationEmailTo notificationSlackWebhook description } }";

fn field(body: &Value) -> &str {
    assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
    body["errors"][0]["extensions"]["field"].as_str().unwrap()
}

async fn bad_product_input_names_the_field_and_stores_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = &app.admin_token;
    let cases = [
        (json!({ "name": "   " }), "name"),
        (
            json!({ "name": "p", "notificationEmailTo": ["ok@example.com", "not-an-address"] }),
            "notificationEmailTo",
        ),
        (
            json!({ "name": "p", "notificationSlackWebhook": "ftp://hooks.example.com/x" }),
            "notificationSlackWebhook",
        ),
        (
            json!({ "name": "p", "notificationMsTeamsWebhook": "not a url" }),
            "notificationMsTeamsWebhook",
        ),
        (
            json!({ "name": "p", "thresholds": { "critical": 1000000 } }),
            "thresholds.critical",
        ),
        (
            json!({ "name": "p", "thresholds": { "unknown": -1 } }),
            "thresholds.unknown",
        ),
        (json!({ "name": "p", "productGroupId": "abc" }), "productGroupId"),
    ];
    for (input, expected) in cases {
        let body = app.gql(Some(admin), CREATE, json!({ "i": input })).await;
        assert_eq!(field(&body), expected, "{input}");
    }
    let unknown_group = app
        .gql(
            Some(admin),
            CREATE,
            json!({ "i": { "name": "p", "productGroupId": "999" } }),
        )
        .await;
    assert_eq!(error_code(&unknown_group), "NOT_FOUND");
    let listed = app.ok(admin, "{ products { id } }", json!({})).await;
    assert_eq!(listed["products"], json!([]), "nothing was stored");

    app.product(admin, json!({ "name": "shop" })).await;
    let duplicate = app.gql(Some(admin), CREATE, json!({ "i": { "name": " shop " } })).await;
    assert_eq!(field(&duplicate), "name");
    let dup_group = "mutation { createProductGroup(input: { name: \"g\" }) { id } }";
    app.ok(admin, dup_group, json!({})).await;
    assert_eq!(field(&app.gql(Some(admin), dup_group, json!({})).await), "name");
}

async fn a_refused_update_changes_nothing_and_patches_keep_or_clear(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = &app.admin_token;
    let slack = "https://hooks.slack.com/services/a/b/c";
    let product = app
        .product(admin, json!({ "name": "shop", "description": "d", "notificationEmailTo": ["a@example.com"], "notificationSlackWebhook": slack }))
        .await;
    let body = app
        .gql(
            Some(admin),
            UPDATE,
            json!({ "p": product, "i": { "name": "renamed", "notificationEmailTo": ["bad"] } }),
        )
        .await;
    assert_eq!(field(&body), "notificationEmailTo");
    let unchanged = json!({ "name": "shop", "notificationEmailTo": ["a@example.com"], "notificationSlackWebhook": slack, "description": "d" });
    let data = app.ok(admin, UPDATE, json!({ "p": product, "i": {} })).await;
    assert_eq!(data["updateProduct"], unchanged, "an empty patch keeps everything");

    let data = app
        .ok(
            admin,
            UPDATE,
            json!({ "p": product, "i": { "notificationSlackWebhook": null, "description": null } }),
        )
        .await;
    assert_eq!(
        data["updateProduct"],
        json!({ "name": "shop", "notificationEmailTo": ["a@example.com"], "notificationSlackWebhook": null, "description": null })
    );

    let other = app.product(admin, json!({ "name": "other" })).await;
    let body = app
        .gql(Some(admin), UPDATE, json!({ "p": other, "i": { "name": "shop" } }))
        .await;
    assert_eq!(field(&body), "name", "renaming onto an existing name");

    for (query, vars, code) in [
        (UPDATE, json!({ "p": "424242", "i": {} }), "NOT_FOUND"),
        ("mutation { deleteProduct(id: \"424242\") }", json!({}), "NOT_FOUND"),
        (
            "mutation { updateObservation(id: \"424242\", input: {}) { id } }",
            json!({}),
            "NOT_FOUND",
        ),
        (
            "mutation { deleteObservation(id: \"-1\") }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "mutation { setProductMember(productId: \"424242\", userId: \"1\", role: READER) { role } }",
            json!({}),
            "NOT_FOUND",
        ),
    ] {
        let body = app.gql(Some(admin), query, vars).await;
        assert_eq!(error_code(&body), code, "{query}");
    }
    let missing_user = app
        .gql(
            Some(admin),
            "mutation($p: ID!) { setProductMember(productId: $p, userId: \"424242\", role: READER) { role } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(error_code(&missing_user), "NOT_FOUND");
    let nothing = app.ok(admin, "{ product(id: \"424242\") { id } }", json!({})).await;
    assert!(nothing["product"].is_null());
}

async fn a_bad_import_imports_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = &app.admin_token;
    let product = app.product(admin, json!({ "name": "shop" })).await;
    let body = app
        .gql(
            Some(admin),
            "mutation($p: ID!) { importObservations(productId: $p, scanner: \"trivy\", observations: [{ title: \"ok\", severity: CRITICAL }, { title: \" \", severity: LOW }]) { created } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(field(&body), "observations[1].title");
    let blank_scanner = app
        .gql(
            Some(admin),
            "mutation($p: ID!) { importObservations(productId: $p, scanner: \"\", observations: []) { created } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(field(&blank_scanner), "scanner");
    let data = app
        .ok(
            admin,
            "query($p: ID!) { product(id: $p) { securityGate observations { id } } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(data["product"], json!({ "securityGate": "PASSED", "observations": [] }));
}

async fn bad_settings_name_the_field_and_good_ones_are_kept(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = &app.admin_token;
    let update = "mutation($i: SettingsInput!) { updateSettings(input: $i) { emailFrom } }";
    for (input, expected) in [
        (json!({ "emailFrom": "nope" }), "emailFrom"),
        (
            json!({ "exceptionEmailTo": ["a@example.com", "b@"] }),
            "exceptionEmailTo",
        ),
        (
            json!({ "exceptionSlackWebhook": "gopher://x" }),
            "exceptionSlackWebhook",
        ),
        (
            json!({ "exceptionMsTeamsWebhook": "/relative" }),
            "exceptionMsTeamsWebhook",
        ),
        (json!({ "exceptionRateLimitSeconds": -1 }), "exceptionRateLimitSeconds"),
        (json!({ "baseUrlFrontend": "herald" }), "baseUrlFrontend"),
        (json!({ "thresholds": { "high": null } }), "thresholds.high"),
        (json!({ "thresholds": { "low": 1000000 } }), "thresholds.low"),
    ] {
        let body = app.gql(Some(admin), update, json!({ "i": input })).await;
        assert_eq!(field(&body), expected, "{input}");
    }
    let full = json!({
        "baseUrlFrontend": "https://herald.example.com",
        "emailFrom": "herald@example.com",
        "exceptionEmailTo": ["ops@example.com"],
        "exceptionMsTeamsWebhook": "https://example.webhook.office.com/x",
        "exceptionSlackWebhook": "https://hooks.slack.com/services/x",
        "exceptionRateLimitSeconds": 60,
        "securityGateActive": true,
        "thresholds": { "critical": 1, "high": 2, "medium": 3, "low": 4, "none": 5, "unknown": 6 },
    });
    app.ok(admin, update, json!({ "i": full })).await;
    let data = app
        .ok(
            admin,
            "{ settings { baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook exceptionRateLimitSeconds securityGateActive thresholds { critical high medium low none unknown } emailEnabled } }",
            json!({}),
        )
        .await;
    let mut expected = full.clone();
    expected["emailEnabled"] = json!(false);
    assert_eq!(data["settings"], expected, "no SMTP configured: email stays disabled");
}

async fn defaults_of_a_fresh_installation(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let data = app
        .ok(&app.admin_token, "{ settings { exceptionRateLimitSeconds securityGateActive thresholds { critical high medium low none unknown } } }", json!({}))
        .await;
    assert_eq!(
        data["settings"],
        json!({
            "exceptionRateLimitSeconds": 3600,
            "securityGateActive": true,
            "thresholds": { "critical": 0, "high": 0, "medium": 99999, "low": 99999, "none": 99999, "unknown": 99999 },
        })
    );
}

on_both_engines!(
    bad_product_input_names_the_field_and_stores_nothing,
    a_refused_update_changes_nothing_and_patches_keep_or_clear,
    a_bad_import_imports_nothing,
    bad_settings_name_the_field_and_good_ones_are_kept,
    defaults_of_a_fresh_installation,
);
