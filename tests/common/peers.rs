//! Real protocol peers for integration tests, all on 127.0.0.1 with a random port:
//!
//! * [`SmtpServer`]: a small but genuine SMTP server (RFC 5321 subset) that lettre, and so
//!   Herald, can deliver to over plain TCP.
//! * [`WebhookServer`]: an HTTP server standing in for Slack and Microsoft Teams incoming
//!   webhooks, recording every request and answering from a script.
//!
//! Both stop when dropped.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use mail_parser::{Address, MessageParser, PartType};
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How often `wait_for` looks at what has arrived.
const POLL_EVERY: Duration = Duration::from_millis(20);
/// Caps on what the peers keep, so a runaway test fails loudly instead of eating memory.
const MAX_STORED: usize = 10_000;
/// RFC 5321 allows 998 characters per line; be generous but bounded.
const MAX_LINE: usize = 64 * 1024;
const MAX_MESSAGE: usize = 10 * 1024 * 1024;
const MAX_RECIPIENTS: usize = 1_000;
const MAX_HTTP_BODY: usize = 2 * 1024 * 1024;

const HOSTNAME: &str = "herald-test-smtp";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not hide what the peer recorded.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Polls `snapshot` until it holds at least `n` items, or panics naming `what`.
async fn poll_until<T>(
    what: &str,
    n: usize,
    timeout: Duration,
    snapshot: impl Fn() -> Vec<T>,
    describe: impl Fn(&[T]) -> String,
) -> Vec<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let items = snapshot();
        if items.len() >= n {
            return items;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!(
                "{what}: expected at least {n} within {timeout:?}, got {}: {}",
                items.len(),
                describe(&items)
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

// ---------------------------------------------------------------------------------------------
// SMTP
// ---------------------------------------------------------------------------------------------

/// One message accepted by [`SmtpServer`] (after the final `250` of DATA).
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM:<...>`), empty for the null sender `<>`.
    pub mail_from: String,
    /// Envelope recipients (`RCPT TO:<...>`), in order.
    pub rcpt_to: Vec<String>,
    /// The message as transmitted after DATA, dot-unstuffed, lines ending in CRLF.
    pub raw: String,
    /// User name given with AUTH PLAIN/LOGIN on this connection, if any.
    pub auth_user: Option<String>,
    /// Which connection carried the message: 1 for the first accepted, 2 for the next, ...
    pub connection: usize,
}

impl ReceivedMail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(self.raw.as_bytes())
            .unwrap_or_else(|| panic!("SmtpServer: message is not parseable MIME:\n{}", self.raw))
    }

    /// Decoded `Subject`, empty when absent.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// Decoded `From`, rendered as `Name <addr>` (or `addr`), comma-separated; empty when absent.
    #[allow(clippy::wrong_self_convention)] // reads the From header; not a `from_*` constructor
    pub fn from_header(&self) -> String {
        self.parsed().from().map(render_addresses).unwrap_or_default()
    }

    /// Decoded `To`, rendered like [`ReceivedMail::from_header`].
    pub fn to_header(&self) -> String {
        self.parsed().to().map(render_addresses).unwrap_or_default()
    }

    /// The decoded text/plain body, line ends as sent (CRLF). Panics when the message has none,
    /// since mail-parser would otherwise silently convert the HTML part to text. Note that lettre
    /// leaves one extra empty line at the end of a single-part body (it sends CRLF.CRLF after a
    /// body already ending in CRLF); compare with `trim_end()` when that does not matter.
    pub fn text_body(&self) -> String {
        let message = self.parsed();
        let text = message
            .text_body
            .iter()
            .find_map(|&id| match &message.parts.get(id as usize)?.body {
                PartType::Text(text) => Some(text.to_string()),
                _ => None,
            });
        text.unwrap_or_else(|| panic!("SmtpServer: message has no text/plain part:\n{}", self.raw))
    }

    /// The decoded text/html body, if the message has one (a text-only message gives `None`,
    /// not mail-parser's HTML rendering of the text).
    pub fn html_body(&self) -> Option<String> {
        let message = self.parsed();
        message
            .html_body
            .iter()
            .find_map(|&id| match &message.parts.get(id as usize)?.body {
                PartType::Html(html) => Some(html.to_string()),
                _ => None,
            })
    }
}

fn render_addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(name), Some(email)) => format!("{name} <{email}>"),
            (None, Some(email)) => email.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Default)]
struct SmtpShared {
    mails: Mutex<Vec<ReceivedMail>>,
    /// 0: accept recipients; otherwise the reply code RCPT gets.
    reject_rcpt: AtomicU16,
    connections: AtomicUsize,
}

/// An in-process SMTP server speaking plain (non-TLS) ESMTP: EHLO/HELO, MAIL, RCPT, DATA,
/// RSET, NOOP, QUIT, AUTH PLAIN/LOGIN (any credentials), 8BITMIME, SMTPUTF8 and SIZE. Several
/// messages per connection and several connections at once. STARTTLS is not offered.
pub struct SmtpServer {
    port: u16,
    shared: Arc<SmtpShared>,
    /// The accept loop; it owns the connection tasks, so aborting it ends them all.
    accept: JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("SmtpServer: bind 127.0.0.1:0");
        let port = listener.local_addr().expect("SmtpServer: local address").port();
        let shared = Arc::new(SmtpShared::default());
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        SmtpServer { port, shared, accept }
    }

    /// `smtp://127.0.0.1:<port>`: the form for `HERALD_SMTP_URL` / lettre's `from_url`.
    ///
    /// In lettre 0.11 (`transport/smtp/connection_url.rs`), scheme `smtp` *without* a `tls`
    /// query parameter means plain, never-encrypted SMTP; `?tls=opportunistic` and
    /// `?tls=required` mean STARTTLS, and `smtps://` means implicit TLS. This server speaks
    /// neither, so use this URL as is.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// `smtp://user:pass@127.0.0.1:<port>` (percent-encoded), still plain SMTP; lettre then
    /// authenticates with AUTH PLAIN, which this server accepts for any credentials.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        let mut url = url::Url::parse(&self.url()).expect("SmtpServer: own URL parses");
        url.set_username(user).expect("SmtpServer: URL takes a user name");
        url.set_password(Some(password))
            .expect("SmtpServer: URL takes a password");
        url.into()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Snapshot of every message accepted so far, in order of acceptance.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.shared.mails).clone()
    }

    /// Waits until at least `n` messages have been accepted and returns them all; panics with
    /// what did arrive if they do not within `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        poll_until(
            "SmtpServer messages",
            n,
            timeout,
            || self.messages(),
            |mails| {
                let list: Vec<String> = mails
                    .iter()
                    .map(|m| format!("{:?} -> {:?}: {:?}", m.mail_from, m.rcpt_to, m.subject()))
                    .collect();
                format!("[{}]", list.join("; "))
            },
        )
        .await
    }

    /// Answers every following RCPT with `code` (e.g. 550 for a permanent failure, 451 for a
    /// transient one) until [`SmtpServer::accept_rcpt`].
    pub fn set_reject_rcpt(&self, code: u16) {
        assert!(
            (400..600).contains(&code),
            "SmtpServer: RCPT rejection code must be 4xx or 5xx, got {code}"
        );
        self.shared.reject_rcpt.store(code, Ordering::SeqCst);
    }

    /// Undoes [`SmtpServer::set_reject_rcpt`]: recipients are accepted again.
    pub fn accept_rcpt(&self) {
        self.shared.reject_rcpt.store(0, Ordering::SeqCst);
    }

    /// How many TCP connections have been accepted so far.
    pub fn connection_count(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<SmtpShared>) {
    let mut sessions = JoinSet::new();
    loop {
        // Reap finished sessions so the set does not grow with every connection ever made.
        while sessions.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // E.g. out of file descriptors: back off instead of spinning on the error.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let shared = Arc::clone(&shared);
        sessions.spawn(async move {
            // A client hanging up mid-session is not the server's problem.
            let _ = smtp_session(stream, id, shared).await;
        });
    }
}

