//! Micro-benchmarks of the receiver's and the dispatcher's CPU work per event:
//! signature verification, normalization, routing and rendering, on the
//! repository's own fixtures, config and templates. `cargo bench --bench hot_path`.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use herald::source::stripe::{normalize, normalize_fields, sign, verify};
use herald::Config;
use herald_plugin_api::{TemplatePart, Templates};
use serde_json::json;

const SECRET: &[u8] = b"whsec_bench";
const NOW: i64 = 1_700_000_000;

fn fixture() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stripe/payment_intent.succeeded.json");
    std::fs::read(path).expect("fixture")
}

fn config() -> Config {
    let env: HashMap<String, String> =
        HashMap::from([("STRIPE_WEBHOOK_SECRET".to_owned(), "whsec_bench".to_owned())]);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    Config::load(&path, &env).expect("the repository's config.toml is valid")
}

fn hot_path(c: &mut Criterion) {
    let body = fixture();
    let header = format!("t={NOW},v1={}", sign(&body, SECRET, NOW));
    let config = config();

    c.bench_function("verify (Stripe-Signature, 2.6 KB body)", |b| {
        b.iter(|| verify(Some(black_box(&header)), black_box(&body), SECRET, 300, NOW));
    });
    c.bench_function("normalize (parse + lift fields)", |b| {
        b.iter(|| {
            let verified = verify(Some(&header), &body, SECRET, 300, NOW).expect("verifies");
            normalize(black_box(verified)).expect("normalizes")
        });
    });

    c.bench_function("normalize_fields (the receiver's pruned parse)", |b| {
        b.iter(|| {
            let verified = verify(Some(&header), &body, SECRET, 300, NOW).expect("verifies");
            normalize_fields(black_box(verified)).expect("normalizes")
        });
    });

    let verified = verify(Some(&header), &body, SECRET, 300, NOW).expect("verifies");
    let event = normalize(verified).expect("normalizes");
    c.bench_function("route (config.toml's rules)", |b| {
        b.iter(|| config.reloadable.rules.plan(black_box(&event)));
    });

    let mut context = event.context();
    if let Some(map) = context.as_object_mut() {
        map.insert("shop".to_owned(), config.reloadable.shop.clone());
        map.insert("params".to_owned(), json!({}));
    }
    c.bench_function("render (payment_succeeded.html)", |b| {
        b.iter(|| {
            config
                .reloadable
                .templates
                .render("payment_succeeded", TemplatePart::Html, black_box(&context))
                .expect("renders")
        });
    });
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
