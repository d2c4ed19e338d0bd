//! The rules of Herald, with no I/O: roles, the security gate, and the types
//! that cannot be built from invalid input.
//!
//! The enums derive `async_graphql::Enum` so the API spells them exactly as
//! the rules do, and those stored in a column derive sea-orm's
//! `DeriveValueType` (see `stored_name`); those are derives, not I/O.

pub mod client_address;
pub mod email;
pub mod gate;
pub mod import;
pub mod markup;
pub mod name;
pub mod notification;
pub mod product;
pub mod retry;
pub mod role;
pub mod settings;
pub mod severity;
pub mod stored_name;
pub mod text;
pub mod throttle;
pub mod validation;
pub mod webhook;

pub use email::{EmailAddress, EmailList};
pub use gate::{GateSettings, GlobalGate, SecurityGateStatus, SeverityCounts, Threshold, Thresholds};
pub use name::Name;
pub use notification::{Channel, DeliveryStatus, NotificationType};
pub use product::{NotificationTargets, Patch, ProductChanges, ProductSpec};
pub use role::Role;
pub use settings::{BaseUrl, SettingsChanges};
pub use severity::{ObservationStatus, Severity};
pub use text::Description;
pub use validation::ValidationError;
pub use webhook::WebhookUrl;