enum Line {
    Complete,
    Eof,
    TooLong,
}

/// Reads one line into `buf` without its CRLF (a bare LF is tolerated), never buffering more
/// than `MAX_LINE` bytes.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<Line> {
    buf.clear();
    let n = (&mut *reader).take(MAX_LINE as u64).read_until(b'\n', buf).await?;
    if buf.last() != Some(&b'\n') {
        return Ok(if n >= MAX_LINE { Line::TooLong } else { Line::Eof });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Line::Complete)
}

async fn reply(writer: &mut OwnedWriteHalf, text: &str) -> io::Result<()> {
    writer.write_all(format!("{text}\r\n").as_bytes()).await
}

/// The state RFC 5321 keeps per session; a "transaction" is MAIL + RCPTs (+ DATA).
#[derive(Default)]
struct Session {
    greeted: bool,
    auth_user: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

impl Session {
    fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }
}

/// `keyword` (e.g. `FROM:`) then `<path>` then optional ESMTP parameters.
fn parse_path<'a>(arg: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start().strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((rest[..end].to_owned(), rest[end + 1..].trim()))
}

fn decode_base64(line: &[u8]) -> Option<Vec<u8>> {
    BASE64.decode(line.trim_ascii()).ok()
}

async fn smtp_session(stream: TcpStream, id: usize, shared: Arc<SmtpShared>) -> io::Result<()> {
    let (reader, mut w) = stream.into_split();
    let mut r = BufReader::new(reader);
    let mut line = Vec::new();
    let mut session = Session::default();

    reply(&mut w, &format!("220 {HOSTNAME} ESMTP ready")).await?;
    loop {
        match read_line(&mut r, &mut line).await? {
            Line::Complete => {}
            Line::Eof => return Ok(()),
            Line::TooLong => return reply(&mut w, "500 Line too long").await,
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        let (verb, arg) = match text.split_once(' ') {
            Some((verb, arg)) => (verb.to_ascii_uppercase(), arg.trim()),
            None => (text.trim().to_ascii_uppercase(), ""),
        };
        match verb.as_str() {
            "EHLO" | "HELO" if arg.is_empty() => reply(&mut w, "501 Syntax: EHLO hostname").await?,
            "EHLO" => {
                session.greeted = true;
                session.reset_transaction();
                let lines = [
                    format!("250-{HOSTNAME} Hello {arg}"),
                    "250-8BITMIME".to_owned(),
                    "250-SMTPUTF8".to_owned(),
                    format!("250-SIZE {MAX_MESSAGE}"),
                    "250 AUTH PLAIN LOGIN".to_owned(),
                ];
                reply(&mut w, &lines.join("\r\n")).await?;
            }
            "HELO" => {
                session.greeted = true;
                session.reset_transaction();
                reply(&mut w, &format!("250 {HOSTNAME} Hello {arg}")).await?;
            }
            "NOOP" => reply(&mut w, "250 OK").await?,
            "RSET" => {
                session.reset_transaction();
                reply(&mut w, "250 OK").await?;
            }
            "QUIT" => {
                reply(&mut w, &format!("221 {HOSTNAME} closing connection")).await?;
                return w.shutdown().await;
            }
            "VRFY" => reply(&mut w, "252 Cannot VRFY user, but will accept message").await?,
            "HELP" => reply(&mut w, "214 EHLO HELO MAIL RCPT DATA RSET NOOP QUIT AUTH").await?,
            "STARTTLS" => reply(&mut w, "502 STARTTLS not supported").await?,
            "AUTH" => smtp_auth(&mut r, &mut w, &mut line, &mut session, arg).await?,
            "MAIL" => {
                if !session.greeted {
                    reply(&mut w, "503 Send EHLO or HELO first").await?;
                } else if session.mail_from.is_some() {
                    reply(&mut w, "503 Nested MAIL command").await?;
                } else if let Some((from, params)) = parse_path(arg, "FROM:") {
                    let declared_size = params
                        .split_whitespace()
                        .find_map(|p| p.get(..5).filter(|k| k.eq_ignore_ascii_case("SIZE=")).and(p.get(5..)))
                        .and_then(|size| size.parse::<usize>().ok());
                    if declared_size.is_some_and(|size| size > MAX_MESSAGE) {
                        reply(&mut w, "552 Message size exceeds fixed maximum message size").await?;
                    } else {
                        session.mail_from = Some(from);
                        reply(&mut w, "250 OK").await?;
                    }
                } else {
                    reply(&mut w, "501 Syntax: MAIL FROM:<address>").await?;
                }
            }
            "RCPT" => {
                if session.mail_from.is_none() {
                    reply(&mut w, "503 Need MAIL before RCPT").await?;
                } else if let Some((to, _params)) = parse_path(arg, "TO:").filter(|(to, _)| !to.is_empty()) {
                    let code = shared.reject_rcpt.load(Ordering::SeqCst);
                    if code != 0 {
                        let kind = if code < 500 { "temporarily" } else { "permanently" };
                        reply(
                            &mut w,
                            &format!("{code} <{to}>: recipient {kind} rejected by test server"),
                        )
                        .await?;
                    } else if session.rcpt_to.len() >= MAX_RECIPIENTS {
                        reply(&mut w, "452 Too many recipients").await?;
                    } else {
                        session.rcpt_to.push(to);
                        reply(&mut w, "250 OK").await?;
                    }
                } else {
                    reply(&mut w, "501 Syntax: RCPT TO:<address>").await?;
                }
            }
            "DATA" => {
                if session.mail_from.is_none() {
                    reply(&mut w, "503 Need MAIL command").await?;
                    continue;
                }
                if session.rcpt_to.is_empty() {
                    reply(&mut w, "554 No valid recipients").await?;
                    continue;
                }
                reply(&mut w, "354 End data with <CR><LF>.<CR><LF>").await?;
                let mut body = Vec::new();
                let mut too_big = false;
                loop {
                    match read_line(&mut r, &mut line).await? {
                        Line::Complete => {}
                        Line::Eof => return Ok(()),
                        Line::TooLong => return reply(&mut w, "500 Line too long").await,
                    }
                    if line == b"." {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 §4.5.2): the client doubled every leading dot.
                    let content = line.strip_prefix(b".").unwrap_or(&line);
                    // Keep reading to the terminator even when too big, to stay in sync.
                    if body.len() + content.len() + 2 > MAX_MESSAGE {
                        too_big = true;
                    } else {
                        body.extend_from_slice(content);
                        body.extend_from_slice(b"\r\n");
                    }
                }
                let mail = ReceivedMail {
                    mail_from: session.mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut session.rcpt_to),
                    raw: String::from_utf8_lossy(&body).into_owned(),
                    auth_user: session.auth_user.clone(),
                    connection: id,
                };
                let answer = if too_big {
                    "552 Message size exceeds fixed maximum message size".to_owned()
                } else {
                    let mut mails = lock(&shared.mails);
                    if mails.len() >= MAX_STORED {
                        "452 Test mailbox full".to_owned()
                    } else {
                        mails.push(mail);
                        format!("250 OK: queued as {}", mails.len())
                    }
                };
                reply(&mut w, &answer).await?;
            }
            _ => reply(&mut w, "500 Command not recognized").await?,
        }
    }
}

