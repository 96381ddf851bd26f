//! Assertions on what a delivery came to; each panics naming what came instead.

use std::time::Duration;

use herald_plugin_api::Outcome;

/// Asserts `outcome` is `Failed` with a reason containing `needle`.
///
/// # Panics
/// When it is not.
#[track_caller]
pub fn assert_failed(outcome: &Outcome, needle: &str) {
    match outcome {
        Outcome::Failed { reason } => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected Failed containing {needle:?}, got {other:?}"),
    }
}

/// Asserts `outcome` is `Retry` with a reason containing `needle`; returns its hint.
///
/// # Panics
/// When it is not.
#[track_caller]
pub fn assert_retry(outcome: &Outcome, needle: &str) -> Option<Duration> {
    match outcome {
        Outcome::Retry { reason, after } => {
            assert!(reason.contains(needle), "{reason}");
            *after
        }
        other => panic!("expected Retry containing {needle:?}, got {other:?}"),
    }
}

/// The reason of a `Retry`, `Failed`, `Held` or `Skipped`.
///
/// # Panics
/// When `outcome` is `Delivered`.
#[track_caller]
pub fn reason(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Retry { reason, .. }
        | Outcome::Failed { reason }
        | Outcome::Held { reason }
        | Outcome::Skipped { reason } => reason,
        Outcome::Delivered => panic!("expected a failure, got Delivered"),
    }
}

/// Asserts `outcome` is `Held` (a template that does not render) with a reason
/// containing `needle`.
///
/// # Panics
/// When it is not.
#[track_caller]
pub fn assert_held(outcome: &Outcome, needle: &str) {
    match outcome {
        Outcome::Held { reason } => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected Held containing {needle:?}, got {other:?}"),
    }
}

/// The reason of a `Failed`.
///
/// # Panics
/// When `outcome` is not `Failed`.
#[track_caller]
pub fn failed_reason(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Failed { reason } => reason.clone().into_owned(),
        other => panic!("expected Failed, got {other:?}"),
    }
}
