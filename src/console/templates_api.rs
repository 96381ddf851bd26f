//! `/api/templates…` and `/api/samples`: the editor's JSON. Rendering and saving
//! use the config in force, so a preview shows what the next delivery would send.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_plugin_api::Templates as _;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{error, info};

use super::editor::{self, key, Parts, SaveError, PARTS};
use crate::admin::error::AdminError;
use crate::check::{self, SampleEvent};
use crate::server::AppState;
use crate::{clock, samples};

/// Which event a preview renders against; none given: a built-in sample a rule
/// rendering the set matches.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    #[serde(default)]
    parts: Parts,
    /// A built-in sample's type (`herald trigger --list`).
    sample: Option<String>,
    /// A stored event.
    event: Option<EventRef>,
    /// A Stripe event as Stripe sends it.
    payload: Option<Value>,
}

/// A stored event by source and id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRef {
    source: String,
    id: String,
}

/// Body of a save.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveRequest {
    parts: Parts,
}

/// `GET /api/samples`: the built-in sample event types.
pub async fn samples_list() -> Json<Value> {
    let samples: Vec<Value> = samples::types()
        .map(|kind| json!({ "type": kind }))
        .collect();
    Json(json!({ "samples": samples }))
}

/// `GET /api/templates`: every set, its parts, and the rules that render it.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let config = state.live.get().config.clone();
    let sets: Vec<Value> = config
        .reloadable
        .templates
        .names()
        .into_iter()
        .map(|name| {
            let parts: Vec<&str> = PARTS
                .into_iter()
                .filter(|part| config.reloadable.templates.has(&name, *part))
                .map(key)
                .collect();
            let rules: Vec<&str> = config
                .reloadable
                .rules
                .iter()
                .filter(|rule| {
                    rule.actions()
                        .iter()
                        .any(|a| a.spec().template_sets.iter().any(|set| set.name == name))
                })
                .map(crate::rules::Rule::name)
                .collect();
            json!({ "name": name, "parts": parts, "rules": rules })
        })
        .collect();
    Json(json!({ "templates": sets }))
}

/// `GET /api/templates/{name}`: the set's files as they are on disk.
pub async fn read(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let config = state.live.get().config.clone();
    match Parts::read(&config.reloadable.templates_dir, &name) {
        Some(parts) if config.reloadable.templates.names().contains(&name) => {
            Json(json!({ "name": name, "parts": parts })).into_response()
        }
        _ => AdminError::NotFound(format!("no template set `{name}`")).into_response(),
    }
}

/// `POST /api/templates/{name}/render`: the set, with the parts sent in place of
/// its files, rendered against the event asked for.
pub async fn render(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(request): Json<RenderRequest>,
) -> Response {
    let config = state.live.get().config.clone();
    let sample = match pick_event(&state, &config, &name, &request).await {
        Ok(sample) => sample,
        Err(err) => return err.into_response(),
    };
    Json(editor::preview(&config, &name, &request.parts, &sample)).into_response()
}

/// `PUT` or `POST /api/templates/{name}`: checks and saves the parts sent.
pub async fn save(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(request): Json<SaveRequest>,
) -> Response {
    let config = state.live.get().config.clone();
    let saving = name.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        editor::save(&config, &saving, &request.parts, &check::builtin())
    })
    .await;
    match outcome {
        Ok(Ok(saved)) => {
            info!(template = %name, written = ?saved.written, "template saved from the console");
            Json(json!({ "saved": true, "result": saved })).into_response()
        }
        Ok(Err(SaveError::Refused(problems))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "saved": false, "problems": problems })),
        )
            .into_response(),
        Ok(Err(err)) => {
            error!(template = %name, error = %err, "template save failed");
            AdminError::Internal(err.to_string()).into_response()
        }
        Err(err) => {
            error!(template = %name, error = %err, "template save failed");
            AdminError::Internal("the save did not finish".to_owned()).into_response()
        }
    }
}

/// The event a render request names, normalized as the receiver would.
async fn pick_event(
    state: &AppState,
    config: &crate::Config,
    name: &str,
    request: &RenderRequest,
) -> Result<SampleEvent, AdminError> {
    let bad = |message: String| AdminError::BadRequest(message);
    if let Some(payload) = &request.payload {
        return SampleEvent::from_value("posted event", payload).map_err(|e| bad(e.to_string()));
    }
    if let Some(EventRef { source, id }) = &request.event {
        return match state.store.event(source, id).await {
            Ok(Some(event)) => Ok(SampleEvent {
                name: format!("stored event {id}"),
                event,
            }),
            Ok(None) => Err(AdminError::NotFound(format!(
                "no stored event {source}/{id}"
            ))),
            Err(err) => Err(err.into()),
        };
    }
    let kind = match &request.sample {
        Some(kind) => kind.clone(),
        None => {
            let builtin = check::builtin();
            let index = editor::default_sample(config, name, &builtin).unwrap_or_default();
            builtin
                .get(index)
                .map(|sample| sample.event.kind.clone())
                .unwrap_or_default()
        }
    };
    let now = clock::now_ms() / 1000;
    let event =
        samples::sample(&kind, now, &samples::fresh_event_id()).map_err(|e| bad(e.to_string()))?;
    SampleEvent::from_value(format!("sample {kind}"), &event).map_err(|e| bad(e.to_string()))
}
