//! Text search over `complaint_summary`: a fixed corpus of Indonesian complaints
//! and the same queries give the expected cases on both stores; ranking, paging
//! by rank, erasure and rebuilds keep the index right; a ranked search of a
//! word in many cases ranks (and counts) only the newest
//! `search_query::CANDIDATES` of them, one with fewer is ranked whole.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::collections::BTreeSet;

use aduan_domain::values::NoteVisibility;
use aduan_domain::{
    Action, Actor, AddNote, Assign, Close, ComplaintEvent, Resolution, Respond, Role,
};
use aduan_projections::search_query::CANDIDATES;
use aduan_projections::summary_query::{Keyset, OrderField, SummaryFilter, SummaryOrder};
use aduan_projections::{rebuild, ComplaintSummary, Projector, Reads};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus, request, submit, text, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(
    the_corpus_gives_the_expected_cases,
    an_erasure_removes_the_words_from_the_index,
    a_common_word_ranks_its_newest_matches,
);

/// What is written about a case: title, description, then (kind, text) after.
struct Case {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    after: &'static [(&'static str, &'static str)],
}

const CORPUS: &[Case] = &[
    Case {
        id: "c-01",
        title: "Jalanan rusak parah",
        description: "Aspal jalanan di depan pasar berlubang besar",
        after: &[],
    },
    Case {
        id: "c-02",
        title: "Lampu-lampu taman padam",
        description: "Sudah tiga malam gelap total",
        after: &[],
    },
    Case {
        id: "c-03",
        title: "Sampah menumpuk",
        description: "Sampahnya tidak diangkut seminggu",
        after: &[("respond", "Petugas kebersihan sudah mengangkut sampah")],
    },
    Case {
        id: "c-04",
        title: "Saluran air tersumbat",
        description: "Drainase tersumbat sehingga banjir",
        after: &[("public", "Tim sedang melakukan pengerukan drainase")],
    },
    Case {
        id: "c-05",
        title: "Pohon tumbang",
        description: "Pohon besar menghalangi jalan",
        after: &[("internal", "Kontraktor lalai, jangan dibagikan")],
    },
    Case {
        id: "c-06",
        title: "Pipa bocor",
        description: "Air PDAM terbuang",
        after: &[("close", "Pipa diperbaiki oleh petugas")],
    },
    Case {
        id: "c-07",
        title: "Lampu jalan mati",
        description: "Penerangan jalan umum padam",
        after: &[],
    },
    Case {
        id: "c-08",
        title: "Parkir liar",
        description: "Kendaraan parkir di trotoar",
        after: &[("respond", "Dishub akan menertibkan parkir")],
    },
    // Ranking: the word in the title and the description, against once in a response.
    Case {
        id: "r-1",
        title: "Genangan air",
        description: "Genangan setinggi lutut",
        after: &[],
    },
    Case {
        id: "r-2",
        title: "Trotoar retak",
        description: "Retak panjang",
        after: &[("respond", "Ada genangan juga, sudah dicatat")],
    },
];

/// (query, the cases it finds, best first where the order is asserted).
const QUERIES: &[(&str, &[&str])] = &[
    ("jalan", &["c-01", "c-05", "c-07"]),
    ("jalanan", &["c-01", "c-05", "c-07"]),
    ("lampu", &["c-02", "c-07"]),
    ("lampu-lampu", &["c-02", "c-07"]),
    ("sampah", &["c-03"]),
    ("kebersihan", &["c-03"]),
    ("DRAINASE", &["c-04"]),
    ("pengerukan", &["c-04"]),
    ("kontraktor", &[]),
    ("perbaikan", &["c-06"]),
    ("padam", &["c-02", "c-07"]),
    ("parkir trotoar", &["c-08"]),
    ("parkir banjir", &[]),
    ("pdam", &["c-06"]),
    ("menertibkan", &["c-08"]),
    ("genangan", &["r-1", "r-2"]),
];

fn officer() -> Actor {
    Actor::new("off-1", Role::OpdOfficer, Some("DPU"))
}

