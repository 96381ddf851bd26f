//! `spawn_app()` and friends: a real herald on an ephemeral port, a fresh SQLite
//! file and outbox in a temp folder, the repo's templates.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use herald::dispatch::{Dispatcher, ExecutionOutcome};
use herald::store::Store;
use herald::{Application, Config};
pub use herald_testkit::stripe::{fixture, fixture_names, fixture_with_id};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

/// The signing secret every test app is configured with.
pub const SECRET: &str = "whsec_test";

/// The repo's folder.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The environment test configs see.
pub fn test_env() -> HashMap<String, String> {
    HashMap::from([
        ("STRIPE_WEBHOOK_SECRET".to_owned(), SECRET.to_owned()),
        ("HERALD_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned()),
    ])
}

/// The admin token test configs with `[admin] token = "${HERALD_ADMIN_TOKEN}"` get.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// The shipped config.toml, pointed at `dir` for its database and outbox, on port 0,
/// with workers off so tests step the dispatcher themselves.
pub fn shipped_config_in(dir: &Path) -> String {
    let text = std::fs::read_to_string(repo().join("config.toml")).expect("config.toml");
    let mut table: toml::Table = toml::from_str(&text).expect("config.toml parses");
    let set = |table: &mut toml::Table, path: &[&str], value: toml::Value| {
        let mut current = table;
        for key in &path[..path.len() - 1] {
            current = current
                .entry((*key).to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .expect("table");
        }
        current.insert(path[path.len() - 1].to_owned(), value);
    };
    set(&mut table, &["server", "listen"], "127.0.0.1:0".into());
    set(&mut table, &["admin", "listen"], "127.0.0.1:0".into());
    set(&mut table, &["dispatch", "enabled"], false.into());
    set(
        &mut table,
        &["templates", "dir"],
        repo().join("templates").display().to_string().into(),
    );
    set(
        &mut table,
        &["plugins", "email", "customer_mail", "outbox"],
        dir.join("outbox").display().to_string().into(),
    );
    toml::to_string(&table).expect("serializes")
}

/// The settings every hand-written test config starts with; append plugins and rules.
pub fn base_config() -> String {
    base_config_with_dispatch("enabled = false")
}

/// [`base_config`] with these `[dispatch]` lines (workers run unless they say `enabled = false`).
pub fn base_config_with_dispatch(dispatch: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

[dispatch]
{dispatch}

[templates]
dir = "{templates}"

[shop]
name = "Test Shop"
support_email = "ops@example.com"

[sources.stripe]
secret = "${{STRIPE_WEBHOOK_SECRET}}"
"#,
        templates = repo().join("templates").display()
    )
}

/// `[admin]` with the token the tests sign in with (`HERALD_ADMIN_TOKEN`).
pub const ADMIN_TABLE: &str = "[admin]\ntoken = \"${HERALD_ADMIN_TOKEN}\"\n";

/// The listeners on ephemeral ports, a SQLite file in `dir`, and `[dispatch]` polling
/// and retrying within a test's patience, then `dispatch`: the start of a config for a
/// herald run as its own process.
pub fn process_config(dir: &Path, dispatch: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[admin]\nlisten = \"127.0.0.1:0\"\n\n\
         [database]\nurl = \"sqlite://{}\"\n\n\
         [dispatch]\npoll_interval_ms = 50\nbackoff_base_secs = 0.05\nbackoff_max_secs = 0.2\n{dispatch}\n",
        dir.join("herald.db").display()
    )
}

/// `[database]` on `postgres` when given; empty (the test's SQLite file) otherwise.
pub fn database_table(postgres: Option<&PgDatabase>) -> String {
    postgres
        .map(|db| format!("[database]\nurl = \"{}\"\n", db.url))
        .unwrap_or_default()
}

/// A webhook instance `sink` posting to `url`, and a rule `notify` sending it the
/// events `on` matches (a TOML array), `action` added to the action (`, path = "/x"`).
pub fn notify_sink(url: &str, on: &str, action: &str) -> String {
    format!(
        "[plugins.webhook.sink]\nurl = \"{url}\"\n\n[[rules]]\nname = \"notify\"\non = {on}\n\
         actions = [{{ plugin = \"sink\"{action} }}]\n"
    )
}

/// Copies the folder `from` into `to`, subfolders included.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, target).expect("copy");
        }
    }
}

