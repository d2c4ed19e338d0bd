//! Slack incoming webhooks: `{text, blocks}` with a header, the facts, the
//! trace and a button to the product.

use serde_json::{Value, json};

use crate::domain::markup;
use crate::domain::notification::Rendered;

/// Slack's limits on a block's text.
const HEADER_MAX: usize = 150;
const FIELD_MAX: usize = 2000;
const SECTION_MAX: usize = 3000;
const FIELDS_PER_SECTION: usize = 10;

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Everything from user data is escaped where Slack reads mrkdwn: the
/// top-level `text` (what notifications and old clients show), the fields
/// and the trace. The header is `plain_text`, which Slack neither parses
/// nor decodes, so it carries the subject as it is.
pub fn payload(message: &Rendered) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": truncate(&message.subject, HEADER_MAX) },
    })];
    for chunk in message.facts.chunks(FIELDS_PER_SECTION) {
        let fields: Vec<Value> = chunk
            .iter()
            .map(|(label, value)| {
                json!({ "type": "mrkdwn", "text": truncate(&format!("*{}*\n{}", markup::slack(label), markup::slack(value)), FIELD_MAX) })
            })
            .collect();
        blocks.push(json!({ "type": "section", "fields": fields }));
    }
    if let Some(trace) = &message.trace {
        // Leave room for the code fences.
        let body = truncate(&markup::slack(trace), SECTION_MAX - 8);
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": format!("```{body}```") } }));
    }
    if let Some(link) = &message.link {
        blocks.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": { "type": "plain_text", "text": "Open product" },
                "url": link,
            }],
        }));
    }
    json!({ "text": markup::slack(&message.subject), "blocks": blocks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NotificationType;

    fn message() -> Rendered {
        Rendered {
            kind: NotificationType::Exception,
            subject: "Exception \"DbErr\" has occurred".into(),
            facts: vec![("Message".into(), "a <b> & \"c\"".into())],
            trace: Some("line 1\n```not a fence``` <script>".into()),
            link: Some("https://herald.example.com/products/3".into()),
        }
    }

    #[test]
    fn has_text_blocks_and_a_link_button() {
        let p = payload(&message());
        assert_eq!(p["text"], "Exception \"DbErr\" has occurred");
        let blocks = p["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[1]["fields"][0]["text"], "*Message*\na &lt;b&gt; &amp; \"c\"");
        assert!(blocks[2]["text"]["text"].as_str().unwrap().contains("&lt;script&gt;"));
        let button = &blocks[3]["elements"][0];
        assert_eq!(button["type"], "button");
        assert_eq!(button["url"], "https://herald.example.com/products/3");
    }

    #[test]
    fn names_cannot_mention_or_link_anywhere_slack_parses() {
        let name = "<!channel> *x* [a](https://evil) <https://evil|go>";
        let m = Rendered {
            kind: NotificationType::SecurityGate,
            subject: format!("Security gate for {name} has changed to Failed"),
            facts: vec![("Product".into(), name.into())],
            trace: None,
            link: None,
        };
        let p = payload(&m);
        let text = p["text"].as_str().unwrap();
        assert!(text.starts_with("Security gate for &lt;!channel&gt; *x*"), "{text}");
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
        let field = p["blocks"][1]["fields"][0]["text"].as_str().unwrap();
        assert!(
            !field.contains('<') && field.contains("&lt;https://evil|go&gt;"),
            "{field}"
        );
        assert_eq!(p["blocks"][0]["text"]["type"], "plain_text");
    }

    #[test]
    fn long_traces_are_cut_to_slacks_limit() {
        let mut m = message();
        m.trace = Some("x".repeat(10_000));
        m.link = None;
        let p = payload(&m);
        let text = p["blocks"][2]["text"]["text"].as_str().unwrap();
        assert!(text.chars().count() <= SECTION_MAX);
        assert_eq!(p["blocks"].as_array().unwrap().len(), 3, "no button without a link");
    }
}
