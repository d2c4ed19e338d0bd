//! Notifications end to end: stored, delivered to a real SMTP server and to
//! HTTP stand-ins for Slack and Teams, retried, rate limited, listed.

mod common;

use std::time::{Duration, Instant};

use common::peers::{Reply, SmtpServer, WebhookServer};
use common::{Engine, TestApp, error_code};
use herald::service::notifications::RECENT_WINDOW;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

const LIST: &str = "query($f: NotificationFilter, $first: Int, $after: String) {
    notifications(filter: $f, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id type name message trace function arguments viewed repeatCount
            product { id name } user { username }
            deliveries { id channel target status attempts lastStatusCode lastError } } }
    }
}";

async fn notifications(app: &TestApp, token: &str, filter: Value) -> Value {
    app.ok(token, LIST, json!({ "f": filter })).await["notifications"].clone()
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Waits until every delivery of the newest notification is SENT or FAILED.
async fn settled(app: &TestApp) -> Value {
    for _ in 0..200 {
        let list = notifications(app, &app.admin_token, json!({})).await;
        let node = nodes(&list)[0].clone();
        let done = node["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "SENT" || d["status"] == "FAILED");
        if done {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries did not settle");
}

async fn configure(app: &TestApp, settings: Value) {
    app.ok(
        &app.admin_token,
        "mutation($i: SettingsInput!) { updateSettings(input: $i) { emailFrom } }",
        json!({ "i": settings }),
    )
    .await;
}

async fn gate_change_reaches_every_channel_falling_back_to_the_group(engine: Engine) {
    let smtp = SmtpServer::start().await;
    let hooks = WebhookServer::start().await;
    let smtp_url = smtp.url();
    let app = TestApp::spawn_with(engine, |c| c.smtp_url = Some(smtp_url)).await;
    let admin = app.admin_token.clone();
    configure(
        &app,
        json!({ "emailFrom": "herald@example.com", "baseUrlFrontend": "https://herald.example.com" }),
    )
    .await;
    app.ok(
        &admin,
        "mutation { createUser(input: { username: \"grace\", password: \"long-enough\", email: \"grace@example.com\", fullName: \"Grace Hopper\" }) { id } }",
        json!({}),
    )
    .await;
    let group = app
        .ok(
            &admin,
            "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }",
            json!({ "i": { "name": "platform", "notificationEmailTo": ["grace@example.com", "ops@example.com"], "notificationSlackWebhook": hooks.url("/slack") } }),
        )
        .await["createProductGroup"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let product = app
        .product(
            &admin,
            json!({ "name": "shop", "productGroupId": group, "notificationMsTeamsWebhook": hooks.url("/teams") }),
        )
        .await;
    assert_eq!(
        notifications(&app, &admin, json!({})).await["totalCount"],
        0,
        "creating a product does not notify"
    );

    app.import(&admin, &product, &[("RCE", "CRITICAL")]).await;
    let mails = smtp.wait_for(2, WAIT).await;
    let requests = hooks.wait_for(2, WAIT).await;
    let subject = "Security gate for shop has changed to Failed";
    let link = format!("https://herald.example.com/products/{product}");

    let to_grace = mails
        .iter()
        .find(|m| m.rcpt_to == vec!["grace@example.com".to_owned()])
        .expect("mail to grace");
    assert_eq!(to_grace.subject(), subject);
    assert!(to_grace.from_header().contains("herald@example.com"));
    assert!(
        to_grace.text_body().starts_with("Hello Grace,"),
        "{}",
        to_grace.text_body()
    );
    assert!(to_grace.text_body().contains(&link));
    assert!(to_grace.html_body().unwrap().contains(&format!("href=\"{link}\"")));
    let to_ops = mails
        .iter()
        .find(|m| m.rcpt_to == vec!["ops@example.com".to_owned()])
        .expect("mail to ops");
    assert!(to_ops.text_body().starts_with("Hello,"));

    let slack = requests
        .iter()
        .find(|r| r.path == "/slack")
        .expect("slack got it from the group");
    assert_eq!(slack.body["text"], subject);
    let blocks = slack.body["blocks"].as_array().unwrap();
    let button = blocks.iter().find(|b| b["type"] == "actions").unwrap();
    assert_eq!(button["elements"][0]["url"], link.as_str());
    let teams = requests
        .iter()
        .find(|r| r.path == "/teams")
        .expect("teams got it from the product");
    assert_eq!(teams.body["type"], "message");
    let card = &teams.body["attachments"][0];
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(card["content"]["body"][0]["text"], subject);

    let node = settled(&app).await;
    assert_eq!(node["type"], "SECURITY_GATE");
    assert_eq!(node["name"], "Security gate has changed to Failed");
    assert_eq!(node["product"]["name"], "shop");
    assert_eq!(node["user"]["username"], "admin");
    let deliveries = node["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 4);
    for d in deliveries {
        assert_eq!(d["status"], "SENT", "{d}");
        assert_eq!(d["attempts"], 1);
    }
    let email_codes: Vec<&Value> = deliveries
        .iter()
        .filter(|d| d["channel"] == "EMAIL")
        .map(|d| &d["lastStatusCode"])
        .collect();
    assert_eq!(email_codes, vec![&json!(250), &json!(250)]);
}

async fn a_notification_is_stored_without_any_channel(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    // Addresses but no SMTP: email is off, so nothing is enqueued for it.
    let product = app
        .product(
            &admin,
            json!({ "name": "quiet", "notificationEmailTo": ["a@example.com"] }),
        )
        .await;
    app.import(&admin, &product, &[("x", "HIGH")]).await;
    app.import(&admin, &product, &[]).await;
    let list = notifications(&app, &admin, json!({})).await;
    let names: Vec<&str> = nodes(&list)
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .map(|s| Box::leak(s.into_boxed_str()) as &str)
        .collect();
    assert_eq!(
        names,
        vec![
            "Security gate has changed to Passed",
            "Security gate has changed to Failed"
        ]
    );
    for n in nodes(&list) {
        assert_eq!(n["deliveries"], json!([]));
    }
    assert!(hooks.requests().is_empty());
}

async fn exceptions_are_reported_generically_and_rate_limited(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let window = 3;
    configure(
        &app,
        json!({ "exceptionSlackWebhook": hooks.url("/ex"), "exceptionRateLimitSeconds": window }),
    )
    .await;
    let inject = "mutation { injectFault(kind: REQUEST, message: \"disk on fire\") }";

    let started = Instant::now();
    let body = app.gql(Some(&admin), inject, json!({})).await;
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR");
    assert_eq!(
        body["errors"][0]["message"], "internal server error",
        "no details for the client"
    );
    let first = hooks.wait_for(1, WAIT).await;
    assert_eq!(first[0].body["text"], "Exception \"InjectedFault\" has occurred");
    assert!(first[0].raw_body.contains("disk on fire"));

    // Expected errors never notify.
    app.gql(Some(&admin), "mutation { deleteProduct(id: \"999\") }", json!({}))
        .await;
    app.gql(
        Some(&admin),
        "mutation { createProduct(input: { name: \"\" }) { id } }",
        json!({}),
    )
    .await;

    // window - 1 s: suppressed, and not stored.
    tokio::time::sleep(Duration::from_secs(window - 1).saturating_sub(started.elapsed())).await;
    assert_eq!(
        error_code(&app.gql(Some(&admin), inject, json!({})).await),
        "INTERNAL_SERVER_ERROR"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let list = notifications(&app, &admin, json!({ "type": "EXCEPTION" })).await;
    assert_eq!(list["totalCount"], 1, "suppressed inside the window");
    assert_eq!(hooks.requests().len(), 1);

    // window + 1 s: sent again, saying how often it occurred meanwhile.
    tokio::time::sleep(Duration::from_secs(window + 1).saturating_sub(started.elapsed())).await;
    app.gql(Some(&admin), inject, json!({})).await;
    let all = hooks.wait_for(2, WAIT).await;
    assert!(all[1].raw_body.contains("occurred 1 time since"), "{}", all[1].raw_body);
    let list = notifications(&app, &admin, json!({ "type": "EXCEPTION" })).await;
    assert_eq!(list["totalCount"], 2);
    let newest = &nodes(&list)[0];
    assert_eq!(newest["repeatCount"], 1);
    assert_eq!(newest["message"], "disk on fire");
    assert_eq!(newest["user"]["username"], "admin");
    assert!(newest["trace"].as_str().unwrap().contains("disk on fire"));

    // A panic is caught, answered generically and reported too.
    let response = app
        .http
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&admin)
        .json(&json!({ "query": "mutation { injectFault(kind: PANIC, message: \"index out of bounds\") }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR");
    assert!(!body.to_string().contains("index out of bounds"));
    app.eventually("the panic is reported", || async {
        nodes(&notifications(&app, &admin, json!({ "type": "EXCEPTION" })).await)
            .iter()
            .any(|n| n["name"] == "Exception \"Panic\" has occurred" && n["message"] == "index out of bounds")
    })
    .await;

    // Only administrators see exceptions.
    let (_, alice) = app.user("alice").await;
    assert_eq!(notifications(&app, &alice, json!({})).await["totalCount"], 0);
}

async fn failed_background_tasks_become_task_notifications(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "jobs" })).await;
    let body = app
        .ok(
            &admin,
            "mutation($p: ID!) { injectFault(kind: TASK, message: \"queue jammed\", productId: $p) }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(body["injectFault"], true);
    app.eventually("the TASK notification", || async {
        notifications(&app, &admin, json!({ "type": "TASK" })).await["totalCount"] == 1
    })
    .await;
    let node = nodes(&notifications(&app, &admin, json!({ "type": "TASK" })).await)[0].clone();
    assert_eq!(
        node["name"],
        "Exception \"InjectedFault\" has occurred in background task"
    );
    assert_eq!(node["function"], "inject_fault");
    assert_eq!(node["arguments"], "\"queue jammed\"");
    assert_eq!(node["message"], "queue jammed");
    assert_eq!(node["user"]["username"], "admin");
    assert_eq!(node["product"]["name"], "jobs");

    // A member of the product sees it, without message and trace.
    let (reader_id, reader) = app.user("reader").await;
    app.set_member(&product, &reader_id, "READER").await;
    let seen = nodes(&notifications(&app, &reader, json!({ "type": "TASK" })).await)[0].clone();
    assert_eq!(seen["name"], node["name"]);
    assert_eq!(seen["message"], Value::Null);
    assert_eq!(seen["trace"], Value::Null);
}

async fn retries_follow_the_schedule_and_retry_after(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn_with(engine, |c| {
        c.retry_schedule = herald::domain::retry::RetrySchedule::parse("1s,1s,1s").unwrap();
    })
    .await;
    let admin = app.admin_token.clone();
    hooks.script(vec![Reply::Status(500, "oops"), Reply::RetryAfter(429, 2), Reply::Ok]);
    let product = app
        .product(
            &admin,
            json!({ "name": "flaky", "notificationSlackWebhook": hooks.url("/s") }),
        )
        .await;
    app.import(&admin, &product, &[("x", "CRITICAL")]).await;
    let requests = hooks.wait_for(3, Duration::from_secs(15)).await;
    let gap1 = requests[1].at - requests[0].at;
    let gap2 = requests[2].at - requests[1].at;
    assert!(
        gap1 >= Duration::from_millis(850),
        "first retry after about 1 s (±10%), was {gap1:?}"
    );
    assert!(
        gap2 >= Duration::from_millis(1950),
        "Retry-After: 2 is honoured, was {gap2:?}"
    );
    let node = settled(&app).await;
    let d = &node["deliveries"][0];
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone(), d["lastStatusCode"].clone()),
        (json!("SENT"), json!(3), json!(200))
    );
    let history = app
        .ok(
            &admin,
            "query($id: ID!) { delivery(id: $id) { history { outcome statusCode } } }",
            json!({ "id": d["id"] }),
        )
        .await;
    assert_eq!(
        history["delivery"]["history"],
        json!([{ "outcome": "RETRY", "statusCode": 500 }, { "outcome": "RETRY", "statusCode": 429 }, { "outcome": "SENT", "statusCode": 200 }])
    );
}

async fn permanent_errors_fail_at_once_and_attempts_run_out(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn_with(engine, |c| {
        c.retry_schedule = herald::domain::retry::RetrySchedule::parse("300ms").unwrap();
        c.send_timeout = Duration::from_millis(500);
    })
    .await;
    let admin = app.admin_token.clone();
    // Slack's answer for an archived channel: no retry.
    hooks.script(vec![Reply::Status(410, "channel_is_archived")]);
    let product = app
        .product(
            &admin,
            json!({ "name": "gone", "notificationSlackWebhook": hooks.url("/archived") }),
        )
        .await;
    app.import(&admin, &product, &[("x", "CRITICAL")]).await;
    let node = settled(&app).await;
    let d = &node["deliveries"][0];
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone(), d["lastStatusCode"].clone()),
        (json!("FAILED"), json!(1), json!(410))
    );
    assert_eq!(d["lastError"], "the receiver answered HTTP 410 Gone");

    // A receiver that hangs, then errs: two attempts (the schedule has one
    // delay), then FAILED.
    hooks.script(vec![Reply::Hang, Reply::Status(503, "busy")]);
    app.import(&admin, &product, &[]).await;
    let node = settled(&app).await;
    let d = &node["deliveries"][0];
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone(), d["lastStatusCode"].clone()),
        (json!("FAILED"), json!(2), json!(503))
    );
    let history = app
        .ok(
            &admin,
            "query($id: ID!) { delivery(id: $id) { history { outcome error } } }",
            json!({ "id": d["id"] }),
        )
        .await;
    let first = &history["delivery"]["history"][0];
    assert_eq!(first["outcome"], "RETRY");
    assert!(first["error"].as_str().unwrap().contains("timed out"), "{first}");
    assert!(
        !first["error"].as_str().unwrap().contains("/archived"),
        "the URL stays secret"
    );

    // Redelivery starts over.
    hooks.script(vec![]);
    app.ok(
        &admin,
        "mutation($id: ID!) { redeliver(deliveryId: $id) { status attempts } }",
        json!({ "id": d["id"] }),
    )
    .await;
    let node = settled(&app).await;
    assert_eq!(node["deliveries"][0]["status"], "SENT");
    assert_eq!(node["deliveries"][0]["attempts"], 1);
}

