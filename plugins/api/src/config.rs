//! Pieces of configuration handling that every plugin needs.

use std::collections::HashMap;
use std::fmt;

/// One problem found while validating config; herald adds the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The dotted key the problem is at, e.g. `plugins.email.customer_mail.host`.
    pub key: String,
    /// What is wrong, in words an operator can act on.
    pub message: String,
}

impl ConfigIssue {
    /// A problem at `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Where `${VAR}` references are looked up.
///
/// Production reads the process environment; tests pass a map, so they never touch
/// process-global state.
pub trait Env: Send + Sync {
    /// The variable's value, if set.
    fn var(&self, name: &str) -> Option<String>;

    /// The text of the secret file `path` named by `${file:PATH}`, without one trailing
    /// newline (secret files written by `echo`, Docker and Kubernetes end with one).
    /// A relative path is resolved against [`Env::base_dir`].
    ///
    /// # Errors
    /// Why the file cannot be read.
    fn file(&self, path: &str) -> Result<String, String> {
        let path = std::path::Path::new(path);
        let path = match self.base_dir() {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_owned(),
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        Ok(text.strip_suffix('\r').unwrap_or(text).to_owned())
    }

    /// The folder relative `${file:…}` paths start from: the config file's.
    fn base_dir(&self) -> Option<&std::path::Path> {
        None
    }
}

/// `env` with relative `${file:…}` paths resolved against `base` (the config's folder).
pub struct RelativeTo<'e> {
    env: &'e dyn Env,
    base: std::path::PathBuf,
}

impl<'e> RelativeTo<'e> {
    /// Reads variables from `env` and relative secret files from `base`.
    pub fn new(env: &'e dyn Env, base: impl Into<std::path::PathBuf>) -> Self {
        Self {
            env,
            base: base.into(),
        }
    }
}

impl Env for RelativeTo<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.env.var(name)
    }

    fn base_dir(&self) -> Option<&std::path::Path> {
        Some(&self.base)
    }
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A `${VAR}` reference named a variable that is not set (or not valid).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MissingEnvVar {
    /// The variable is not set.
    #[error("environment variable `{0}` is not set")]
    NotSet(String),
    /// `${` without a closing `}` or with an invalid name.
    #[error("malformed reference `{0}`: write `${{NAME}}` with letters, digits and `_`, or `${{file:PATH}}`")]
    Malformed(String),
    /// A `${file:PATH}` whose file cannot be read.
    #[error("cannot read the secret file of `${{file:{path}}}`: {reason}")]
    File {
        /// The path as written.
        path: String,
        /// Why, with the resolved path.
        reason: String,
    },
}

/// Replaces every `${NAME}` in `input` with the variable's value, and every
/// `${file:PATH}` with that file's text ([`Env::file`]); `$${` is a literal `${`.
///
/// # Errors
/// The first variable that is not set, file that cannot be read, or malformed reference.
pub fn expand_env(input: &str, env: &dyn Env) -> Result<String, MissingEnvVar> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail
                .find('}')
                .ok_or_else(|| MissingEnvVar::Malformed(after.to_owned()))?;
            let name = &tail[..end];
            if let Some(path) = name.strip_prefix("file:") {
                if path.is_empty() {
                    return Err(MissingEnvVar::Malformed("${file:}".to_owned()));
                }
                let text = env.file(path).map_err(|reason| MissingEnvVar::File {
                    path: path.to_owned(),
                    reason,
                })?;
                out.push_str(&text);
                rest = &tail[end + 1..];
                continue;
            }
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(MissingEnvVar::Malformed(format!("${{{name}}}")));
            }
            let value = env
                .var(name)
                .ok_or_else(|| MissingEnvVar::NotSet(name.to_owned()))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HashMap<String, String> {
        HashMap::from([("SECRET".to_owned(), "whsec_x".to_owned())])
    }

    #[test]
    fn expands_a_set_variable() {
        assert_eq!(expand_env("${SECRET}", &env()).unwrap(), "whsec_x");
        assert_eq!(expand_env("a-${SECRET}-b", &env()).unwrap(), "a-whsec_x-b");
    }

    #[test]
    fn names_a_missing_variable() {
        let err = expand_env("${NOPE}", &env()).unwrap_err();
        assert_eq!(err, MissingEnvVar::NotSet("NOPE".into()));
        assert!(err.to_string().contains("NOPE"));
    }

    #[test]
    fn reads_a_secret_file_relative_to_the_config_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        std::fs::write(dir.path().join("secrets/stripe"), "whsec_from_file\n").unwrap();
        let env = RelativeTo::new(&ProcessEnv, dir.path());
        assert_eq!(
            expand_env("${file:secrets/stripe}", &env).unwrap(),
            "whsec_from_file"
        );
        let absolute = format!("${{file:{}}}", dir.path().join("secrets/stripe").display());
        assert_eq!(
            expand_env(&absolute, &ProcessEnv).unwrap(),
            "whsec_from_file"
        );
        let err = expand_env("${file:secrets/nope}", &env).unwrap_err();
        assert!(matches!(err, MissingEnvVar::File { .. }), "{err}");
        assert!(err.to_string().contains("secrets/nope"), "{err}");
        assert!(matches!(
            expand_env("${file:}", &env),
            Err(MissingEnvVar::Malformed(_))
        ));
    }

    #[test]
    fn leaves_plain_dollars_and_escapes_alone() {
        assert_eq!(expand_env("cost $5", &env()).unwrap(), "cost $5");
        assert_eq!(expand_env("$${SECRET}", &env()).unwrap(), "${SECRET}");
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(matches!(
            expand_env("${SECRET", &env()),
            Err(MissingEnvVar::Malformed(_))
        ));
        assert!(matches!(
            expand_env("${1X}", &env()),
            Err(MissingEnvVar::Malformed(_))
        ));
    }
}
