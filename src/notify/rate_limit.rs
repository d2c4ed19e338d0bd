//! The exception rate limit, kept in the database so that it holds across
//! restarts and replicas. Every change is a compare-and-set on `version`, so
//! two replicas hitting the same exception at once cannot both send.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::entity::exception_rate_limit as limit;
use crate::error::AppResult;

/// Identifies "the same exception": kind, message, function and arguments.
pub fn key(class: &str, message: &str, function: Option<&str>, arguments: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    for part in [class, message, function.unwrap_or(""), arguments.unwrap_or("")] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send it; `repeat` says how often it was suppressed since when.
    Send {
        repeat: Option<(i64, DateTime<Utc>)>,
    },
    Suppressed,
}

/// Whether an exception with `key` may be sent at `now`, given a window of
/// `window_seconds` (0: always). The window is total elapsed time since the
/// last one sent.
pub async fn admit(
    db: &impl ConnectionTrait,
    key: &str,
    window_seconds: i64,
    now: DateTime<Utc>,
) -> AppResult<Admission> {
    if window_seconds <= 0 {
        return Ok(Admission::Send { repeat: None });
    }
    let inserted = limit::Entity::insert(limit::ActiveModel {
        key: Set(key.to_owned()),
        last_sent_at: Set(now),
        suppressed: Set(0),
        first_suppressed_at: Set(None),
        version: Set(0),
    })
    .on_conflict(OnConflict::column(limit::Column::Key).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    if inserted > 0 {
        return Ok(Admission::Send { repeat: None });
    }
    // Someone may change the row between our read and write; then we read
    // again. Each round, some replica's write wins, so this ends.
    for _ in 0..16 {
        let Some(row) = limit::Entity::find_by_id(key.to_owned()).one(db).await? else {
            // Deleted meanwhile (retention): treat as first occurrence.
            return Ok(Admission::Send { repeat: None });
        };
        let due = now - row.last_sent_at >= chrono::Duration::seconds(window_seconds);
        let update = limit::Entity::update_many()
            .filter(limit::Column::Key.eq(key))
            .filter(limit::Column::Version.eq(row.version))
            .col_expr(limit::Column::Version, Expr::col(limit::Column::Version).add(1));
        let update = if due {
            update
                .col_expr(limit::Column::LastSentAt, Expr::value(now))
                .col_expr(limit::Column::Suppressed, Expr::value(0i64))
                .col_expr(
                    limit::Column::FirstSuppressedAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
        } else {
            update
                .col_expr(limit::Column::Suppressed, Expr::value(row.suppressed + 1))
                .col_expr(
                    limit::Column::FirstSuppressedAt,
                    Expr::value(Some(row.first_suppressed_at.unwrap_or(now))),
                )
        };
        if update.exec(db).await?.rows_affected == 1 {
            return Ok(if !due {
                Admission::Suppressed
            } else {
                Admission::Send {
                    repeat: row
                        .first_suppressed_at
                        .filter(|_| row.suppressed > 0)
                        .map(|since| (row.suppressed, since)),
                }
            });
        }
    }
    // Heavy contention on one exception: it is being reported anyway.
    Ok(Admission::Suppressed)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    async fn database() -> sea_orm::DatabaseConnection {
        let config = crate::config::Config {
            database_url: "sqlite::memory:".into(),
            // One connection: each one to `:memory:` is a database of its own.
            db_max_connections: 1,
            ..Default::default()
        };
        let db = crate::db::connect(&config).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        db
    }

    /// The window ends exactly `window_seconds` after the last one sent: a
    /// millisecond earlier is still inside it, the edge itself is not.
    #[tokio::test]
    async fn the_window_ends_exactly_at_its_edge() {
        let db = database().await;
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let at = |ms: i64| t0 + chrono::Duration::milliseconds(ms);
        let key = key("Error", "disk on fire", None, None);
        let admit_at = |ms: i64| admit(&db, &key, 60, at(ms));

        assert_eq!(admit_at(0).await.unwrap(), Admission::Send { repeat: None });
        assert_eq!(admit_at(1_000).await.unwrap(), Admission::Suppressed);
        assert_eq!(admit_at(59_999).await.unwrap(), Admission::Suppressed);
        assert_eq!(
            admit_at(60_000).await.unwrap(),
            Admission::Send {
                repeat: Some((2, at(1_000)))
            }
        );
        // The next window counts from that send.
        assert_eq!(admit_at(119_999).await.unwrap(), Admission::Suppressed);
        assert_eq!(
            admit_at(120_000).await.unwrap(),
            Admission::Send {
                repeat: Some((1, at(119_999)))
            }
        );
    }
}
