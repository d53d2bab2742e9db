//! A real HAProxy on loopback in front of the API processes, configured as
//! docs/operations.md ("Rolling restarts") advises: health checks on `/readyz`,
//! connection retries with `option redispatch` (and no retry of a request once
//! sent: nothing a drained server does needs one), WebSocket tunnels kept open.
//! The rolling-restart test and the `balanced` bench run behind it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// How often HAProxy checks each server; two checks in a row turn it down or
/// up: a draining server is out of rotation within about 1 s, inside the
/// tests' 2 s drain.
pub const CHECK_INTER_MS: u64 = 500;

pub struct HaProxy {
    pub base_url: String,
    stats_url: String,
    child: Child,
    /// Its config, removed when the proxy is dropped.
    dir: PathBuf,
}

/// The haproxy binary: on the PATH or where Debian puts it.
fn binary() -> PathBuf {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("haproxy"))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!("HAProxy is not installed: run scripts/ensure-haproxy (scripts/test does)")
    })
}

/// A loopback port nothing listens on (for HAProxy's own sockets).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}

fn config(port: u16, stats: u16, servers: &[(&str, &str)]) -> String {
    let servers: String = servers
        .iter()
        .map(|(name, addr)| format!("    server {name} {addr} check\n"))
        .collect();
    format!(
        "global\n    maxconn 2000\n\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    \
         timeout server 30s\n    timeout tunnel 1h\n    timeout http-keep-alive 10s\n    \
         timeout check 2s\n    \
         option redispatch\n    retries 3\n\n\
         frontend api\n    bind 127.0.0.1:{port}\n    default_backend aduan\n\n\
         backend aduan\n    balance roundrobin\n    option httpchk GET /readyz\n    \
         http-check expect status 200\n    \
         default-server inter {CHECK_INTER_MS}ms fall 2 rise 2\n{servers}\n\
         listen stats\n    bind 127.0.0.1:{stats}\n    stats enable\n    stats uri /stats\n"
    )
}

impl HaProxy {
    /// Starts haproxy in the foreground with a config of its own in a
    /// temporary directory, balancing `servers` (name, `host:port`); waits
    /// until every server is up.
    pub async fn start(servers: &[(&str, &str)]) -> HaProxy {
        let dir =
            std::env::temp_dir().join(format!("aduan-haproxy-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let (port, stats) = (free_port(), free_port());
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, config(port, stats, servers)).expect("write haproxy.cfg");
        let child = Command::new(binary())
            .arg("-db")
            .arg("-f")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start haproxy: {e}"));
        let proxy = HaProxy {
            base_url: format!("http://127.0.0.1:{port}"),
            stats_url: format!("http://127.0.0.1:{stats}/stats;csv"),
            child,
            dir,
        };
        for (name, _) in servers {
            proxy.wait_status(name, "UP").await;
        }
        proxy
    }

    /// The status HAProxy gives server `name` (`UP`, `DOWN`, `UP 1/2`, ...).
    pub async fn status(&self, name: &str) -> Option<String> {
        let csv = reqwest::get(&self.stats_url)
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
        let column = header.iter().position(|h| *h == "status")?;
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|row| row.first() == Some(&"aduan") && row.get(1) == Some(&name))
            .and_then(|row| row.get(column).map(|s| s.to_string()))
    }

    /// Waits (up to 20 s) until server `name` has `status`.
    pub async fn wait_status(&self, name: &str, status: &str) {
        for _ in 0..400 {
            if self.status(name).await.as_deref() == Some(status) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "HAProxy did not see {name} {status} within 20 s (config in {})",
            self.dir.display()
        );
    }

    /// The haproxy process's id (for reading its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
