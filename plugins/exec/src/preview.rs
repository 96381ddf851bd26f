//! The exec kind's preview for `herald route`: the argv delivery would start.
//! Fixed arguments and environment values come from the config with `${VAR}`
//! expanded, so they may be secrets: they show masked.

use herald_plugin_api::{Job, Preview, Templates, MASKED};

use crate::config::ValidatedExec;
use crate::plugin::action_args;

/// The program, each argument on its own line, and the extra environment's names.
pub(crate) fn preview(
    validated: &ValidatedExec,
    job: &Job<'_>,
    templates: &dyn Templates,
) -> Result<Preview, String> {
    let rendered = action_args(job, templates).map_err(|err| err.to_string())?;
    let mut argv = vec![validated.command.display().to_string()];
    argv.extend(
        validated
            .args
            .iter()
            .map(|_| format!("{MASKED} (from the config)")),
    );
    argv.extend(rendered);
    let mut preview = Preview::new().line("argv", argv.join("\n"));
    if !validated.env.is_empty() {
        let names: Vec<String> = validated
            .env
            .iter()
            .map(|(name, _)| format!("{name}={MASKED}"))
            .collect();
        preview = preview.line("env", names.join("\n"));
    }
    Ok(preview)
}
