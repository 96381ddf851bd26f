//! Hot reload: `config.toml` and the templates folder are watched, `SIGHUP`
//! asks too; a reload validates the new config whole and, only if it is good,
//! swaps the rules and plugin instances new work starts with.
//!
//! `live` holds what is in force, `diff` what a reload changed (and what only a
//! restart changes), `apply` one reload, `watch` the triggers.

mod apply;
mod diff;
mod live;
mod watch;

pub use self::apply::Reloader;
pub use self::diff::{Changes, RESTART_ONLY};
pub use self::live::{Current, Live};
pub use self::watch::spawn;
