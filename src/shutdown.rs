//! The stop signal: SIGINT or SIGTERM cancels the token every task watches.
//! (SIGHUP reloads the config instead: see [`crate::reload`].)

use tokio_util::sync::CancellationToken;
use tracing::info;

/// Cancels `token` on SIGINT (Ctrl-C) or SIGTERM.
///
/// The handlers are in place when this returns, so call it before herald says it
/// is listening: a supervisor may stop a service the moment it is up, and a
/// SIGTERM before the handler kills the process outright.
///
/// # Errors
/// When a handler cannot be installed.
pub fn cancel_on_signal(token: CancellationToken) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => info!("SIGINT received, shutting down"),
                _ = terminate.recv() => info!("SIGTERM received, shutting down"),
            }
            token.cancel();
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            info!("Ctrl-C received, shutting down");
            token.cancel();
        }
    });
    Ok(())
}
