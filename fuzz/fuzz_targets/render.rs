//! The template context: a Stripe body normalised into an event, its context built
//! with `shop` and `params`, and every shipped template set rendered against it.
//!
//! Render errors are expected (strict mode on a payload without the fields a
//! template reads); a panic, or a subject that spans two lines, is a bug.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use herald::render::Renderer;
use herald::source::stripe::{normalize, sign, verify};
use herald_plugin_api::{Context, TemplatePart, Templates};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const SECRET: &[u8] = b"whsec_fuzz";
const NOW: i64 = 1_789_927_243;

fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../templates"));
        match Renderer::load(&dir) {
            Ok(renderer) => renderer,
            Err(err) => panic!("the shipped templates do not load: {err}"),
        }
    })
}

fuzz_target!(|body: &[u8]| {
    let header = format!("t={NOW},v1={}", sign(body, SECRET, NOW));
    let Ok(verified) = verify(Some(&header), body, SECRET, 300, NOW) else {
        return;
    };
    let Ok(event) = normalize(verified) else {
        return;
    };
    let shop = json!({"name": "Fuzz Shop", "url": "https://shop.example", "support_email": "help@shop.example"});
    let params: Map<String, Value> = Map::new();
    let context = Context::new(&event, &shop, &params);
    let renderer = renderer();
    for name in renderer.names() {
        for part in [
            TemplatePart::Subject,
            TemplatePart::Html,
            TemplatePart::Text,
        ] {
            if !renderer.has(&name, part) {
                continue;
            }
            if let Ok(text) = renderer.render(&name, part, context.get()) {
                if part == TemplatePart::Subject {
                    assert!(
                        !text.contains(['\r', '\n']),
                        "subject {name} spans lines: {text:?}"
                    );
                }
            }
        }
    }
});
