//! Personal data sealed per complaint and erased by destroying its keys, on a
//! real PostgreSQL and a real SQLite: nothing personal is stored in plain text,
//! erasure leaves every events row byte for byte as it was, an erased field
//! reads as `[erased]` (never an error), another reporter's data stays
//! readable, keys travel with an export, and an event stored before sealing
//! existed (version 1, plain text) is read, sealed in place and erased.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use aduan_domain::erasure::{reporter_ref, ERASED, UNREADABLE};
use aduan_domain::*;
use aduan_store::erasure::{erase_reporter, seal_legacy_personal_data};
use aduan_store::{CommandBus, CommandError, ErrorKind, ImportChunk, RequestContext};
use aduan_testkit::fixtures::{agent, bus, request, services, submit, text, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(
    personal_fields_are_sealed_at_rest_and_read_in_plain_text,
    erasure_destroys_keys_and_leaves_the_events_rows_unchanged,
    erasure_refuses_bad_input_and_other_roles_and_changes_nothing,
    a_sealed_value_moved_to_another_complaint_does_not_open,
    keys_and_erasures_travel_with_an_export,
    an_event_stored_before_sealing_is_upcast_sealed_in_place_and_erasable,
);

const NAME: &str = "Siti Rahmawati";
const PHONE: &str = "+62 811 4000 777";
const EMAIL: &str = "siti@example.id";
const ADDRESS: &str = "Jl. Veteran Selatan No. 12";
const TITLE: &str = "Lampu jalan mati di depan rumah Bu Siti";
const DESCRIPTION: &str = "Sudah tiga malam gelap, anak saya takut pulang";

fn supervisor() -> Actor {
    Actor::new("spv-1", Role::Supervisor, None)
}

fn citizen(sub: &str) -> Actor {
    Actor::new(sub, Role::Citizen, None)
}

/// A report with every personal field filled.
fn personal_report(id: &str) -> Action {
    let Action::Submit(mut s) = submit(id) else {
        unreachable!()
    };
    s.title = text(TITLE);
    s.description = text(DESCRIPTION);
    let place = Location {
        address: Some(ADDRESS.into()),
        ..s.location.clone().into()
    };
    s.location = Place::parse(&services().reference, &place).unwrap();
    s.reporter = Some(Contact::parse(Some(NAME), Some(PHONE), Some(EMAIL)).unwrap());
    Action::Submit(s)
}

/// The signed-in reporter's reference: the pseudonym of her account.
fn siti() -> String {
    tracking::reporter_ref("warga-siti")
}

fn context() -> RequestContext {
    RequestContext {
        channel: "test".into(),
        correlation_id: "corr-erase".into(),
    }
}

async fn run(bus: &CommandBus, id: &str, actor: Actor, action: Action) {
    bus.execute(request(id, actor, action, None))
        .await
        .unwrap_or_else(|e| panic!("refused: {e}"));
}

/// The raw events rows, as the database holds them.
async fn raw(store: &TestStore) -> Vec<String> {
    store
        .texts(
            "SELECT aggregate_id || ' ' || sequence || ' ' || event_version || ' ' || \
             CAST(payload AS TEXT) || ' ' || CAST(metadata AS TEXT) FROM events ORDER BY position",
        )
        .await
}

fn submitted(events: &[aduan_store::StoredEvent]) -> (String, String, Location, Option<Reporter>) {
    match &events[0].event {
        ComplaintEvent::Submitted {
            title,
            description,
            location,
            reporter,
            ..
        } => (
            title.clone(),
            description.clone(),
            location.clone(),
            reporter.clone(),
        ),
        other => panic!("not a submission: {other:?}"),
    }
}

/// Two reporters: one signed in (with a rating comment after closing), one
/// taken by phone. Returns the signed-in citizen's complaint id and the other.
async fn two_reporters(bus: &CommandBus) -> (String, String) {
    let (mine, other) = ("c-siti".to_string(), "c-other".to_string());
    run(bus, &mine, citizen("warga-siti"), personal_report(&mine)).await;
    run(bus, &other, agent(), personal_report(&other)).await;
    run(bus, &mine, agent(), verify("ok")).await;
    run(
        bus,
        &mine,
        agent(),
        Action::Close(Close {
            template: None,
            resolution: Resolution::Resolved,
            summary: aduan_testkit::fixtures::text("Lampu sudah diganti"),
            duplicate_of: None,
        }),
    )
    .await;
    run(
        bus,
        &mine,
        citizen("warga-siti"),
        Action::Rate(Rate {
            score: Score::parse(4).unwrap(),
            comment: Some(text("Terima kasih, Pak Budi dari RT 03")),
            tracking_code: None,
        }),
    )
    .await;
    (mine, other)
}

async fn personal_fields_are_sealed_at_rest_and_read_in_plain_text(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let (mine, _) = two_reporters(&bus).await;
    let stored = raw(&store).await.join("\n");
    for secret in [NAME, PHONE, EMAIL, ADDRESS, TITLE, DESCRIPTION, "Pak Budi"] {
        assert!(!stored.contains(secret), "{secret} is stored in plain text");
    }
    assert!(stored.contains("\"sealed\""), "{stored}");
    // The account link and everything statistics need stay in plain text.
    assert!(stored.contains("warga-siti") && stored.contains("ROAD_DAMAGE"));
    assert_eq!(
        store
            .texts("SELECT DISTINCT event_version FROM events WHERE event_type = 'Submitted'")
            .await,
        ["2"]
    );

    // Another process (a fresh log, nothing cached) reads them in plain text.
    let fresh = store.log().await;
    let events = fresh.load(&mine).await.unwrap();
    let (title, description, location, reporter) = submitted(&events);
    assert_eq!((title.as_str(), description.as_str()), (TITLE, DESCRIPTION));
    assert_eq!(location.address.as_deref(), Some(ADDRESS));
    let reporter = reporter.unwrap();
    assert_eq!(reporter.subject.as_deref(), Some("warga-siti"));
    assert_eq!(
        (reporter.name, reporter.phone, reporter.email),
        (Some(NAME.into()), Some(PHONE.into()), Some(EMAIL.into()))
    );
    let rated = events.iter().find(|e| e.event_type == "Rated").unwrap();
    assert!(
        matches!(&rated.event, ComplaintEvent::Rated { comment: Some(c), .. } if c.contains("Pak Budi"))
    );
    assert_eq!(
        store
            .scalar("SELECT count(*) FROM personal_keys WHERE secret IS NOT NULL")
            .await,
        2,
        "one key per complaint"
    );
    store.drop_store().await;
}

async fn erasure_destroys_keys_and_leaves_the_events_rows_unchanged(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let (mine, other) = two_reporters(&bus).await;
    let before = raw(&store).await;
    let whose = siti();
    let done = erase_reporter(
        &bus,
        &supervisor(),
        &context(),
        &whose,
        "Permintaan warga no. 17/2026",
    )
    .await
    .unwrap();
    assert_eq!(done.complaints, vec![mine.clone()]);
    assert_eq!(done.erased_now, vec![mine.clone()]);
    assert_eq!(done.keys_destroyed, 1);

    // The rows written before are exactly as they were (the audit chain's
    // hashes cover them); only the audited erasure event was added.
    let after = raw(&store).await;
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.last().unwrap().contains("ReporterDataErased"));
    assert!(after
        .last()
        .unwrap()
        .contains("Permintaan warga no. 17/2026"));

    // In this process and in a fresh one alike, the fields read as erased.
    for log in [bus.log().clone(), store.log().await] {
        let events = log.load(&mine).await.unwrap();
        let (title, description, location, reporter) = submitted(&events);
        assert_eq!((title.as_str(), description.as_str()), (ERASED, ERASED));
        assert_eq!(location.address.as_deref(), Some(ERASED));
        assert_eq!(location.kecamatan, None, "kept as it was");
        let reporter = reporter.unwrap();
        assert_eq!(
            (reporter.name, reporter.phone, reporter.email),
            (
                Some(ERASED.into()),
                Some(ERASED.into()),
                Some(ERASED.into())
            )
        );
        let rated = events.iter().find(|e| e.event_type == "Rated").unwrap();
        assert!(
            matches!(&rated.event, ComplaintEvent::Rated { comment: Some(c), score: 4, .. } if c == ERASED)
        );
        let case = aduan_store::codec::fold(&events).0.unwrap();
        assert!(case.personal_data_erased);
        assert_eq!((case.status, case.rating), (Status::Closed, Some(4)));

        // The other reporter's data is intact.
        let theirs = log.load(&other).await.unwrap();
        let (title, _, location, reporter) = submitted(&theirs);
        assert_eq!(title, TITLE);
        assert_eq!(location.address.as_deref(), Some(ADDRESS));
        assert_eq!(reporter.unwrap().phone.as_deref(), Some(PHONE));
    }
    assert_eq!(
        store
            .texts("SELECT erase_reason FROM personal_keys WHERE secret IS NULL")
            .await,
        ["Permintaan warga no. 17/2026"]
    );

    // A repeat records nothing new and destroys nothing more.
    let again = erase_reporter(&bus, &supervisor(), &context(), &whose, "again")
        .await
        .unwrap();
    assert_eq!(
        (again.complaints, again.erased_now, again.keys_destroyed),
        (vec![mine.clone()], vec![], 0)
    );
    assert_eq!(raw(&store).await, after);

    // The other reporter, taken by phone, is erased by the case's own reference.
    let theirs = reporter_ref(&other, None);
    let done = erase_reporter(
        &bus,
        &supervisor(),
        &context(),
        &theirs,
        "Permintaan lewat telepon",
    )
    .await
    .unwrap();
    assert_eq!(done.erased_now, vec![other.clone()]);
    let (title, ..) = submitted(&store.log().await.load(&other).await.unwrap());
    assert_eq!(title, ERASED);
    store.drop_store().await;
}

