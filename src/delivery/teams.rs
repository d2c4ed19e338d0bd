//! Microsoft Teams: an Adaptive Card in the Workflows envelope, or the
//! legacy MessageCard for the old Office 365 connector URLs.

use serde_json::{Value, json};

use crate::domain::markup;
use crate::domain::notification::Rendered;
use crate::domain::{NotificationType, WebhookUrl};

/// Old Office 365 connectors (`*.webhook.office.com`) only take MessageCards.
pub fn is_legacy_connector(url: &WebhookUrl) -> bool {
    url.url().host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("webhook.office.com") || h.to_ascii_lowercase().ends_with(".webhook.office.com")
    })
}

fn colour(kind: NotificationType) -> &'static str {
    match kind {
        NotificationType::SecurityGate => "0078D7",
        NotificationType::Exception | NotificationType::Task => "D70000",
    }
}

pub fn payload(url: &WebhookUrl, message: &Rendered) -> Value {
    if is_legacy_connector(url) {
        message_card(message)
    } else {
        adaptive_card(message)
    }
}

/// TextBlocks and FactSets render Markdown, so every text in them is
/// escaped: a product named `[a](https://evil)` shows as written.
pub fn adaptive_card(message: &Rendered) -> Value {
    let facts: Vec<Value> = message
        .facts
        .iter()
        .map(|(title, value)| json!({ "title": markup::markdown(title), "value": markup::markdown(value) }))
        .collect();
    let subject = markup::markdown(&message.subject);
    let mut body = vec![
        json!({ "type": "TextBlock", "size": "Large", "weight": "Bolder", "text": subject, "wrap": true }),
        json!({ "type": "FactSet", "facts": facts }),
    ];
    if let Some(trace) = &message.trace {
        let trace = markup::markdown(trace);
        body.push(json!({ "type": "TextBlock", "text": trace, "fontType": "Monospace", "wrap": true }));
    }
    let actions: Vec<Value> = message
        .link
        .iter()
        .map(|url| json!({ "type": "Action.OpenUrl", "title": "Open product", "url": url }))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            },
        }],
    })
}

/// The title, facts and text of a MessageCard are Markdown and escaped;
/// the summary is plain text (the notification preview) and is not.
pub fn message_card(message: &Rendered) -> Value {
    let facts: Vec<Value> = message
        .facts
        .iter()
        .map(|(name, value)| json!({ "name": markup::markdown(name), "value": markup::markdown(value) }))
        .collect();
    let mut section = json!({ "facts": facts });
    if let Some(trace) = &message.trace {
        // A code block keeps the trace literal.
        section["text"] = json!(markup::code_block(trace));
    }
    let mut card = json!({
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.subject,
        "themeColor": colour(message.kind),
        "title": markup::markdown(&message.subject),
        "sections": [section],
    });
    if let Some(link) = &message.link {
        card["potentialAction"] = json!([{
            "@type": "OpenUri",
            "name": "Open product",
            "targets": [{ "os": "default", "uri": link }],
        }]);
    }
    card
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Rendered {
        Rendered {
            kind: NotificationType::SecurityGate,
            subject: "Security gate for Shop has changed to Failed".into(),
            facts: vec![
                ("Product".into(), "Shop".into()),
                ("Security gate".into(), "Failed".into()),
            ],
            trace: None,
            link: Some("https://herald.example.com/products/1".into()),
        }
    }

    #[test]
    fn workflows_urls_get_an_adaptive_card_in_the_envelope() {
        let url = WebhookUrl::parse("f", "https://prod-01.westeurope.logic.azure.com/workflows/abc").unwrap();
        let p = payload(&url, &message());
        assert_eq!(p["type"], "message");
        let attachment = &p["attachments"][0];
        assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(attachment["content"]["type"], "AdaptiveCard");
        assert_eq!(
            attachment["content"]["body"][0]["text"],
            "Security gate for Shop has changed to Failed"
        );
        assert_eq!(
            attachment["content"]["body"][1]["facts"][1],
            json!({ "title": "Security gate", "value": "Failed" })
        );
        assert_eq!(
            attachment["content"]["actions"][0]["url"],
            "https://herald.example.com/products/1"
        );
    }

    #[test]
    fn office_connectors_get_a_message_card() {
        let url = WebhookUrl::parse("f", "https://contoso.webhook.office.com/webhookb2/x").unwrap();
        let p = payload(&url, &message());
        assert_eq!(p["@type"], "MessageCard");
        assert_eq!(p["title"], "Security gate for Shop has changed to Failed");
        assert_eq!(
            p["sections"][0]["facts"][0],
            json!({ "name": "Product", "value": "Shop" })
        );
        assert_eq!(
            p["potentialAction"][0]["targets"][0]["uri"],
            "https://herald.example.com/products/1"
        );
    }

    #[test]
    fn traces_travel_as_json_strings() {
        let mut m = message();
        m.trace = Some("\"quoted\"\n\\backslash\u{0007}".into());
        let card = adaptive_card(&m);
        let text = serde_json::to_string(&card).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back["attachments"][0]["content"]["body"][2]["text"], "\"quoted\"\n\\\\backslash\u{0007}",
            "the backslash is escaped for Markdown, the rest travels as it is"
        );
    }

    #[test]
    fn names_cannot_add_links_or_markup_to_either_card() {
        let name = "<!channel> *x* [a](https://evil)";
        let m = Rendered {
            kind: NotificationType::SecurityGate,
            subject: format!("Security gate for {name} has changed to Failed"),
            facts: vec![("Product".into(), name.into())],
            trace: Some("```\n[b](https://evil)".into()),
            link: None,
        };
        let escaped = r"\<\!channel\> \*x\* \[a\]\(https://evil\)";
        let card = adaptive_card(&m);
        let body = &card["attachments"][0]["content"]["body"];
        assert_eq!(
            body[0]["text"],
            format!("Security gate for {escaped} has changed to Failed")
        );
        assert_eq!(body[1]["facts"][0]["value"], escaped);
        assert!(!body[2]["text"].as_str().unwrap().contains("[b]("));

        let legacy = message_card(&m);
        assert_eq!(legacy["sections"][0]["facts"][0]["value"], escaped);
        assert!(legacy["title"].as_str().unwrap().contains(escaped));
        let trace = legacy["sections"][0]["text"].as_str().unwrap();
        assert!(
            trace.starts_with("````\n"),
            "the fence outgrows the trace's own: {trace}"
        );
    }
}
