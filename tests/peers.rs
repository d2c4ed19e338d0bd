//! The test peers themselves: the SMTP server against lettre and a raw TCP client, the webhook
//! server against reqwest.

mod common;

use std::time::Duration;

use common::peers::*;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(5);

fn transport(url: &str) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .expect("SMTP URL")
        .build()
}

fn simple_message(subject: &str, to: &str) -> Message {
    Message::builder()
        .from("Herald <herald@example.com>".parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .body(format!("Body of {subject}\n"))
        .unwrap()
}

#[tokio::test]
async fn smtp_delivers_multipart_mail_from_lettre() {
    let smtp = SmtpServer::start().await;
    assert_eq!(smtp.url(), format!("smtp://127.0.0.1:{}", smtp.port()));

    // The text part goes 8bit (so "ü" travels raw and needs 8BITMIME) with a line starting with
    // "." on the wire (so dot-stuffing matters); the HTML part lets lettre pick its encoding.
    let text = "Grüße from Herald\n.leading dot line\n..two dots\nend\n";
    let html = "<p>Grüße from <b>Herald</b></p>\n.dotted\n";
    let message = Message::builder()
        .from("Herald <herald@example.com>".parse().unwrap())
        .to("Jürgen Müller <juergen@example.com>".parse().unwrap())
        .to("ops@example.com".parse::<Mailbox>().unwrap())
        .subject("Finding über threshold")
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .header(ContentTransferEncoding::EightBit)
                        .body(text.to_owned()),
                )
                .singlepart(SinglePart::html(html.to_owned())),
        )
        .unwrap();
    transport(&smtp.url()).send(message).await.expect("lettre delivers");

    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "herald@example.com");
    assert_eq!(mail.rcpt_to, ["juergen@example.com", "ops@example.com"]);
    assert_eq!(mail.auth_user, None);
    assert_eq!(mail.subject(), "Finding über threshold");
    assert_eq!(mail.from_header(), "Herald <herald@example.com>");
    assert_eq!(mail.to_header(), "Jürgen Müller <juergen@example.com>, ops@example.com");
    assert_eq!(mail.text_body().replace("\r\n", "\n"), text);
    assert_eq!(mail.html_body().expect("html part").replace("\r\n", "\n"), html);
    // Unstuffed on arrival: the 8bit part is stored as written.
    assert!(
        mail.raw.contains("\r\n.leading dot line\r\n..two dots\r\n"),
        "{}",
        mail.raw
    );
}

#[tokio::test]
async fn smtp_text_only_mail_has_no_html_body() {
    let smtp = SmtpServer::start().await;
    transport(&smtp.url())
        .send(simple_message("plain", "a@example.com"))
        .await
        .unwrap();
    let mail = &smtp.wait_for(1, WAIT).await[0];
    // lettre always ends DATA with "\r\n.\r\n" after a body that already ends in CRLF, so a
    // single-part body arrives with one extra empty line, as any SMTP server would store it.
    assert_eq!(mail.text_body(), "Body of plain\r\n\r\n");
    assert_eq!(mail.html_body(), None);
}

#[tokio::test]
async fn smtp_takes_two_messages_on_one_connection() {
    let smtp = SmtpServer::start().await;
    let mut conn = AsyncSmtpConnection::connect_tokio1(
        ("127.0.0.1", smtp.port()),
        Some(WAIT),
        &ClientId::Domain("client.test".into()),
        None,
        None,
    )
    .await
    .expect("connect");
    for (subject, to) in [("first", "a@example.com"), ("second", "b@example.com")] {
        let message = simple_message(subject, to);
        conn.send(message.envelope(), &message.formatted()).await.expect("send");
    }
    conn.quit().await.expect("quit");

    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(
        mails.iter().map(|m| m.subject()).collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_eq!(mails[0].rcpt_to, ["a@example.com"]);
    assert_eq!(mails[1].rcpt_to, ["b@example.com"]);
    assert!(mails.iter().all(|m| m.connection == 1));
    assert_eq!(smtp.connection_count(), 1);
}

#[tokio::test]
async fn smtp_serves_concurrent_connections_through_a_pool() {
    let smtp = SmtpServer::start().await;
    let transport = transport(&smtp.url());
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..5 {
        let transport = transport.clone();
        sends.spawn(async move {
            transport
                .send(simple_message(&format!("pooled {i}"), "a@example.com"))
                .await
        });
    }
    while let Some(result) = sends.join_next().await {
        result.unwrap().expect("pooled send");
    }
    let mut subjects: Vec<String> = smtp.wait_for(5, WAIT).await.iter().map(|m| m.subject()).collect();
    subjects.sort();
    assert_eq!(subjects, (0..5).map(|i| format!("pooled {i}")).collect::<Vec<_>>());
    assert!(smtp.connection_count() >= 1);
}

#[tokio::test]
async fn smtp_accepts_auth_plain_and_login() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url_with_credentials("herald user", "p@ss:word");
    assert!(url.starts_with("smtp://herald%20user:"), "{url}");
    transport(&url)
        .send(simple_message("plain auth", "a@example.com"))
        .await
        .expect("AUTH PLAIN");

    let login = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url_with_credentials("login-user", "secret"))
        .unwrap()
        .authentication(vec![Mechanism::Login])
        .build();
    login
        .send(simple_message("login auth", "a@example.com"))
        .await
        .expect("AUTH LOGIN");

    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails[0].auth_user.as_deref(), Some("herald user"));
    assert_eq!(mails[1].auth_user.as_deref(), Some("login-user"));
}