async fn erasure_refuses_bad_input_and_other_roles_and_changes_nothing(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let (_, other) = two_reporters(&bus).await;
    let good = reporter_ref(&other, None);
    let before = (
        raw(&store).await,
        store.rows_as_text("personal_keys", "key_id").await,
    );
    let unknown = reporter_ref("no-such-complaint", None);
    let cases: [(Actor, &str, &str, ErrorCode); 6] = [
        (
            supervisor(),
            "not a reference",
            "why",
            ErrorCode::InvalidInput,
        ),
        (supervisor(), &good, "   ", ErrorCode::InvalidInput),
        (supervisor(), &unknown, "why", ErrorCode::NotFound),
        (agent(), &good, "why", ErrorCode::Forbidden),
        (
            Actor::new("auditor-1", Role::Auditor, None),
            &good,
            "why",
            ErrorCode::Forbidden,
        ),
        (citizen("warga-siti"), &good, "why", ErrorCode::Forbidden),
    ];
    for (actor, reference, reason, code) in cases {
        let refused = erase_reporter(&bus, &actor, &context(), reference, reason).await;
        match refused {
            Err(e) => assert_eq!(
                e.kind(),
                ErrorKind::Domain(code),
                "{} {reference:?} {reason:?}: {e}",
                actor.role
            ),
            Ok(done) => panic!("{} erased {done:?}", actor.role),
        }
    }
    assert_eq!(
        (
            raw(&store).await,
            store.rows_as_text("personal_keys", "key_id").await
        ),
        before
    );
    // The domain refuses the command itself to anyone else too.
    let direct = bus
        .execute(request(
            &other,
            agent(),
            Action::EraseReporterData(EraseReporterData {
                reason: aduan_testkit::fixtures::text("x"),
            }),
            None,
        ))
        .await;
    assert!(
        matches!(
            direct,
            Err(CommandError::Domain(ComplaintError::Forbidden(_)))
        ),
        "{direct:?}"
    );
    store.drop_store().await;
}

