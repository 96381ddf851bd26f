//! What a running `herald serve` of the same config lacks of this shell's environment.
//!
//! A process's environment is fixed when it starts: a secret exported since (in a
//! shell, or added to an `EnvironmentFile`) is seen by `herald check` here but not by
//! the running herald, whose next reload then fails on it. `check` reads each running
//! herald's environment from `/proc/<pid>/environ` (readable for herald's own user and
//! root; others are passed over) and names the variables it lacks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use herald_plugin_api::Env;

/// A running herald missing variables the config names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lacking {
    pub pid: u32,
    /// Set here, absent there.
    pub variables: Vec<String>,
}

/// The `${NAME}` variables `text` references (not `$${…}`, not `${file:…}`).
pub fn referenced(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let escaped = at > 0 && rest.as_bytes()[at - 1] == b'$';
        let tail = &rest[at + 2..];
        let Some(end) = tail.find('}') else { break };
        let name = &tail[..end];
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !escaped && valid {
            names.insert(name.to_owned());
        }
        rest = &tail[end + 1..];
    }
    names
}

/// Every running `herald serve` of `config` (by its resolved path) whose environment
/// lacks some of `names` that `env` has. Empty where `/proc` cannot tell.
pub fn lacking(config: &Path, names: &BTreeSet<String>, env: &dyn Env) -> Vec<Lacking> {
    let Ok(config) = config.canonicalize() else {
        return Vec::new();
    };
    let here: Vec<&String> = names
        .iter()
        .filter(|name| env.var(name).is_some())
        .collect();
    if here.is_empty() {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let dir = entry.path();
        let Some(environ) = serving(&dir, &config) else {
            continue;
        };
        let variables: Vec<String> = here
            .iter()
            .filter(|name| !environ.iter().any(|pair| pair.0 == ***name))
            .map(|name| (*name).clone())
            .collect();
        if !variables.is_empty() {
            found.push(Lacking { pid, variables });
        }
    }
    found.sort_by_key(|lacking| lacking.pid);
    found
}

/// The environment of the process at `/proc/<pid>` when it is `herald … serve` of
/// `config`; `None` otherwise or when it cannot be read.
fn serving(dir: &Path, config: &Path) -> Option<Vec<(String, String)>> {
    let cmdline = std::fs::read(dir.join("cmdline")).ok()?;
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    let program = Path::new(args.first()?).file_name()?.to_str()?;
    if program != "herald" || !args.iter().any(|arg| arg == "serve") {
        return None;
    }
    let environ: Vec<(String, String)> = std::fs::read(dir.join("environ"))
        .ok()?
        .split(|b| *b == 0)
        .filter_map(|pair| {
            let pair = String::from_utf8_lossy(pair);
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    let named = args
        .iter()
        .position(|arg| arg == "--config" || arg == "-c")
        .and_then(|at| args.get(at + 1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|arg| arg.strip_prefix("--config=").map(str::to_owned))
        })
        .or_else(|| {
            environ
                .iter()
                .find(|(key, _)| key == "HERALD_CONFIG")
                .map(|(_, value)| value.clone())
        })
        .unwrap_or_else(|| "config.toml".to_owned());
    let cwd = std::fs::read_link(dir.join("cwd")).unwrap_or_else(|_| PathBuf::from("/"));
    let theirs = cwd.join(named).canonicalize().ok()?;
    (theirs == config).then_some(environ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_but_escapes_and_files_are_not() {
        let text = "a = \"${ONE}\"\nb = \"x${TWO}y$${THREE}\"\nc = \"${file:secret}\"\nd = \"${bad name}\"";
        let names: Vec<String> = referenced(text).into_iter().collect();
        assert_eq!(names, ["ONE", "TWO"]);
    }
}