/// AUTH PLAIN (RFC 4616) and AUTH LOGIN, with or without an initial response. Any credentials
/// are accepted; the user name is remembered for the messages that follow.
async fn smtp_auth<R: AsyncBufRead + Unpin>(
    r: &mut R,
    w: &mut OwnedWriteHalf,
    line: &mut Vec<u8>,
    session: &mut Session,
    arg: &str,
) -> io::Result<()> {
    if !session.greeted {
        return reply(w, "503 Send EHLO first").await;
    }
    if session.auth_user.is_some() {
        return reply(w, "503 Already authenticated").await;
    }
    if session.mail_from.is_some() {
        return reply(w, "503 AUTH not allowed during a mail transaction").await;
    }
    let (mechanism, initial) = match arg.split_once(' ') {
        Some((mechanism, initial)) => (mechanism.to_ascii_uppercase(), Some(initial.trim().as_bytes().to_vec())),
        None => (arg.to_ascii_uppercase(), None),
    };

    // Asks the client for one base64 line; None when it cancelled with "*" or hung up.
    async fn challenge<R: AsyncBufRead + Unpin>(
        r: &mut R,
        w: &mut OwnedWriteHalf,
        line: &mut Vec<u8>,
        prompt: &str,
    ) -> io::Result<Option<Vec<u8>>> {
        reply(w, &format!("334 {prompt}")).await?;
        match read_line(r, line).await? {
            Line::Complete if line.as_slice() != b"*" => Ok(Some(line.clone())),
            _ => Ok(None),
        }
    }

    let user = match mechanism.as_str() {
        "PLAIN" => {
            let response = match initial {
                // "=" is the empty initial response.
                Some(initial) if initial != b"=" => initial,
                _ => match challenge(r, w, line, "").await? {
                    Some(response) => response,
                    None => return reply(w, "501 Authentication cancelled").await,
                },
            };
            // authzid NUL authcid NUL passwd
            decode_base64(&response).and_then(|decoded| {
                let fields: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
                (fields.len() == 3).then(|| String::from_utf8_lossy(fields[1]).into_owned())
            })
        }
        "LOGIN" => {
            let username = match initial {
                Some(initial) => initial,
                None => match challenge(r, w, line, &BASE64.encode("Username:")).await? {
                    Some(response) => response,
                    None => return reply(w, "501 Authentication cancelled").await,
                },
            };
            if challenge(r, w, line, &BASE64.encode("Password:")).await?.is_none() {
                return reply(w, "501 Authentication cancelled").await;
            }
            decode_base64(&username).map(|name| String::from_utf8_lossy(&name).into_owned())
        }
        _ => return reply(w, "504 Unrecognized authentication type").await,
    };
    match user {
        Some(user) => {
            session.auth_user = Some(user);
            reply(w, "235 Authentication successful").await
        }
        None => reply(w, "501 Cannot decode authentication response").await,
    }
}

