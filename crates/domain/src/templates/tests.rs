use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use super::*;
use crate::actor::{Actor, Role};
use crate::error::ComplaintError;

fn derived() -> BTreeMap<Variable, String> {
    BTreeMap::from([
        (Variable::Kelurahan, "Maccini".to_string()),
        (Variable::Opd, "Dinas Pekerjaan Umum".to_string()),
        (Variable::Number, "MKS-2026-004512".to_string()),
    ])
}

fn supplied(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn renders_derived_and_supplied_variables() {
    let body = TemplateBody::parse(
        "Laporan {number} di {kelurahan} ditangani {opd}; petugas {officer} datang {date}.",
    )
    .unwrap();
    let text = body
        .render(
            &derived(),
            &supplied(&[("officer", "Andi"), ("date", "Senin")]),
        )
        .unwrap();
    assert_eq!(
        text,
        "Laporan MKS-2026-004512 di Maccini ditangani Dinas Pekerjaan Umum; petugas Andi datang Senin."
    );
    assert_eq!(
        body.variables(),
        vec![
            Variable::Number,
            Variable::Opd,
            Variable::Kelurahan,
            Variable::Officer,
            Variable::Date
        ]
    );
}

#[test]
fn a_value_the_case_lacks_renders_empty() {
    let body = TemplateBody::parse("Tenggat: {deadline}. Nomor {number}").unwrap();
    let text = body.render(&BTreeMap::new(), &BTreeMap::new()).unwrap();
    assert_eq!(text, "Tenggat: . Nomor");
}

#[test]
fn doubled_braces_are_literal() {
    let body = TemplateBody::parse("{{kode}} {number}}}").unwrap();
    assert_eq!(
        body.render(&derived(), &BTreeMap::new()).unwrap(),
        "{kode} MKS-2026-004512}"
    );
}

#[test]
fn broken_texts_are_refused_when_written() {
    assert_eq!(TemplateBody::parse(" \n "), Err(TemplateError::Empty));
    assert_eq!(
        TemplateBody::parse("Halo {opd"),
        Err(TemplateError::Unbalanced(5))
    );
    assert_eq!(
        TemplateBody::parse("Halo opd}"),
        Err(TemplateError::Unbalanced(8))
    );
    assert_eq!(
        TemplateBody::parse("a {b{c}}"),
        Err(TemplateError::Unbalanced(2))
    );
    assert_eq!(
        TemplateBody::parse("{}"),
        Err(TemplateError::Unknown(String::new()))
    );
    assert_eq!(
        TemplateBody::parse("Di {kelurhan}"),
        Err(TemplateError::Unknown("kelurhan".into()))
    );
    assert_eq!(
        TemplateBody::parse("Kode {trackingCode}"),
        Err(TemplateError::TrackingCode)
    );
    let long = "a".repeat(MAX_BODY + 1);
    assert_eq!(
        TemplateBody::parse(&long),
        Err(TemplateError::TooLong {
            length: MAX_BODY + 1,
            max: MAX_BODY
        })
    );
    assert!(TemplateBody::parse(&"é".repeat(MAX_BODY)).is_ok());
}

#[test]
fn supplied_values_must_fit_the_template() {
    let body = TemplateBody::parse("Petugas {officer} di {kelurahan}").unwrap();
    let render = |pairs: &[(&str, &str)]| body.render(&derived(), &supplied(pairs));
    assert_eq!(render(&[]), Err(TemplateError::Missing("officer".into())));
    assert_eq!(
        render(&[("officer", "  ")]),
        Err(TemplateError::Missing("officer".into()))
    );
    assert_eq!(
        render(&[("officer", "A"), ("kelurahan", "X")]),
        Err(TemplateError::Derived("kelurahan".into()))
    );
    assert_eq!(
        render(&[("officer", "A"), ("date", "X")]),
        Err(TemplateError::Unused("date".into()))
    );
    assert_eq!(
        render(&[("officer", "A"), ("nama", "X")]),
        Err(TemplateError::Unknown("nama".into()))
    );
    assert_eq!(render(&[("officer", "A")]).unwrap(), "Petugas A di Maccini");
}

#[test]
fn a_rendering_longer_than_a_message_is_refused() {
    let body = TemplateBody::parse("{detail}").unwrap();
    let long = "x".repeat(crate::values::MAX_TEXT + 1);
    assert!(matches!(
        body.render(&BTreeMap::new(), &supplied(&[("detail", &long)])),
        Err(TemplateError::TooLong { .. })
    ));
}

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 9, minute, 0).unwrap()
}

