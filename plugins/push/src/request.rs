//! Deliver stage, first half: turns one [`Job`] into the rendered notification, then
//! into the ntfy or FCM request. Every error here is permanent: composing again would
//! give the same result.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use herald_plugin_api::{Job, Outcome, Templates};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use serde_json::{json, Map, Value};

use crate::action::PushAction;
use crate::config::{FcmSettings, NtfySettings};

/// A notification with every template rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notification {
    pub(crate) title: Option<String>,
    pub(crate) body: String,
    /// The action's literal topic, if any.
    pub(crate) topic: Option<String>,
    /// The rendered device token, if any.
    pub(crate) token: Option<String>,
    /// The rendered click URL, if any.
    pub(crate) click: Option<Url>,
}

/// Renders one job's notification. `Err` holds the job when a template does not
/// render (a fix can mend it) and fails it otherwise.
pub(crate) fn render(job: &Job<'_>, templates: &dyn Templates) -> Result<Notification, Outcome> {
    let failed = |reason: String| Outcome::failed(reason);
    let action = PushAction::from_params(job.params)
        .map_err(|errors| failed(format!("invalid action parameters: {}", errors.join("; "))))?;
    let render = |key: &str, template: &str| {
        templates
            .render_inline(template, job.context.get())
            .map(|text| text.trim().to_owned())
            .map_err(|err| Outcome::held(format!("`{key}` template error: {err}")))
    };
    let body = render("body", &action.body)?;
    if body.is_empty() {
        return Err(failed(
            "`body` rendered to nothing; nothing to send".to_owned(),
        ));
    }
    // An empty title is left out rather than sent blank.
    let title = match &action.title {
        Some(template) => Some(render("title", template)?).filter(|t| !t.is_empty()),
        None => None,
    };
    let token = match &action.token {
        Some(template) => {
            let token = render("token", template)?;
            if token.is_empty() {
                return Err(failed(
                    "`token` rendered to nothing: no device to send to".to_owned(),
                ));
            }
            Some(token)
        }
        None => None,
    };
    let click = match &action.click {
        Some(template) => {
            let raw = render("click", template)?;
            let url = Url::parse(&raw)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    failed(format!("`click` rendered to `{raw}`, not an http(s) URL"))
                })?;
            Some(url)
        }
        None => None,
    };
    Ok(Notification {
        title,
        body,
        topic: action.topic,
        token,
        click,
    })
}

/// A header value from text: ASCII as is, anything else in the RFC 2047 form
/// (`=?UTF-8?B?…?=`) that ntfy decodes. Line breaks become spaces first.
pub(crate) fn header_text(text: &str) -> HeaderValue {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if let Some(value) = Some(&line)
        .filter(|line| line.is_ascii())
        .and_then(|line| HeaderValue::from_str(line).ok())
    {
        return value;
    }
    let encoded = format!("=?UTF-8?B?{}?=", STANDARD.encode(line.as_bytes()));
    // Base64 and the `=?…?=` frame are ASCII, so this cannot fail; fall back regardless.
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The ntfy request: `POST {url}/{topic}` with the body as text and the rest as headers.
pub(crate) fn ntfy(
    settings: &NtfySettings,
    notification: &Notification,
) -> Result<(Url, HeaderMap, Vec<u8>), String> {
    let topic = notification
        .topic
        .as_deref()
        .or(settings.topic.as_deref())
        .ok_or("no `topic` in the action or the instance")?;
    let mut url = settings.url.clone();
    url.path_segments_mut()
        .map_err(|()| "the ntfy url cannot take a path".to_owned())?
        .pop_if_empty()
        .push(topic);
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Some(title) = &notification.title {
        headers.insert(HeaderName::from_static("title"), header_text(title));
    }
    if let Some(click) = &notification.click {
        // A parsed URL serializes to ASCII (IDNA and percent-encoding).
        let value = HeaderValue::from_str(click.as_str())
            .map_err(|_| "`click` cannot be sent as a header".to_owned())?;
        headers.insert(HeaderName::from_static("click"), value);
    }
    if let Some(token) = &settings.token {
        headers.insert(AUTHORIZATION, bearer(token)?);
    }
    Ok((url, headers, notification.body.clone().into_bytes()))
}

/// The FCM request: `POST {api_base}/v1/projects/{project_id}/messages:send` with a
/// `{"message": …}` document; the caller adds the bearer token.
pub(crate) fn fcm(
    settings: &FcmSettings,
    notification: &Notification,
    job: &Job<'_>,
) -> Result<(Url, HeaderMap, Vec<u8>), String> {
    let mut url = settings.api_base.clone();
    url.path_segments_mut()
        .map_err(|()| "the FCM api_base cannot take a path".to_owned())?
        .pop_if_empty()
        .extend(["v1", "projects", &settings.project_id, "messages:send"]);
    let mut message = Map::new();
    match (&notification.topic, &notification.token) {
        (Some(topic), None) => message.insert("topic".into(), topic.clone().into()),
        (None, Some(token)) => message.insert("token".into(), token.clone().into()),
        _ => return Err("fcm needs exactly one of `topic` and `token`".to_owned()),
    };
    let mut shown = Map::new();
    if let Some(title) = &notification.title {
        shown.insert("title".into(), title.clone().into());
    }
    shown.insert("body".into(), notification.body.clone().into());
    message.insert("notification".into(), Value::Object(shown));
    // FCM data values must be strings.
    let mut data = Map::new();
    data.insert("idempotency_key".into(), job.idempotency_key.into());
    data.insert("event_id".into(), job.event.id.clone().into());
    if let Some(order_id) = &job.event.order_id {
        data.insert("order_id".into(), order_id.clone().into());
    }
    message.insert("data".into(), Value::Object(data));
    if let Some(click) = &notification.click {
        // FCM only opens HTTPS links from web push notifications.
        if click.scheme() != "https" {
            return Err(format!(
                "`click` must be an https URL for fcm, got `{click}`"
            ));
        }
        message.insert(
            "webpush".into(),
            json!({ "fcm_options": { "link": click.as_str() } }),
        );
    }
    let body = serde_json::to_vec(&json!({ "message": message }))
        .map_err(|err| format!("cannot serialize the message: {err}"))?;
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok((url, headers, body))
}

/// `Bearer <token>`, marked sensitive so it stays out of Debug output.
pub(crate) fn bearer(token: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "the token cannot be sent as a header".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_titles_are_sent_as_is_and_others_rfc2047_encoded() {
        assert_eq!(header_text("Order 42 paid"), "Order 42 paid");
        assert_eq!(header_text("two\nlines"), "two lines");
        let encoded = header_text("Commande payée ✓");
        let text = encoded.to_str().expect("ascii");
        let inner = text
            .strip_prefix("=?UTF-8?B?")
            .and_then(|t| t.strip_suffix("?="))
            .expect("rfc 2047 frame");
        let decoded = STANDARD.decode(inner).expect("base64");
        assert_eq!(
            String::from_utf8(decoded).expect("utf-8"),
            "Commande payée ✓"
        );
    }
}
