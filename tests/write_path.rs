//! The write path's locks: changes to one product wait for each other and
//! publish in the order they committed; a lock taken after the change wrote
//! is refused, because the event order would no longer follow commits.

mod common;

use std::time::Duration;

use common::ws::{TRANSPORT_WS, WsClient};
use common::{Engine, TestApp};
use herald::domain::NotificationType;
use herald::notify::{self, NewNotification};
use herald::store::Scope;
use serde_json::json;

fn task(product: i64, name: &str) -> NewNotification {
    NewNotification {
        kind: Some(NotificationType::Task),
        name: name.to_owned(),
        product_id: Some(product),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_to_one_product_wait_and_publish_in_commit_order() {
    let app = TestApp::spawn(Engine::Postgres).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "one" })).await;
    let id: i64 = product.parse().unwrap();
    let mut socket = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    socket
        .subscribe("1", "subscription { notificationCreated { name } }")
        .await;
    // Attached: the subscriber hears a change.
    app.import(&admin, &product, &[("x", "HIGH")]).await;
    let data = socket.next_data("1", Duration::from_secs(10)).await;
    assert_eq!(
        data["notificationCreated"]["name"],
        "Security gate has changed to Failed"
    );

    let first = app.server.state.begin().await.unwrap();
    first.lock([Scope::Product(id)]).await.unwrap();
    notify::store(&first, task(id, "first"), &[]).await.unwrap();
    let import = tokio::spawn({
        let base = app.base.clone();
        let admin = admin.clone();
        let product = product.clone();
        async move {
            common::graphql(
                &reqwest::Client::new(),
                &base,
                Some(&admin),
                "mutation($p: ID!) { importObservations(productId: $p, scanner: \"trivy\", observations: []) { securityGate } }",
                json!({ "p": product }),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !import.is_finished(),
        "the second change waits for the first one's lock"
    );
    first.commit().await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), import)
        .await
        .expect("the second change goes on once the first committed")
        .unwrap();
    assert_eq!(
        answer["data"]["importObservations"]["securityGate"], "PASSED",
        "{answer}"
    );
    for expected in ["first", "Security gate has changed to Passed"] {
        let data = socket.next_data("1", Duration::from_secs(10)).await;
        assert_eq!(data["notificationCreated"]["name"], expected, "in commit order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_taken_after_the_change_wrote_is_refused() {
    let app = TestApp::spawn(Engine::Postgres).await;
    let product = app.product(&app.admin_token, json!({ "name": "late lock" })).await;
    let id: i64 = product.parse().unwrap();
    let uow = app.server.state.begin().await.unwrap();
    notify::store(&uow, task(id, "written first"), &[]).await.unwrap();
    let refused = uow.lock([Scope::Product(id)]).await;
    assert!(refused.is_err(), "a lock after a write is a bug in the caller");

    let uow = app.server.state.begin().await.unwrap();
    uow.lock([Scope::User(1)]).await.unwrap();
    let out_of_order = uow.lock([Scope::Product(id)]).await;
    assert!(
        out_of_order.is_err(),
        "locks are taken in one order, so none wait in a circle"
    );
}

/// Transaction ids are shared by every database of a PostgreSQL cluster.
/// A transaction left open in another one (another application, a report)
/// does not hold this database's live stream back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_open_in_another_database_does_not_hold_the_stream() {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};

    let app = TestApp::spawn(Engine::Postgres).await;
    let admin = app.admin_token.clone();
    let product = app.product(&admin, json!({ "name": "one" })).await;
    let mut socket = WsClient::authenticated(&app.base, TRANSPORT_WS, &admin).await;
    socket
        .subscribe("1", "subscription { notificationCreated { name } }")
        .await;

    let elsewhere = common::TestDatabase::create(Engine::Postgres).await;
    let connection = Database::connect(&elsewhere.url).await.unwrap();
    let open = connection.begin().await.unwrap();
    open.execute_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT pg_current_xact_id()",
    ))
    .await
    .unwrap();

    app.import(&admin, &product, &[("x", "HIGH")]).await;
    let data = socket.next_data("1", Duration::from_secs(5)).await;
    assert_eq!(
        data["notificationCreated"]["name"],
        "Security gate has changed to Failed"
    );
    open.rollback().await.unwrap();
}