/// `on` for the rules about paid payment intents.
pub const ON_PAID: &str = r#"["payment_intent.succeeded"]"#;

/// `[plugins.webhook.<name>]` posting to `url`.
pub fn webhook_instance(name: &str, url: &str) -> String {
    format!("\n[plugins.webhook.{name}]\nurl = \"{url}\"\n")
}

/// A `[[rules]]` table `name` for the types in `on` (a TOML array) with one action,
/// `action` being the inline table's body.
pub fn rule(name: &str, on: &str, action: &str) -> String {
    format!("\n[[rules]]\nname = \"{name}\"\non = {on}\nactions = [{{ {action} }}]\n")
}

/// An email instance `mailer` sending through the SMTP server on 127.0.0.1:`port`,
/// without TLS.
pub fn smtp_mailer(port: u16) -> String {
    format!(
        "[plugins.email.mailer]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\n\
         security = \"none\"\nfrom = \"Test Shop <shop@example.com>\"\n"
    )
}

/// [`smtp_mailer`] with `extra` lines, and a rule mailing every paid payment intent's
/// receipt through it.
pub fn mailed_payments(port: u16, extra: &str) -> String {
    format!(
        "{mailer}{extra}\n\n[[rules]]\nname = \"payment-confirmation\"\non = [\"payment_intent.succeeded\"]\n\
         actions = [{{ plugin = \"mailer\", template = \"payment_succeeded\", to = \"{{{{customer.email}}}}\" }}]\n",
        mailer = smtp_mailer(port)
    )
}

/// `text` with the admin listener on an ephemeral port (unless it names one), so
/// tests running at once do not all want 8788.
pub fn admin_on_port_zero(text: &str) -> String {
    const LISTEN: &str = "listen = \"127.0.0.1:0\"";
    match text.find("[admin]\n") {
        Some(at) => {
            let body = &text[at + "[admin]\n".len()..];
            let section = body.find("\n[").map_or(body, |end| &body[..end]);
            if section
                .lines()
                .any(|line| line.trim_start().starts_with("listen"))
            {
                text.to_owned()
            } else {
                text.replacen("[admin]\n", &format!("[admin]\n{LISTEN}\n"), 1)
            }
        }
        None => format!("{text}\n[admin]\n{LISTEN}\n"),
    }
}

/// A running herald.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The admin listener's address.
    pub admin_addr: SocketAddr,
    /// The one-time login URL, when the config sets no admin token.
    pub admin_login_url: Option<String>,
    /// The `[metrics] listen` listener's address, when the config sets one.
    pub metrics_addr: Option<SocketAddr>,
    pub dir: TempDir,
    pub client: reqwest::Client,
    pub dispatcher: Dispatcher,
    pub store: Store,
    pub metrics: std::sync::Arc<herald::metrics::Metrics>,
    /// Reloads [`TestApp::config_path`] into the running app when asked.
    pub reloader: tokio::sync::Mutex<herald::reload::Reloader>,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// herald on the shipped config.toml.
pub async fn spawn_app() -> TestApp {
    let dir = TempDir::new().expect("temp dir");
    let text = shipped_config_in(dir.path());
    spawn_app_in(dir, &text).await
}

/// herald on `text`, with its database in a fresh temp folder.
pub async fn spawn_app_with(text: &str) -> TestApp {
    spawn_app_in(TempDir::new().expect("temp dir"), text).await
}

/// herald on `text`, in `dir` (which the config may point into).
pub async fn spawn_app_with_dir(dir: TempDir, text: &str) -> TestApp {
    spawn_app_in(dir, text).await
}

pub async fn spawn_app_in(dir: TempDir, text: &str) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        herald::telemetry::init();
    }
    let text = &admin_on_port_zero(text);
    // On disk too, so tests can point the CLI at the same config and database.
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("config written");
    let config = Config::from_toml(text, &path, &test_env())
        .unwrap_or_else(|e| panic!("test config invalid: {e}"));
    let app = Application::build(config).await.expect("app builds");
    let addr = app.local_addr().expect("bound");
    let admin_addr = app.admin_addr().expect("bound");
    let admin_login_url = app.admin_login_url().map(str::to_owned);
    let metrics_addr = app.metrics_addr().expect("bound");
    let dispatcher = app.dispatcher();
    let store = app.store();
    let metrics = app.metrics();
    let reloader = tokio::sync::Mutex::new(app.reloader(std::sync::Arc::new(test_env())));
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(stop.clone()));
    TestApp {
        addr,
        admin_addr,
        admin_login_url,
        metrics_addr,
        dir,
        client: reqwest::Client::new(),
        dispatcher,
        store,
        metrics,
        reloader,
        stop,
    }
}

