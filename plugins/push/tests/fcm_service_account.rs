//! FCM with a service account, end to end against a fake Google on 127.0.0.1: the
//! assertion is checked against the test-only key's public half, tokens expire after
//! 2 s of a clock the test moves, and FCM answers 401 to an expired or revoked token.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use herald_plugin_api::{BuildContext, Instance, Outcome, Plugin, PluginConfig, ValidateContext};
use herald_plugin_push::{build_with_clock, Clock, PushConfig, ValidatedPush};
use herald_testkit::google::{CLIENT_EMAIL, PROJECT_ID};
use herald_testkit::{
    assert_failed, assert_retry, closed_port, params, Attempt, FakeGoogle, FakeTemplates,
};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::task::JoinSet;

/// A fake Google reading `clock`, and a key file for it.
struct Google {
    fake: FakeGoogle,
    clock: Clock,
    dir: TempDir,
}

impl Google {
    async fn start() -> Google {
        let clock = Clock::manual(SystemTime::now());
        let reader = clock.clone();
        let fake = FakeGoogle::start(Arc::new(move || reader.now())).await;
        let dir = tempfile::tempdir().expect("temp dir");
        fake.write_key_file(dir.path());
        Google { fake, clock, dir }
    }

    fn config(&self) -> Value {
        json!({
            "provider": "fcm",
            "credentials": "${GOOGLE_APPLICATION_CREDENTIALS}",
            "api_base": self.fake.url(),
            "timeout_secs": 5,
        })
    }

    fn plugin(&self) -> Arc<dyn Plugin> {
        let valid = validated(self.config(), self.dir.path()).expect("config is valid");
        build_with_clock(
            valid,
            &BuildContext::new(Arc::new(FakeTemplates)).for_instance("app"),
            self.clock.clone(),
        )
        .expect("plugin builds")
    }
}

fn env(dir: &Path) -> HashMap<String, String> {
    let path = dir.join("service-account.json");
    HashMap::from([(
        "GOOGLE_APPLICATION_CREDENTIALS".to_owned(),
        path.display().to_string(),
    )])
}

fn validated(config: Value, dir: &Path) -> Result<ValidatedPush, Vec<String>> {
    let config: PushConfig = serde_json::from_value(config).expect("config deserializes");
    let env = env(dir);
    let cx = ValidateContext::new("plugins.push.app", &env).with_base_dir(dir);
    config
        .validate(&cx)
        .map_err(|issues| issues.iter().map(ToString::to_string).collect())
}

async fn push(plugin: &dyn Plugin, n: usize) -> Outcome {
    let key = format!("stripe:evt_{n}:push_paid:0");
    let event = herald_testkit::event("payment_intent.succeeded", json!({ "id": "pi_1" }));
    let action = params(json!({ "topic": "orders", "body": "Order {{order_id}} paid" }));
    herald_testkit::deliver(plugin, &event, &action, Attempt::first("push_paid", &key)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_pushes_over_ten_seconds_of_two_second_tokens_all_deliver() {
    let google = Google::start().await;
    let plugin = google.plugin();
    let step = Duration::from_millis(500);
    let mut elapsed = Duration::ZERO;
    let mut expected_mints = 0;
    let mut minted_at: Option<Duration> = None;
    for round in 0..20 {
        // A 2 s token is renewed once 1.5 s old, by exactly one of the pushes that find it so.
        if minted_at.is_none_or(|at| elapsed - at >= Duration::from_millis(1_500)) {
            expected_mints += 1;
            minted_at = Some(elapsed);
        }
        let mut pushes = JoinSet::new();
        for i in 0..5 {
            let plugin = Arc::clone(&plugin);
            pushes.spawn(async move { push(plugin.as_ref(), round * 5 + i).await });
        }
        while let Some(outcome) = pushes.join_next().await {
            assert_eq!(outcome.expect("push task"), Outcome::Delivered);
        }
        google.clock.advance(step);
        elapsed += step;
    }
    assert_eq!(google.fake.refused(), Vec::<String>::new());
    let sent = google.fake.sent();
    assert_eq!(sent.len(), 100);
    let keys: BTreeSet<_> = sent
        .iter()
        .filter_map(|s| s.idempotency_key.clone())
        .collect();
    assert_eq!(keys.len(), 100);
    assert_eq!(google.fake.unauthorized(), 0, "an expired token was sent");
    assert_eq!(google.fake.token_requests(), expected_mints);
    let tokens: BTreeSet<_> = sent.iter().map(|s| s.token.clone()).collect();
    assert_eq!(tokens.len(), expected_mints);
    assert_eq!(sent[0].body["message"]["topic"], "orders");
}

#[tokio::test]
async fn a_revoked_token_is_renewed_and_the_push_sent_again() {
    let google = Google::start().await;
    let plugin = google.plugin();
    assert_eq!(push(plugin.as_ref(), 1).await, Outcome::Delivered);
    google.fake.revoke_tokens();
    assert_eq!(push(plugin.as_ref(), 2).await, Outcome::Delivered);
    assert_eq!(google.fake.unauthorized(), 1);
    assert_eq!(google.fake.token_requests(), 2);
    let sent = google.fake.sent();
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0].token, sent[1].token);
}

