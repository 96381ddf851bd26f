//! Stripe: `Stripe-Signature` verification and event normalization.

mod normalize;
mod verify;

pub use self::normalize::{normalize, NormalizeError};
pub use self::verify::{sign, verify, Verified, VerifyError, SIGNATURE_HEADER};
