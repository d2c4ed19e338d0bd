//! Unexpected failures, while serving a request (EXCEPTION) or in a
//! background job (TASK), become notifications for the exception recipients
//! of the global settings, rate limited.

use std::fmt;

use chrono::Utc;
use tracing::Instrument;

use crate::domain::notification::{self, Recipient, TargetOrigin};
use crate::domain::{EmailList, NotificationType, WebhookUrl};
use crate::error::AppResult;
use crate::notify::rate_limit::{self, Admission};
use crate::notify::{NewNotification, store};
use crate::state::AppState;
use crate::store::Scope;
use crate::store::settings;

/// Traces are cut to this many characters.
const TRACE_MAX: usize = 16 * 1024;

/// A failure raised on purpose by `injectFault` (tests only).
#[derive(Debug)]
pub struct InjectedFault(pub String);

impl fmt::Display for InjectedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InjectedFault {}

/// What went wrong, where and for whom.
#[derive(Debug, Clone)]
pub struct Failure {
    pub in_task: bool,
    /// The kind of error, e.g. `DbErr`.
    pub class: String,
    pub message: String,
    pub trace: String,
    pub function: Option<String>,
    pub arguments: Option<String>,
    pub user_id: Option<i64>,
    pub product_id: Option<i64>,
}

impl fmt::Display for Failure {
    // Shown nowhere but the log; the client sees a generic message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}

/// The kind of an error, as the notification names it.
pub fn class_of(error: &anyhow::Error) -> String {
    if error.downcast_ref::<sea_orm::DbErr>().is_some() {
        "DbErr".into()
    } else if error.downcast_ref::<InjectedFault>().is_some() {
        "InjectedFault".into()
    } else if error.downcast_ref::<std::io::Error>().is_some() {
        "IoError".into()
    } else {
        "Error".into()
    }
}

impl Failure {
    pub fn from_error(error: &anyhow::Error, in_task: bool) -> Self {
        let trace = format!("{error:?}\n\n{}", std::backtrace::Backtrace::force_capture());
        Self {
            in_task,
            class: class_of(error),
            message: error.to_string(),
            trace: trace.chars().take(TRACE_MAX).collect(),
            function: None,
            arguments: None,
            user_id: None,
            product_id: None,
        }
    }
}

/// Stores the failure as a notification and enqueues its deliveries, unless
/// the same failure was sent within the rate-limit window. Returns the new
/// notification's id, or `None` when it was suppressed.
pub async fn report(state: &AppState, failure: Failure) -> AppResult<Option<i64>> {
    let txn = state.begin().await?;
    // Ordered with the product's other events.
    txn.lock(failure.product_id.map(Scope::Product)).await?;
    let settings = settings::load(&txn).await?;
    let key = rate_limit::key(
        &failure.class,
        &failure.message,
        failure.function.as_deref(),
        failure.arguments.as_deref(),
    );
    let admission = rate_limit::admit(&txn, &key, settings.exception_rate_limit_seconds, Utc::now()).await?;
    let Admission::Send { repeat } = admission else {
        txn.commit().await?;
        state.metrics.rate_limit_suppressed.inc();
        tracing::info!(class = %failure.class, "exception notification suppressed by the rate limit");
        return Ok(None);
    };
    let emails = if state.email_enabled(&settings) {
        EmailList::from_stored(&settings.exception_email_to)
    } else {
        EmailList::default()
    };
    let webhook = |raw: &Option<String>| raw.as_deref().and_then(|u| WebhookUrl::parse("stored", u).ok());
    let recipients: Vec<Recipient> = notification::recipients(
        &emails,
        webhook(&settings.exception_ms_teams_webhook).as_ref(),
        webhook(&settings.exception_slack_webhook).as_ref(),
        TargetOrigin::Settings,
    );
    let kind = if failure.in_task {
        NotificationType::Task
    } else {
        NotificationType::Exception
    };
    let stored = store(
        &txn,
        NewNotification {
            kind: Some(kind),
            name: notification::exception_name(&failure.class, failure.in_task),
            message: Some(failure.message),
            product_id: failure.product_id,
            user_id: failure.user_id,
            function: failure.function,
            arguments: failure.arguments,
            trace: Some(failure.trace),
            repeat,
            gate: None,
        },
        &recipients,
    )
    .await?;
    txn.commit().await?;
    state.metrics.notification_created(kind.as_str());
    Ok(Some(stored.id))
}

/// Reports a failed background job; a failure to report is logged, since
/// there is nobody left to tell.
pub async fn report_task(
    state: &AppState,
    function: &str,
    arguments: Option<String>,
    user_id: Option<i64>,
    product_id: Option<i64>,
    error: &anyhow::Error,
) {
    tracing::error!(job = function, error = ?error, "background job failed");
    let failure = Failure {
        function: Some(function.to_owned()),
        arguments,
        user_id,
        product_id,
        ..Failure::from_error(error, true)
    };
    if let Err(e) = report(state, failure).await {
        tracing::error!(job = function, error = ?e, "reporting a failed background job failed");
    }
}

/// Reports the internal errors among a response's errors, over HTTP or a
/// websocket alike, as failures of `user_id`'s request. In the background,
/// so the client does not wait for it.
pub fn report_response_errors(state: &AppState, errors: &[async_graphql::ServerError], user_id: Option<i64>) {
    for error in errors {
        if let Some(failure) = error.source::<Failure>() {
            let failure = Failure {
                user_id,
                ..failure.clone()
            };
            let app = state.clone();
            tokio::spawn(async move { report_request(&app, failure).await }.instrument(tracing::Span::current()));
        }
    }
}

/// Reports a failure while serving a request.
pub async fn report_request(state: &AppState, failure: Failure) {
    tracing::error!(class = %failure.class, error_message = %failure.message, trace = %failure.trace, "internal error while serving a request");
    if let Err(e) = report(state, failure).await {
        tracing::error!(error = ?e, "reporting an internal error failed");
    }
}
