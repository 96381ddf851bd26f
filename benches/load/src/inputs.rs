//! The files every scenario reads: the herald build under test, the Stripe fixtures the
//! payloads are made from, and the templates the email scenario renders.

use std::path::PathBuf;

/// Given on the command line of `all` and `soak-crash` alike.
#[derive(clap::Args, Clone)]
pub struct Inputs {
    /// The herald binary to measure (a release build).
    #[arg(long, default_value = "target/release/herald")]
    pub herald: PathBuf,
    /// Stripe event fixtures, used as payload templates.
    #[arg(long, default_value = "tests/fixtures/stripe")]
    pub fixtures: PathBuf,
    /// Email templates for the email scenario.
    #[arg(long, default_value = "templates")]
    pub templates: PathBuf,
}

impl Inputs {
    /// The same paths made absolute, since herald runs in a folder of its own.
    pub fn absolute(self) -> Self {
        let absolute = |path: PathBuf| std::path::absolute(&path).unwrap_or(path);
        Self {
            herald: absolute(self.herald),
            fixtures: absolute(self.fixtures),
            templates: absolute(self.templates),
        }
    }
}