fn scope(opd: Option<&str>, category: Option<&str>) -> TemplateScope {
    TemplateScope {
        opd: opd.map(str::to_string),
        category: category.map(str::to_string),
    }
}

fn create(scope: TemplateScope, auto_acknowledge: bool) -> TemplateCommand {
    TemplateCommand::Create {
        name: "Jalan rusak".into(),
        scope,
        body: TemplateBody::parse("Laporan {number} diterima.").unwrap(),
        auto_acknowledge,
    }
}

fn run(
    template: &mut ResponseTemplate,
    actor: &Actor,
    command: TemplateCommand,
) -> Result<TemplateEvent, ComplaintError> {
    let event = template.decide(actor, command, at(template.version as u32))?;
    template.apply(&event);
    Ok(event)
}

#[test]
fn a_stream_is_created_revised_and_retired_in_versions() {
    let supervisor = Actor::new("s", Role::Supervisor, None);
    let mut t = ResponseTemplate::fold("t1", []);
    run(
        &mut t,
        &supervisor,
        create(scope(None, Some("JALAN_RUSAK")), true),
    )
    .unwrap();
    assert_eq!((t.version, t.auto_acknowledge), (1, true));
    let revise = TemplateCommand::Revise {
        name: "Jalan rusak (baru)".into(),
        body: TemplateBody::parse("Terima kasih, {number}.").unwrap(),
        auto_acknowledge: false,
    };
    run(&mut t, &supervisor, revise.clone()).unwrap();
    assert_eq!(
        (t.version, t.body.as_str(), t.auto_acknowledge),
        (2, "Terima kasih, {number}.", false)
    );
    let retire = TemplateCommand::Retire {
        reason: Some(" usang ".into()),
    };
    let event = run(&mut t, &supervisor, retire.clone()).unwrap();
    assert_eq!(
        event,
        TemplateEvent::TemplateRetired {
            reason: Some("usang".into()),
            occurred_at: at(2)
        }
    );
    assert!(t.retired && t.version == 3);
    assert!(matches!(
        t.decide(&supervisor, revise, at(9)),
        Err(ComplaintError::RuleViolated(_))
    ));
    assert!(matches!(
        t.decide(&supervisor, retire, at(9)),
        Err(ComplaintError::RuleViolated(_))
    ));
    assert_eq!(
        t.decide(&supervisor, create(scope(None, None), false), at(9)),
        Err(ComplaintError::AlreadyExists)
    );
}

#[test]
fn an_opd_admin_manages_their_own_opds_templates_only() {
    let admin = Actor::new("a", Role::OpdAdmin, Some("DPU"));
    let mut own = ResponseTemplate::fold("t1", []);
    run(&mut own, &admin, create(scope(Some("DPU"), None), false)).unwrap();
    for other in [scope(Some("DLH"), None), scope(None, Some("JALAN_RUSAK"))] {
        let mut t = ResponseTemplate::fold("t2", []);
        assert!(matches!(
            run(&mut t, &admin, create(other, false)),
            Err(ComplaintError::Forbidden(_))
        ));
    }
    let mut theirs = ResponseTemplate::fold("t3", []);
    let supervisor = Actor::new("s", Role::Supervisor, None);
    run(
        &mut theirs,
        &supervisor,
        create(scope(Some("DLH"), None), false),
    )
    .unwrap();
    let retire = TemplateCommand::Retire { reason: None };
    assert!(matches!(
        theirs.decide(&admin, retire.clone(), at(5)),
        Err(ComplaintError::Forbidden(_))
    ));
    assert!(own.decide(&admin, retire.clone(), at(5)).is_ok());
    let officer = Actor::new("o", Role::OpdOfficer, Some("DPU"));
    assert!(matches!(
        own.decide(&officer, retire, at(5)),
        Err(ComplaintError::Forbidden(_))
    ));
    assert!(may_read(&officer, &own.scope) && may_read(&officer, &scope(None, None)));
    assert!(!may_read(&officer, &theirs.scope));
    assert!(!may_read(
        &Actor::new("c", Role::Citizen, None),
        &scope(None, None)
    ));
}

