//! Query plans of the statements the server really runs: PostgreSQL's
//! auto_explain, set on the database, sends each plan to the client as a
//! NOTICE; sqlx turns notices into tracing events, which are kept here.

use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};

static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub const TARGET: &str = "sqlx::postgres::notice";

/// Keeps the message of every event it is given.
pub struct Capture;

struct Message(Option<String>);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && self.0.is_none() {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut message = Message(None);
        event.record(&mut message);
        if let Some(text) = message.0 {
            CAPTURED.lock().expect("captured plans").push(text);
        }
    }
}

/// Takes what was captured so far.
pub fn take() -> Vec<String> {
    std::mem::take(&mut *CAPTURED.lock().expect("captured plans"))
}

/// One auto_explain message: its duration in ms, the query and the plan.
pub struct Plan {
    pub duration_ms: f64,
    pub query: String,
    pub text: String,
}

pub fn parse(message: &str) -> Option<Plan> {
    let rest = message.strip_prefix("duration: ")?;
    let (number, _) = rest.split_once(" ms")?;
    let duration_ms = number.trim().parse().ok()?;
    let query = message
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("Query Text: "))
        .unwrap_or_default()
        .to_owned();
    Some(Plan {
        duration_ms,
        query,
        text: message.to_owned(),
    })
}
