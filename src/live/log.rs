//! Reading the event log in an order every replica agrees on, without a
//! lock shared by writers (docs/write-path.md).
//!
//! On PostgreSQL an event carries its transaction's id (`xid`). Ids are
//! taken when a transaction first writes, not when it commits, so a reader
//! that went by event id alone could pass over an event whose transaction
//! took its id early and committed late. The reader therefore consumes only
//! events of transactions older than every transaction of this database
//! still running: those have all ended, and none can add an event
//! before them any more. It reads in (xid, id) order; changes to one product
//! lock it before they write (`store::Scope`), so for one product that is
//! the order they committed in. SQLite has one writer at a time: its ids
//! follow commit order, `xid` is 0 and there is no horizon.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement};

use crate::entity::event;

/// Where a reader of the log stands: it has consumed every event up to
/// and including (xid, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub xid: i64,
    pub id: i64,
}

impl Cursor {
    pub fn of(event: &event::Model) -> Self {
        Self {
            xid: event.xid,
            id: event.id,
        }
    }
}

/// Events read after a cursor: those that may be consumed, and whether
/// more wait behind a transaction still running.
pub struct Batch {
    pub ready: Vec<event::Model>,
    pub held: bool,
}

/// The oldest transaction of this database still running, as a bound on
/// `xid`: every event below it belongs to a transaction that has ended.
/// `None` on SQLite.
///
/// The snapshot's own `xmin` would do, but it counts every database of the
/// cluster, so one long transaction elsewhere (another application, a
/// report) would hold the live stream back. Events are written only by
/// this database's sessions, so only their transactions bound it. The
/// snapshot is taken when the statement starts and `pg_stat_activity` is
/// read after: a transaction running then that has ended by the time its
/// session is looked at has committed before the reader's next statement,
/// whose snapshot therefore holds its events.
async fn horizon(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    Ok(Some(snapshot_value(db, HORIZON).await?))
}

/// `xid` is 64 bits (epoch and counter); `backend_xid` is the 32-bit
/// counter, unique among running transactions.
const HORIZON: &str = "LEAST(
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
    (SELECT min(running::text::bigint)
       FROM pg_snapshot_xip(pg_current_snapshot()) AS running
      WHERE running::text::bigint % 4294967296 IN (
            SELECT backend_xid::text::bigint FROM pg_stat_activity
             WHERE datname = current_database() AND backend_xid IS NOT NULL)))";

/// One value about the current snapshot (PostgreSQL).
async fn snapshot_value<T: sea_orm::TryGetable>(db: &impl ConnectionTrait, expression: &str) -> Result<T, DbErr> {
    let sql = format!("SELECT {expression} AS value");
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("no snapshot".into()))?;
    row.try_get("", "value")
}

/// Where a reader starting now begins: after every event of a transaction
/// that has ended; events of transactions still running are still to come.
pub async fn start(db: &impl ConnectionTrait) -> Result<Cursor, DbErr> {
    match horizon(db).await? {
        Some(h) => Ok(Cursor {
            xid: h - 1,
            id: i64::MAX,
        }),
        None => {
            let last: Option<i64> = event::Entity::find()
                .select_only()
                .column(event::Column::Id)
                .order_by_desc(event::Column::Id)
                .into_tuple()
                .one(db)
                .await?;
            Ok(Cursor {
                xid: 0,
                id: last.unwrap_or(0),
            })
        }
    }
}

/// Up to `limit` events after `after`, in log order, stopping before the
/// first one whose transaction may still have company coming.
pub async fn read(db: &impl ConnectionTrait, after: Cursor, limit: u64) -> Result<Batch, DbErr> {
    // The horizon is read first: every transaction below it had ended
    // then, so the rows read next hold all of their events.
    let horizon = horizon(db).await?;
    let position = Expr::tuple([Expr::col(event::Column::Xid), Expr::col(event::Column::Id)]);
    let rows = event::Entity::find()
        .filter(position.gt(Expr::tuple([Expr::val(after.xid), Expr::val(after.id)])))
        .order_by_asc(event::Column::Xid)
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let ready_len = match horizon {
        Some(h) => rows.iter().take_while(|r| r.xid < h).count(),
        None => rows.len(),
    };
    let held = ready_len < rows.len();
    let mut ready = rows;
    ready.truncate(ready_len);
    Ok(Batch { ready, held })
}

/// What one read transaction saw of the log, so that a count read in it
/// can be continued with exactly the events it did not reflect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// SQLite: every event up to this id.
    UpTo(i64),
    /// PostgreSQL: a snapshot (`xmin:xmax:running,…`); an event is seen
    /// when its transaction had committed for it.
    Snapshot { xmin: i64, xmax: i64, running: Vec<i64> },
}

impl Seen {
    /// Reads what the transaction `db` sees (REPEATABLE READ on PostgreSQL,
    /// so that its snapshot is the one its other reads used).
    pub async fn of(db: &impl ConnectionTrait) -> Result<Seen, DbErr> {
        if db.get_database_backend() != DbBackend::Postgres {
            let Cursor { id, .. } = start(db).await?;
            return Ok(Seen::UpTo(id));
        }
        let text: String = snapshot_value(db, "pg_current_snapshot()::text").await?;
        Seen::parse(&text).ok_or_else(|| DbErr::Custom(format!("unreadable snapshot {text:?}")))
    }

    fn parse(text: &str) -> Option<Seen> {
        let mut parts = text.split(':');
        let xmin = parts.next()?.parse().ok()?;
        let xmax = parts.next()?.parse().ok()?;
        let running = match parts.next()? {
            "" => Vec::new(),
            list => list.split(',').map(|x| x.parse().ok()).collect::<Option<Vec<i64>>>()?,
        };
        parts.next().is_none().then_some(Seen::Snapshot { xmin, xmax, running })
    }

    /// Whether the event with this id, written by transaction `xid`, was
    /// already visible.
    pub fn includes(&self, id: i64, xid: i64) -> bool {
        match self {
            Seen::UpTo(last) => id <= *last,
            Seen::Snapshot { xmin, xmax, running } => xid < *xmin || (xid < *xmax && !running.contains(&xid)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_sees_what_had_committed_for_it() {
        let seen = Seen::parse("100:105:100,103").unwrap();
        assert!(seen.includes(1, 99), "older than every running transaction");
        assert!(!seen.includes(1, 100), "running");
        assert!(seen.includes(1, 101), "ended between xmin and xmax");
        assert!(!seen.includes(1, 103), "running");
        assert!(!seen.includes(1, 105), "started after the snapshot");
        assert!(!seen.includes(1, 106));
    }

    #[test]
    fn a_snapshot_with_nothing_running_sees_everything_below_xmax() {
        let seen = Seen::parse("7:7:").unwrap();
        assert!(seen.includes(1, 6));
        assert!(!seen.includes(1, 7));
    }

    #[test]
    fn unreadable_snapshots_are_refused() {
        for bad in ["", "1", "1:2", "a:2:", "1:2:x", "1:2:3:4"] {
            assert_eq!(Seen::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn on_sqlite_what_was_seen_is_every_id_up_to_the_last() {
        let seen = Seen::UpTo(10);
        assert!(seen.includes(10, 0));
        assert!(!seen.includes(11, 0));
    }
}