// ---------------------------------------------------------------------------------------------
// Webhooks (Slack, Microsoft Teams)
// ---------------------------------------------------------------------------------------------

/// One HTTP request received by [`WebhookServer`], recorded as soon as its body was read.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: Method,
    /// The path without the query, e.g. `/services/T000/B000/XXX`.
    pub path: String,
    /// The query string without `?`, if any (Teams workflow URLs carry a signature there).
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// The body parsed as JSON; `Value::Null` when it is not JSON.
    pub body: Value,
    pub raw_body: String,
    /// When the request reached the handler.
    pub at: Instant,
}

/// A scripted answer to one POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// This status with this body (text/plain).
    Status(u16, &'static str),
    /// This status (e.g. 429 or 503) with a `Retry-After: <seconds>` header.
    RetryAfter(u16, u64),
    /// Never answer: hold the request open (for an hour, or until the server is dropped).
    Hang,
    /// 200 with body `ok`, like Slack.
    Ok,
}

struct WebhookState {
    requests: Vec<ReceivedRequest>,
    script: VecDeque<Reply>,
}

struct WebhookShared {
    state: Mutex<WebhookState>,
    /// Never sent on; it closes when the server is dropped, which releases hanging requests.
    shutdown: watch::Receiver<()>,
}

/// An HTTP server that records every request and answers POSTs (any path) from a script.
pub struct WebhookServer {
    port: u16,
    shared: Arc<WebhookShared>,
    /// Dropping it shuts the server down gracefully and ends `Reply::Hang`s.
    _shutdown: watch::Sender<()>,
}