#[tokio::test]
async fn smtp_rejects_recipients_on_request() {
    let smtp = SmtpServer::start().await;

    smtp.set_reject_rcpt(550);
    let error = transport(&smtp.url())
        .send(simple_message("nope", "a@example.com"))
        .await
        .unwrap_err();
    assert!(error.is_permanent(), "{error:?}");

    smtp.set_reject_rcpt(451);
    let error = transport(&smtp.url())
        .send(simple_message("later", "a@example.com"))
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");

    smtp.accept_rcpt();
    transport(&smtp.url())
        .send(simple_message("yes", "a@example.com"))
        .await
        .expect("accepted again");
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject(), "yes");
}

/// Speaks SMTP by hand: the replies, RSET, NOOP, ordering errors, dot-unstuffing.
#[tokio::test]
async fn smtp_speaks_the_protocol_to_a_raw_client() {
    let smtp = SmtpServer::start().await;
    let stream = TcpStream::connect(("127.0.0.1", smtp.port())).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);

    // Reads one (possibly multi-line) reply.
    async fn read_reply(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end().to_owned();
            let last = line.as_bytes().get(3) == Some(&b' ') || line.len() == 3;
            lines.push(line);
            if last {
                return lines;
            }
        }
    }
    async fn send(writer: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) {
        writer.write_all(text.as_bytes()).await.unwrap();
    }
    let code = |reply: &[String]| reply.last().unwrap()[..3].to_owned();

    assert_eq!(code(&read_reply(&mut reader).await), "220");
    send(&mut writer, "MAIL FROM:<early@example.com>\r\n").await;
    assert_eq!(code(&read_reply(&mut reader).await), "503");

    send(&mut writer, "EHLO client.test\r\n").await;
    let ehlo = read_reply(&mut reader).await;
    assert!(ehlo.len() > 1 && ehlo.iter().all(|l| l.starts_with("250")), "{ehlo:?}");
    assert!(ehlo.iter().any(|l| l.ends_with("8BITMIME")), "{ehlo:?}");
    assert!(!ehlo.iter().any(|l| l.contains("STARTTLS")), "{ehlo:?}");

    send(&mut writer, "NOOP\r\n").await;
    assert_eq!(code(&read_reply(&mut reader).await), "250");
    send(&mut writer, "RCPT TO:<x@example.com>\r\n").await;
    assert_eq!(code(&read_reply(&mut reader).await), "503");

    // A transaction abandoned with RSET leaves nothing behind.
    send(&mut writer, "MAIL FROM:<dropped@example.com>\r\n").await;
    assert_eq!(code(&read_reply(&mut reader).await), "250");
    send(&mut writer, "RCPT TO:<dropped@example.com>\r\n").await;
    assert_eq!(code(&read_reply(&mut reader).await), "250");
    send(&mut writer, "RSET\r\n").await;
    assert_eq!(code(&read_reply(&mut reader).await), "250");
    send(&mut writer, "DATA\r\n").await;
    assert_eq!(code(&read_reply(&mut reader).await), "503");

    for n in 1..=2 {
        send(
            &mut writer,
            &format!("mail from:<sender{n}@example.com> BODY=8BITMIME\r\n"),
        )
        .await;
        assert_eq!(code(&read_reply(&mut reader).await), "250");
        send(&mut writer, "RCPT TO:<one@example.com>\r\n").await;
        assert_eq!(code(&read_reply(&mut reader).await), "250");
        send(&mut writer, "RCPT TO:<two@example.com>\r\n").await;
        assert_eq!(code(&read_reply(&mut reader).await), "250");
        send(&mut writer, "DATA\r\n").await;
        assert_eq!(code(&read_reply(&mut reader).await), "354");
        let data = format!("Subject: raw {n}\r\n\r\n..hidden\r\n...\r\nplain\r\n.\r\n");
        send(&mut writer, &data).await;
        assert_eq!(code(&read_reply(&mut reader).await), "250");
    }
    send(&mut writer, "QUIT\r\n").await;
    assert_eq!(code(&read_reply(&mut reader).await), "221");

    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    for (i, mail) in mails.iter().enumerate() {
        assert_eq!(mail.mail_from, format!("sender{}@example.com", i + 1));
        assert_eq!(mail.rcpt_to, ["one@example.com", "two@example.com"]);
        assert_eq!(
            mail.raw,
            format!("Subject: raw {}\r\n\r\n.hidden\r\n..\r\nplain\r\n", i + 1)
        );
        assert_eq!(mail.connection, 1);
    }
}

