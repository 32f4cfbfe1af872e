//! SIGINT and SIGTERM as one long-lived stream, registered once per run (a second signal
//! must be seen as the second, not lost while a handler is re-registered).

/// The run's signal stream; pending forever when signals are not handled.
pub struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
    #[cfg(not(unix))]
    enabled: bool,
}

impl Signals {
    /// Listen for SIGINT and SIGTERM when `enabled`.
    pub fn new(enabled: bool) -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = enabled
                .then(|| {
                    Some((
                        signal(SignalKind::interrupt()).ok()?,
                        signal(SignalKind::terminate()).ok()?,
                    ))
                })
                .flatten();
            if enabled && streams.is_none() {
                tracing::warn!("cannot listen for SIGINT/SIGTERM");
            }
            Signals { streams }
        }
        #[cfg(not(unix))]
        Signals { enabled }
    }

    /// The next SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        match self.streams.as_mut() {
            Some((int, term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            None => std::future::pending().await,
        }
        #[cfg(not(unix))]
        if self.enabled {
            let _ = tokio::signal::ctrl_c().await;
        } else {
            std::future::pending::<()>().await
        }
    }
}
