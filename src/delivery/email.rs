//! Email over SMTP with lettre: one message per address, plain text and
//! HTML, greeting the recipient by first name when a user has the address.

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::notification::Rendered;
use crate::domain::retry::HttpOutcome;

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// A pooled SMTP transport from `HERALD_SMTP_URL`.
pub fn transport(url: &str) -> anyhow::Result<Transport> {
    Ok(Transport::from_url(url)
        .map_err(|_| anyhow::anyhow!("HERALD_SMTP_URL is not a valid SMTP URL"))?
        .timeout(Some(std::time::Duration::from_secs(10)))
        .build())
}

fn greeting(first_name: Option<&str>) -> String {
    match first_name {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_owned(),
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn text_body(message: &Rendered, first_name: Option<&str>) -> String {
    let mut out = format!("{}\n\n{}\n\n", greeting(first_name), message.subject);
    for (label, value) in &message.facts {
        out.push_str(&format!("{label}: {value}\n"));
    }
    if let Some(trace) = &message.trace {
        out.push_str(&format!("\nTrace:\n{trace}\n"));
    }
    if let Some(link) = &message.link {
        out.push_str(&format!("\nOpen the product: {link}\n"));
    }
    out
}

pub fn html_body(message: &Rendered, first_name: Option<&str>) -> String {
    let mut rows = String::new();
    for (label, value) in &message.facts {
        rows.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
            escape_html(label),
            escape_html(value)
        ));
    }
    let trace = message
        .trace
        .as_ref()
        .map(|t| format!("<pre>{}</pre>", escape_html(t)))
        .unwrap_or_default();
    let link = message
        .link
        .as_ref()
        .map(|l| format!("<p><a href=\"{}\">Open the product</a></p>", escape_html(l)))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html><body><p>{}</p><h2>{}</h2><table>{rows}</table>{trace}{link}</body></html>",
        escape_html(&greeting(first_name)),
        escape_html(&message.subject)
    )
}

pub fn build(from: &str, to: &str, message: &Rendered, first_name: Option<&str>) -> anyhow::Result<Message> {
    let from: Mailbox = from
        .parse()
        .map_err(|_| anyhow::anyhow!("emailFrom is not a valid address"))?;
    let to: Mailbox = to
        .parse()
        .map_err(|_| anyhow::anyhow!("the recipient is not a valid address"))?;
    Ok(Message::builder()
        .from(from)
        .to(to)
        .subject(&message.subject)
        .multipart(MultiPart::alternative_plain_html(
            text_body(message, first_name),
            html_body(message, first_name),
        ))?)
}

/// What an SMTP attempt came to: the outcome, the reply code and text, or
/// the error.
pub struct SmtpResult {
    pub outcome: HttpOutcome,
    pub code: Option<i32>,
    pub response: Option<String>,
    pub error: Option<String>,
}

pub async fn send(transport: &Transport, message: Message) -> SmtpResult {
    match transport.send(message).await {
        Ok(reply) => SmtpResult {
            outcome: HttpOutcome::Sent,
            code: Some(i32::from(u16::from(reply.code()))),
            response: Some(reply.message().collect::<Vec<_>>().join(" ")),
            error: None,
        },
        Err(e) => SmtpResult {
            // 5xx replies are final; 4xx replies and connection trouble pass.
            outcome: if e.is_permanent() {
                HttpOutcome::Fail
            } else {
                HttpOutcome::Retry { after: None }
            },
            code: e.status().map(|c| i32::from(u16::from(c))),
            response: None,
            error: Some(e.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NotificationType;

    fn message() -> Rendered {
        Rendered {
            kind: NotificationType::Exception,
            subject: "Exception \"DbErr\" has occurred".into(),
            facts: vec![("Message".into(), "<b>bold</b>".into())],
            trace: Some("at <main>".into()),
            link: None,
        }
    }

    #[test]
    fn greets_by_first_name_and_escapes_html() {
        let text = text_body(&message(), Some("Alice"));
        assert!(text.starts_with("Hello Alice,\n\nException \"DbErr\" has occurred"));
        assert!(text.contains("Message: <b>bold</b>"));
        let html = html_body(&message(), None);
        assert!(html.contains("Hello,"));
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"));
        assert!(html.contains("<pre>at &lt;main&gt;</pre>"));
        assert!(!html.contains("<b>bold"));
    }

    #[test]
    fn builds_a_multipart_message() {
        let m = build("herald@example.com", "ops@example.com", &message(), None).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"));
        assert!(build("not an address", "ops@example.com", &message(), None).is_err());
    }
}
