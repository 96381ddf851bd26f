//! A fake of Google's OAuth token endpoint and of FCM's HTTP v1 send endpoint, in one
//! server on 127.0.0.1, for the push plugin's service-account tests.
//!
//! `POST /token` checks the JWT bearer assertion as Google documents it (RS256, signed
//! by the test-only key's private half, checked against its public half; `kid`, `iss`,
//! `scope`, `aud`, `iat` and `exp`) and issues a token that expires after
//! [`FakeGoogle::set_token_lifetime`] (default 2 s). `POST /v1/projects/<id>/messages:send`
//! answers 200 to a current token and 401 `UNAUTHENTICATED` otherwise. Time is read
//! from the clock the test passes, so expiry is driven without waiting.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::form::form_fields;
use crate::http_sink::serve_until_stopped;

/// The test-only service-account private key (PKCS#8 PEM); see fixtures/README.md.
pub const TEST_ONLY_PRIVATE_KEY: &str =
    include_str!("../fixtures/TEST-ONLY-fcm-service-account-key.pem");
/// Its public half, which the fake token endpoint verifies assertions with.
pub const TEST_ONLY_PUBLIC_KEY: &str =
    include_str!("../fixtures/TEST-ONLY-fcm-service-account-key.pub.pem");
/// The fake service account's e-mail address.
pub const CLIENT_EMAIL: &str = "herald-test@example-shop.iam.gserviceaccount.com";
/// The fake key's id.
pub const PRIVATE_KEY_ID: &str = "test0only0key0id";
/// The fake account's Firebase project.
pub const PROJECT_ID: &str = "example-shop";
/// The scope a token for FCM must ask for.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The time the fake reads; the test's clock.
pub type Now = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The assertion's claims, as Google reads them.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    scope: String,
    aud: String,
    iat: u64,
    exp: u64,
}

/// One message FCM accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The token it was authorized with.
    pub token: String,
    /// Its `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// The `{"message": …}` document.
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Record {
    /// Every token issued, and when it expires.
    tokens: HashMap<String, SystemTime>,
    token_requests: usize,
    /// Why an assertion was refused, for the test to show.
    refused: Vec<String>,
    sent: Vec<Sent>,
    unauthorized: usize,
    lifetime: Duration,
    /// What `expires_in` says, when it is not the truth.
    advertised: Option<Duration>,
    token_status: Option<u16>,
    reject_sends: bool,
}

struct Shared {
    now: Now,
    decoding: DecodingKey,
    /// The `aud` an assertion must carry: this server's `/token` URL.
    audience: String,
    record: Mutex<Record>,
}

impl Shared {
    fn record(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake; the server stops when this is dropped.
pub struct FakeGoogle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

impl FakeGoogle {
    /// Starts the fake, reading the time from `now`.
    ///
    /// # Panics
    /// When no port can be bound on 127.0.0.1 or the test key does not parse.
    pub async fn start(now: Now) -> FakeGoogle {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared {
            now,
            decoding: DecodingKey::from_rsa_pem(TEST_ONLY_PUBLIC_KEY.as_bytes())
                .expect("the test-only public key parses"),
            audience: format!("http://{addr}/token"),
            record: Mutex::new(Record {
                lifetime: Duration::from_secs(2),
                ..Record::default()
            }),
        });
        let stop = Some(serve_until_stopped(listener, handle, Arc::clone(&shared)));
        FakeGoogle { addr, shared, stop }
    }

    /// `http://127.0.0.1:PORT`: FCM's `api_base`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token endpoint, as a key file's `token_uri`.
    pub fn token_uri(&self) -> String {
        self.shared.audience.clone()
    }

    /// Writes a service-account key file for this fake into `dir`; returns its path.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write_key_file(&self, dir: &Path) -> PathBuf {
        let key = json!({
            "type": "service_account",
            "project_id": PROJECT_ID,
            "private_key_id": PRIVATE_KEY_ID,
            "private_key": TEST_ONLY_PRIVATE_KEY,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri(),
        });
        let path = dir.join("service-account.json");
        std::fs::write(&path, key.to_string()).expect("write the key file");
        path
    }