impl WebhookServer {
    pub async fn start() -> WebhookServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("WebhookServer: bind 127.0.0.1:0");
        let port = listener.local_addr().expect("WebhookServer: local address").port();
        let (shutdown_tx, shutdown_rx) = watch::channel(());
        let shared = Arc::new(WebhookShared {
            state: Mutex::new(WebhookState {
                requests: Vec::new(),
                script: VecDeque::new(),
            }),
            shutdown: shutdown_rx.clone(),
        });
        let app = Router::new().fallback(webhook_handler).with_state(Arc::clone(&shared));
        let mut stop = shutdown_rx;
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                // Resolves (with Err) once the sender is dropped.
                let _ = stop.changed().await;
            });
            let _ = serve.await;
        });
        WebhookServer {
            port,
            shared,
            _shutdown: shutdown_tx,
        }
    }

    /// `http://127.0.0.1:<port><path>`; `path` should start with `/` and may carry a query.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Queues answers: each following POST takes the next one; once they run out POSTs get
    /// 200 `ok`. Calling it again appends to what is left.
    pub fn script(&self, replies: Vec<Reply>) {
        lock(&self.shared.state).script.extend(replies);
    }

    /// Snapshot of every request so far, in order of arrival.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        lock(&self.shared.state).requests.clone()
    }

    /// Arrival times of every request so far.
    pub fn received_at(&self) -> Vec<Instant> {
        lock(&self.shared.state).requests.iter().map(|r| r.at).collect()
    }

    /// Waits until at least `n` requests have arrived and returns them all; panics with what
    /// did arrive if they do not within `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedRequest> {
        poll_until(
            "WebhookServer requests",
            n,
            timeout,
            || self.requests(),
            |requests| {
                let list: Vec<String> = requests
                    .iter()
                    .map(|r| format!("{} {} {}", r.method, r.path, r.raw_body))
                    .collect();
                format!("[{}]", list.join("; "))
            },
        )
        .await
    }
}

