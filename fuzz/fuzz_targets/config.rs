//! The config loader on any text, as if it were `config.toml` in the repository
//! (so `templates` resolves to the shipped templates and plugins validate against them).
//!
//! Only parsing and validation run: nothing connects to a database or starts a plugin.
#![no_main]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use herald::Config;
use libfuzzer_sys::fuzz_target;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config.toml")))
}

fn env() -> &'static HashMap<String, String> {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        [
            ("STRIPE_WEBHOOK_SECRET", "whsec_fuzz"),
            ("HERALD_ADMIN_TOKEN", "an-admin-token-of-some-length"),
            ("SMTP_PASSWORD", "secret"),
            ("EMPTY", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::from_toml(text, path(), env()) {
        let _ = config.summary();
    }
});
