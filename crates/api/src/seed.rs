//! `aduan seed --cases N`: realistic Makassar traffic through the real command
//! path (the same bus, rules and events as the API), spread over the past weeks on a
//! moving clock, so dashboards and SLA timers have something to show.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};

use aduan_domain::*;
use aduan_store::{CommandBus, CommandError, CommandRequest, EventLog, RequestContext};

/// A seeded generator, so a seed reproduces a data set (with this build's
/// `rand`: its `StdRng` may change between versions, and the stories with it).
struct Rng(StdRng);

impl Rng {
    fn seeded(seed: u64) -> Rng {
        Rng(StdRng::seed_from_u64(seed))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n.max(1))
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
    let mut rng = Rng::seeded(seed);
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
    fn steps(&self, rng: &mut Rng, reference: &ReferenceData) -> Result<Vec<Step>, ComplaintError> {
        let mut life = Life {
            at: self.created,
            steps: vec![(self.created, self.reporter(), self.submit(rng, reference)?)],
        };
        if rng.chance(5) {
            let reject = Action::Reject(Reject {
                reason: RejectReason::Spam,
                note: None,
            });
            life.then(rng.hours(1, 20), agent(), reject);
            return Ok(life.steps);
        }
        let opd = self.dispatch(rng, reference, &mut life)?;
        if rng.chance(12) {
            return Ok(life.steps); // never answered: these breach
        }
        if self.respond(rng, &opd, &mut life)? {
            self.close(rng, &opd, &mut life)?;
        }
        Ok(life.steps)
    }

    fn submit(&self, rng: &mut Rng, reference: &ReferenceData) -> Result<Action, ComplaintError> {
        let title = TITLES
            .iter()
            .find(|(c, _)| *c == self.category)
            .map_or("Aduan", |(_, t)| t);
        let kecamatan = rng.pick(&reference.kecamatan).code.clone();
        let location = Location {
            latitude: -5.10 - rng.below(100) as f64 / 1000.0,
            longitude: 119.40 + rng.below(100) as f64 / 1000.0,
            address: None,
            kecamatan: Some(kecamatan.clone()),
            kelurahan: None,
        };
        Ok(Action::Submit(Submit {
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
            location: Place::parse(reference, &location)?,
            reporter: None,
            anonymous: rng.chance(10),
            attachments: Links::default(),
            external_ref: None,
            // Like every submission, a code, though no one is handed it.
            tracking_code_hash: Some(tracking::hash(&uuid::Uuid::new_v4().to_string())),
            number: None,
        }))
    }

    /// Verified and assigned, now and then bounced (`bounce`); the OPD that
    /// ends up with it.
    fn dispatch(
        &self,
        rng: &mut Rng,
        reference: &ReferenceData,
        life: &mut Life,
    ) -> Result<String, ComplaintError> {
        let verify = Action::Verify(Verify {
            priority: None,
            category: None,
            note: None,
            location: None,
        });
        life.then(rng.hours(1, 40), agent(), verify);
        let assign = Action::Assign(Assign {
            opd: opd_code(reference, &self.opd)?,
            officer_id: None,
            note: None,
        });
        life.then(rng.hours(1, 30), agent(), assign);
        let opd = self.opd.clone();
        if !rng.chance(12) {
            return Ok(opd);
        }
        bounce(rng, reference, life, opd)
    }

    /// The OPD's reply, now and then a question to the citizen; false when the
    /// citizen never answers it (the watcher then closes the case).
    fn respond(&self, rng: &mut Rng, opd: &str, life: &mut Life) -> Result<bool, ComplaintError> {
        let respond = Action::Respond(Respond {
            template: None,
            message: text("Laporan diterima, tim akan ke lokasi.")?,
        });
        life.then(rng.hours(1, 60), officer(opd), respond);
        if rng.chance(10) {
            let ask = Action::RequestInfo(RequestInfo {
                template: None,
                question: text("Mohon kirim foto lokasi.")?,
            });
            life.then(rng.hours(1, 10), officer(opd), ask);
            if rng.chance(30) {
                return Ok(false);
            }
            let answer = Action::ProvideInfo(ProvideInfo {
                answer: text("Foto terlampir.")?,
                attachments: Links::default(),
            });
            life.then(rng.hours(2, 48), self.reporter(), answer);
        }
        Ok(true)
    }

