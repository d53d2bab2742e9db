//! A process's figures from /proc (Linux): resident memory and CPU time; and
//! `perf record` of it.

#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss_kib: u64,
    /// The peak resident size since the process started.
    pub peak_kib: u64,
}

pub fn memory(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    Memory {
        rss_kib: field("VmRSS:"),
        peak_kib: field("VmHWM:"),
    }
}

/// User + system CPU seconds of `pid` so far (0: this process).
pub fn cpu_seconds(pid: u32) -> f64 {
    let path = match pid {
        0 => "/proc/self/stat".to_string(),
        pid => format!("/proc/{pid}/stat"),
    };
    let stat = std::fs::read_to_string(path).expect("/proc stat");
    // Fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').expect("stat format").1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // USER_HZ, 100 on every Linux this runs on.
    ticks / 100.0
}

/// Seconds the process's threads have spent runnable but waiting for a CPU
/// (the third field of each thread's schedstat is the count of timeslices; the
/// second, this, in nanoseconds).
pub fn run_queue_seconds(pid: u32) -> f64 {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    threads
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .sum::<f64>()
        / 1e9
}

/// `perf record -g` attached to a process until stopped.
pub struct Perf(std::process::Child);

impl Perf {
    pub fn record(pid: u32, path: &str) -> Perf {
        let child = std::process::Command::new("perf")
            .args(["record", "-g", "-o", path, "-p", &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run perf");
        Perf(child)
    }

    /// SIGINT, as perf expects, then waits for it to write its file.
    pub fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
        eprintln!("perf: wrote its profile");
    }
}
