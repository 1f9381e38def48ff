//! The embedded run (`lintas up`) as the README and the integrators' guides start it, and the
//! values its banner prints.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::processes::{free_port, lintas, Proc};

/// A running `lintas up`: its process, its base URL and the banner it printed.
pub struct EmbeddedRun {
    pub proc: Proc,
    /// `http://127.0.0.1:<port>`: the intakes, views, registry and operators' page.
    pub base: String,
    pub banner: String,
}

impl EmbeddedRun {
    /// `lintas up --data-dir DIR/data --listen 127.0.0.1:<free port> EXTRA…`, once it has
    /// printed its banner (within 90 s); the same `dir` again restarts on the same views.
    pub async fn start(dir: &PathBuf, extra: &[&str]) -> EmbeddedRun {
        let listen = format!("127.0.0.1:{}", free_port());
        let data = dir.join("data");
        let mut args = vec![
            "up",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            &listen,
        ];
        args.extend_from_slice(extra);
        let proc = Proc::spawn("up", lintas(&args), dir);
        let deadline = Instant::now() + Duration::from_secs(90);
        let banner = loop {
            let text = std::fs::read_to_string(&proc.log).unwrap_or_default();
            if text.contains("Stop with Ctrl-C.") {
                break text;
            }
            assert!(
                Instant::now() < deadline,
                "lintas up did not print its banner:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        EmbeddedRun {
            proc,
            base: format!("http://{listen}"),
            banner,
        }
    }

    /// The first word after `label` at the start of a banner line: `field("token operator")`,
    /// `field("broker")`, `field("registry read")`.
    pub fn field(&self, label: &str) -> String {
        self.banner
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no `{label}` in the banner:\n{}", self.banner))
            .to_string()
    }
}