async fn a_sealed_value_moved_to_another_complaint_does_not_open(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let (_, other) = two_reporters(&bus).await;
    // A copy of the submission under another complaint id (as a careless
    // script might make): its sealed fields are bound to the original.
    store
        .exec(&format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) SELECT aggregate_type, 'c-copy', sequence, \
             event_type, event_version, payload, metadata FROM events \
             WHERE aggregate_id = '{other}' AND sequence = 1"
        ))
        .await
        .unwrap();
    let events = store.log().await.load("c-copy").await.unwrap();
    let (title, _, location, reporter) = submitted(&events);
    assert_eq!(title, UNREADABLE);
    assert_eq!(location.address.as_deref(), Some(UNREADABLE));
    assert_eq!(reporter.unwrap().name.as_deref(), Some(UNREADABLE));
    store.drop_store().await;
}

async fn keys_and_erasures_travel_with_an_export(backend: Backend) {
    let (from, into) = (
        TestStore::create(backend).await,
        TestStore::create(backend).await,
    );
    let source = bus(&from).await;
    let (mine, other) = two_reporters(&source).await;
    let whose = siti();
    erase_reporter(
        &source,
        &supervisor(),
        &context(),
        &whose,
        "Permintaan warga",
    )
    .await
    .unwrap();
    let keys = source
        .log()
        .personal()
        .export_after("", 1000)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys
        .iter()
        .any(|k| k.secret.is_none() && k.erased_at.is_some()));
    let events = source.log().export_after(0, 1000).await.unwrap();

    let target = bus(&into).await;
    let (chunks, stream) = tokio::sync::mpsc::channel(1);
    chunks
        .send(Ok(ImportChunk {
            keys: keys.clone(),
            events: events.clone(),
        }))
        .await
        .unwrap();
    drop(chunks);
    target.log().import(stream).await.unwrap();
    assert_eq!(target.log().export_after(0, 1000).await.unwrap(), events);
    assert_eq!(
        target
            .log()
            .personal()
            .export_after("", 1000)
            .await
            .unwrap(),
        keys
    );

    let (title, ..) = submitted(&target.log().load(&mine).await.unwrap());
    assert_eq!(title, ERASED, "an erasure survives the move");
    let (title, _, _, reporter) = submitted(&target.log().load(&other).await.unwrap());
    assert_eq!(title, TITLE, "data not erased stays readable");
    assert_eq!(reporter.unwrap().email.as_deref(), Some(EMAIL));
    from.drop_store().await;
    into.drop_store().await;
}

