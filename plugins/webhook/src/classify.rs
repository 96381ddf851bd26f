//! Deliver stage, second half: how the destination's answer becomes an [`Outcome`].
//!
//! Follows the Standard Webhooks advice: 2xx is success; 408, 429 and 5xx are temporary
//! (honouring `Retry-After`); every other status, redirects included (they are not
//! followed: the configured URL should be updated instead), is permanent. Anything that
//! kept an answer from arriving (refused connection, timeout, reset) is temporary.

use herald_plugin_api::Outcome;
pub(crate) use herald_plugin_http::excerpt;
use herald_plugin_http::{answered, outcome};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// The outcome of a response with `status`; `excerpt` is the start of its body.
pub(crate) fn response(status: StatusCode, headers: &HeaderMap, excerpt: &str) -> Outcome {
    let mut reason = answered("destination", status, excerpt);
    if status.is_redirection() {
        reason.push_str(" (redirects are not followed; point `url` at the final address)");
    }
    outcome(status, headers, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_spec_suggests() {
        let none = HeaderMap::new();
        for code in [200, 201, 202, 204, 299] {
            let status = StatusCode::from_u16(code).expect("status");
            assert_eq!(response(status, &none, ""), Outcome::Delivered, "{code}");
        }
        for code in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(code).expect("status");
            assert!(
                matches!(
                    response(status, &none, ""),
                    Outcome::Retry { after: None, .. }
                ),
                "{code}"
            );
        }
        for code in [301, 302, 304, 400, 401, 403, 404, 410, 422] {
            let status = StatusCode::from_u16(code).expect("status");
            assert!(
                matches!(response(status, &none, ""), Outcome::Failed { .. }),
                "{code}"
            );
        }
    }

    #[test]
    fn failures_quote_status_and_body_start() {
        let outcome = response(StatusCode::NOT_FOUND, &HeaderMap::new(), "no such order");
        assert_eq!(
            outcome,
            Outcome::failed("destination answered 404 Not Found: no such order")
        );
        let moved = response(StatusCode::MOVED_PERMANENTLY, &HeaderMap::new(), "");
        let Outcome::Failed { reason } = moved else {
            panic!("expected Failed");
        };
        assert!(reason.starts_with("destination answered 301 Moved Permanently (redirects"));
    }
}
