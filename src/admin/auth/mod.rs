//! Who may use the admin listener: a bearer token, or a session cookie set by
//! `/login` whose unsafe requests carry the session's CSRF token.
//!
//! Every comparison with a secret runs in constant time: the token through HMAC tags
//! compared with `subtle` (inside `hmac`), sessions and CSRF tokens through
//! `Mac::verify_slice`.

mod login;
mod one_time;
mod session;
mod throttle;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use cookie::{Cookie, SameSite};
use hmac::digest::CtOutput;
use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::Sha256;

pub use self::login::{login_router, logout};
pub use self::one_time::OneTimeLink;
use self::session::Sessions;
use self::throttle::Throttle;
use crate::clock;

type HmacSha256 = Hmac<Sha256>;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "herald_session";

/// The header a cookie-authenticated POST, PUT or DELETE must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of the session a request came with, inserted as a request
/// extension for pages to render into `<meta name="csrf-token">`.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    token: String,
    session_id: String,
}

impl CsrfToken {
    /// The token, to be sent back in the `X-CSRF-Token` header.
    pub fn as_str(&self) -> &str {
        &self.token
    }
}

/// The admin token, ready to be compared with, and the sessions signed with it.
pub struct AdminAuth {
    /// A key made at start: the token and what a request gives are both tagged with
    /// it, and the tags compared, so the comparison's time says nothing of either.
    probe: HmacSha256,
    token_tag: CtOutput<HmacSha256>,
    sessions: Sessions,
    /// Wrong tokens per client address.
    throttle: Throttle,
    /// `[admin] secure_cookie`: every session cookie is `Secure`.
    secure_cookie: bool,
    /// The sign-in link of a herald whose token was made up at start.
    one_time: Option<OneTimeLink>,
}

impl AdminAuth {
    /// Checks requests against `token`.
    pub fn new(token: &SecretString) -> Self {
        let probe_key: [u8; 32] = rand::rng().random();
        let probe = HmacSha256::new_from_slice(&probe_key).expect("HMAC takes keys of any length");
        let token_tag = tag(&probe, token.expose_secret());
        Self {
            probe,
            token_tag,
            sessions: Sessions::new(token),
            throttle: Throttle::default(),
            secure_cookie: false,
            one_time: None,
        }
    }

    /// Adds a one-time sign-in link to `base` (`http://host:port`), kept in `file`;
    /// returns the first URL. For a herald that made its token up: nobody knows it.
    pub fn with_one_time_link(mut self, base: String, file: Option<PathBuf>) -> (Self, String) {
        let (link, url) = OneTimeLink::new(base, self.probe.clone(), file);
        self.one_time = Some(link);
        (self, url)
    }

    /// Whether `code` is the one-time link's current code (which it then spends).
    fn redeem(&self, code: &str) -> bool {
        self.one_time.as_ref().is_some_and(|link| link.redeem(code))
    }

    /// Where the one-time link is kept, if there is one.
    fn link_file(&self) -> Option<&std::path::Path> {
        self.one_time.as_ref().and_then(OneTimeLink::file)
    }

    /// Marks every session cookie `Secure` (`[admin] secure_cookie`), for a console
    /// served over TLS by a proxy that does not say so in `X-Forwarded-Proto`.
    pub fn with_secure_cookie(mut self, secure: bool) -> Self {
        self.secure_cookie = secure;
        self
    }

    /// Whether a cookie set in answer to this request must be `Secure`: always with
    /// `[admin] secure_cookie`, or when a proxy on this host (a loopback peer, the only
    /// one trusted to say so) forwarded an `https` request.
    fn wants_secure_cookie(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
        let forwarded_https = headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        self.secure_cookie || (forwarded_https && peer.is_some_and(|ip| ip.is_loopback()))
    }

    /// Whether `given` is the admin token.
    pub fn is_token(&self, given: &str) -> bool {
        tag(&self.probe, given) == self.token_tag
    }

    /// A `Set-Cookie` value starting a new session; `secure` adds `Secure`.
    fn start_session(&self, secure: bool) -> HeaderValue {
        let (value, _) = self.sessions.issue(now_secs());
        let cookie = session_cookie(
            value,
            cookie::time::Duration::seconds(session::LIFETIME_SECS),
        )
        .secure(secure)
        .build();
        cookie_header(&cookie)
    }
}

/// A random admin token for a herald started without one: 32 bytes, in hex.
pub fn make_token() -> SecretString {
    let bytes: [u8; 32] = rand::rng().random();
    SecretString::from(hex::encode(bytes))
}

fn tag(probe: &HmacSha256, value: &str) -> CtOutput<HmacSha256> {
    let mut mac = probe.clone();
    mac.update(value.as_bytes());
    mac.finalize()
}

