//! The role matrix: each role against each product mutation, allowed or
//! refused, and what each caller sees of products and webhook URLs.

mod common;

use common::{Engine, TestApp, error_code};
use serde_json::{Value, json};

const SLACK: &str = "https://hooks.slack.com/services/T0/B0/secret-part";
const TEAMS: &str = "https://example.webhook.office.com/webhookb2/secret-part";

#[derive(Debug, Clone, Copy)]
enum Actor {
    Admin,
    NonMember,
    Member(&'static str),
    /// The role is held on the product's group, not the product.
    GroupMember(&'static str),
}

fn rank(role: &str) -> usize {
    ["READER", "UPLOAD", "WRITER", "MAINTAINER", "OWNER"]
        .iter()
        .position(|r| *r == role)
        .unwrap()
}

impl Actor {
    /// Whether this actor may do what needs `required`.
    fn allowed(self, required: &str) -> bool {
        match self {
            Actor::Admin => true,
            Actor::NonMember => false,
            Actor::Member(role) | Actor::GroupMember(role) => rank(role) >= rank(required),
        }
    }

    fn refusal(self) -> &'static str {
        match self {
            Actor::NonMember => "NOT_FOUND",
            _ => "FORBIDDEN",
        }
    }
}

struct Setup {
    product: String,
    helper: String,
    observations: Vec<String>,
    token: String,
}

async fn setup(app: &TestApp, n: usize, actor: Actor) -> Setup {
    let admin = &app.admin_token;
    let group = app
        .ok(
            admin,
            "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }",
            json!({ "i": { "name": format!("group {n}") } }),
        )
        .await["createProductGroup"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let product = app
        .product(
            admin,
            json!({
                "name": format!("product {n}"),
                "productGroupId": group,
                "notificationSlackWebhook": SLACK,
                "notificationMsTeamsWebhook": TEAMS,
            }),
        )
        .await;
    let (helper, _) = app.user(&format!("helper{n}")).await;
    app.set_member(&product, &helper, "READER").await;
    let mut observations = Vec::new();
    for i in 0..2 {
        let data = app
            .ok(
                admin,
                "mutation($i: ObservationInput!) { createObservation(input: $i) { id } }",
                json!({ "i": { "productId": product, "title": format!("finding {i}"), "severity": "LOW" } }),
            )
            .await;
        observations.push(data["createObservation"]["id"].as_str().unwrap().to_owned());
    }
    let token = match actor {
        Actor::Admin => app.admin_token.clone(),
        Actor::NonMember => app.user(&format!("actor{n}")).await.1,
        Actor::Member(role) => {
            let (id, token) = app.user(&format!("actor{n}")).await;
            app.set_member(&product, &id, role).await;
            token
        }
        Actor::GroupMember(role) => {
            let (id, token) = app.user(&format!("actor{n}")).await;
            app.ok(
                admin,
                "mutation($g: ID!, $u: ID!, $r: Role!) { setProductGroupMember(productGroupId: $g, userId: $u, role: $r) { role } }",
                json!({ "g": group, "u": id, "r": role }),
            )
            .await;
            token
        }
    };
    Setup {
        product,
        helper,
        observations,
        token,
    }
}

/// (name, role needed, query, variables)
fn mutations(s: &Setup) -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "importObservations",
            "UPLOAD",
            "mutation($p: ID!) { importObservations(productId: $p, scanner: \"zap\", observations: [{ title: \"x\", severity: \"LOW\" }]) { created } }",
            json!({ "p": s.product }),
        ),
        (
            "createObservation",
            "WRITER",
            "mutation($p: ID!) { createObservation(input: { productId: $p, title: \"new\", severity: \"LOW\" }) { id } }",
            json!({ "p": s.product }),
        ),
        (
            "updateObservation",
            "WRITER",
            "mutation($id: ID!) { updateObservation(id: $id, input: { status: RISK_ACCEPTED }) { status } }",
            json!({ "id": s.observations[0] }),
        ),
        (
            "deleteObservation",
            "WRITER",
            "mutation($id: ID!) { deleteObservation(id: $id) }",
            json!({ "id": s.observations[1] }),
        ),
        (
            "setProductMember",
            "MAINTAINER",
            "mutation($p: ID!, $u: ID!) { setProductMember(productId: $p, userId: $u, role: UPLOAD) { role } }",
            json!({ "p": s.product, "u": s.helper }),
        ),
        (
            "removeProductMember",
            "MAINTAINER",
            "mutation($p: ID!, $u: ID!) { removeProductMember(productId: $p, userId: $u) }",
            json!({ "p": s.product, "u": s.helper }),
        ),
        (
            "updateProduct",
            "MAINTAINER",
            "mutation($p: ID!) { updateProduct(id: $p, input: { description: \"changed\" }) { description } }",
            json!({ "p": s.product }),
        ),
        (
            "deleteProduct",
            "OWNER",
            "mutation($p: ID!) { deleteProduct(id: $p) }",
            json!({ "p": s.product }),
        ),
    ]
}

