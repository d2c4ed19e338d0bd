//! Who is calling: passwords, JWTs, API tokens and the resolved identity.

pub mod api_token;
pub mod identity;
pub mod jwt;
pub mod password;
pub mod throttle;

pub use identity::{Auth, Identity};
pub use jwt::JwtKeys;
pub use password::PasswordHasher;
