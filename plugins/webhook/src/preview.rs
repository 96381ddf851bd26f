//! The webhook kind's preview for `herald route`: the request [`compose`] builds for
//! delivery, with its headers; configured header values, the signature and any query
//! string are masked (they may hold credentials).

use herald_plugin_api::{Job, Preview, Templates, MASKED};
use herald_plugin_http::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_ID_HEADER};

use crate::config::ValidatedWebhook;
use crate::plugin::IDEMPOTENCY_HEADER;
use crate::request::compose;

/// Method, URL, headers and the body exactly as it would be sent and signed.
pub(crate) fn preview(
    validated: &ValidatedWebhook,
    job: &Job<'_>,
    templates: &dyn Templates,
) -> Result<Preview, String> {
    let request = compose(job, &validated.url, templates).map_err(|err| err.to_string())?;
    let mut url = request.url;
    let url = if url.query().is_some() {
        url.set_query(None);
        format!("{url}?{MASKED}")
    } else {
        url.to_string()
    };
    let mut headers = vec![
        "Content-Type: application/json".to_owned(),
        format!("{IDEMPOTENCY_HEADER}: {}", job.idempotency_key),
    ];
    headers.extend(
        validated
            .headers
            .keys()
            .map(|name| format!("{name}: {MASKED}")),
    );
    if validated.secret.is_some() {
        headers.push(format!("{WEBHOOK_ID_HEADER}: {}", job.idempotency_key));
        headers.push(format!("{TIMESTAMP_HEADER}: (the time of sending)"));
        headers.push(format!("{SIGNATURE_HEADER}: {MASKED}"));
    }
    Ok(Preview::new()
        .line("method", "POST")
        .line("url", url)
        .line("headers", headers.join("\n"))
        .line("body", String::from_utf8_lossy(&request.body)))
}
