//! `survey_responses`: one row per answered survey, with the OPD that had the
//! case when the citizen answered; the IKM read sums them exactly; a rebuild
//! gives the same rows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use aduan_domain::ikm::{Grade, CODES};
use aduan_domain::*;
use aduan_projections::survey::IkmGroupBy;
use aduan_projections::{rebuild, Projector, Reads, SurveyResponses};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus, request, submit, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(answered_surveys_add_up_to_the_ikm_and_rebuild_the_same);

fn citizen() -> Actor {
    Actor::new("warga-1", Role::Citizen, None)
}

fn projection() -> SurveyResponses {
    SurveyResponses::new(chrono::FixedOffset::east_opt(8 * 3600).unwrap())
}

async fn run(bus: &CommandBus, id: &str, actor: Actor, action: Action) {
    bus.execute(request(id, actor, action, None)).await.unwrap();
}

/// A case reported by warga-1, dispatched to `opd` and closed by the Command
/// Center; answered with `scores` unless None.
async fn case(bus: &CommandBus, id: &str, opd: &str, scores: Option<[i32; 9]>) {
    run(bus, id, citizen(), submit(id)).await;
    run(bus, id, agent(), verify("ok")).await;
    let assign = Action::Assign(Assign {
        opd: aduan_testkit::fixtures::opd(opd),
        officer_id: None,
        note: None,
    });
    run(bus, id, agent(), assign).await;
    let close = Action::Close(Close {
        template: None,
        resolution: Resolution::Resolved,
        summary: aduan_testkit::fixtures::text("Selesai"),
        duplicate_of: None,
    });
    run(bus, id, agent(), close).await;
    if let Some(scores) = scores {
        let given: Vec<(String, i32)> = CODES.iter().map(|c| c.to_string()).zip(scores).collect();
        let answers = aduan_domain::ikm::SurveyAnswers::parse(&given).unwrap();
        let answer = Action::AnswerSurvey(AnswerSurvey {
            answers,
            tracking_code: None,
        });
        run(bus, id, citizen(), answer).await;
    }
}

async fn answered_surveys_add_up_to_the_ikm_and_rebuild_the_same(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let log = store.log().await;
    case(&bus, "s-1", "DPU", Some([4, 3, 3, 4, 3, 4, 4, 3, 3])).await;
    case(&bus, "s-2", "DPU", Some([3, 3, 2, 4, 3, 3, 4, 3, 3])).await;
    case(&bus, "s-3", "DPU", Some([4, 4, 3, 4, 3, 4, 4, 2, 3])).await;
    case(&bus, "s-4", "DPU", Some([3, 3, 3, 4, 4, 3, 4, 3, 2])).await;
    case(&bus, "s-5", "DLH", Some([4; 9])).await;
    case(&bus, "s-6", "DLH", None).await;
    // Answered, then reopened and moved to DLH: DPU's answer stays DPU's.
    run(
        &bus,
        "s-1",
        agent(),
        Action::Reopen(Reopen {
            reason: aduan_testkit::fixtures::text("Lubang lagi"),
        }),
    )
    .await;
    run(
        &bus,
        "s-1",
        agent(),
        Action::Transfer(Transfer {
            to_opd: aduan_testkit::fixtures::opd("DLH"),
            reason_code: aduan_domain::ReasonCode::parse("SALAH_KATEGORI").unwrap(),
            note: Some(aduan_testkit::fixtures::text("Salah OPD")),
        }),
    )
    .await;
    store.settle().await;

    let projector = Projector::new(log.clone(), projection()).with_batch(4);
    projector.catch_up().await.unwrap();
    let rows = store
        .rows_as_text_except("survey_responses", "complaint_id", &[])
        .await;
    assert_eq!(rows.len(), 5, "one row per answered survey: {rows:?}");

    let reads = Reads::new(log.as_ref());
    // The bus's clock stands at the fixtures' start.
    let at = aduan_testkit::fixtures::start();
    let (from, to) = (
        at - chrono::Duration::days(1),
        at + chrono::Duration::days(1),
    );
    let by_opd = reads
        .ikm(from, to, Some(IkmGroupBy::Opd), None)
        .await
        .unwrap();
    let keys: Vec<&str> = by_opd.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["DLH", "DPU"]);
    let dpu = by_opd[1].totals();
    assert_eq!(dpu.respondents, 4);
    assert_eq!(dpu.sums, [14, 13, 11, 16, 13, 14, 16, 11, 11]);
    let ikm = dpu.ikm().unwrap();
    assert_eq!((ikm.hundredths, ikm.grade), (8264, Grade::B));
    assert_eq!(by_opd[0].totals().ikm().unwrap().hundredths, 10000);
    let one = reads.ikm(from, to, None, Some("DPU")).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].totals(), dpu);
    // Nothing answered in the range: one row of zeros, no index.
    let empty = reads
        .ikm(to, to + chrono::Duration::days(1), None, None)
        .await
        .unwrap();
    assert_eq!(empty[0].respondents, 0);
    assert_eq!(empty[0].totals().ikm(), None);

    rebuild(&log, &projection(), 1000).await.unwrap();
    assert_eq!(
        store
            .rows_as_text_except("survey_responses", "complaint_id", &[])
            .await,
        rows,
        "rebuilt rows differ from the incremental ones"
    );
    store.drop_store().await;
}
