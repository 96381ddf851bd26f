//! The exec [`Plugin`]: built once at start-up by [`build`] (through
//! [`Instance::build`](herald_plugin_api::Instance::build)), then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery renders the action's arguments, starts the program directly (no shell) in
//! its own folder with a cleared environment, writes the event JSON to its stdin, reads
//! its output, and turns the exit status into an [`Outcome`]: 0 delivered, 75
//! (`EX_TEMPFAIL`) retry, anything else failed; a run over the timeout is killed and retried.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use herald_plugin_api::{async_trait, BuildContext, Job, Outcome, Plugin, PluginError, Templates};
use tokio::io::AsyncWriteExt as _;
use tokio::process::{Child, ChildStdin, Command};

use crate::action::ExecAction;
use crate::config::{check_executable, ValidatedExec};
use crate::output::{drain, excerpt, Tail};

/// `EX_TEMPFAIL` from `sysexits.h`: the program asks to be run again later.
pub const EXIT_TEMPFAIL: i32 = 75;

/// Variables passed on from herald's own environment; everything else is cleared so
/// herald's secrets (database URL, API keys) never reach a shop's script.
const PASSED_THROUGH: [&str; 3] = ["PATH", "HOME", "LANG"];

/// How long output is still read after the program ended; a background process it left
/// behind may hold the pipes open indefinitely.
const OUTPUT_GRACE: Duration = Duration::from_secs(1);

/// One `[plugins.exec.<name>]` instance.
struct ExecPlugin {
    name: String,
    command: PathBuf,
    /// The command's folder, the child's working directory.
    dir: PathBuf,
    args: Vec<String>,
    /// Passed-through variables, then the configured ones (which win on a clash).
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
    templates: Arc<dyn Templates>,
}

/// Builds a plugin instance from its validated config. Does not run the program.
///
/// # Errors
/// When the command has no parent folder to run in (it is not an absolute file path).
pub(crate) fn build(
    config: ValidatedExec,
    cx: &BuildContext,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let name = cx.name();
    let dir = config
        .command
        .parent()
        .filter(|dir| config.command.is_absolute() && !dir.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            PluginError(format!(
                "exec `{name}`: `{}` is not an absolute path to a file",
                config.command.display()
            ))
        })?;
    let mut env: Vec<(OsString, OsString)> = PASSED_THROUGH
        .iter()
        .filter_map(|var| std::env::var_os(var).map(|value| (OsString::from(var), value)))
        .collect();
    env.extend(
        config
            .env
            .into_iter()
            .map(|(name, value)| (name.into(), value.into())),
    );
    Ok(Arc::new(ExecPlugin {
        name: name.to_owned(),
        command: config.command,
        dir,
        args: config.args,
        env,
        timeout: config.timeout,
        templates: cx.templates(),
    }))
}

/// How a run ended.
enum Ended {
    /// The program exited (or was killed by a signal someone else sent).
    Exited(ExitStatus),
    /// It ran past the timeout and was killed.
    TimedOut,
    /// Waiting for it failed; it was killed to be safe.
    WaitFailed(io::Error),
}

/// Why the action's arguments could not be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArgsError {
    /// The action's parameters do not parse: the job fails.
    #[error("{0}")]
    Params(String),
    /// A template does not render: the job is held for a fix.
    #[error("{0}")]
    Render(String),
}

impl ArgsError {
    /// What becomes of the job.
    fn outcome(&self) -> Outcome {
        match self {
            Self::Params(reason) => Outcome::failed(reason.clone()),
            Self::Render(reason) => Outcome::held(reason.clone()),
        }
    }
}

/// The action's arguments rendered against the event, as delivery and `herald route`
/// render them.
pub(crate) fn action_args(
    job: &Job<'_>,
    templates: &dyn Templates,
) -> Result<Vec<String>, ArgsError> {
    let action = ExecAction::from_params(job.params)
        .map_err(|errors| ArgsError::Params(errors.join("; ")))?;
    let mut args = Vec::with_capacity(action.args.len());
    for (index, template) in action.args.iter().enumerate() {
        let arg = templates
            .render_inline(template, job.context.get())
            .map_err(|err| {
                ArgsError::Render(format!("`args[{index}]` could not be rendered: {err}"))
            })?;
        args.push(arg);
    }
    Ok(args)
}

impl ExecPlugin {
    /// The fixed arguments followed by the action's, rendered against the event.
    fn args(&self, job: &Job<'_>) -> Result<Vec<String>, ArgsError> {
        let mut args = self.args.clone();
        args.extend(action_args(job, self.templates.as_ref())?);
        Ok(args)
    }

    /// The child process for one job, not yet started.
    fn command(&self, job: &Job<'_>, args: &[String]) -> Command {
        let mut command = Command::new(&self.command);
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env("HERALD_IDEMPOTENCY_KEY", job.idempotency_key)
            .env("HERALD_EVENT_ID", &job.event.id)
            .env("HERALD_EVENT_TYPE", &job.event.kind)
            .env("HERALD_RULE", job.rule)
            .env("HERALD_ATTEMPT", job.attempt.to_string())
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // If the delivery is abandoned (shutdown), the program must not outlive it.
            .kill_on_drop(true);
        command
    }

