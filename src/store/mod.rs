//! How Herald writes: one [`UnitOfWork`] per change, whose commit wakes
//! whoever waits on what it wrote.

pub mod access;
mod job_queue;
pub mod settings;
pub mod sight;
pub mod stored;
mod unit_of_work;

pub use job_queue::{Job, JobContext, claim_job, enqueue, enqueue_once, finish_job, release_job};
pub use unit_of_work::{Scope, Signals, UnitOfWork};
