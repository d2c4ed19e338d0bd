use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, ModelTrait, QueryFilter, QueryOrder,
};

use crate::auth::Identity;
use crate::domain::import::{self, ExistingObservation, ImportedFinding};
use crate::domain::{Name, ObservationStatus, Role, SecurityGateStatus, Severity};
use crate::entity::observation;
use crate::error::{AppError, AppResult};
use crate::service::{gate, unique_violation_as};
use crate::state::AppState;
use crate::store::Scope;
use crate::store::access;

/// A new observation entered by hand.
#[derive(Debug, Clone)]
pub struct NewObservation {
    pub product_id: i64,
    pub scanner: Name,
    pub fingerprint: Option<Name>,
    pub title: Name,
    pub severity: Severity,
    pub status: ObservationStatus,
}

#[derive(Debug, Clone, Default)]
pub struct ObservationEdit {
    pub title: Option<Name>,
    pub severity: Option<Severity>,
    pub status: Option<ObservationStatus>,
}

const DUPLICATE: &str = "an observation with this fingerprint already exists for this scanner";

pub async fn create(app: &AppState, who: &Identity, new: NewObservation) -> AppResult<observation::Model> {
    let txn = app.begin().await?;
    txn.lock([Scope::Product(new.product_id)]).await?;
    access::product_with_role(&txn, who, new.product_id, Role::Writer).await?;
    let fingerprint = match new.fingerprint {
        Some(f) => f.into_inner(),
        None => import::derived_fingerprint(new.title.as_str(), new.severity),
    };
    let now = chrono::Utc::now();
    let created = observation::ActiveModel {
        id: NotSet,
        product_id: Set(new.product_id),
        scanner: Set(new.scanner.into_inner()),
        fingerprint: Set(fingerprint),
        title: Set(new.title.into_inner()),
        severity: Set(new.severity),
        status: Set(new.status),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(unique_violation_as("fingerprint", DUPLICATE))?;
    gate::reevaluate(&txn, app, new.product_id, Some(who.user_id())).await?;
    txn.commit().await?;
    Ok(created)
}

/// Loads an observation the caller may change (WRITER+ on its product). One
/// on a product they cannot see reads exactly like a missing one, so that
/// ids do not reveal what exists elsewhere.
async fn editable(db: &impl ConnectionTrait, who: &Identity, id: i64) -> AppResult<observation::Model> {
    let missing = || AppError::NotFound("observation");
    let found = observation::Entity::find_by_id(id).one(db).await?.ok_or_else(missing)?;
    match access::product_with_role(db, who, found.product_id, Role::Writer).await {
        Ok(_) => Ok(found),
        Err(AppError::NotFound(_)) => Err(missing()),
        Err(other) => Err(other),
    }
}

pub async fn update(app: &AppState, who: &Identity, id: i64, edit: ObservationEdit) -> AppResult<observation::Model> {
    let txn = app.begin().await?;
    let current = editable(&txn, who, id).await?;
    let product_id = current.product_id;
    txn.lock([Scope::Product(product_id)]).await?;
    let mut row = current.into_active_model();
    if let Some(title) = edit.title {
        row.title = Set(title.into_inner());
    }
    if let Some(severity) = edit.severity {
        row.severity = Set(severity);
    }
    if let Some(status) = edit.status {
        row.status = Set(status);
    }
    row.updated_at = Set(chrono::Utc::now());
    let updated = row.update(&txn).await?;
    gate::reevaluate(&txn, app, product_id, Some(who.user_id())).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn delete(app: &AppState, who: &Identity, id: i64) -> AppResult<()> {
    let txn = app.begin().await?;
    let current = editable(&txn, who, id).await?;
    let product_id = current.product_id;
    txn.lock([Scope::Product(product_id)]).await?;
    current.delete(&txn).await?;
    gate::reevaluate(&txn, app, product_id, Some(who.user_id())).await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
    pub resolved: usize,
    pub security_gate: SecurityGateStatus,
}

/// Imports a scan (UPLOAD+): all of it or none of it, with the gate
/// evaluated in the same transaction.
pub async fn import(
    app: &AppState,
    who: &Identity,
    product_id: i64,
    scanner: Name,
    findings: Vec<ImportedFinding>,
) -> AppResult<ImportOutcome> {
    let txn = app.begin().await?;
    txn.lock([Scope::Product(product_id)]).await?;
    access::product_with_role(&txn, who, product_id, Role::Upload).await?;
    let existing: Vec<ExistingObservation> = observation::Entity::find()
        .filter(observation::Column::ProductId.eq(product_id))
        .filter(observation::Column::Scanner.eq(scanner.as_str()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| ExistingObservation {
            id: o.id,
            severity: o.severity,
            status: o.status,
            fingerprint: o.fingerprint,
            title: o.title,
        })
        .collect();
    let plan = import::plan(&existing, findings);
    let now = chrono::Utc::now();
    let outcome_counts = (plan.create.len(), plan.update.len(), plan.resolve.len());
    if !plan.create.is_empty() {
        let rows = plan.create.into_iter().map(|f| observation::ActiveModel {
            id: NotSet,
            product_id: Set(product_id),
            scanner: Set(scanner.as_str().to_owned()),
            fingerprint: Set(f.fingerprint),
            title: Set(f.title),
            severity: Set(f.severity),
            status: Set(ObservationStatus::Open),
            created_at: Set(now),
            updated_at: Set(now),
        });
        observation::Entity::insert_many(rows).exec(&txn).await?;
    }
    for change in plan.update {
        observation::ActiveModel {
            id: Set(change.id),
            title: Set(change.title),
            severity: Set(change.severity),
            status: Set(change.status),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
    }
    if !plan.resolve.is_empty() {
        observation::Entity::update_many()
            .col_expr(
                observation::Column::Status,
                Expr::value(ObservationStatus::Resolved.as_str()),
            )
            .col_expr(observation::Column::UpdatedAt, Expr::value(now))
            .filter(observation::Column::Id.is_in(plan.resolve))
            .exec(&txn)
            .await?;
    }
    gate::reevaluate(&txn, app, product_id, Some(who.user_id())).await?;
    let security_gate = crate::entity::product::Entity::find_by_id(product_id)
        .one(&txn)
        .await?
        .map_or(SecurityGateStatus::None, |p| p.security_gate);
    txn.commit().await?;
    Ok(ImportOutcome {
        created: outcome_counts.0,
        updated: outcome_counts.1,
        resolved: outcome_counts.2,
        security_gate,
    })
}

/// The observations of a product, newest first.
pub async fn of_product(db: &impl ConnectionTrait, product_id: i64) -> AppResult<Vec<observation::Model>> {
    Ok(observation::Entity::find()
        .filter(observation::Column::ProductId.eq(product_id))
        .order_by_desc(observation::Column::Id)
        .all(db)
        .await?)
}