/// A `Stripe-Signature` header for `body`, signed now with [`SECRET`].
pub fn signature(body: &[u8]) -> String {
    herald_testkit::stripe::signature(body, SECRET)
}

impl TestApp {
    /// Reloads the config on disk as the file watcher would; panics when refused.
    pub async fn reload(&self) -> herald::reload::Changes {
        self.reloader
            .lock()
            .await
            .reload("test")
            .await
            .unwrap_or_else(|problems| panic!("reload refused: {problems:?}"))
    }

    /// Reloads the config on disk, expecting a refusal; its problems.
    pub async fn reload_refused(&self) -> Vec<String> {
        match self.reloader.lock().await.reload("test").await {
            Ok(changes) => panic!("reload accepted: {changes:?}"),
            Err(problems) => problems,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Where a browser logs in to the console: the login URL with [`ADMIN_TOKEN`].
    pub fn console_login_path(&self) -> Option<String> {
        Some(format!("/login?token={ADMIN_TOKEN}"))
    }

    /// `GET url` without credentials: what anyone on the network would see.
    pub async fn get(&self, url: String) -> reqwest::Response {
        self.client.get(url).send().await.expect("sent")
    }

    /// `method url` with `token` as its bearer credential.
    pub async fn send_as(
        &self,
        method: reqwest::Method,
        url: String,
        token: &str,
    ) -> reqwest::Response {
        self.client
            .request(method, url)
            .bearer_auth(token)
            .send()
            .await
            .expect("sent")
    }

    /// The jobs of Stripe event `id`.
    pub async fn jobs(&self, id: &str) -> Vec<herald::store::JobSummary> {
        self.store.jobs_for_event("stripe", id).await.expect("jobs")
    }

    /// Posts fixture `name` as event `id` about order `order`.
    pub async fn post_order_event(&self, name: &str, id: &str, order: &str) {
        let mut event = herald_testkit::stripe::fixture_json(name);
        event["id"] = serde_json::Value::from(id);
        event["data"]["object"]["metadata"]["order_id"] = serde_json::Value::from(order);
        let body = serde_json::to_vec(&event).expect("json");
        assert_eq!(self.post_webhook(&body).await.status(), 200, "{id}");
    }

    /// `path` on the listener that serves the console.
    pub fn console_url(&self, path: &str) -> String {
        self.admin_url(path)
    }

    /// `path` on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin_addr)
    }

    /// `GET path` on the admin listener with [`ADMIN_TOKEN`].
    pub fn admin_get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(self.admin_url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// `GET path` on the admin listener with [`ADMIN_TOKEN`], its JSON answer.
    pub async fn admin_json(&self, path: &str) -> serde_json::Value {
        self.admin_get(path)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json")
    }

    /// `POST path` on the admin listener with [`ADMIN_TOKEN`].
    pub fn admin_post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.admin_url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// POSTs `body` to `/webhooks/stripe` with `header` as Stripe-Signature (if any).
    pub async fn post_raw(&self, body: Vec<u8>, header: Option<String>) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/webhooks/stripe"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(header) = header {
            request = request.header("stripe-signature", header);
        }
        request.send().await.expect("request sent")
    }

    /// POSTs `body` correctly signed.
    pub async fn post_webhook(&self, body: &[u8]) -> reqwest::Response {
        self.post_raw(body.to_vec(), Some(signature(body))).await
    }

    /// POSTs a fixture correctly signed.
    pub async fn post_fixture(&self, name: &str) -> reqwest::Response {
        self.post_webhook(&fixture(name)).await
    }

    /// Rewrites the app's config file with `edit` applied to its table; a reload then
    /// takes it.
    pub fn edit_config(&self, edit: impl FnOnce(&mut toml::Table)) {
        let path = self.config_path();
        let text = std::fs::read_to_string(&path).expect("config");
        let mut table: toml::Table = toml::from_str(&text).expect("toml");
        edit(&mut table);
        std::fs::write(&path, toml::to_string(&table).expect("toml")).expect("written");
    }

