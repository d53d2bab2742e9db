//! `aduan seed --cases N`: realistic Makassar traffic through the real command
//! path (the same bus, rules and events as the API), spread over the past weeks on a
//! moving clock, so dashboards and SLA timers have something to show.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use aduan_domain::*;
use aduan_store::{CommandBus, CommandError, CommandRequest, EventLog, RequestContext};

/// A small deterministic generator (xorshift64*), so a seed reproduces a data set.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn hours(&mut self, min: i64, max: i64) -> Duration {
        Duration::minutes(min * 60 + self.below(((max - min) * 60).max(1) as u64) as i64)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub cases: usize,
    pub commands: usize,
}

const TITLES: [(&str, &str); 8] = [
    ("ROAD_DAMAGE", "Jalan berlubang"),
    ("DRAINAGE", "Drainase tersumbat, air meluap"),
    ("GARBAGE", "Sampah tidak diangkut tiga hari"),
    ("TRAFFIC_LIGHT", "Lampu lalu lintas mati"),
    ("STREET_LIGHT", "Lampu jalan padam"),
    ("HEALTH_SERVICE", "Antrean puskesmas terlalu lama"),
    ("WATER_SUPPLY", "Air PDAM tidak mengalir"),
    ("PUBLIC_ORDER", "Pedagang kaki lima menutup trotoar"),
];

/// Seeds `cases` complaints created over the last `days` days, on `log`.
pub async fn seed(
    log: Arc<dyn EventLog>,
    reference: Arc<ReferenceData>,
    cases: usize,
    days: i64,
    seed: u64,
) -> Result<SeedReport, CommandError> {
    let (bus, clock) = seed_bus(log, reference.clone());
    seed_with(&bus, &clock, &reference, cases, days, seed).await
}

/// The bus the seeder commands through, on a clock it moves along each story.
pub fn seed_bus(
    log: Arc<dyn EventLog>,
    reference: Arc<ReferenceData>,
) -> (CommandBus, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::at(Utc::now()));
    let services = ComplaintServices::new(clock.clone(), reference, Rules::default());
    (CommandBus::new(log, services), clock)
}

/// `seed` through a given bus and its clock (the benches compare buses).
pub async fn seed_with(
    bus: &CommandBus,
    clock: &FixedClock,
    reference: &ReferenceData,
    cases: usize,
    days: i64,
    seed: u64,
) -> Result<SeedReport, CommandError> {
    let now = Utc::now();
    let mut rng = Rng(seed.max(1));
    let mut report = SeedReport::default();
    for n in 0..cases {
        let created = now - Duration::minutes(rng.below((days * 24 * 60).max(1) as u64) as i64);
        let story = Story::new(&mut rng, reference, n, created);
        for (at, actor, action) in story.steps(&mut rng, reference)? {
            if at > now {
                break; // the rest of this case's life has not happened yet
            }
            clock.set(at);
            let request = CommandRequest {
                complaint_id: story.id.clone(),
                command: Command::new(actor, action),
                context: RequestContext {
                    channel: "seed".into(),
                    correlation_id: format!("seed-{seed}-{n}"),
                },
                command_id: None,
                expected_version: None,
            };
            match bus.execute(request).await {
                Ok(_) => report.commands += 1,
                // A generated step the rules refuse is skipped, as a clerk would be told no.
                Err(CommandError::Domain(_)) => {}
                Err(e) => return Err(e),
            }
        }
        report.cases += 1;
    }
    Ok(report)
}

/// One generated complaint.
struct Story {
    id: String,
    n: usize,
    created: DateTime<Utc>,
    channel: Channel,
    category: String,
    opd: String,
}

impl Story {
    fn new(rng: &mut Rng, reference: &ReferenceData, n: usize, created: DateTime<Utc>) -> Story {
        let channels = [
            Channel::Mobile,
            Channel::Mobile,
            Channel::Web,
            Channel::CallCenter,
            Channel::CallCenter,
            Channel::WalkIn,
            Channel::NationalPlatform,
            Channel::Open311,
        ];
        let (category, _) = *rng.pick(&TITLES);
        let opd = reference
            .category(category)
            .map_or_else(|| reference.opds[0].code.clone(), |c| c.default_opd.clone());
        Story {
            id: uuid::Uuid::new_v4().to_string(),
            n,
            created,
            channel: *rng.pick(&channels),
            category: category.to_string(),
            opd,
        }
    }

    fn reporter(&self) -> Actor {
        match self.channel {
            Channel::Mobile | Channel::Web => {
                Actor::new(format!("warga-{}", self.n % 5000), Role::Citizen, None)
            }
            Channel::NationalPlatform | Channel::Open311 => {
                Actor::new("bridge", Role::System, None)
            }
            _ => Actor::new("agent-seed", Role::Agent, None),
        }
    }