#[tokio::test]
async fn an_expired_token_is_renewed_on_its_401_not_dead_lettered() {
    let google = Google::start().await;
    // herald is told an hour; the token dies after 2 s.
    google
        .fake
        .set_advertised_lifetime(Duration::from_secs(3600));
    let plugin = google.plugin();
    assert_eq!(push(plugin.as_ref(), 1).await, Outcome::Delivered);
    google.clock.advance(Duration::from_secs(3));
    assert_eq!(push(plugin.as_ref(), 2).await, Outcome::Delivered);
    assert_eq!(google.fake.unauthorized(), 1);
    assert_eq!(google.fake.token_requests(), 2);
    // The renewed token is used from then on.
    assert_eq!(push(plugin.as_ref(), 3).await, Outcome::Delivered);
    assert_eq!(google.fake.token_requests(), 2);
    assert_eq!(google.fake.sent().len(), 3);
}

#[tokio::test]
async fn a_second_401_is_permanent() {
    let google = Google::start().await;
    let plugin = google.plugin();
    google.fake.set_reject_sends(true);
    let outcome = push(plugin.as_ref(), 1).await;
    assert_failed(
        &outcome,
        "401 Unauthorized (a freshly minted access token was rejected too",
    );
    assert_failed(&outcome, "UNAUTHENTICATED");
    assert_eq!(google.fake.unauthorized(), 2);
    assert_eq!(google.fake.token_requests(), 2);
}

#[tokio::test]
async fn token_endpoint_failures_are_retried_with_the_reason() {
    let google = Google::start().await;
    let plugin = google.plugin();
    google.fake.set_token_status(Some(503));
    let outcome = push(plugin.as_ref(), 1).await;
    assert_retry(&outcome, "could not get an FCM access token");
    assert_retry(
        &outcome,
        "503 Service Unavailable: backend_error: fake outage",
    );
    assert!(google.fake.sent().is_empty());
    google.fake.set_token_status(None);
    assert_eq!(push(plugin.as_ref(), 1).await, Outcome::Delivered);

    // A token endpoint nobody answers at.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut key: Value = serde_json::from_str(
        &std::fs::read_to_string(google.dir.path().join("service-account.json")).expect("key"),
    )
    .expect("json");
    key["token_uri"] = json!(format!("http://127.0.0.1:{}/token", closed_port()));
    std::fs::write(dir.path().join("service-account.json"), key.to_string()).expect("write");
    let valid = validated(google.config(), dir.path()).expect("valid");
    let down = build_with_clock(
        valid,
        &BuildContext::new(Arc::new(FakeTemplates)),
        Clock::system(),
    )
    .expect("builds");
    let outcome = push(down.as_ref(), 2).await;
    assert_retry(
        &outcome,
        "could not get an FCM access token: could not connect to http://127.0.0.1",
    );
}