async fn test_notifications_reach_the_target(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let data = app
        .ok(
            &admin,
            "mutation($t: String!) { sendTestNotification(channel: SLACK, target: $t) { id status } }",
            json!({ "t": hooks.url("/test") }),
        )
        .await;
    let id = data["sendTestNotification"]["id"].clone();
    let got = hooks.wait_for(1, WAIT).await;
    assert_eq!(got[0].body["text"], "Test notification from Herald");
    app.eventually("the test delivery is SENT", || async {
        app.ok(
            &admin,
            "query($id: ID!) { delivery(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await["delivery"]["status"]
            == "SENT"
    })
    .await;
    let bad = app
        .gql(
            Some(&admin),
            "mutation { sendTestNotification(channel: EMAIL, target: \"ops@example.com\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "no SMTP configured");
    let (_, alice) = app.user("alice").await;
    let refused = app
        .gql(
            Some(&alice),
            "mutation($t: String!) { sendTestNotification(channel: SLACK, target: $t) { id } }",
            json!({ "t": hooks.url("/x") }),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
}

async fn the_list_pages_filters_and_marks_viewed(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let a = app.product(&admin, json!({ "name": "alpha" })).await;
    let b = app.product(&admin, json!({ "name": "beta" })).await;
    for i in 0..14 {
        let findings: &[(&str, &str)] = if i % 2 == 0 { &[("x", "CRITICAL")] } else { &[] };
        app.import(&admin, &a, findings).await;
    }
    for i in 0..6 {
        let findings: &[(&str, &str)] = if i % 2 == 0 { &[("y", "HIGH")] } else { &[] };
        app.import(&admin, &b, findings).await;
    }
    app.gql(
        Some(&admin),
        "mutation { injectFault(kind: REQUEST, message: \"m\") }",
        json!({}),
    )
    .await;
    app.eventually("21 notifications", || async {
        notifications(&app, &admin, json!({})).await["totalCount"] == 21
    })
    .await;

    let first = app.ok(&admin, LIST, json!({ "first": 10 })).await["notifications"].clone();
    assert_eq!(first["totalCount"], 21);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let ids: Vec<i64> = nodes(&first)
        .iter()
        .map(|n| n["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let mut seen = ids.clone();
    let mut after = first["pageInfo"]["endCursor"].clone();
    loop {
        let page = app.ok(&admin, LIST, json!({ "first": 10, "after": after })).await["notifications"].clone();
        seen.extend(
            nodes(&page)
                .iter()
                .map(|n| n["id"].as_str().unwrap().parse::<i64>().unwrap()),
        );
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 21);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "pages neither overlap nor skip");

    assert_eq!(
        notifications(&app, &admin, json!({ "productId": b })).await["totalCount"],
        6
    );
    assert_eq!(
        notifications(&app, &admin, json!({ "type": "SECURITY_GATE" })).await["totalCount"],
        20
    );
    assert_eq!(
        notifications(&app, &admin, json!({ "search": "PASSED" })).await["totalCount"],
        10,
        "search ignores case"
    );
    assert_eq!(
        notifications(&app, &admin, json!({ "search": "100%" })).await["totalCount"],
        0,
        "wildcards are literal"
    );

    let unviewed = app.ok(&admin, "{ unviewedNotificationCount }", json!({})).await;
    assert_eq!(unviewed["unviewedNotificationCount"], 21);
    let some: Vec<String> = ids[..4].iter().map(|i| i.to_string()).collect();
    let marked = app
        .ok(
            &admin,
            "mutation($ids: [ID!]!) { markNotificationsViewed(ids: $ids) }",
            json!({ "ids": some }),
        )
        .await;
    assert_eq!(marked["markNotificationsViewed"], 4);
    let again = app
        .ok(
            &admin,
            "mutation($ids: [ID!]!) { markNotificationsViewed(ids: $ids) }",
            json!({ "ids": some }),
        )
        .await;
    assert_eq!(again["markNotificationsViewed"], 0);
    assert_eq!(
        app.ok(&admin, "{ unviewedNotificationCount }", json!({})).await["unviewedNotificationCount"],
        17
    );
    assert_eq!(
        notifications(&app, &admin, json!({ "unviewedOnly": true })).await["totalCount"],
        17
    );

    let too_many: Vec<String> = (1..=251).map(|i| i.to_string()).collect();
    let body = app
        .gql(
            Some(&admin),
            "mutation($ids: [ID!]!) { deleteNotifications(ids: $ids) }",
            json!({ "ids": too_many }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let deleted = app
        .ok(
            &admin,
            "mutation($ids: [ID!]!) { deleteNotifications(ids: $ids) }",
            json!({ "ids": some }),
        )
        .await;
    assert_eq!(deleted["deleteNotifications"], 4);
    assert_eq!(notifications(&app, &admin, json!({})).await["totalCount"], 17);
    let bad_cursor = app
        .gql(Some(&admin), LIST, json!({ "after": "bm90IGEgY3Vyc29y" }))
        .await;
    assert_eq!(error_code(&bad_cursor), "BAD_USER_INPUT");
}

async fn the_retention_job_removes_old_notifications(engine: Engine) {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "old" })).await;
    app.import(&admin, &product, &[("x", "CRITICAL")]).await;
    app.import(&admin, &product, &[]).await;
    let db = &app.server.state.db;
    let backend = db.get_database_backend();
    let old = chrono::Utc::now() - chrono::Duration::days(91);
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE notifications SET created_at = $1 WHERE id = (SELECT MIN(id) FROM notifications)"
        }
        _ => "UPDATE notifications SET created_at = ? WHERE id = (SELECT MIN(id) FROM notifications)",
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [old.into()]))
        .await
        .unwrap();
    // The server's own hourly job also runs once at start; on a loaded
    // machine that run can come after the update and take the row first.
    let deleted = herald::jobs::delete_old_notifications(&app.server.state).await.unwrap();
    assert!(deleted <= 1, "only the old one goes: {deleted}");
    assert_eq!(
        herald::jobs::delete_old_notifications(&app.server.state).await.unwrap(),
        0,
        "nothing old is left"
    );
    let list = notifications(&app, &admin, json!({})).await;
    assert_eq!(list["totalCount"], 1);
    assert_eq!(nodes(&list)[0]["name"], "Security gate has changed to Passed");
}

