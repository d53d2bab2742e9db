//! The simulator's dice and the reports it seeds: a seed replays the same
//! reports and the same faults.

use chrono::{TimeZone, Utc};
use rand::rngs::StdRng;
use rand::Rng;

use aduan_integration::national::contract::{Report, ReportLocation, ReportReporter};

/// Draws from a seeded generator.
pub(crate) trait Dice {
    /// `true` with probability `p`.
    fn chance(&mut self, p: f64) -> bool;
    /// One of `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize;
}

impl Dice for StdRng {
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.random::<f64>() < p
    }

    fn below(&mut self, n: usize) -> usize {
        self.random_range(0..n.max(1))
    }
}

const TITLES: [(&str, &str); 6] = [
    ("Jalan berlubang", "Infrastruktur"),
    ("Sampah menumpuk di pinggir jalan", "Lingkungan Hidup"),
    ("Antrean puskesmas terlalu panjang", "Kesehatan"),
    ("Lampu lalu lintas mati", "Perhubungan"),
    ("KTP elektronik belum jadi", "Kependudukan"),
    ("Informasi layanan tidak jelas", "Lainnya"),
];

/// Report `i` of a seeded feed: the same seed gives the same reports.
pub(crate) fn seeded_report(seed: u64, i: usize, rng: &mut StdRng) -> Report {
    let (title, category) = TITLES[rng.below(TITLES.len())];
    let created = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        + chrono::Duration::minutes(i as i64 * 7);
    let anonymous = rng.chance(0.2);
    let reporter = (!anonymous).then(|| ReportReporter {
        name: Some(format!("Pelapor {i}")),
        phone: Some(format!(
            "+62 812 {:04} {:04}",
            rng.below(10_000),
            i % 10_000
        )),
        email: None,
    });
    Report {
        tracking_id: format!("LPR-{seed}-{i:06}"),
        title: format!("{title} ({i})"),
        body: format!("{title}. Laporan nomor {i} dari SP4N-LAPOR!."),
        category: category.to_string(),
        location: ReportLocation {
            lat: -5.14 - rng.below(1000) as f64 / 10_000.0,
            lon: 119.41 + rng.below(1000) as f64 / 10_000.0,
            address: Some(format!("Jl. Contoh No. {}", i % 200 + 1)),
        },
        reporter,
        anonymous,
        confidential: rng.chance(0.1),
        attachments: Vec::new(),
        created_at: created,
        disposed_at: Some(created + chrono::Duration::hours(1)),
    }
}