#[tokio::test]
async fn check_connect_mints_a_token_and_names_a_refusal() {
    let google = Google::start().await;
    let plugin = google.plugin();
    plugin.healthcheck().await.expect("a token is minted");
    assert_eq!(google.fake.token_requests(), 1);
    assert!(google.fake.sent().is_empty());
    google.fake.revoke_tokens();
    google.fake.set_token_status(Some(503));
    google.clock.advance(Duration::from_secs(2));
    let err = plugin
        .healthcheck()
        .await
        .expect_err("the endpoint is down");
    assert!(err.0.contains("could not get an FCM access token"), "{err}");
}

#[tokio::test]
async fn an_assertion_for_another_account_is_refused_and_retried() {
    let google = Google::start().await;
    let path = google.dir.path().join("service-account.json");
    let mut key: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("key")).expect("json");
    key["client_email"] = json!("someone-else@example-shop.iam.gserviceaccount.com");
    std::fs::write(&path, key.to_string()).expect("write");
    let plugin = google.plugin();
    let outcome = push(plugin.as_ref(), 1).await;
    assert_retry(
        &outcome,
        "answered 400 Bad Request: invalid_grant: Invalid JWT",
    );
    assert_eq!(google.fake.refused().len(), 1);
}

#[tokio::test]
async fn the_key_file_is_checked_at_start_up_and_names_its_project() {
    let google = Google::start().await;
    let valid = validated(google.config(), google.dir.path()).expect("valid");
    let herald_plugin_push::PushSettings::Fcm(fcm) = &valid.provider else {
        panic!("fcm settings");
    };
    assert_eq!(fcm.project_id, PROJECT_ID);
    let shown = format!("{valid:?}");
    assert!(shown.contains(CLIENT_EMAIL), "{shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert_eq!(
        valid.describe(),
        format!("notifies through Firebase Cloud Messaging as {CLIENT_EMAIL}")
    );

    let dir = google.dir.path();
    let problems = |text: &str| {
        std::fs::write(dir.join("service-account.json"), text).expect("write");
        validated(google.config(), dir)
            .expect_err("invalid")
            .join("\n")
    };
    let text = problems("{ not json");
    assert!(text.contains("plugins.push.app.credentials: `"), "{text}");
    assert!(
        text.contains("service-account.json` is not a usable service-account key file: not JSON"),
        "{text}"
    );
    let text = problems(
        r#"{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "token_uri": "http://oauth.example.com/token"}"#,
    );
    for needle in [
        "`client_email` is missing",
        "`private_key_id` is missing",
        "`project_id` is missing",
        "`private_key` is not an RSA private key in PEM",
        "`token_uri` `http://oauth.example.com/token` must be https",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let text = problems(r#"{"type": "authorized_user"}"#);
    assert!(text.contains("its `type` is `authorized_user`"), "{text}");
    assert!(!text.contains("project_id: is required"), "{text}");

    std::fs::remove_file(dir.join("service-account.json")).expect("remove");
    let text = validated(google.config(), dir)
        .expect_err("missing")
        .join("\n");
    assert!(
        text.contains(&format!(
            "credentials: cannot read the service-account key file `{}`",
            dir.join("service-account.json").display()
        )),
        "{text}"
    );
}

#[test]
fn credentials_or_a_fixed_token_one_of_the_two() {
    let dir = tempfile::tempdir().expect("temp dir");
    let both = json!({
        "provider": "fcm", "project_id": "p",
        "credentials": "key.json", "access_token": "${FCM_ACCESS_TOKEN}",
    });
    let text = validated(both, dir.path()).expect_err("both").join("\n");
    assert!(
        text.contains("access_token: set either `credentials`"),
        "{text}"
    );
    let neither = json!({ "provider": "fcm", "project_id": "p" });
    let text = validated(neither, dir.path())
        .expect_err("neither")
        .join("\n");
    assert!(
        text.contains(
            "credentials: is required: write `credentials = \"${GOOGLE_APPLICATION_CREDENTIALS}\"`"
        ),
        "{text}"
    );
    let unset = json!({ "provider": "fcm", "credentials": "${NOT_SET}" });
    let text = validated(unset, dir.path()).expect_err("unset").join("\n");
    assert!(
        text.contains("credentials: environment variable `NOT_SET` is not set"),
        "{text}"
    );
    assert!(!text.contains("project_id"), "{text}");
}