async fn run(bus: &CommandBus, id: &str, actor: Actor, action: Action) {
    bus.execute(request(id, actor, action, None)).await.unwrap();
}

fn report(c: &Case) -> Action {
    let Action::Submit(mut s) = submit(c.id) else {
        unreachable!()
    };
    s.title = text(c.title);
    s.description = text(c.description);
    Action::Submit(s)
}

async fn write(bus: &CommandBus, c: &Case) {
    run(bus, c.id, agent(), report(c)).await;
    run(bus, c.id, agent(), verify("ok")).await;
    let assign = Action::Assign(Assign {
        opd: aduan_testkit::fixtures::opd("DPU"),
        officer_id: None,
        note: None,
    });
    run(bus, c.id, agent(), assign).await;
    for (kind, words) in c.after {
        let action = match *kind {
            "respond" => Action::Respond(Respond {
                message: text(words),
                template: None,
            }),
            "public" | "internal" => Action::AddNote(AddNote {
                text: text(words),
                visibility: if *kind == "public" {
                    NoteVisibility::Public
                } else {
                    NoteVisibility::Internal
                },
                template: None,
            }),
            _ => Action::Close(Close {
                resolution: Resolution::Resolved,
                summary: text(words),
                duplicate_of: None,
                template: None,
            }),
        };
        let actor = if *kind == "respond" {
            officer()
        } else {
            agent()
        };
        run(bus, c.id, actor, action).await;
    }
}

fn summary() -> ComplaintSummary {
    let (calendar, book) = aduan_testkit::fixtures::sla();
    ComplaintSummary::new(calendar, book)
}

/// A search, best match first (the order the edge gives a search without `orderBy`).
fn searching(words: &str) -> SummaryFilter {
    SummaryFilter {
        text: Some(words.into()),
        order: SummaryOrder {
            field: OrderField::Relevance,
            descending: true,
        },
        ..Default::default()
    }
}

/// The ids a search finds, best first, read one row a page through the rank
/// keyset; checked against one page of all and the count.
async fn found(reads: &Reads, words: &str) -> Vec<String> {
    let filter = searching(words);
    let (all, more) = reads.page(&filter, None, 100).await.unwrap();
    assert!(!more);
    let mut paged = Vec::new();
    let mut after: Option<Keyset> = None;
    loop {
        let (page, more) = reads.page(&filter, after.as_ref(), 1).await.unwrap();
        paged.extend(page.iter().map(|r| r.complaint_id.clone()));
        after = page.last().map(|r| Keyset::of(filter.order, r));
        if !more {
            break;
        }
    }
    let ids: Vec<String> = all.iter().map(|r| r.complaint_id.clone()).collect();
    assert_eq!(
        paged, ids,
        "{words}: paging by rank gives the one page's order"
    );
    assert_eq!(
        reads.count(&filter).await.unwrap(),
        ids.len() as i64,
        "{words}"
    );
    ids
}

async fn check_queries(reads: &Reads) {
    for (words, expected) in QUERIES {
        let ids = found(reads, words).await;
        let set: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        let want: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(set, want, "the cases {words:?} finds");
    }
    assert_eq!(
        found(reads, "genangan").await,
        ["r-1", "r-2"],
        "title and description rank above one response"
    );
}

async fn the_corpus_gives_the_expected_cases(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let log = store.log().await;
    for c in CORPUS {
        write(&bus, c).await;
    }
    store.settle().await;
    Projector::new(log.clone(), summary())
        .with_batch(7)
        .catch_up()
        .await
        .unwrap();
    let reads = Reads::new(log.as_ref());
    check_queries(&reads).await;
    // A search within the other filters, and a text of no words filters nothing.
    let closed = SummaryFilter {
        statuses: vec!["CLOSED".into()],
        ..searching("pipa")
    };
    assert_eq!(reads.count(&closed).await.unwrap(), 1);
    assert_eq!(
        reads.count(&searching(" -- ")).await.unwrap(),
        CORPUS.len() as i64
    );

    rebuild(&log, &summary(), 1000).await.unwrap();
    check_queries(&reads).await;
    store.drop_store().await;
}