    /// POSTs a fixture correctly signed and checks that it is acknowledged.
    pub async fn accept_fixture(&self, name: &str) {
        let response = self.post_fixture(name).await;
        assert_eq!(response.status(), 200, "{name}");
    }

    /// Stops the app as a shutdown signal would; its store stays readable.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Steps the dispatcher until nothing is due; returns how many attempts ran.
    pub async fn dispatch_all_pending(&self) -> usize {
        let mut attempted = 0;
        loop {
            match self.dispatcher.run_once().await.expect("dispatch step") {
                ExecutionOutcome::JobsAttempted(n) => attempted += n,
                ExecutionOutcome::EmptyQueue => return attempted,
            }
        }
    }

    /// The config file the app runs on.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// Steps the dispatcher until every job of `event_id` is delivered or dead
    /// (waiting out retry delays), and returns the jobs.
    pub async fn settle(&self, event_id: &str) -> Vec<herald::store::JobSummary> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            self.dispatch_all_pending().await;
            let jobs = self
                .store
                .jobs_for_event("stripe", event_id)
                .await
                .expect("jobs");
            if jobs.iter().all(|job| job.status != "pending") {
                return jobs;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "jobs of {event_id} still pending after 60 s: {jobs:?}"
            );
            // Waiting out a retry delay of the test's short policy.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The `.eml` files in the outbox, as text.
    pub fn outbox(&self) -> Vec<String> {
        let dir = self.dir.path().join("outbox");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut mails: Vec<String> = entries
            .filter_map(std::result::Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).expect("readable .eml"))
            .collect();
        mails.sort();
        mails
    }
}

/// The `herald` binary running as a child process.
pub struct HeraldProcess {
    pub child: std::process::Child,
    pub addr: SocketAddr,
    /// The log line that gave the address, as written to the pipe.
    pub listening_line: String,
    /// Every line logged after that one, so far.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl HeraldProcess {
    /// Posts `body`, signed with the tests' secret, as a Stripe webhook; panics unless
    /// it is answered 200.
    pub async fn post_signed(&self, body: Vec<u8>) -> reqwest::Response {
        let answer = reqwest::Client::new()
            .post(format!("http://{}/webhooks/stripe", self.addr))
            .header("stripe-signature", signature(&body))
            .body(body)
            .send()
            .await
            .expect("posted");
        assert_eq!(answer.status(), 200);
        answer
    }

    /// Waits, up to 30 s, until a line of the log holds `needle`; every line so far.
    pub async fn log_until(&self, needle: &str) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let lines = self
                .log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if lines.iter().any(|line| line.contains(needle)) {
                return lines;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no log line with {needle:?} within 30 s:\n{lines:#?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Starts `herald --config <config> serve` and waits for it to log its address.
    pub async fn start(config: &Path) -> HeraldProcess {
        Self::start_with(config, &[]).await
    }

    /// Like [`HeraldProcess::start`], with `args` after `serve`.
    pub async fn start_with(config: &Path, args: &[&str]) -> HeraldProcess {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};

        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("--config")
            .arg(config)
            .arg("serve")
            .args(args)
            .envs(test_env())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("herald starts");
        let stderr = child.stderr.take().expect("stderr");
        let echo = std::env::var_os("TEST_LOG").is_some();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        let addr = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let addr = lines.by_ref().map_while(Result::ok).find_map(|line| {
                if echo {
                    eprintln!("{line}");
                }
                let rest = line.split("listening on http://").nth(1)?;
                let addr = rest.split_whitespace().next()?.to_owned();
                Some((addr, line))
            });
            // Keep draining so the child never blocks on a full pipe.
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    if echo {
                        eprintln!("{line}");
                    }
                    kept.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(line);
                }
            });
            addr
        })
        .await
        .expect("reader")
        .expect("herald logged its address");
        let (addr, listening_line) = addr;
        HeraldProcess {
            child,
            addr: addr.parse().expect("an address"),
            listening_line,
            log,
        }
    }

    /// Sends `signal` (e.g. "-KILL", "-TERM") to the process.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for the process to exit and returns its exit code.
    pub async fn wait(mut self) -> Option<i32> {
        tokio::task::spawn_blocking(move || self.child.wait())
            .await
            .expect("join")
            .expect("wait")
            .code()
    }
}

