//! `/login`: the form that trades the admin token for a session cookie, the
//! one-time URL that does the same, and `/logout`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, PreEscaped, DOCTYPE};
use serde::Deserialize;
use tracing::{info, warn};

use super::{cookie_header, peer_ip, session_cookie, AdminAuth};

/// `token` of `GET /login?token=…` and of the form; `code` of the one-time link.
#[derive(Debug, Default, Deserialize)]
pub struct LoginFields {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// `/login`, which needs no session of course.
pub fn login_router(auth: Arc<AdminAuth>) -> Router {
    Router::new()
        .route("/login", get(show).post(submit))
        .with_state(auth)
}

/// `GET /login`: the form, or with `?token=` a login straight away.
async fn show(
    State(auth): State<Arc<AdminAuth>>,
    headers: HeaderMap,
    extensions: Extensions,
    Query(fields): Query<LoginFields>,
) -> Response {
    match (fields.token, fields.code) {
        (Some(token), _) => log_in(&auth, &headers, &extensions, Credential::Token(&token)),
        (None, Some(code)) => log_in(&auth, &headers, &extensions, Credential::Code(&code)),
        (None, None) => page(StatusCode::OK, None),
    }
}

/// `POST /login` with form field `token`.
async fn submit(
    State(auth): State<Arc<AdminAuth>>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(fields): Form<LoginFields>,
) -> Response {
    let token = fields.token.as_deref().unwrap_or("");
    log_in(&auth, &headers, &extensions, Credential::Token(token))
}

/// What a sign-in presents.
#[derive(Clone, Copy)]
enum Credential<'a> {
    /// The admin token.
    Token(&'a str),
    /// A one-time link's code.
    Code(&'a str),
}

/// `POST /logout`: ends this browser's session. Other sessions last until they
/// expire or the token changes, as sessions are not stored.
pub async fn logout() -> Response {
    let clear = cookie_header(&session_cookie(String::new(), cookie::time::Duration::ZERO).build());
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}

fn log_in(
    auth: &AdminAuth,
    request: &HeaderMap,
    extensions: &Extensions,
    credential: Credential<'_>,
) -> Response {
    let peer = peer_ip(extensions);
    if let Err(wait) = peer.map_or(Ok(()), |ip| auth.throttle.check(ip)) {
        warn!(peer = ?peer, "admin login refused: too many wrong tokens from this address");
        let mut response = page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many wrong tokens from your address. Wait a minute, then try again."),
        );
        let secs = wait.as_secs().max(1).to_string();
        if let Ok(value) = HeaderValue::from_str(&secs) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let admitted = match credential {
        Credential::Token(token) => auth.is_token(token),
        Credential::Code(code) => auth.redeem(code),
    };
    if !admitted {
        if let Some(ip) = peer {
            auth.throttle.failed(ip);
        }
        warn!(peer = ?peer, "admin login with a wrong token or a spent link");
        let why = match (credential, auth.link_file()) {
            (Credential::Code(_), Some(file)) => format!(
                "That sign-in link was used already, or is from an earlier start. \
                 The newest link is in {} on the server.",
                file.display()
            ),
            (Credential::Code(_), None) => {
                "That sign-in link was used already, or is from an earlier start.".to_owned()
            }
            (Credential::Token(_), _) => "That is not the admin token.".to_owned(),
        };
        return page(StatusCode::UNAUTHORIZED, Some(&why));
    }
    if let Some(ip) = peer {
        auth.throttle.succeeded(ip);
    }
    info!("admin login");
    let secure = auth.wants_secure_cookie(request, peer);
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.insert(header::SET_COOKIE, auth.start_session(secure));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The sign-in page's style: a constant of ours, so it goes in as it is.
const LOGIN_CSS: &str = "
body { font: 16px/1.5 system-ui, sans-serif; max-width: 24rem; margin: 15vh auto; padding: 0 1rem; }
label, input, button { display: block; width: 100%; box-sizing: border-box; }
input { margin: .25rem 0 1rem; padding: .5rem; font: inherit; }
button { padding: .5rem; font: inherit; }
.problem { color: #a40000; }
";

/// The form; `problem` is our own text (a file path at most), never the request's.
fn page(status: StatusCode, problem: Option<&str>) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "herald · sign in" }
                style { (PreEscaped(LOGIN_CSS)) }
            }
            body { main {
                h1 { "herald" }
                @if let Some(text) = problem { p.problem role="alert" { (text) } }
                form method="post" action="/login" {
                    label for="token" { "Admin token" }
                    input #token name="token" type="password" autocomplete="current-password" required autofocus;
                    button type="submit" { "Sign in" }
                }
                p { "The token is " code { "[admin] token" } " in the config. When none is set, open the \
                     one-time sign-in link herald printed at start, or the one in the file its log names." }
            } }
        }
    }
    .into_string();
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            // No script, no framing: the form posts the token to this origin only.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
        ],
        Html(body),
    )
        .into_response()
}
