//! `sqlx::migrate!` embeds the migrations at compile time: rebuild when they change.
//! The samples are data files: list them for `include_str!`, so adding a
//! `src/samples/stripe/<type>.json` (or `src/samples/herald/<type>.json`, for an
//! event of herald's own) is all it takes to add a sample.
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/samples");
    let mut names: Vec<(String, std::path::PathBuf)> = Vec::new();
    for source in ["stripe", "herald"] {
        let dir = samples.join(source);
        println!("cargo:rerun-if-changed={}", dir.display());
        names.extend(
            std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
                .filter_map(|entry| {
                    let name = entry.ok()?.file_name().into_string().ok()?;
                    let kind = name.strip_suffix(".json")?.to_owned();
                    Some((kind, dir.clone()))
                }),
        );
    }
    names.sort();
    let mut out = String::from("&[\n");
    for (name, dir) in &names {
        let path = dir.join(format!("{name}.json"));
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("]\n");
    let target =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("stripe_samples.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
