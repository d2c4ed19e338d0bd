//! How Herald writes: one [`UnitOfWork`] per change, whose commit wakes
//! whoever waits on what it wrote.

mod unit_of_work;

pub use unit_of_work::{Scope, Signals, UnitOfWork};
