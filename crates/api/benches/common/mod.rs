//! What both benches need: sizes from the environment and demo data seeded
//! through the real command path.

use aduan_testkit::TestStore;

pub const BIN: &str = env!("CARGO_BIN_EXE_aduan");

pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `aduan seed --cases N` (two months of Makassar traffic) on the store.
pub fn seed(store: &TestStore, cases: i64) {
    let seeded = std::process::Command::new(BIN)
        .args(["seed", "--cases", &cases.to_string(), "--days", "60"])
        .env("DATABASE_URL", &store.url)
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
}
