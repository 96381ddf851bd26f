//! The ceiling: an axum server that verifies the Stripe signature (with herald's own
//! code) and answers 200, storing nothing. What the machine and the HTTP stack allow.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use herald::source::stripe;

/// Serves until killed; prints `listening <addr>` once bound, for the runner to read.
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(listen: SocketAddr, secret: String) -> anyhow::Result<()> {
    let secret: Arc<[u8]> = Arc::from(secret.into_bytes());
    let app = Router::new()
        .route("/webhooks/stripe", post(receive))
        .with_state(secret);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn receive(
    State(secret): State<Arc<[u8]>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let header = headers
        .get(stripe::SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    match stripe::verify(header, &body, &secret, 300, now) {
        Ok(_) => (StatusCode::OK, "{\"received\":true}"),
        Err(_) => (StatusCode::BAD_REQUEST, "{\"received\":false}"),
    }
}