#[tokio::test]
#[should_panic(expected = "expected at least 1 within")]
async fn smtp_wait_for_panics_on_timeout() {
    let smtp = SmtpServer::start().await;
    smtp.wait_for(1, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn webhook_records_json_posts_and_answers_ok() {
    let hooks = WebhookServer::start().await;
    let client = reqwest::Client::new();
    let payload = json!({ "text": "Finding über threshold", "blocks": [{ "type": "section" }] });
    let response = client
        .post(hooks.url("/services/T0/B0/secret"))
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");

    let response = client
        .post(hooks.url("/teams?sig=abc"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let requests = hooks.wait_for(2, WAIT).await;
    assert_eq!(requests[0].path, "/services/T0/B0/secret");
    assert_eq!(requests[0].query, None);
    assert_eq!(requests[0].body, payload);
    assert_eq!(requests[0].headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&requests[0].raw_body).unwrap(),
        payload
    );
    assert_eq!(requests[1].path, "/teams");
    assert_eq!(requests[1].query.as_deref(), Some("sig=abc"));
    assert_eq!(requests[1].body, serde_json::Value::Null);
    assert_eq!(requests[1].raw_body, "not json");
    assert!(requests[0].at <= requests[1].at);
    assert_eq!(hooks.received_at(), requests.iter().map(|r| r.at).collect::<Vec<_>>());
}

#[tokio::test]
async fn webhook_follows_its_script() {
    let hooks = WebhookServer::start().await;
    hooks.script(vec![Reply::RetryAfter(429, 7), Reply::Status(500, "boom")]);
    hooks.script(vec![Reply::Status(202, "")]);
    let client = reqwest::Client::new();
    let post = || client.post(hooks.url("/hook")).json(&json!({ "n": 1 })).send();

    let response = post().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");

    let response = post().await.unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(response.text().await.unwrap(), "boom");

    assert_eq!(post().await.unwrap().status(), 202);

    // Script exhausted: back to 200 ok.
    let response = post().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");

    // Non-POSTs are recorded but do not consume the script.
    hooks.script(vec![Reply::Status(503, "down")]);
    assert_eq!(client.get(hooks.url("/hook")).send().await.unwrap().status(), 405);
    assert_eq!(post().await.unwrap().status(), 503);

    assert_eq!(hooks.requests().len(), 6);
}

#[tokio::test]
async fn webhook_hang_times_the_client_out_but_is_recorded() {
    let hooks = WebhookServer::start().await;
    hooks.script(vec![Reply::Hang]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();

    let error = client
        .post(hooks.url("/slow"))
        .json(&json!({ "text": "hi" }))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");

    let requests = hooks.wait_for(1, WAIT).await;
    assert_eq!(requests[0].path, "/slow");
    assert_eq!(requests[0].body, json!({ "text": "hi" }));

    // Only that one request hangs.
    assert_eq!(client.post(hooks.url("/slow")).send().await.unwrap().status(), 200);
}

#[tokio::test]
#[should_panic(expected = "WebhookServer requests: expected at least 1 within")]
async fn webhook_wait_for_panics_on_timeout() {
    let hooks = WebhookServer::start().await;
    hooks.wait_for(1, Duration::from_millis(100)).await;
}
