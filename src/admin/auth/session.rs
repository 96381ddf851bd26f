//! The `herald_session` cookie: signed, not stored.
//!
//! A session is `<issued>.<nonce>.<mac>`: the Unix second it was issued, 16 random
//! bytes, and an HMAC of both under a key derived from the admin token. herald keeps
//! no session table, so sessions survive a restart with the same token, work across
//! replicas, and all end when the token changes. A session's CSRF token is another
//! HMAC of the same id, so it needs no storage either.

use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::CsrfToken;

type HmacSha256 = Hmac<Sha256>;

/// How long a session lasts: a working day, after which the token is asked again.
pub const LIFETIME_SECS: i64 = 12 * 3600;

/// What the MAC of a session id covers, apart from what its CSRF token covers.
const SESSION_LABEL: &[u8] = b"herald session\0";
const CSRF_LABEL: &[u8] = b"herald csrf\0";

/// Issues and checks sessions of one admin token.
pub struct Sessions {
    key: HmacSha256,
}

impl Sessions {
    /// Sessions signed with a key derived from `token`.
    pub fn new(token: &SecretString) -> Self {
        let key = HmacSha256::new_from_slice(token.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        Self { key }
    }

    /// A new session issued at `now_secs`: the cookie value and its CSRF token.
    pub fn issue(&self, now_secs: i64) -> (String, CsrfToken) {
        let nonce: [u8; 16] = rand::rng().random();
        let id = format!("{now_secs}.{}", hex::encode(nonce));
        let mac = hex::encode(self.mac(SESSION_LABEL, &id).finalize().into_bytes());
        let csrf = self.csrf(&id);
        (format!("{id}.{mac}"), csrf)
    }

    /// The CSRF token of the session `value`, when it is one of ours and still young.
    pub fn check(&self, value: &str, now_secs: i64) -> Option<CsrfToken> {
        let (id, mac) = value.rsplit_once('.')?;
        let mac = hex::decode(mac).ok()?;
        self.mac(SESSION_LABEL, id).verify_slice(&mac).ok()?;
        let issued: i64 = id.split_once('.')?.0.parse().ok()?;
        let age = now_secs.checked_sub(issued)?;
        ((0..LIFETIME_SECS).contains(&age)).then(|| self.csrf(id))
    }

    /// Whether `given` is the CSRF token of the session `csrf` came from, compared
    /// in constant time.
    pub fn csrf_matches(&self, csrf: &CsrfToken, given: &str) -> bool {
        hex::decode(given).is_ok_and(|given| {
            self.mac(CSRF_LABEL, &csrf.session_id)
                .verify_slice(&given)
                .is_ok()
        })
    }

    fn csrf(&self, id: &str) -> CsrfToken {
        CsrfToken {
            token: hex::encode(self.mac(CSRF_LABEL, id).finalize().into_bytes()),
            session_id: id.to_owned(),
        }
    }

    fn mac(&self, label: &[u8], id: &str) -> HmacSha256 {
        let mut mac = self.key.clone();
        mac.update(label);
        mac.update(id.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(token: &str) -> Sessions {
        Sessions::new(&SecretString::from(token.to_owned()))
    }

    #[test]
    fn an_issued_session_checks_out_with_its_csrf_token() {
        let sessions = sessions("test-admin-token-0123456789");
        let (cookie, csrf) = sessions.issue(1_000);
        let checked = sessions.check(&cookie, 1_001).expect("valid");
        assert_eq!(checked.as_str(), csrf.as_str());
        assert!(sessions.csrf_matches(&checked, csrf.as_str()));
        assert!(!sessions.csrf_matches(&checked, ""));
        assert!(!sessions.csrf_matches(&checked, "00"));
        let (_, other) = sessions.issue(1_000);
        assert!(!sessions.csrf_matches(&checked, other.as_str()));
    }

    #[test]
    fn forged_expired_and_other_tokens_sessions_are_refused() {
        let sessions = sessions("test-admin-token-0123456789");
        let (cookie, _) = sessions.issue(1_000);
        assert!(sessions.check(&cookie, 1_000 + LIFETIME_SECS).is_none());
        assert!(
            sessions.check(&cookie, 999).is_none(),
            "issued in the future"
        );
        let other = self::sessions("another-admin-token-98765");
        assert!(other.check(&cookie, 1_001).is_none());
        let (id, _) = cookie.rsplit_once('.').unwrap();
        let later = id.replacen("1000", "2000", 1);
        let (_, mac) = cookie.rsplit_once('.').unwrap();
        assert!(sessions.check(&format!("{later}.{mac}"), 2_001).is_none());
        for junk in ["", ".", "1000.ab.zz", "x.y.z", "1000"] {
            assert!(sessions.check(junk, 1_001).is_none(), "{junk}");
        }
    }
}
