//! Failed sign-ins per client address: after [`MAX_FAILURES`] in a [`WINDOW`], an
//! address is answered `429` until its window ends, so a token cannot be guessed at
//! the speed of the network. A success clears the address's count.
//!
//! The address is the connection's peer. Behind a reverse proxy on the same host that
//! is the proxy for everyone, so one guesser locks every browser out for a minute;
//! that is the safer way to fail, and the admin listener is meant for few people.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Failed attempts an address may make in one window.
pub const MAX_FAILURES: u32 = 10;

/// How long a window lasts from its first failure.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Addresses tracked at once; past it, expired windows go, then the oldest.
const MAX_TRACKED: usize = 10_000;

/// The failures of each address in its current window.
#[derive(Debug, Default)]
pub struct Throttle {
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        // Held for a map update, never across an await.
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(wait)` when `ip` has used up its attempts: how long until it may try again.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        match self.lock().get(&ip) {
            Some(window) if window.failures >= MAX_FAILURES => {
                let ends = window.started + WINDOW;
                if ends > now {
                    Err(ends - now)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// `ip` gave a wrong token.
    pub fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut windows = self.lock();
        if windows.len() >= MAX_TRACKED && !windows.contains_key(&ip) {
            windows.retain(|_, window| window.started + WINDOW > now);
            if windows.len() >= MAX_TRACKED {
                let oldest = windows
                    .iter()
                    .min_by_key(|(_, window)| window.started)
                    .map(|(ip, _)| *ip);
                if let Some(oldest) = oldest {
                    windows.remove(&oldest);
                }
            }
        }
        let window = windows.entry(ip).or_insert(Window {
            started: now,
            failures: 0,
        });
        if window.started + WINDOW <= now {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }

    /// `ip` signed in: its failures are forgiven.
    pub fn succeeded(&self, ip: IpAddr) {
        self.lock().remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_address_is_held_off_after_its_failures_until_the_window_ends() {
        let throttle = Throttle::default();
        let (guesser, other) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert_eq!(throttle.check(guesser), Ok(()));
            throttle.failed(guesser);
        }
        assert_eq!(throttle.check(guesser), Err(WINDOW));
        assert_eq!(
            throttle.check(other),
            Ok(()),
            "another address is not held off"
        );
        tokio::time::advance(WINDOW / 2).await;
        assert_eq!(throttle.check(guesser), Err(WINDOW / 2));
        tokio::time::advance(WINDOW / 2).await;
        assert_eq!(throttle.check(guesser), Ok(()));
        throttle.failed(guesser);
        assert_eq!(throttle.check(guesser), Ok(()), "a new window starts");
        throttle.succeeded(guesser);
        assert!(throttle.lock().is_empty());
    }
}
