//! sea-orm entities, one file per table. Relations are joined by hand where
//! needed, so the enums stay empty.

pub mod api_token;
pub mod delivery;
pub mod delivery_attempt;
pub mod event;
pub mod exception_rate_limit;
pub mod job;
pub mod notification;
pub mod notification_counter;
pub mod notification_view;
pub mod observation;
pub mod product;
pub mod product_group;
pub mod product_group_member;
pub mod product_member;
pub mod settings;
pub mod user;
