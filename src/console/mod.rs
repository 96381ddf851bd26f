//! The console: HTML pages for the people who run herald (events, dead letters,
//! orders) and for those who write its mail (the template editor with a live
//! preview). Server-rendered HTML and a little JavaScript of our own, from
//! `assets/`; the admin listener serves it behind its login.
//!
//! - `page`: the shell and HTML helpers; `assets`: the embedded CSS and scripts.
//! - `events`, `dead_letters`, `orders`: the listings; `actions`: their buttons.
//! - `report`: the accountant's report, with `chart`'s SVG of net per day.
//! - `templates_page`: the editor; `templates_api`: its JSON (routed with the rest
//!   of `/api` in `admin::api`); `editor`: rendering and saving drafts.

mod actions;
mod assets;
mod chart;
mod dead_letters;
mod editor;
mod events;
mod followups;
mod message;
mod orders;
mod page;
mod report;
mod shell;
mod subscriptions;

pub(crate) mod templates_api;
mod templates_page;

use axum::routing::{get, post};
use axum::Router;

use crate::server::AppState;

/// The console's pages, assets and JSON endpoints, for the admin router to mount
/// behind its auth.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(events::list))
        .route("/events/{source}/{id}", get(events::detail))
        .route("/events/{source}/{id}/redeliver", post(actions::redeliver))
        .route("/dead-letters", get(dead_letters::list))
        .route("/dead-letters/replay", post(actions::replay))
        .route("/dead-letters/purge", post(actions::purge))
        .route("/orders", get(orders::search))
        .route("/orders/{id}", get(orders::show))
        .route("/followups", get(followups::list))
        .route("/report", get(report::show))
        .route("/subscriptions", get(subscriptions::search))
        .route("/subscriptions/{id}", get(subscriptions::show))
        .route("/templates", get(templates_page::editor_page))
        .route("/assets/{file}", get(assets::asset))
}
