//! What reaches Slack and Teams (the stand-ins of `common::peers`) when a
//! product's name is made to look like chat markup: it must arrive as text,
//! unable to mention a channel, add a link or restyle the message.

mod common;

use std::time::Duration;

use common::peers::WebhookServer;
use common::{Engine, TestApp};
use serde_json::{Value, json};

const NAME: &str = "<!channel> *x* [a](https://evil)";

/// Every string in `value`, with where it is.
fn strings<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((at, s)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, format!("{at}[{i}]"), out);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                strings(item, format!("{at}.{key}"), out);
            }
        }
        _ => {}
    }
}

async fn a_name_that_looks_like_markup_arrives_as_text(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let product = app
        .product(
            &admin,
            json!({
                "name": NAME,
                "notificationSlackWebhook": hooks.url("/services/T0/B0/slack"),
                "notificationMsTeamsWebhook": hooks.url("/workflows/teams"),
            }),
        )
        .await;
    let result = app.import(&admin, &product, &[("x", "CRITICAL")]).await;
    assert_eq!(
        result["data"]["importObservations"]["securityGate"], "FAILED",
        "{result}"
    );
    let requests = hooks.wait_for(2, Duration::from_secs(10)).await;
    let body_at = |path: &str| -> Value {
        requests
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("nothing arrived at {path}"))
            .body
            .clone()
    };

    let slack = body_at("/services/T0/B0/slack");
    assert_eq!(
        slack["text"], "Security gate for &lt;!channel&gt; *x* [a](https://evil) has changed to Failed",
        "the notification text Slack parses"
    );
    // The header is plain_text, which Slack shows as it is and parses for
    // nothing; everything else is mrkdwn and must hold no `<` or `>`.
    assert_eq!(slack["blocks"][0]["text"]["type"], "plain_text");
    let mut found = Vec::new();
    strings(&slack, String::new(), &mut found);
    for (at, text) in found {
        if at == ".blocks[0].text.text" {
            continue;
        }
        assert!(!text.contains('<') && !text.contains('>'), "{at}: {text:?}");
    }
    let product_field = slack["blocks"][1]["fields"][0]["text"].as_str().unwrap();
    assert_eq!(product_field, "*Product*\n&lt;!channel&gt; *x* [a](https://evil)");

    let teams = body_at("/workflows/teams");
    let card = &teams["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    let escaped = r"\<\!channel\> \*x\* \[a\]\(https://evil\)";
    assert_eq!(
        card["body"][0]["text"],
        format!("Security gate for {escaped} has changed to Failed")
    );
    let facts = card["body"][1]["facts"].as_array().unwrap();
    assert_eq!(facts[0], json!({ "title": "Product", "value": escaped }));
    // The status comes from the stored notification, not its display text.
    assert!(
        facts.contains(&json!({ "title": "Security gate", "value": "Failed" })),
        "{facts:?}"
    );
    let mut found = Vec::new();
    strings(card, String::new(), &mut found);
    for (at, text) in found {
        for markup in ["[a](", "*x*", "<!channel>"] {
            assert!(!text.contains(markup), "{at}: {text:?} holds {markup:?}");
        }
    }
}

on_both_engines!(a_name_that_looks_like_markup_arrives_as_text);
