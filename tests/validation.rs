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

/// Injects a failure whose notification is the canary, waits for it, and
/// returns how many EXCEPTION notifications there are then: anything an
/// earlier request raised was reported before it (reports leave in order
/// right after each answer).
async fn exceptions_once_the_canary_arrived(app: &TestApp) -> i64 {
    let admin = &app.admin_token;
    let body = app
        .gql(
            Some(admin),
            "mutation { injectFault(kind: REQUEST, message: \"canary\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    let list = "{ notifications(filter: { type: EXCEPTION }, first: 100) { totalCount edges { node { message } } } }";
    for _ in 0..200 {
        let data = app.ok(admin, list, json!({})).await;
        let connection = &data["notifications"];
        let canary = connection["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["message"].as_str().is_some_and(|m| m.contains("canary")));
        if canary {
            // A moment more for a report that left at the same time.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let data = app.ok(admin, list, json!({})).await;
            return data["notifications"]["totalCount"].as_i64().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the canary exception was never stored");
}

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
const CREATE_GROUP: &str = "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }";
const UPDATE_GROUP: &str = "mutation($g: ID!, $i: ProductGroupPatch!) { updateProductGroup(id: $g, input: $i) { id } }";
const SEARCH: &str = "query($s: String) { notifications(filter: { search: $s }) { totalCount } }";
const SETTINGS: &str = "mutation($i: SettingsInput!) { updateSettings(input: $i) { emailFrom } }";
const IMPORT: &str = "mutation($p: ID!, $s: String!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: $s, observations: $o) { created } }";
const CREATE_OBSERVATION: &str = "mutation($i: ObservationInput!) { createObservation(input: $i) { id } }";
const CREATE_USER: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }";
const CREATE_TOKEN: &str = "mutation($n: String!) { createApiToken(name: $n) { token } }";
const SEND_TEST: &str = "mutation($t: String!) { sendTestNotification(channel: SLACK, target: $t) { id } }";
const ADD_MEMBER: &str =
    "mutation($p: ID!, $n: String!) { setProductMember(productId: $p, user: $n, role: READER) { role } }";

/// Every free-text input of the API, each with a value that breaks a rule,
/// and the field the error must name: (anonymous?, query, variables, field).
fn text_inputs(product: &str, group: &str, bad: &dyn Fn(&str) -> String) -> Vec<(bool, &'static str, Value, String)> {
    let user = |field: &str, value: String| {
        let mut input = json!({ "username": "newuser", "password": "long enough password" });
        input[field] = json!(value);
        json!({ "i": input })
    };
    vec![
        (
            true,
            LOGIN,
            json!({ "u": bad("admin"), "p": "whatever" }),
            "username".into(),
        ),
        (
            true,
            LOGIN,
            json!({ "u": "admin", "p": bad("password") }),
            "password".into(),
        ),
        (false, CREATE, json!({ "i": { "name": bad("p") } }), "name".into()),
        (
            false,
            CREATE,
            json!({ "i": { "name": "p", "description": bad("two\nlines") } }),
            "description".into(),
        ),
        (false, CREATE_GROUP, json!({ "i": { "name": bad("g") } }), "name".into()),
        (
            false,
            CREATE_GROUP,
            json!({ "i": { "name": "g", "description": bad("d") } }),
            "description".into(),
        ),
        (
            false,
            UPDATE,
            json!({ "p": product, "i": { "name": bad("shop") } }),
            "name".into(),
        ),
        (
            false,
            UPDATE,
            json!({ "p": product, "i": { "description": bad("d") } }),
            "description".into(),
        ),
        (
            false,
            UPDATE_GROUP,
            json!({ "g": group, "i": { "name": bad("g") } }),
            "name".into(),
        ),
        (
            false,
            UPDATE_GROUP,
            json!({ "g": group, "i": { "description": bad("d") } }),
            "description".into(),
        ),
        (false, SEARCH, json!({ "s": bad("gate") }), "filter.search".into()),
        (
            false,
            SETTINGS,
            json!({ "i": { "baseUrlFrontend": bad("https://herald.example.com/x") } }),
            "baseUrlFrontend".into(),
        ),
        (
            false,
            SETTINGS,
            json!({ "i": { "emailFrom": bad("herald@example.com") } }),
            "emailFrom".into(),
        ),
        (
            false,
            SETTINGS,
            json!({ "i": { "exceptionEmailTo": [bad("ops@example.com")] } }),
            "exceptionEmailTo".into(),
        ),
        (
            false,
            SETTINGS,
            json!({ "i": { "exceptionSlackWebhook": bad("https://hooks.slack.com/services/x") } }),
            "exceptionSlackWebhook".into(),
        ),
        (
            false,
            SETTINGS,
            json!({ "i": { "exceptionMsTeamsWebhook": bad("https://example.webhook.office.com/x") } }),
            "exceptionMsTeamsWebhook".into(),
        ),
        (
            false,
            IMPORT,
            json!({ "p": product, "s": bad("trivy"), "o": [] }),
            "scanner".into(),
        ),
        (
            false,
            IMPORT,
            json!({ "p": product, "s": "trivy", "o": [{ "title": "ok", "severity": "LOW" }, { "title": bad("t"), "severity": "LOW" }] }),
            "observations[1].title".into(),
        ),
        (
            false,
            IMPORT,
            json!({ "p": product, "s": "trivy", "o": [{ "title": "ok", "fingerprint": bad("f"), "severity": "LOW" }] }),
            "observations[0].fingerprint".into(),
        ),
        (
            false,
            CREATE_OBSERVATION,
            json!({ "i": { "productId": product, "title": bad("t"), "severity": "HIGH" } }),
            "title".into(),
        ),
        (
            false,
            CREATE_OBSERVATION,
            json!({ "i": { "productId": product, "title": "t", "fingerprint": bad("f"), "severity": "HIGH" } }),
            "fingerprint".into(),
        ),
        (
            false,
            CREATE_OBSERVATION,
            json!({ "i": { "productId": product, "title": "t", "scanner": bad("s"), "severity": "HIGH" } }),
            "scanner".into(),
        ),
        (false, CREATE_USER, user("username", bad("bob")), "username".into()),
        (
            false,
            CREATE_USER,
            user("password", bad("long enough password")),
            "password".into(),
        ),
        (false, CREATE_USER, user("fullName", bad("Bob")), "fullName".into()),
        (
            false,
            CREATE_USER,
            user("email", bad("bob@example.com")),
            "email".into(),
        ),
        (false, CREATE_TOKEN, json!({ "n": bad("ci") }), "name".into()),
        (
            false,
            SEND_TEST,
            json!({ "t": bad("https://hooks.slack.com/services/x") }),
            "target".into(),
        ),
        (
            false,
            ADD_MEMBER,
            json!({ "p": product, "n": bad("admin") }),
            "user".into(),
        ),
    ]
}

/// Everything the refused requests could have written, as the admin sees it.
async fn stored_state(app: &TestApp) -> Value {
    app.ok(
        &app.admin_token,
        "{ products { name description observations { title } } productGroups { name description }
           users { username } settings { baseUrlFrontend emailFrom exceptionEmailTo exceptionSlackWebhook exceptionMsTeamsWebhook } }",
        json!({}),
    )
    .await
}

/// Runs every case of `text_inputs` with `bad` and checks that each is
/// BAD_USER_INPUT naming its field, that nothing was stored, and that no
/// exception was reported.
async fn every_text_input_refuses(app: &TestApp, what: &str, bad: &dyn Fn(&str) -> String) {
    let admin = &app.admin_token;
    let product = app
        .product(admin, json!({ "name": "shop", "description": "kept" }))
        .await;
    let group = app
        .ok(
            admin,
            CREATE_GROUP,
            json!({ "i": { "name": "group", "description": "kept" } }),
        )
        .await["createProductGroup"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = stored_state(app).await;
    for (anonymous, query, variables, expected) in text_inputs(&product, &group, bad) {
        let token = if anonymous { None } else { Some(admin.as_str()) };
        let body = app.gql(token, query, variables.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {variables} gave {body}");
        assert_eq!(field(&body), expected, "{what}: {variables}");
    }
    assert_eq!(stored_state(app).await, before, "{what}: nothing was stored");
    assert_eq!(
        exceptions_once_the_canary_arrived(app).await,
        1,
        "{what}: bad input raised no exception notification"
    );
}

async fn nul_and_control_characters_are_bad_input_naming_the_field(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    every_text_input_refuses(&app, "NUL", &|ok| format!("{ok}\u{0}x")).await;
}

async fn escape_sequences_are_refused_in_single_line_text(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = &app.admin_token;
    for (input, expected) in [
        (json!({ "name": "a\nb" }), "name"),
        (json!({ "name": "red\u{1b}[31m" }), "name"),
        (json!({ "name": "p", "description": "bell\u{7}" }), "description"),
        (json!({ "name": "p", "description": "c1\u{9b}31m" }), "description"),
    ] {
        let body = app.gql(Some(admin), CREATE, json!({ "i": input })).await;
        assert_eq!(field(&body), expected, "{input}");
    }
    let body = app.gql(Some(admin), SEARCH, json!({ "s": "a\tb" })).await;
    assert_eq!(field(&body), "filter.search");

    // Descriptions are multi-line: line breaks and tabs are kept.
    let product = app
        .product(admin, json!({ "name": "shop", "description": " first\r\n\tsecond \n" }))
        .await;
    let data = app
        .ok(
            admin,
            "query($p: ID!) { product(id: $p) { description } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(data["product"]["description"], "first\r\n\tsecond");
}

async fn every_free_text_field_has_a_length_limit(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    every_text_input_refuses(&app, "over-long", &|ok| format!("{ok}{}", "x".repeat(10_001))).await;

    // Just within the limits is fine.
    let admin = &app.admin_token;
    let description = "d".repeat(10_000);
    let product = app
        .product(admin, json!({ "name": "n".repeat(255), "description": description }))
        .await;
    let data = app
        .ok(
            admin,
            "query($p: ID!) { product(id: $p) { description } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(data["product"]["description"], description);
    app.ok(admin, SEARCH, json!({ "s": "s".repeat(200) })).await;
    for (input, expected) in [
        (json!({ "name": "n".repeat(256) }), "name"),
        (json!({ "name": "p", "description": "d".repeat(10_001) }), "description"),
    ] {
        let body = app.gql(Some(admin), CREATE, json!({ "i": input })).await;
        assert_eq!(field(&body), expected);
    }
    assert_eq!(
        field(&app.gql(Some(admin), SEARCH, json!({ "s": "s".repeat(201) })).await),
        "filter.search"
    );
    let body = app
        .gql(None, LOGIN, json!({ "u": "admin", "p": "p".repeat(1025) }))
        .await;
    assert_eq!(field(&body), "password");
}

async fn names_need_a_visible_character(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = &app.admin_token;
    for invisible in [
        "\u{200B}\u{200C}\u{200D}",
        "\u{202E}\u{2066}\u{200F}",
        "\u{3164}",
        "\u{00AD}\u{FEFF}",
        "\u{2800}",
    ] {
        let body = app
            .gql(Some(admin), CREATE, json!({ "i": { "name": invisible } }))
            .await;
        assert_eq!(field(&body), "name", "{invisible:?}");
        let body = app
            .gql(Some(admin), CREATE_GROUP, json!({ "i": { "name": invisible } }))
            .await;
        assert_eq!(field(&body), "name", "{invisible:?}");
        let body = app
            .gql(
                Some(admin),
                CREATE_USER,
                json!({ "i": { "username": "u", "password": "long enough password", "fullName": invisible } }),
            )
            .await;
        assert_eq!(field(&body), "fullName", "{invisible:?}");
    }
    let listed = app
        .ok(admin, "{ products { id } productGroups { id } }", json!({}))
        .await;
    assert_eq!(listed, json!({ "products": [], "productGroups": [] }));
    // Scripts other than Latin are names like any other.
    for name in ["東京", "مرحبا", "Ωmega"] {
        app.product(admin, json!({ "name": name })).await;
    }
}

on_both_engines!(
    nul_and_control_characters_are_bad_input_naming_the_field,
    escape_sequences_are_refused_in_single_line_text,
    every_free_text_field_has_a_length_limit,
    names_need_a_visible_character,
    bad_product_input_names_the_field_and_stores_nothing,
    a_refused_update_changes_nothing_and_patches_keep_or_clear,
    a_bad_import_imports_nothing,
    bad_settings_name_the_field_and_good_ones_are_kept,
    defaults_of_a_fresh_installation,
);
