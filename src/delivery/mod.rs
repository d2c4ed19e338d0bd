//! Delivering notifications: the outbox worker and one sender per channel.

pub mod email;
pub mod guard;
pub mod slack;
pub mod teams;
pub mod worker;