async fn an_erasure_removes_the_words_from_the_index(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let log = store.log().await;
    let siti = Case {
        id: "e-1",
        title: "Rumah Bu Siti kebanjiran",
        description: "Air masuk rumah Bu Siti",
        after: &[("respond", "Pompa air dikirim")],
    };
    write(&bus, &siti).await;
    write(&bus, &CORPUS[0]).await;
    store.settle().await;
    let live = Projector::new(log.clone(), summary());
    live.catch_up().await.unwrap();
    let reads = Reads::new(log.as_ref());
    assert_eq!(found(&reads, "siti").await, ["e-1"]);

    let supervisor = Actor::new("spv-1", Role::Supervisor, None);
    let context = aduan_store::RequestContext {
        channel: "test".into(),
        correlation_id: "c".into(),
    };
    let reference = aduan_domain::erasure::reporter_ref("e-1", None);
    aduan_store::erasure::erase_reporter(&bus, &supervisor, &context, &reference, "Permintaan")
        .await
        .unwrap();
    store.settle().await;
    live.catch_up().await.unwrap();
    assert!(found(&reads, "siti").await.is_empty(), "erased words");
    assert!(found(&reads, "banjir").await.is_empty(), "erased words");
    assert!(found(&reads, "erased").await.is_empty(), "nor the marker");
    assert_eq!(found(&reads, "pompa").await, ["e-1"], "a response stays");
    rebuild(&log, &summary(), 1000).await.unwrap();
    assert!(
        found(&reads, "siti").await.is_empty(),
        "rebuilt from the log"
    );
    assert_eq!(found(&reads, "pompa").await, ["e-1"]);
    // What the summary keeps of the case has none of the erased words either.
    let events: Vec<ComplaintEvent> = bus
        .log()
        .load("e-1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events
        .iter()
        .any(|e| matches!(e, ComplaintEvent::ReporterDataErased { .. })));
    store.drop_store().await;
}

/// The Rust stemmer is PostgreSQL's `indonesian` one, word for word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stemmer_agrees_with_postgresql_indonesian() {
    let store = TestStore::create(Backend::Postgres).await;
    let words = "jalanan jalan lampu perbaikan dilakukan menumpuk sampahnya menyapu memakai \
        membaca bekerja kesehatan sudirman pemerintah pembangunan penyakit pengaduan pelayanan \
        perumahan kebersihan bersihkan diperbaiki terendam genangan tersumbat berlubang \
        kerusakan pelajaran belajar pelajar berjalan perjalanan menyelesaikan kelurahan \
        kecamatan petugas penerangan menghalangi kendaraan ditindaklanjuti laporannya \
        mengirim diperiksa bukankah apakah rumahku bukumu penyapu pengemudi penyanyi \
        menyanyi permainan bermain pertanyaan menanyakan bepergian mempunyai memperbaiki \
        mempercepat menerangi penerimaan perusahaan terlambat kemacetan kesempatan kepada \
        kelihatan pakaian kuasai sisi habisi diberikan mempermainkan diberangkatkan \
        dipelajari mempelajari pemberhentian keberadaan diperjualbelikan terbelakang \
        dibekerjakan pengerukan menyumbat berserakan perempatan persimpangan menggunakan \
        pengangkutan seringkali lubangnya menertibkan";
    for word in words.split_whitespace() {
        let sql = format!("SELECT (ts_lexize('indonesian_stem', '{word}'))[1]");
        let theirs: String = store.text(&sql).await;
        assert_eq!(aduan_domain::search::stem(word), theirs, "{word}");
    }
    store.drop_store().await;
}

/// More cases with `jalan` than a search ranks; every 100th has `drainase`
/// too, and every 7th says `jalan` twice (ranks higher).
const ROWS: i64 = CANDIDATES + 500;

