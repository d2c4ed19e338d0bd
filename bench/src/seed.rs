//! Rows written with SQL, bypassing the API, and what keeps them consistent
//! with what the server would have written.

use anyhow::bail;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::harness::Bench;

/// Column names of a table, empty when it does not exist.
pub async fn columns_of(bench: &Bench, table: &str) -> anyhow::Result<Vec<String>> {
    let backend = bench.backend();
    let stmt = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            [table.into()],
        ),
        _ => Statement::from_sql_and_values(backend, "SELECT name FROM pragma_table_info(?)", [table.into()]),
    };
    let rows = bench.db().query_all_raw(stmt).await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).map_err(Into::into))
        .collect()
}

/// Rebuilds `notification_counters` (per product and type) from the
/// notifications table, when the server has one. Returns the rows written,
/// or `None` when there is no such table.
pub async fn refill_counters(bench: &Bench) -> anyhow::Result<Option<u64>> {
    let columns = columns_of(bench, "notification_counters").await?;
    if columns.is_empty() {
        return Ok(None);
    }
    let has = |c: &str| columns.iter().any(|x| x == c);
    // Product 0 stands for "no product" where the key is not nullable.
    let (key_col, key_expr) = if has("product_key") {
        ("product_key", "COALESCE(product_id, 0)")
    } else if has("product_id") {
        ("product_id", "product_id")
    } else {
        bail!("notification_counters has columns {columns:?}: update bench/src/seed.rs");
    };
    let type_col = if has("type") { "type" } else { "kind" };
    let count_col = ["count", "total", "n"].into_iter().find(|c| has(c));
    let known = [key_col, type_col, count_col.unwrap_or("count"), "updated_at"];
    if !has(type_col) || count_col.is_none() || columns.iter().any(|c| !known.contains(&c.as_str())) {
        bail!("notification_counters has columns {columns:?}: update bench/src/seed.rs");
    }
    let count_col = count_col.unwrap_or_default();
    let db = bench.db();
    db.execute_unprepared("DELETE FROM notification_counters").await?;
    let (extra_col, extra_val) = if has("updated_at") {
        (", updated_at", ", CURRENT_TIMESTAMP")
    } else {
        ("", "")
    };
    let result = db
        .execute_unprepared(&format!(
            "INSERT INTO notification_counters (\"{key_col}\", \"{type_col}\", \"{count_col}\"{extra_col}) \
             SELECT {key_expr}, \"type\", COUNT(*){extra_val} FROM notifications GROUP BY 1, 2"
        ))
        .await?;
    Ok(Some(result.rows_affected()))
}