async fn replicas_hitting_the_same_exception_at_once_send_it_once(engine: Engine) {
    use herald::notify::failure::{Failure, report};
    let app = TestApp::spawn(engine).await;
    let state = app.server.state.clone();
    let failure = Failure {
        in_task: false,
        class: "DbErr".into(),
        message: "connection reset".into(),
        trace: "trace".into(),
        function: None,
        arguments: None,
        user_id: None,
        product_id: None,
    };
    // Eight concurrent reporters on one database stand in for replicas.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (state, failure) = (state.clone(), failure.clone());
        tasks.push(tokio::spawn(
            async move { report(&state, failure).await.expect("report") },
        ));
    }
    let mut sent = 0;
    for t in tasks {
        sent += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(sent, 1, "exactly one of the concurrent reports is sent");
    let list = notifications(&app, &app.admin_token, json!({ "type": "EXCEPTION" })).await;
    assert_eq!(list["totalCount"], 1);
    // A different message is a different exception.
    let other = Failure {
        message: "disk full".into(),
        ..failure
    };
    assert!(report(&state, other).await.unwrap().is_some());
}

async fn exceptions_and_tasks_reach_every_exception_channel(engine: Engine) {
    let smtp = SmtpServer::start().await;
    let hooks = WebhookServer::start().await;
    let smtp_url = smtp.url();
    let app = TestApp::spawn_with(engine, |c| c.smtp_url = Some(smtp_url)).await;
    let admin = app.admin_token.clone();
    configure(
        &app,
        json!({
            "emailFrom": "herald@example.com",
            "exceptionEmailTo": ["ops@example.com"],
            "exceptionSlackWebhook": hooks.url("/slack"),
            "exceptionMsTeamsWebhook": hooks.url("/teams"),
        }),
    )
    .await;
    app.gql(
        Some(&admin),
        "mutation { injectFault(kind: REQUEST, message: \"<b>broken</b> & \\\"quoted\\\"\") }",
        json!({}),
    )
    .await;
    let mail = &smtp.wait_for(1, WAIT).await[0];
    assert_eq!(mail.subject(), "Exception \"InjectedFault\" has occurred");
    assert!(mail.text_body().contains("Message: <b>broken</b> & \"quoted\""));
    let html = mail.html_body().unwrap();
    assert!(
        html.contains("&lt;b&gt;broken&lt;/b&gt; &amp; &quot;quoted&quot;"),
        "HTML is escaped: {html}"
    );
    assert!(html.contains("<pre>"), "the trace is in a preformatted block");
    let requests = hooks.wait_for(2, WAIT).await;
    let slack = requests.iter().find(|r| r.path == "/slack").unwrap();
    assert_eq!(slack.body["text"], "Exception \"InjectedFault\" has occurred");
    let fields = slack.body["blocks"][1]["fields"].to_string();
    assert!(
        fields.contains("&lt;b&gt;broken&lt;/b&gt; &amp;"),
        "mrkdwn is escaped: {fields}"
    );
    let teams = requests.iter().find(|r| r.path == "/teams").unwrap();
    let card = &teams.body["attachments"][0]["content"];
    assert_eq!(card["body"][0]["text"], "Exception \"InjectedFault\" has occurred");
    let facts = card["body"][1]["facts"].as_array().unwrap();
    assert!(
        facts
            .iter()
            .any(|f| f["title"] == "Message" && f["value"] == r#"\<b\>broken\</b\> & "quoted""#),
        "Markdown is escaped: {facts:?}"
    );

    app.ok(
        &admin,
        "mutation { injectFault(kind: TASK, message: \"nightly\") }",
        json!({}),
    )
    .await;
    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(
        mails[1].subject(),
        "Exception \"InjectedFault\" has occurred in background task"
    );
    assert!(mails[1].text_body().contains("Function: inject_fault"));
    assert!(mails[1].text_body().contains("Arguments: \"nightly\""));
    assert!(mails[1].text_body().contains("User: admin"));
    let requests = hooks.wait_for(4, WAIT).await;
    let slack_task = requests.iter().filter(|r| r.path == "/slack").nth(1).unwrap();
    assert_eq!(
        slack_task.body["text"],
        "Exception \"InjectedFault\" has occurred in background task"
    );
    assert!(slack_task.raw_body.contains("inject_fault"));
}

async fn a_hanging_receiver_holds_up_only_its_own_deliveries(engine: Engine) {
    let stuck = WebhookServer::start().await;
    let fine = WebhookServer::start().await;
    stuck.script(vec![Reply::Hang]);
    let app = TestApp::spawn_with(engine, |c| c.send_timeout = Duration::from_secs(30)).await;
    let admin = app.admin_token.clone();
    let a = app
        .product(
            &admin,
            json!({ "name": "a", "notificationSlackWebhook": stuck.url("/a") }),
        )
        .await;
    let b = app
        .product(
            &admin,
            json!({ "name": "b", "notificationSlackWebhook": fine.url("/b") }),
        )
        .await;
    app.import(&admin, &a, &[("x", "CRITICAL")]).await;
    stuck.wait_for(1, WAIT).await;
    let started = Instant::now();
    app.import(&admin, &b, &[("x", "CRITICAL")]).await;
    fine.wait_for(1, WAIT).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

/// A member's pages are drawn product by product and merged; they must be
/// exactly the admin's list restricted to the member's products, in order,
/// with no row lost or repeated across cursors, filters included. Then
/// again with notifications the member cannot see coming after theirs:
/// first as many as put the recent window's lower end among them, then
/// more than the window, so that their pages are merged from one walk per
/// product instead of the walk over the newest ids.
async fn a_members_pages_merge_their_products_newest_first(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let (member_id, member) = app.user("member").await;
    let (mut products, mut mine) = (Vec::new(), Vec::new());
    for name in ["a", "b", "c", "other"] {
        let product = app.product(&admin, json!({ "name": name })).await;
        if name != "other" {
            app.set_member(&product, &member_id, "READER").await;
            mine.push(product.clone());
        }
        products.push(product);
    }
    // Interleaved gate flips: 3 on a, 2 on b, 4 on other, 1 on c, in a mixed order.
    for (i, product) in [0, 3, 1, 0, 3, 3, 0, 1, 3, 2].into_iter().enumerate() {
        let findings: &[(&str, &str)] = if i % 2 == 0 { &[("x", "CRITICAL")] } else { &[] };
        app.import(&admin, &products[product], findings).await;
        app.import(
            &admin,
            &products[product],
            if findings.is_empty() { &[("x", "CRITICAL")] } else { &[] },
        )
        .await;
    }
    let filters = [
        json!({ "unviewedOnly": false }),
        json!({ "search": "passed" }),
        json!({ "type": "SECURITY_GATE" }),
        json!({ "unviewedOnly": true }),
        json!({ "productId": mine[0] }),
    ];
    let mut expected = Vec::new();
    for filter in &filters {
        // A page of 40 holds all 20, within the query budget.
        let everything = app.ok(&admin, LIST, json!({ "f": filter, "first": 40 })).await["notifications"].clone();
        let ids: Vec<Value> = nodes(&everything)
            .into_iter()
            .filter(|n| mine.contains(&n["product"]["id"].as_str().unwrap_or_default().to_owned()))
            .map(|n| n["id"].clone())
            .collect();
        assert!(ids.len() >= 3, "more than one page: {filter}: {ids:?}");
        expected.push(ids);
    }
    // Notifications of a product the member does not see, newer than all.
    let db = &app.server.state.db;
    let fill = |n: i64| {
        format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) \
             INSERT INTO notifications (type, name, product_id, created_at) \
             SELECT 'SECURITY_GATE', 'filler', {}, (SELECT MAX(created_at) FROM notifications) FROM g",
            products[3]
        )
    };
    for round in ["recent", "straddling the window", "old"] {
        match round {
            // The window's lower end between the member's newest and oldest:
            // later pages find part of a page in it and must look further.
            "straddling the window" => {
                let id = |v: &Value| v.as_str().unwrap().parse::<i64>().unwrap();
                let middle = id(&expected[0][expected[0].len() / 2]);
                let top: i64 = app.scalar("SELECT MAX(id) FROM notifications").await;
                db.execute_unprepared(&fill(middle + RECENT_WINDOW - top))
                    .await
                    .unwrap();
            }
            "old" => {
                db.execute_unprepared(&fill(RECENT_WINDOW + 100)).await.unwrap();
            }
            _ => {}
        }
        for (filter, expected) in filters.iter().zip(&expected) {
            let mut seen = Vec::new();
            let mut after = Value::Null;
            loop {
                let page = app
                    .ok(&member, LIST, json!({ "f": filter, "first": 2, "after": after }))
                    .await["notifications"]
                    .clone();
                assert_eq!(
                    page["totalCount"].as_u64(),
                    Some(expected.len() as u64),
                    "{round} {filter}"
                );
                seen.extend(nodes(&page).into_iter().map(|n| n["id"].clone()));
                if page["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(&seen, expected, "{round} {filter}");
        }
    }
}

/// A delivery this version cannot read (a channel a newer version added,
/// met after a rollback) fails on its own; the outbox keeps sending.
async fn an_unreadable_delivery_fails_alone(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let send = "mutation($t: String!) { sendTestNotification(channel: SLACK, target: $t) { id } }";
    app.ok(&admin, send, json!({ "t": hooks.url("/first") })).await;
    hooks.wait_for(1, WAIT).await;
    // Due since the first one was created.
    let columns = "notification_id, target, attempts, target_origin, created_at, updated_at";
    app.server
        .state
        .db
        .execute_unprepared(&format!(
            "INSERT INTO deliveries (channel, status, next_attempt_at, {columns}) \
             SELECT 'PAGER', 'PENDING', created_at, {columns} FROM deliveries"
        ))
        .await
        .unwrap();
    app.ok(&admin, send, json!({ "t": hooks.url("/second") })).await;
    let got = hooks.wait_for(2, WAIT).await;
    assert_eq!(got[1].path, "/second");
    app.eventually("the unreadable delivery is FAILED", || async {
        app.scalar::<String>("SELECT status FROM deliveries WHERE channel = 'PAGER'")
            .await
            == "FAILED"
    })
    .await;
}

on_both_engines!(
    an_unreadable_delivery_fails_alone,
    a_hanging_receiver_holds_up_only_its_own_deliveries,
    replicas_hitting_the_same_exception_at_once_send_it_once,
    exceptions_and_tasks_reach_every_exception_channel,
    gate_change_reaches_every_channel_falling_back_to_the_group,
    a_notification_is_stored_without_any_channel,
    exceptions_are_reported_generically_and_rate_limited,
    failed_background_tasks_become_task_notifications,
    retries_follow_the_schedule_and_retry_after,
    permanent_errors_fail_at_once_and_attempts_run_out,
    test_notifications_reach_the_target,
    the_list_pages_filters_and_marks_viewed,
    the_retention_job_removes_old_notifications,
    a_members_pages_merge_their_products_newest_first,
);