const COLUMNS: &str = "complaint_id, status, channel, category, priority, opd, title, \
    anonymous, escalation_level, reopen_count, created_at, updated_at, version, last_position, \
    events_applied, state, search_main, search_more";

fn fill(backend: Backend) -> String {
    match backend {
        Backend::Postgres => format!(
            "INSERT INTO complaint_summary ({COLUMNS}) \
             SELECT 'c' || lpad(i::text, 6, '0'), 'ASSIGNED', 'WEB', 'ROAD_DAMAGE', 'NORMAL', \
             'DPU', 'Jalan ' || i, false, 0, 0, \
             timestamptz '2025-01-01' + i * interval '1 minute', \
             timestamptz '2025-01-01' + i * interval '1 minute', 1, i, 1, '{{}}'::jsonb, \
             'jalan kata' || (i % 13) || CASE WHEN i % 7 = 0 THEN ' jalan' ELSE '' END \
               || CASE WHEN i % 100 = 0 THEN ' drainase' ELSE '' END, '' \
             FROM generate_series(1, {ROWS}) AS i"
        ),
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) \
             INSERT INTO complaint_summary ({COLUMNS}) \
             SELECT printf('c%06d', i), 'ASSIGNED', 'WEB', 'ROAD_DAMAGE', 'NORMAL', 'DPU', \
             'Jalan ' || i, 0, 0, 0, \
             strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-01', '+' || i || ' minutes'), \
             strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-01', '+' || i || ' minutes'), \
             1, i, 1, '{{}}', \
             'jalan kata' || (i % 13) || CASE WHEN i % 7 = 0 THEN ' jalan' ELSE '' END \
               || CASE WHEN i % 100 = 0 THEN ' drainase' ELSE '' END, '' \
             FROM n"
        ),
    }
}

/// Every page of a search, 1,000 at a time: the ids and their ranks.
async fn all_pages(reads: &Reads, filter: &SummaryFilter) -> Vec<(String, i64)> {
    let (mut out, mut after) = (Vec::new(), None::<Keyset>);
    loop {
        let (page, more) = reads.page(filter, after.as_ref(), 1_000).await.unwrap();
        after = page.last().map(|r| Keyset::of(filter.order, r));
        out.extend(
            page.into_iter()
                .map(|r| (r.complaint_id, r.search_rank.unwrap())),
        );
        if !more {
            return out;
        }
    }
}

async fn a_common_word_ranks_its_newest_matches(backend: Backend) {
    let store = TestStore::create(backend).await;
    let log = store.log().await;
    store.exec(&fill(backend)).await.unwrap();
    let reads = Reads::new(log.as_ref());
    let common = searching("jalanan");
    assert_eq!(reads.count(&common).await.unwrap(), CANDIDATES);
    let ranked = all_pages(&reads, &common).await;
    let ids: BTreeSet<&str> = ranked.iter().map(|(id, _)| id.as_str()).collect();
    let newest: BTreeSet<String> = (ROWS - CANDIDATES + 1..=ROWS)
        .map(|i| format!("c{i:06}"))
        .collect();
    assert_eq!(ids.len(), ranked.len(), "no case twice across pages");
    assert!(
        ids.iter().copied().eq(newest.iter().map(String::as_str)),
        "the newest {CANDIDATES} matches"
    );
    assert!(
        ranked.windows(2).all(|w| w[0].1 >= w[1].1),
        "best match first"
    );
    // A case that says the word twice ranks above one that says it once.
    assert_eq!(ranked[0].0[1..].parse::<i64>().unwrap() % 7, 0);
    // A word in fewer cases than that is ranked and counted whole.
    let rare = searching("drainase");
    assert_eq!(reads.count(&rare).await.unwrap(), ROWS / 100);
    assert_eq!(all_pages(&reads, &rare).await.len() as i64, ROWS / 100);
    // Another order than rank lists and counts every match.
    let mut by_date = searching("jalan");
    by_date.order = SummaryOrder::default();
    assert_eq!(reads.count(&by_date).await.unwrap(), ROWS);
    store.drop_store().await;
}