    /// Issues tokens that expire `lifetime` after they are minted.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.record().lifetime = lifetime;
    }

    /// Says tokens last `advertised` (in `expires_in`) while they still expire after the
    /// real lifetime, as a skewed clock or an early expiry would look to herald.
    pub fn set_advertised_lifetime(&self, advertised: Duration) {
        self.shared.record().advertised = Some(advertised);
    }

    /// Answers every token request with `status` (`None`: mint normally again).
    pub fn set_token_status(&self, status: Option<u16>) {
        self.shared.record().token_status = status;
    }

    /// Answers every send 401, however fresh its token (a key whose account was disabled).
    pub fn set_reject_sends(&self, reject: bool) {
        self.shared.record().reject_sends = reject;
    }

    /// Forgets every token issued so far, as a revocation would: FCM answers 401 to them.
    pub fn revoke_tokens(&self) {
        self.shared.record().tokens.clear();
    }

    /// How many token requests arrived (refused ones included).
    pub fn token_requests(&self) -> usize {
        self.shared.record().token_requests
    }

    /// Why assertions were refused, if any were.
    pub fn refused(&self) -> Vec<String> {
        self.shared.record().refused.clone()
    }

    /// The messages FCM accepted, in arrival order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.record().sent.clone()
    }

    /// How many sends were answered 401.
    pub fn unauthorized(&self) -> usize {
        self.shared.record().unauthorized
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if path == "/token" {
        return mint(&shared, &body);
    }
    if path.starts_with("/v1/projects/") && path.ends_with("/messages:send") {
        return send(&shared, &headers, &body);
    }
    (StatusCode::NOT_FOUND, "no such endpoint").into_response()
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn mint(shared: &Shared, body: &[u8]) -> Response {
    let mut record = shared.record();
    record.token_requests += 1;
    if let Some(status) = record.token_status {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let error = json!({ "error": "backend_error", "error_description": "fake outage" });
        return json_response(code, &error);
    }
    let now = (shared.now)();
    match check_assertion(shared, body, now) {
        Ok(()) => {
            let token = format!("ya29.fake-{}", record.token_requests);
            let expiry = now + record.lifetime;
            record.tokens.insert(token.clone(), expiry);
            let answer = json!({
                "access_token": token,
                "expires_in": record.advertised.unwrap_or(record.lifetime).as_secs(),
                "token_type": "Bearer",
            });
            json_response(StatusCode::OK, &answer)
        }
        Err(reason) => {
            record.refused.push(reason.clone());
            let error = json!({ "error": "invalid_grant", "error_description": reason });
            json_response(StatusCode::BAD_REQUEST, &error)
        }
    }
}

fn check_assertion(shared: &Shared, body: &[u8], now: SystemTime) -> Result<(), String> {
    let fields = form_fields(body);
    let grant = fields.get("grant_type").map(String::as_str);
    if grant != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return Err(format!("unsupported grant_type {grant:?}"));
    }
    let assertion = fields.get("assertion").ok_or("no assertion")?;
    let header = jsonwebtoken::decode_header(assertion).map_err(|err| err.to_string())?;
    if header.kid.as_deref() != Some(PRIVATE_KEY_ID) {
        return Err(format!("kid {:?} is not the key's id", header.kid));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    // Expiry is checked against the test's clock below, not the system's.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.set_audience(&[&shared.audience]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    let claims = jsonwebtoken::decode::<Claims>(assertion, &shared.decoding, &validation)
        .map_err(|err| format!("Invalid JWT: {err}"))?
        .claims;
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if claims.scope != FCM_SCOPE || claims.iss != CLIENT_EMAIL || claims.aud != shared.audience {
        return Err("wrong scope, issuer or audience".into());
    }
    if claims.iat > now + 60 || claims.iat + 60 < now {
        return Err(format!("iat {} is not now ({now})", claims.iat));
    }
    if claims.exp <= now || claims.exp > claims.iat + 3600 {
        return Err(format!(
            "exp {} is past or over an hour after iat",
            claims.exp
        ));
    }
    Ok(())
}

fn send(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let now = (shared.now)();
    let mut record = shared.record();
    let current = !record.reject_sends
        && record
            .tokens
            .get(&token)
            .is_some_and(|expiry| now < *expiry);
    if !current {
        record.unauthorized += 1;
        let error = json!({ "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "status": "UNAUTHENTICATED",
        } });
        return json_response(StatusCode::UNAUTHORIZED, &error);
    }
    let message: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    record.sent.push(Sent {
        token,
        idempotency_key,
        body: message,
    });
    let name = format!("projects/{PROJECT_ID}/messages/{}", record.sent.len());
    json_response(StatusCode::OK, &json!({ "name": name }))
}
