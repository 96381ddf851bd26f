//! Hot reload: `config.toml` and the templates folder are watched, `SIGHUP`
//! asks too; a reload validates the new config whole and, only if it is good,
//! swaps the rules and plugin instances new work starts with.
//!
//! `live` holds what is in force, `diff` what a reload changed (what only a restart
//! changes is `config::RestartOnly`), `apply` one reload, `watch` the triggers.

mod apply;
mod diff;
mod live;
mod watch;

pub use self::apply::Reloader;
pub use self::diff::Changes;
pub use self::live::{Live, Snapshot};
pub use self::watch::spawn;
