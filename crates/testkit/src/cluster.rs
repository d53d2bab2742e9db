//! A private PostgreSQL cluster for tests that stop and restart the database
//! (never the machine's shared server): `initdb` into a temporary directory with
//! trust authentication, started on a free port on 127.0.0.1 with its Unix
//! sockets in that directory, stopped and started again on the same port, and
//! removed when dropped.
//!
//! PostgreSQL refuses to run as root; as root the cluster belongs to the
//! `postgres` OS user (the commands run through `runuser`, or `su`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How the cluster is stopped (`pg_ctl stop -m ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Disconnects every client and shuts down cleanly.
    Fast,
    /// Kills every server process at once (crash recovery at the next start).
    Immediate,
}

pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    /// The OS user the server runs as, when not the current one.
    owner: Option<String>,
    pub port: u16,
}

impl PgCluster {
    /// A new cluster, initialised and started.
    pub async fn start() -> PgCluster {
        tokio::task::spawn_blocking(PgCluster::start_blocking)
            .await
            .expect("start the private PostgreSQL cluster")
    }

    fn start_blocking() -> PgCluster {
        let bin = server_binaries();
        let owner = (current_uid() == 0).then(|| "postgres".to_string());
        sweep_orphans(&bin, owner.as_deref());
        let dir = std::env::temp_dir().join(format!("{PREFIX}{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a directory for the private cluster");
        std::fs::write(dir.join(TEST_PID), std::process::id().to_string())
            .expect("note the test process in the cluster's directory");
        if let Some(user) = &owner {
            let out = Command::new("chown")
                .args([&format!("{user}:"), dir.to_str().unwrap()])
                .output()
                .expect("run chown");
            assert!(
                out.status.success(),
                "cannot give {} to the OS user {user} (PostgreSQL refuses to run as root; \
                 `scripts/ensure-postgres` installs PostgreSQL and creates that user): {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let port = free_port();
        let cluster = PgCluster {
            dir,
            bin,
            owner,
            port,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                cluster.data().to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let conf = format!(
            "\n# aduan test cluster\nport = {port}\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\nmax_connections = 200\nfsync = off\n\
             full_page_writes = off\nshared_buffers = 32MB\n",
            cluster.dir.display()
        );
        let conf_path = cluster.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).expect("read postgresql.conf");
        text.push_str(&conf);
        std::fs::write(&conf_path, text).expect("write postgresql.conf");
        cluster.pg_ctl_start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A URL for `database` on this cluster, as the superuser `postgres`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server and waits until it is down.
    pub async fn stop(&self, mode: StopMode) {
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        let data = self.data();
        self.run_async(
            "pg_ctl",
            vec![
                "-D".into(),
                data.to_string_lossy().into_owned(),
                "-w".into(),
                "-t".into(),
                "30".into(),
                "stop".into(),
                "-m".into(),
                mode.into(),
            ],
        )
        .await;
    }

    /// Starts the server again (same port, same data) and waits until it accepts
    /// connections.
    pub async fn restart(&self) {
        let data = self.data();
        let log = self.dir.join("server.log");
        self.run_async(
            "pg_ctl",
            vec![
                "-D".into(),
                data.to_string_lossy().into_owned(),
                "-l".into(),
                log.to_string_lossy().into_owned(),
                "-w".into(),
                "-t".into(),
                "60".into(),
                "start".into(),
            ],
        )
        .await;
    }

    fn pg_ctl_start(&self) {
        let data = self.data();
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// The server's own log (for failure messages).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    async fn run_async(&self, program: &str, args: Vec<String>) {
        let (dir, bin, owner) = (self.dir.clone(), self.bin.clone(), self.owner.clone());
        let program = program.to_string();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_in(&dir, &bin, owner.as_deref(), &program, &args)
        })
        .await
        .expect("run a PostgreSQL command");
    }

    fn run(&self, program: &str, args: &[&str]) {
        run_in(&self.dir, &self.bin, self.owner.as_deref(), program, args);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = output(
            &self.bin,
            self.owner.as_deref(),
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap_or_default(),
                "-w",
                "stop",
                "-m",
                "immediate",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const PREFIX: &str = "aduan-pgcluster-";
/// The test process a cluster belongs to, in its directory.
const TEST_PID: &str = "test.pid";

/// Stops and removes clusters left behind by test processes that died without
/// dropping them (killed, or aborted): only those whose process is gone, so
/// other test runs on the machine keep theirs.
fn sweep_orphans(bin: &Path, owner: Option<&str>) {
    // Whether a process lives is read from /proc (Linux); elsewhere, keep all.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let dir = entry.path();
        let Ok(pid) = std::fs::read_to_string(dir.join(TEST_PID)) else {
            continue;
        };
        if Path::new("/proc").join(pid.trim()).exists() {
            continue;
        }
        let data = dir.join("data");
        if data.join("postmaster.pid").exists() {
            let data = data.to_string_lossy();
            let _ = output(
                bin,
                owner,
                "pg_ctl",
                &["-D", &data, "-w", "stop", "-m", "immediate"],
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn run_in(dir: &Path, bin: &Path, owner: Option<&str>, program: &str, args: &[&str]) {
    let out = output(bin, owner, program, args)
        .unwrap_or_else(|e| panic!("cannot run {program} from {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
    );
}

fn output(
    bin: &Path,
    owner: Option<&str>,
    program: &str,
    args: &[&str],
) -> std::io::Result<Output> {
    let program = bin.join(program);
    match owner {
        None => Command::new(&program).args(args).output(),
        Some(user) => {
            let runuser = Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(&program)
                .args(args)
                .output();
            match runuser {
                Ok(out) => Ok(out),
                // No runuser (not util-linux): su with a quoted command line.
                Err(_) => {
                    let line = std::iter::once(program.to_string_lossy().into_owned())
                        .chain(args.iter().map(|a| a.to_string()))
                        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
                        .collect::<Vec<_>>()
                        .join(" ");
                    Command::new("su")
                        .args([user, "-s", "/bin/sh", "-c", &line])
                        .output()
                }
            }
        }
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: the newest
/// /usr/lib/postgresql/*/bin, else wherever `pg_ctl` is on the PATH.
fn server_binaries() -> PathBuf {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_all(bin))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| has_all(dir));
    on_path.unwrap_or_else(|| {
        panic!(
            "\n\nThis test runs a private PostgreSQL cluster (it stops and restarts it), \
             and needs the PostgreSQL server programs initdb, pg_ctl and postgres: none \
             under /usr/lib/postgresql/*/bin or on the PATH. `scripts/ensure-postgres` \
             installs them (apt-get install postgresql).\n"
        )
    })
}

fn current_uid() -> u32 {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}