/// A herald a test left running is stopped with it: `Child` does not kill on drop, and
/// every reload test once left three servers behind, each polling its database for good.
impl Drop for HeraldProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// [`run_cli`] for an async test: waits without blocking the test's runtime, on
/// which a [`spawn_app`] herald runs. A synchronous wait would freeze that herald
/// mid-transaction, holding SQLite's write lock, and the command would find the
/// database locked.
pub async fn cli(config: &Path, args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(config)
        .args(args)
        .envs(test_env())
        .output()
        .await
        .expect("herald runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `herald --config <config> <args…>` to completion; returns (success, stdout,
/// stderr). Blocks: for tests without a runtime; async tests use [`cli`].
pub fn run_cli(config: &Path, args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(config)
        .args(args)
        .envs(test_env())
        .output()
        .expect("herald runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The admin URL of the PostgreSQL server tests create databases on.
pub const PG_URL_VAR: &str = "HERALD_TEST_DATABASE_URL";

/// A throwaway database on the test PostgreSQL server, dropped with this value.
pub struct PgDatabase {
    /// Where the database is.
    pub url: String,
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        use sqlx::{Connection, Executor};

        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime, where blocking on a future panics:
        // a thread with its own runtime drops the database. Best effort.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                // FORCE: a store's pool may not have closed its connections yet.
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}

/// A fresh, empty PostgreSQL database, or `None` when no server is configured
/// ([`PG_URL_VAR`]; `./scripts/test` starts one). On CI a missing server is a
/// failure, not a skip.
pub async fn fresh_postgres() -> Option<PgDatabase> {
    use sqlx::{Connection, Executor};

    let admin = match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{PG_URL_VAR} is not set, so the PostgreSQL cases cannot run: \
                 run ./scripts/test, which starts PostgreSQL and sets it"
            );
            eprintln!("{PG_URL_VAR} is not set: PostgreSQL case skipped (./scripts/test runs it)");
            return None;
        }
    };
    let name = format!("herald_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {PG_URL_VAR}: {e}"));
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    // Best effort: an error closing this connection does not matter to the test.
    let _ = conn.close().await;
    let mut url = reqwest::Url::parse(&admin).expect("the admin URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(PgDatabase {
        url: url.to_string(),
        admin,
        name,
    })
}

/// Keeps a backend's database alive for a test, and removes it afterwards.
pub struct Guard {
    settings: herald::config::DatabaseSettings,
    _dir: Option<tempfile::TempDir>,
    _postgres: Option<PgDatabase>,
}

impl Guard {
    /// Settings that open the same database again (as another replica would).
    pub fn settings(&self) -> &herald::config::DatabaseSettings {
        &self.settings
    }
}

/// A fresh store on every backend available (SQLite always, PostgreSQL when a test
/// server is configured), named for assertion messages.
pub async fn backends() -> Vec<(&'static str, herald::store::Store, Guard)> {
    let mut backends = vec![sqlite().await];
    if let Some(database) = fresh_postgres().await {
        backends.push(postgres(database).await);
    }
    backends
}

async fn sqlite() -> (&'static str, herald::store::Store, Guard) {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("herald.db").display());
    let settings = herald::config::DatabaseSettings {
        url: secrecy::SecretString::from(url.clone()),
        display: url,
    };
    let store = herald::store::Store::connect(&settings)
        .await
        .expect("sqlite store");
    let guard = Guard {
        settings,
        _dir: Some(dir),
        _postgres: None,
    };
    ("sqlite", store, guard)
}

async fn postgres(database: PgDatabase) -> (&'static str, herald::store::Store, Guard) {
    let settings = herald::config::DatabaseSettings {
        url: secrecy::SecretString::from(database.url.clone()),
        display: database.url.clone(),
    };
    // The guard exists before connecting, so the database is dropped even if that fails.
    let guard = Guard {
        settings,
        _dir: None,
        _postgres: Some(database),
    };
    let store = herald::store::Store::connect(guard.settings())
        .await
        .expect("postgres store");
    ("postgres", store, guard)
}

/// What [`dispatcher_in`] sets up: the config read, its store, and a dispatcher on it.
pub struct ClockedShop {
    pub config: herald::Config,
    pub store: herald::store::Store,
    pub dispatcher: herald::dispatch::Dispatcher,
    pub metrics: std::sync::Arc<herald::metrics::Metrics>,
}