fn now_secs() -> i64 {
    clock::now_ms() / 1000
}

/// The session cookie with `value`, lasting `max_age`: only for this origin's
/// requests, never for scripts.
fn session_cookie(
    value: String,
    max_age: cookie::time::Duration,
) -> cookie::CookieBuilder<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(max_age)
}

/// `cookie` as a `Set-Cookie` value. Ours hold a name, a signed value in
/// URL-safe base64 and the attributes above: all visible ASCII.
fn cookie_header(cookie: &Cookie<'_>) -> HeaderValue {
    HeaderValue::from_str(&cookie.to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("herald_session=; Max-Age=0"))
}

/// Admits a request with the admin token or a live session, and a session's unsafe
/// request only with its CSRF token; turns away the rest.
pub async fn require(
    State(auth): State<Arc<AdminAuth>>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        // A request that names a token is judged by it alone, not by a cookie too.
        let peer = peer_ip(request.extensions());
        if let Err(wait) = peer.map_or(Ok(()), |ip| auth.throttle.check(ip)) {
            return too_many_attempts(wait);
        }
        let given = value.to_str().ok().and_then(bearer_token).unwrap_or("");
        if auth.is_token(given) {
            if let Some(ip) = peer {
                auth.throttle.succeeded(ip);
            }
            return next.run(request).await;
        }
        if let Some(ip) = peer {
            auth.throttle.failed(ip);
        }
        return unauthorized();
    }
    let Some(csrf) = session_cookies(headers).find_map(|v| auth.sessions.check(&v, now_secs()))
    else {
        return if wants_page(&request) {
            Redirect::to("/login").into_response()
        } else {
            unauthorized()
        };
    };
    if !is_safe(request.method()) {
        let given = headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if !auth.sessions.csrf_matches(&csrf, given) {
            return (
                StatusCode::FORBIDDEN,
                Json(json!({ "error": "missing or wrong X-CSRF-Token header" })),
            )
                .into_response();
        }
    }
    request.extensions_mut().insert(csrf);
    next.run(request).await
}

/// `GET /api/session`: how this request got in, and for a session the CSRF token a
/// script sends back in `X-CSRF-Token`.
pub async fn session(csrf: Option<Extension<CsrfToken>>) -> Json<serde_json::Value> {
    Json(match csrf {
        Some(Extension(csrf)) => json!({ "via": "session", "csrf_token": csrf.as_str() }),
        None => json!({ "via": "token", "csrf_token": null }),
    })
}

/// The client's address, as the listener recorded it.
fn peer_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// `429` for an address that gave too many wrong tokens, with when to try again.
fn too_many_attempts(wait: Duration) -> Response {
    let secs = wait.as_secs().max(1);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs.to_string())],
        Json(json!({
            "error": format!("too many wrong tokens from this address; try again in {secs} s"),
            "reason": "too_many_attempts",
        })),
    )
        .into_response()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        Json(json!({ "error": "missing or wrong admin token" })),
    )
        .into_response()
}

/// Methods that change nothing, which a browser may send from anywhere.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a person's browser asked for a page, which a redirect to the login form
/// serves better than a 401.
fn wants_page(request: &Request) -> bool {
    request.method() == Method::GET
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The values of every `herald_session` cookie sent: a browser may send more than
/// one of a name (set for other paths or by other hosts), and any may be the live one.
fn session_cookies(headers: &HeaderMap) -> impl Iterator<Item = String> + '_ {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|cookie| cookie.name() == SESSION_COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is matched in any
/// case, as RFC 7235 says, and may be followed by more than one space.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start_matches(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case() {
        for value in ["Bearer t0k", "bearer t0k", "BEARER t0k", "bEaReR   t0k"] {
            assert_eq!(bearer_token(value), Some("t0k"), "{value}");
        }
        for value in ["Basic t0k", "Bearert0k", "t0k", "Bearer"] {
            assert_eq!(bearer_token(value), None, "{value}");
        }
    }

    #[test]
    fn only_the_token_itself_matches() {
        let token = "test-admin-token-0123456789";
        let auth = AdminAuth::new(&SecretString::from(token.to_owned()));
        assert!(auth.is_token(token));
        for other in [
            "",
            "test-admin-token-012345678",
            "test-admin-token-01234567890",
        ] {
            assert!(!auth.is_token(other), "{other}");
        }
    }

    #[test]
    fn made_up_tokens_are_long_and_differ() {
        let (a, b) = (make_token(), make_token());
        assert_eq!(a.expose_secret().len(), 64);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn session_cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; herald_session=x.y.z"),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("herald_session=second"),
        );
        let found: Vec<String> = session_cookies(&headers).collect();
        assert_eq!(found, ["x.y.z", "second"]);
    }
}