async fn an_event_stored_before_sealing_is_upcast_sealed_in_place_and_erasable(backend: Backend) {
    let store = TestStore::create(backend).await;
    let log = store.log().await;
    // A submission and an answer exactly as version 1 stored them: plain text.
    let v1 = format!(
        r#"{{"Submitted":{{"complaint_id":"c-old","channel":"CALL_CENTER","category":"ROAD_DAMAGE","priority":"NORMAL","title":"{TITLE}","description":"{DESCRIPTION}","location":{{"latitude":-5.14,"longitude":119.41,"address":"{ADDRESS}","kecamatan":"MAKASSAR","kelurahan":null}},"reporter":{{"subject":null,"name":"{NAME}","phone":"{PHONE}","email":null}},"anonymous":false,"attachments":[],"external_ref":null,"occurred_at":"2025-06-02T01:00:00Z"}}}}"#
    );
    let answer = r#"{"InfoProvided":{"answer":"Rumah saya nomor 12","attachments":[],"occurred_at":"2025-06-03T01:00:00Z"}}"#;
    let metadata =
        r#"{"actor_id":"agent-1","actor_role":"AGENT","channel":"graphql","correlation_id":"old"}"#;
    for (sequence, event_type, payload) in
        [(1, "Submitted", v1.as_str()), (2, "InfoProvided", answer)]
    {
        store
            .exec(&format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata) VALUES ('Complaint', 'c-old', {sequence}, \
                 '{event_type}', '1', '{payload}', '{metadata}')"
            ))
            .await
            .unwrap();
    }

    // Read as stored: upcast to version 2, every field as it was.
    let events = log.load("c-old").await.unwrap();
    assert_eq!(events[0].event_version, "2");
    let (title, _, location, reporter) = submitted(&events);
    assert_eq!(title, TITLE);
    assert_eq!(location.address.as_deref(), Some(ADDRESS));
    assert_eq!(reporter.as_ref().unwrap().name.as_deref(), Some(NAME));
    let plain = events.clone();

    // The start-up pass seals the row in place; it reads the same.
    assert_eq!(seal_legacy_personal_data(log.as_ref()).await.unwrap(), 2);
    assert_eq!(seal_legacy_personal_data(log.as_ref()).await.unwrap(), 0);
    // Then, as at start, the rows join the audit chain (after which neither
    // pass may touch them).
    assert_eq!(
        aduan_store::audit::seal_unsealed(log.as_ref())
            .await
            .unwrap(),
        2
    );
    let stored = raw(&store).await.join("\n");
    assert!(
        !stored.contains(NAME) && !stored.contains("Rumah saya"),
        "{stored}"
    );
    assert_eq!(
        store
            .texts("SELECT event_version FROM events ORDER BY sequence")
            .await,
        ["2", "2"]
    );
    let resealed = store.log().await.load("c-old").await.unwrap();
    assert_eq!(resealed.len(), plain.len());
    for (a, b) in resealed.iter().zip(&plain) {
        assert_eq!(
            (&a.event, &a.metadata, a.position),
            (&b.event, &b.metadata, b.position)
        );
    }

    // And it is erased like any other.
    let bus = CommandBus::new(log, aduan_testkit::fixtures::services());
    erase_reporter(
        &bus,
        &supervisor(),
        &context(),
        &reporter_ref("c-old", None),
        "Permintaan warga",
    )
    .await
    .unwrap();
    let events = store.log().await.load("c-old").await.unwrap();
    let (title, ..) = submitted(&events);
    assert_eq!(title, ERASED);
    assert!(
        matches!(&events[1].event, ComplaintEvent::InfoProvided { answer, .. } if answer == ERASED)
    );
    // Updating a row is still refused, except that one pass's own change.
    assert!(store
        .exec("UPDATE events SET payload = metadata WHERE sequence = 1")
        .await
        .is_err());
    store.drop_store().await;
}