#[test]
fn only_city_wide_category_templates_acknowledge_automatically() {
    let supervisor = Actor::new("s", Role::Supervisor, None);
    for wrong in [scope(None, None), scope(Some("DPU"), Some("JALAN_RUSAK"))] {
        let t = ResponseTemplate::fold("t", []);
        assert!(matches!(
            t.decide(&supervisor, create(wrong, true), at(0)),
            Err(ComplaintError::InvalidInput { .. })
        ));
    }
    let typed = TemplateCommand::Create {
        name: "n".into(),
        scope: scope(None, Some("JALAN_RUSAK")),
        body: TemplateBody::parse("Petugas {officer}").unwrap(),
        auto_acknowledge: true,
    };
    assert!(matches!(
        ResponseTemplate::fold("t", []).decide(&supervisor, typed, at(0)),
        Err(ComplaintError::InvalidInput { .. })
    ));
}

#[test]
fn a_scope_applies_to_its_opd_and_category() {
    assert!(scope(None, None).applies_to(None, "X"));
    assert!(scope(Some("DPU"), None).applies_to(Some("DPU"), "X"));
    assert!(!scope(Some("DPU"), None).applies_to(Some("DLH"), "X"));
    assert!(!scope(Some("DPU"), None).applies_to(None, "X"));
    assert!(scope(None, Some("X")).applies_to(Some("DLH"), "X"));
    assert!(!scope(None, Some("X")).applies_to(Some("DLH"), "Y"));
}

#[test]
fn events_read_back_as_written() {
    let event = TemplateEvent::TemplateCreated {
        name: "n".into(),
        scope: scope(Some("DPU"), None),
        body: "b".into(),
        auto_acknowledge: false,
        occurred_at: at(0),
    };
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(
        serde_json::from_value::<TemplateEvent>(json).unwrap(),
        event
    );
    assert_eq!(event.event_type_name(), "TemplateCreated");
}

/// A template stream made by `commands` as a SUPERVISOR.
fn made(id: &str, name: &str, commands: Vec<TemplateCommand>) -> ResponseTemplate {
    let supervisor = Actor::new("s", Role::Supervisor, None);
    let mut t = ResponseTemplate::fold(id, []);
    for command in commands {
        run(&mut t, &supervisor, command).unwrap();
    }
    t.name = name.into();
    t
}

#[test]
fn a_verified_case_is_acknowledged_by_its_categorys_flagged_city_wide_template() {
    let flagged = || create(scope(None, Some("JALAN_RUSAK")), true);
    let retire = TemplateCommand::Retire { reason: None };
    let templates = [
        made("t1", "B", vec![flagged()]),
        made("t2", "A", vec![flagged()]),
        made("t3", "0 retired", vec![flagged(), retire]),
        made(
            "t4",
            "0 unflagged",
            vec![create(scope(None, Some("JALAN_RUSAK")), false)],
        ),
        made(
            "t5",
            "0 per OPD",
            vec![create(scope(Some("DPU"), Some("JALAN_RUSAK")), false)],
        ),
        made(
            "t6",
            "0 other",
            vec![create(scope(None, Some("BANJIR")), true)],
        ),
    ];
    let chosen = acknowledging(&templates, "JALAN_RUSAK").unwrap();
    assert_eq!(chosen.id, "t2", "the first current flagged one by name");
    assert_eq!(acknowledging(&templates, "BANJIR").unwrap().id, "t6");
    assert!(acknowledging(&templates, "SAMPAH").is_none());

    let note = acknowledgement(chosen, &derived()).unwrap();
    assert_eq!(note.text.as_str(), "Laporan MKS-2026-004512 diterima.");
    assert_eq!(note.visibility, crate::values::NoteVisibility::Public);
    assert_eq!(
        note.template,
        Some(TemplateUse {
            id: "t2".into(),
            version: 1
        })
    );
}