    /// Runs a started child to its end or the timeout, feeding `input` and capturing output.
    async fn run(&self, mut child: Child, input: &[u8]) -> (Ended, Tail, Tail) {
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut out = Tail::default();
        let mut err = Tail::default();
        let ended = {
            // Feeding and reading run together: a program that writes before it reads
            // would otherwise block on a full pipe while we block on its stdin.
            let io = async {
                tokio::join!(
                    feed(stdin, input),
                    drain(stdout, &mut out),
                    drain(stderr, &mut err)
                );
            };
            tokio::pin!(io);
            let mut io_done = false;
            let ended = {
                let wait = child.wait();
                tokio::pin!(wait);
                let deadline = tokio::time::sleep(self.timeout);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        status = &mut wait => break match status {
                            Ok(status) => Ended::Exited(status),
                            Err(error) => Ended::WaitFailed(error),
                        },
                        () = &mut deadline => break Ended::TimedOut,
                        () = &mut io, if !io_done => io_done = true,
                    }
                }
            };
            if !matches!(ended, Ended::Exited(_)) {
                // `kill` also waits for the process, so no zombie is left behind.
                if let Err(error) = child.kill().await {
                    tracing::warn!(plugin = %self.name, %error, "could not kill the exec command");
                }
            }
            if !io_done {
                // Whatever is not read by then is lost; the outcome does not depend on it.
                let _ = tokio::time::timeout(OUTPUT_GRACE, &mut io).await;
            }
            ended
        };
        (ended, out, err)
    }
}

/// Writes `input` to the child's stdin and closes it.
async fn feed(stdin: Option<ChildStdin>, input: &[u8]) {
    let Some(mut stdin) = stdin else { return };
    match stdin.write_all(input).await {
        Ok(()) => {}
        // A program that does not read its stdin is fine; its exit status decides.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
        Err(error) => tracing::debug!(%error, "could not write the event to the exec command"),
    }
    // Dropping `stdin` closes it, so a program reading to the end sees EOF.
}

/// `message`, followed by the output excerpt when there is one.
fn with_output(message: String, output: &str) -> String {
    if output.is_empty() {
        message
    } else {
        format!("{message}: {output}")
    }
}

/// The outcome of a spawn error: a missing or non-executable program stays broken.
fn spawn_failed(command: &Path, error: &io::Error) -> Outcome {
    let reason = format!("cannot start `{}`: {error}", command.display());
    match error.kind() {
        // The file is being written (a deploy in progress) or the system is short of
        // processes or memory: each of these passes by itself.
        io::ErrorKind::ExecutableFileBusy
        | io::ErrorKind::WouldBlock
        | io::ErrorKind::OutOfMemory
        | io::ErrorKind::Interrupted => Outcome::retry(reason),
        _ => Outcome::failed(reason),
    }
}

/// The outcome of a finished run.
fn classify(ended: &Ended, timeout: Duration, output: &str) -> Outcome {
    match ended {
        Ended::Exited(status) => match (status.code(), status.signal()) {
            (Some(0), _) => Outcome::Delivered,
            (Some(EXIT_TEMPFAIL), _) => Outcome::retry(with_output(
                format!("exited with {EXIT_TEMPFAIL} (temporary failure)"),
                output,
            )),
            (Some(code), _) => Outcome::failed(with_output(format!("exited with {code}"), output)),
            (None, Some(signal)) => {
                Outcome::failed(with_output(format!("killed by signal {signal}"), output))
            }
            (None, None) => Outcome::failed(with_output(format!("ended with {status}"), output)),
        },
        Ended::TimedOut => Outcome::retry(with_output(
            format!("timed out after {timeout:?} and was killed"),
            output,
        )),
        Ended::WaitFailed(error) => Outcome::retry(format!(
            "could not wait for the process ({error}); it was killed"
        )),
    }
}

#[async_trait]
impl Plugin for ExecPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let args = match self.args(job) {
            Ok(args) => args,
            Err(err) => return err.outcome(),
        };
        let input = match serde_json::to_vec(job.context.get()) {
            Ok(input) => input,
            Err(error) => return Outcome::failed(format!("cannot serialize the event: {error}")),
        };
        let child = match self.command(job, &args).spawn() {
            Ok(child) => child,
            Err(error) => return spawn_failed(&self.command, &error),
        };
        let pid = child.id();
        let (ended, stdout, stderr) = self.run(child, &input).await;
        let outcome = classify(&ended, self.timeout, &excerpt(&stdout, &stderr));
        // Arguments and output may hold customer data, so they are logged at debug only.
        tracing::debug!(
            plugin = %self.name, rule = job.rule, attempt = job.attempt, pid,
            stdout = %stdout.excerpt(), stderr = %stderr.excerpt(), outcome = ?outcome,
            "exec command ran"
        );
        outcome
    }

    async fn healthcheck(&self) -> Result<(), PluginError> {
        check_executable(&self.command)
            .map_err(|message| PluginError(format!("exec `{}`: {message}", self.name)))
    }
}