    /// Handled on site and closed; a citizen often rates it.
    fn close(&self, rng: &mut Rng, opd: &str, life: &mut Life) -> Result<(), ComplaintError> {
        let after = rng.hours(4, 120);
        let handled = Action::RecordFieldHandling(RecordFieldHandling {
            notes: text("Ditangani di lokasi.")?,
            handled_at: life.at + after,
            photos: Links::default(),
        });
        life.then(after, officer(opd), handled);
        let after = rng.hours(1, 48);
        let resolution = if rng.chance(85) {
            Resolution::Resolved
        } else {
            Resolution::NotResolved
        };
        let close = Action::Close(Close {
            template: None,
            resolution,
            summary: text("Selesai ditangani.")?,
            duplicate_of: None,
        });
        life.then(after, officer(opd), close);
        if self.reporter().role == Role::Citizen && rng.chance(60) {
            let after = rng.hours(1, 72);
            let score = *rng.pick(&[5, 5, 4, 4, 4, 3, 2, 1]);
            let rate = Action::Rate(Rate {
                score: Score::parse(score).map_err(|e| e.at("score"))?,
                comment: None,
                tracking_code: None,
            });
            life.then(after, self.reporter(), rate);
        }
        Ok(())
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

/// When, who, what.
type Step = (DateTime<Utc>, Actor, Action);

/// A case's life as it is written: its steps so far and the last one's time.
struct Life {
    at: DateTime<Utc>,
    steps: Vec<Step>,
}

impl Life {
    /// One more step, `after` the last one.
    fn then(&mut self, after: Duration, actor: Actor, action: Action) {
        self.at += after;
        self.steps.push((self.at, actor, action));
    }
}

/// A case "bukan wewenang" bounces as cities see it: passed to another OPD
/// (now and then straight back: A -> B -> A, which escalates it), or given
/// back to the Command Center, which dispatches it again. The OPD that ends
/// up with it.
fn bounce(
    rng: &mut Rng,
    reference: &ReferenceData,
    life: &mut Life,
    from: String,
) -> Result<String, ComplaintError> {
    let others: Vec<&Opd> = reference.opds.iter().filter(|o| o.code != from).collect();
    let Some(other) = (!others.is_empty()).then(|| rng.pick(&others).code.clone()) else {
        return Ok(from);
    };
    let reason = |rng: &mut Rng| -> Result<ReasonCode, ComplaintError> {
        let code = &rng.pick(&reference.handoffs.reasons).code;
        ReasonCode::parse(code).map_err(|e| e.at("reason_code"))
    };
    if rng.chance(35) {
        let back = Action::ReturnToCommandCenter(ReturnToCommandCenter {
            reason_code: reason(rng)?,
            note: Some(text("Mohon dialihkan ke OPD yang tepat.")?),
        });
        life.then(rng.hours(2, 30), officer(&from), back);
        let again = Action::Assign(Assign {
            opd: opd_code(reference, &other)?,
            officer_id: None,
            note: None,
        });
        // The desk is not always quick: a returned case may wait past its target.
        life.then(rng.hours(1, 48), agent(), again);
        return Ok(other);
    }
    let transfer = |rng: &mut Rng, to: &str| -> Result<Action, ComplaintError> {
        Ok(Action::Transfer(Transfer {
            to_opd: opd_code(reference, to)?,
            reason_code: reason(rng)?,
            note: Some(text("Bukan kewenangan kami")?),
        }))
    };
    let first = transfer(rng, &other)?;
    life.then(rng.hours(2, 30), admin(&from), first);
    if !rng.chance(30) {
        return Ok(other);
    }
    let back = transfer(rng, &from)?;
    life.then(rng.hours(2, 30), admin(&other), back);
    Ok(from)
}

fn admin(opd: &str) -> Actor {
    Actor::new(
        format!("admin-{}", opd.to_lowercase()),
        Role::OpdAdmin,
        Some(opd),
    )
}

fn agent() -> Actor {
    Actor::new("agent-seed", Role::Agent, None)
}

fn officer(opd: &str) -> Actor {
    Actor::new(
        format!("petugas-{}", opd.to_lowercase()),
        Role::OpdOfficer,
        Some(opd),
    )
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_generator_is_deterministic_and_spread() {
        let (mut a, mut b) = (Rng::seeded(42), Rng::seeded(42));
        let xs: Vec<u64> = (0..100).map(|_| a.below(10)).collect();
        assert_eq!(xs, (0..100).map(|_| b.below(10)).collect::<Vec<_>>());
        assert!(
            (0..10).all(|d| xs.contains(&d)),
            "every digit comes up in 100 draws"
        );
    }
}
