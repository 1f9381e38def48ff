//! Named, supervised tasks. Every long-running part of a service (HTTP server, poll thread,
//! applier, outbox relay, watchers) runs under a name in one [`Tasks`] set; the first one that
//! fails, panics or stops while the service is meant to run triggers shutdown, and
//! [`Tasks::join`] returns its error, so the process exits non-zero and an orchestrator
//! restarts it instead of leaving a half-running service that says it is fine.

use std::collections::HashMap;
use std::future::Future;

use tokio::task::{Id, JoinSet};

use crate::shutdown::Shutdown;

pub struct Tasks {
    set: JoinSet<(String, bool, anyhow::Result<()>)>,
    names: HashMap<Id, String>,
    shutdown: Shutdown,
}

impl Tasks {
    pub fn new(shutdown: Shutdown) -> Tasks {
        Tasks {
            set: JoinSet::new(),
            names: HashMap::new(),
            shutdown,
        }
    }

    /// Runs `task` until shutdown; ending earlier, even without an error, is a failure.
    pub fn spawn<F>(&mut self, name: &str, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.start(name, false, task)
    }

    /// Runs `task` once; only an error (or a panic) is a failure.
    pub fn spawn_oneshot<F>(&mut self, name: &str, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.start(name, true, task)
    }

    fn start<F>(&mut self, name: &str, oneshot: bool, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let owned = name.to_string();
        let handle = self.set.spawn(async move { (owned, oneshot, task.await) });
        self.names.insert(handle.id(), name.to_string());
    }

    /// Waits for every task; returns the first failure.
    pub async fn join(mut self) -> anyhow::Result<()> {
        let mut first: Option<anyhow::Error> = None;
        while let Some(joined) = self.set.join_next_with_id().await {
            let failure = match joined {
                Ok((_, (_, _, Err(e)))) => Some(e),
                Ok((_, (name, false, Ok(())))) if !self.shutdown.is_triggered() => Some(
                    anyhow::anyhow!("task {name} stopped while the service was running"),
                ),
                Ok(_) => None,
                Err(e) => {
                    let name = self.names.get(&e.id()).cloned().unwrap_or_default();
                    Some(anyhow::anyhow!("task {name} panicked: {e}"))
                }
            };
            if let Some(failure) = failure {
                tracing::error!(error = %format!("{failure:#}"), "a task of the service failed; stopping");
                self.shutdown.trigger();
                first.get_or_insert(failure);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task that fails stops the others and its error is the service's.
    #[tokio::test]
    async fn the_first_failure_stops_every_task() {
        let shutdown = Shutdown::new();
        let mut tasks = Tasks::new(shutdown.clone());
        let watcher = shutdown.clone();
        tasks.spawn("server", async move {
            watcher.wait().await;
            Ok(())
        });
        tasks.spawn("poll", async { anyhow::bail!("broker gone") });
        let error = tasks.join().await.unwrap_err();
        assert!(error.to_string().contains("broker gone"));
        assert!(shutdown.is_triggered());
    }

    /// A task that stops early without an error is a failure too; a one-shot is not.
    #[tokio::test]
    async fn stopping_early_is_a_failure_unless_one_shot() {
        let mut tasks = Tasks::new(Shutdown::new());
        tasks.spawn_oneshot("create topic", async { Ok(()) });
        tasks.spawn("relay", async { Ok(()) });
        let error = tasks.join().await.unwrap_err();
        assert!(error.to_string().contains("relay"), "{error}");
        let mut tasks = Tasks::new(Shutdown::new());
        tasks.spawn("panics", async { panic!("boom") });
        assert!(tasks
            .join()
            .await
            .unwrap_err()
            .to_string()
            .contains("panics"));
    }
}
