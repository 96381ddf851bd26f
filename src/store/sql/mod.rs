//! SQL written once for both backends.
//!
//! A shared query is an [`Sql`] (text with `$n` placeholders, and its
//! arguments) run on a [`Conn`] or a [`Tx`]; rows come back through
//! `#[derive(sqlx::FromRow)]` types, which read either backend's rows. What
//! really differs between SQLite and PostgreSQL is a [`Dialect`] fragment (row
//! locks, `= ANY`, `GREATEST`) or a backend's own module (the writer, the
//! claim, batch inserts). See docs/decisions/0114.

mod dialect;
mod run;
mod statement;

pub(in crate::store) use self::dialect::Dialect;
pub(in crate::store) use self::run::{Conn, Durable, Run, Tx};
pub(in crate::store) use self::statement::{Arg, Sql};