const ACTORS: [Actor; 11] = [
    Actor::Admin,
    Actor::NonMember,
    Actor::Member("READER"),
    Actor::Member("UPLOAD"),
    Actor::Member("WRITER"),
    Actor::Member("MAINTAINER"),
    Actor::Member("OWNER"),
    Actor::GroupMember("READER"),
    Actor::GroupMember("UPLOAD"),
    Actor::GroupMember("WRITER"),
    Actor::GroupMember("MAINTAINER"),
];

async fn each_role_against_each_mutation(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    for (n, actor) in ACTORS.into_iter().enumerate() {
        let s = setup(&app, n, actor).await;
        for (name, required, query, variables) in mutations(&s) {
            let body = app.gql(Some(&s.token), query, variables).await;
            if actor.allowed(required) {
                assert!(
                    body.get("errors").is_none(),
                    "{actor:?} should be allowed {name}: {body}"
                );
            } else {
                assert_eq!(error_code(&body), actor.refusal(), "{actor:?} on {name}: {body}");
            }
        }
        // Whatever was refused left the product as it was.
        if !actor.allowed("OWNER") {
            let data = app
                .ok(
                    &app.admin_token,
                    "query($p: ID!) { product(id: $p) { description members { role } } }",
                    json!({ "p": s.product }),
                )
                .await;
            let expected_description = if actor.allowed("MAINTAINER") {
                json!("changed")
            } else {
                json!(null)
            };
            assert_eq!(data["product"]["description"], expected_description, "{actor:?}");
        }
    }
}

async fn visibility_of_products_and_webhooks(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    for (n, actor) in ACTORS.into_iter().enumerate() {
        let s = setup(&app, n, actor).await;
        let body = app
            .gql(
                Some(&s.token),
                "query($p: ID!) { product(id: $p) { name myRole notificationSlackWebhook notificationMsTeamsWebhook } products { id } }",
                json!({ "p": s.product }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let product = &body["data"]["product"];
        let listed: Vec<&str> = body["data"]["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        if matches!(actor, Actor::NonMember) {
            assert!(product.is_null(), "a non-member does not see the product");
            assert!(!listed.contains(&s.product.as_str()));
            continue;
        }
        assert!(listed.contains(&s.product.as_str()), "{actor:?} lists the product");
        let (slack, teams) = if actor.allowed("MAINTAINER") {
            (json!(SLACK), json!(TEAMS))
        } else {
            (json!(null), json!(null))
        };
        assert_eq!(product["notificationSlackWebhook"], slack, "{actor:?}");
        assert_eq!(product["notificationMsTeamsWebhook"], teams, "{actor:?}");
        let expected_role = match actor {
            Actor::Admin => "OWNER",
            Actor::Member(r) | Actor::GroupMember(r) => r,
            Actor::NonMember => unreachable!(),
        };
        assert_eq!(product["myRole"], expected_role);
    }
}

async fn only_owners_hand_out_the_owner_role(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (owner_id, owner) = app.user("owner").await;
    let product = app.product(&owner, json!({ "name": "shop" })).await;
    let (maint_id, maintainer) = app.user("maint").await;
    let (other_id, _) = app.user("other").await;
    app.set_member(&product, &maint_id, "MAINTAINER").await;
    let set =
        "mutation($p: ID!, $u: ID!, $r: Role!) { setProductMember(productId: $p, userId: $u, role: $r) { role } }";
    let body = app
        .gql(
            Some(&maintainer),
            set,
            json!({ "p": product, "u": other_id, "r": "OWNER" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql(
            Some(&maintainer),
            set,
            json!({ "p": product, "u": owner_id, "r": "READER" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "a maintainer cannot demote an owner");
    app.ok(&owner, set, json!({ "p": product, "u": other_id, "r": "OWNER" }))
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

on_both_engines!(
    each_role_against_each_mutation,
    visibility_of_products_and_webhooks,
    only_owners_hand_out_the_owner_role,
);