    /// The case's life as (when, who, what), in order.
    fn steps(
        &self,
        rng: &mut Rng,
        reference: &ReferenceData,
    ) -> Result<Vec<(DateTime<Utc>, Actor, Action)>, ComplaintError> {
        let agent = Actor::new("agent-seed", Role::Agent, None);
        let officer = |opd: &str| {
            Actor::new(
                format!("petugas-{}", opd.to_lowercase()),
                Role::OpdOfficer,
                Some(opd),
            )
        };
        let title = TITLES
            .iter()
            .find(|(c, _)| *c == self.category)
            .map_or("Aduan", |(_, t)| t);
        let kecamatan = rng.pick(&reference.kecamatan).code.clone();
        let mut at = self.created;
        let mut steps = vec![(
            at,
            self.reporter(),
            Action::Submit(Submit {
                complaint_id: text(&self.id)?,
                channel: self.channel,
                category: CategoryCode::known(reference, &self.category)
                    .map_err(|e| e.at("category"))?,
                priority: Some(*rng.pick(&[
                    Priority::Normal,
                    Priority::Normal,
                    Priority::Normal,
                    Priority::High,
                    Priority::Low,
                ])),
                title: text(title)?,
                description: text(&format!(
                    "{title} di wilayah {kecamatan}. Mohon segera ditindaklanjuti."
                ))?,
                location: Place::parse(
                    reference,
                    &Location {
                        latitude: -5.10 - rng.below(100) as f64 / 1000.0,
                        longitude: 119.40 + rng.below(100) as f64 / 1000.0,
                        address: None,
                        kecamatan: Some(kecamatan),
                        kelurahan: None,
                    },
                )?,
                reporter: None,
                anonymous: rng.chance(10),
                attachments: Links::default(),
                external_ref: None,
                // Like every submission, a code, though no one is handed it.
                tracking_code_hash: Some(tracking::hash(&uuid::Uuid::new_v4().to_string())),
            }),
        )];
        if rng.chance(5) {
            at += rng.hours(1, 20);
            steps.push((
                at,
                agent,
                Action::Reject(Reject {
                    reason: RejectReason::Spam,
                    note: None,
                }),
            ));
            return Ok(steps);
        }
        at += rng.hours(1, 40);
        steps.push((
            at,
            agent.clone(),
            Action::Verify(Verify {
                priority: None,
                category: None,
                note: None,
            }),
        ));
        at += rng.hours(1, 30);
        steps.push((
            at,
            agent.clone(),
            Action::Assign(Assign {
                opd: opd_code(reference, &self.opd)?,
                officer_id: None,
                note: None,
            }),
        ));
        let mut opd = self.opd.clone();
        if rng.chance(5) {
            let other = rng.pick(&reference.opds).code.clone();
            if other != opd {
                at += rng.hours(2, 30);
                steps.push((
                    at,
                    agent.clone(),
                    Action::Transfer(Transfer {
                        to_opd: opd_code(reference, &other)?,
                        reason: text("Bukan kewenangan kami")?,
                    }),
                ));
                opd = other;
            }
        }
        if rng.chance(12) {
            return Ok(steps); // never answered: these breach
        }
        at += rng.hours(1, 60);
        steps.push((
            at,
            officer(&opd),
            Action::Respond(Respond {
                message: text("Laporan diterima, tim akan ke lokasi.")?,
            }),
        ));
        if rng.chance(10) {
            at += rng.hours(1, 10);
            steps.push((
                at,
                officer(&opd),
                Action::RequestInfo(RequestInfo {
                    question: text("Mohon kirim foto lokasi.")?,
                }),
            ));
            if rng.chance(30) {
                return Ok(steps); // the citizen never answers: the watcher closes it
            }
            at += rng.hours(2, 48);
            steps.push((
                at,
                self.reporter(),
                Action::ProvideInfo(ProvideInfo {
                    answer: text("Foto terlampir.")?,
                    attachments: Links::default(),
                }),
            ));
        }
        at += rng.hours(4, 120);
        steps.push((
            at,
            officer(&opd),
            Action::RecordFieldHandling(RecordFieldHandling {
                notes: text("Ditangani di lokasi.")?,
                handled_at: at,
                photos: Links::default(),
            }),
        ));
        at += rng.hours(1, 48);
        let resolution = if rng.chance(85) {
            Resolution::Resolved
        } else {
            Resolution::NotResolved
        };
        steps.push((
            at,
            officer(&opd),
            Action::Close(Close {
                resolution,
                summary: text("Selesai ditangani.")?,
                duplicate_of: None,
            }),
        ));
        if self.reporter().role == Role::Citizen && rng.chance(60) {
            at += rng.hours(1, 72);
            let score = *rng.pick(&[5, 5, 4, 4, 4, 3, 2, 1]);
            steps.push((
                at,
                self.reporter(),
                Action::Rate(Rate {
                    score: Score::parse(score).map_err(|e| e.at("score"))?,
                    comment: None,
                    tracking_code: None,
                }),
            ));
        }
        Ok(steps)
    }
}

/// One of the seeder's own texts; refused only if its tables are wrong.
fn text<const MAX: usize>(value: &str) -> Result<Text<MAX>, ComplaintError> {
    Text::parse(value).map_err(|e| e.at("text"))
}

/// One of the city's OPDs, as the reference data names it.
fn opd_code(reference: &ReferenceData, code: &str) -> Result<OpdCode, ComplaintError> {
    OpdCode::known(reference, code).map_err(|e| e.at("opd"))
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_generator_is_deterministic_and_spread() {
        let (mut a, mut b) = (Rng(42), Rng(42));
        let xs: Vec<u64> = (0..100).map(|_| a.below(10)).collect();
        assert_eq!(xs, (0..100).map(|_| b.below(10)).collect::<Vec<_>>());
        assert!(
            (0..10).all(|d| xs.contains(&d)),
            "every digit comes up in 100 draws"
        );
    }
}