/// herald's store and dispatcher on `text` (a config file in `dir`), reading the time
/// from `clock`: a test moves the clock to see what waits, instead of sleeping.
pub async fn dispatcher_in(dir: &Path, text: &str, clock: &herald::clock::Clock) -> ClockedShop {
    let config =
        herald::Config::from_toml(text, &dir.join("config.toml"), &test_env()).expect("config");
    let store = herald::store::Store::connect(&config.restart.database)
        .await
        .expect("store");
    let snapshot = herald::reload::Snapshot::assemble(config.clone(), &store, Vec::new())
        .await
        .expect("plugins");
    let metrics = std::sync::Arc::new(herald::metrics::Metrics::default());
    let dispatcher = herald::dispatch::Dispatcher::with_clock(
        store.clone(),
        herald::reload::Live::new(snapshot),
        config.restart.dispatch.clone(),
        metrics.clone(),
        clock.clone(),
    );
    ClockedShop {
        config,
        store,
        dispatcher,
        metrics,
    }
}

impl ClockedShop {
    /// Stores `event` at `now_ms` with the jobs the config's rules plan for it.
    pub async fn receive(&self, event: &herald_plugin_api::Event, now_ms: i64) {
        let planned = herald::store::Planned::of(&self.config.reloadable.rules, event);
        self.store
            .ingest_planned(event, planned, now_ms)
            .await
            .expect("ingest");
    }
}

/// The sample event of type `name` (the fixtures' story, continued).
pub fn sample(name: &str) -> serde_json::Value {
    let text = herald::samples::text(name).unwrap_or_else(|| panic!("no sample {name}"));
    serde_json::from_str(text).expect("a JSON sample")
}

/// `event` as herald's receiver normalizes it, links and all.
pub fn normalized(event: &serde_json::Value) -> herald_plugin_api::Event {
    use herald::source::stripe::{normalize, sign, verify};
    let body = serde_json::to_vec(event).expect("json");
    let header = format!("t=1,v1={}", sign(&body, b"s", 1));
    let verified = verify(Some(&header), &body, b"s", 10, 1).expect("signed");
    normalize(verified).expect("a Stripe event")
}

/// Sample `name` as herald's receiver normalizes it.
pub fn received(name: &str) -> herald_plugin_api::Event {
    normalized(&sample(name))
}

/// A config on SQLite, or on `postgres`, in a folder of its own, delivering on a
/// manual clock: a job waiting for something is seen waiting without a sleep.
/// `config` writes the config for the folder and the database URL.
pub struct BackendShop {
    pub dir: TempDir,
    pub shop: ClockedShop,
    pub clock: herald::clock::Clock,
    _postgres: Option<PgDatabase>,
}

/// Writes a config for a folder and a database URL.
pub type ShopConfig = dyn Fn(&Path, &str) -> String;

impl BackendShop {
    /// The shop on SQLite, or on `postgres`.
    pub async fn on(postgres: Option<PgDatabase>, config: &ShopConfig) -> Self {
        let dir = TempDir::new().expect("dir");
        let url = postgres.as_ref().map_or_else(
            || format!("sqlite://{}", dir.path().join("herald.db").display()),
            |db| db.url.clone(),
        );
        let text = config(dir.path(), &url);
        let clock = herald::clock::Clock::manual(herald::clock::now_ms());
        let shop = dispatcher_in(dir.path(), &text, &clock).await;
        Self {
            dir,
            shop,
            clock,
            _postgres: postgres,
        }
    }

    /// On SQLite always, on PostgreSQL when a test server is configured.
    pub async fn each(config: &ShopConfig) -> Vec<(&'static str, Self)> {
        let mut shops = vec![("sqlite", Self::on(None, config).await)];
        if let Some(database) = fresh_postgres().await {
            shops.push(("postgres", Self::on(Some(database), config).await));
        }
        shops
    }

    /// Stores `event` now, with the jobs the config's rules plan for it.
    pub async fn receive_event(&self, event: &herald_plugin_api::Event) {
        self.shop.receive(event, self.clock.now_ms()).await;
    }

    /// Delivers everything due at the clock's time.
    pub async fn deliver(&self) {
        use herald::dispatch::ExecutionOutcome;
        while self.shop.dispatcher.run_once().await.expect("step") != ExecutionOutcome::EmptyQueue {
        }
    }
}