async fn webhook_handler(State(shared): State<Arc<WebhookShared>>, request: Request) -> Response {
    let at = Instant::now();
    let (parts, body) = request.into_parts();
    let (raw_body, too_large) = match axum::body::to_bytes(body, MAX_HTTP_BODY).await {
        Ok(bytes) => (String::from_utf8_lossy(&bytes).into_owned(), false),
        Err(_) => (String::new(), true),
    };
    let is_post = parts.method == Method::POST;
    let recorded = ReceivedRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: serde_json::from_str(&raw_body).unwrap_or(Value::Null),
        raw_body,
        at,
    };

    // Record and take the scripted reply under one lock, so the n-th request gets the n-th reply.
    let reply = {
        let mut state = lock(&shared.state);
        if state.requests.len() >= MAX_STORED {
            return (
                StatusCode::INSUFFICIENT_STORAGE,
                "WebhookServer: too many requests recorded",
            )
                .into_response();
        }
        state.requests.push(recorded);
        if too_large {
            return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
        }
        if !is_post {
            return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")], "only POST").into_response();
        }
        state.script.pop_front().unwrap_or(Reply::Ok)
    };

    match reply {
        Reply::Ok => (StatusCode::OK, "ok").into_response(),
        Reply::Status(code, body) => (status(code), body).into_response(),
        Reply::RetryAfter(code, seconds) => {
            let mut response = Response::new(Body::from("rate limited"));
            *response.status_mut() = status(code);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
        Reply::Hang => {
            let mut stop = shared.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
                _ = stop.changed() => {}
            }
            (StatusCode::SERVICE_UNAVAILABLE, "server stopped").into_response()
        }
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or_else(|_| panic!("WebhookServer: invalid scripted status {code}"))
}
