//! The one envelope an event leaves aduan in: CloudEvents 1.0, JSON format.
//! docs/integration.md documents it field by field; `ENVELOPE_VERSION` changes
//! (and the docs with it) whenever a field changes meaning or goes away.
//!
//! - `id` is `<complaint id>:<sequence>`: stable across re-sends, so a receiver
//!   drops duplicates by it (JetStream does, as `Nats-Msg-Id`).
//! - Personal data stays home unless the destination is configured for it: the
//!   reporter, the exact address, a citizen's own account id, and the staff
//!   texts that never leave the city (`aduan_domain::disclosure`: a transfer's
//!   reason, INTERNAL notes, ...). The event itself is always sent (with those
//!   fields left out), so a receiver sees every sequence number of a case.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use aduan_domain::{disclosure, ComplaintEvent};
use aduan_store::StoredEvent;

/// The envelope's own version (extension attribute `envelopeversion`).
pub const ENVELOPE_VERSION: u32 = 1;

#[derive(Debug, Clone)]
pub struct EnvelopeOptions {
    /// CloudEvents `source`: which aduan sent it (a city's URI reference).
    pub source: String,
    /// Prefix of `type`; the event's name in snake case follows it.
    pub type_prefix: String,
    /// Whether the destination may receive personal data.
    pub personal_data: bool,
}

impl Default for EnvelopeOptions {
    fn default() -> Self {
        EnvelopeOptions {
            source: "/aduan".into(),
            type_prefix: "id.go.makassar.aduan.complaint".into(),
            personal_data: false,
        }
    }
}

/// One event as it leaves aduan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    pub specversion: &'static str,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub time: DateTime<Utc>,
    pub subject: String,
    pub datacontenttype: &'static str,
    /// Extension: the event's global position in the log.
    pub position: i64,
    /// Extension: the event's sequence within the complaint.
    pub sequence: i64,
    /// Extension: the OPD the case is with after the event (absent: none yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opd: Option<String>,
    /// Extension: the version of this envelope's layout.
    pub envelopeversion: u32,
    pub data: Value,
}

impl Envelope {
    /// The envelope of `stored`, whose case is with `opd` after it.
    pub fn new(stored: &StoredEvent, opd: Option<&str>, options: &EnvelopeOptions) -> Envelope {
        Envelope {
            specversion: "1.0",
            id: id_of(&stored.aggregate_id, stored.sequence),
            source: options.source.clone(),
            event_type: format!(
                "{}.{}",
                options.type_prefix,
                snake_case(stored.event.event_type_name())
            ),
            time: stored.event.occurred_at(),
            subject: stored.aggregate_id.clone(),
            datacontenttype: "application/json",
            position: stored.position,
            sequence: stored.sequence,
            opd: opd.map(str::to_string),
            envelopeversion: ENVELOPE_VERSION,
            data: data_of(stored, options.personal_data),
        }
    }

    #[allow(
        clippy::expect_used,
        reason = "an envelope of strings, numbers and JSON values always serializes"
    )]
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope is plain JSON")
    }
}

/// `<complaint id>:<sequence>`.
pub fn id_of(complaint_id: &str, sequence: i64) -> String {
    format!("{complaint_id}:{sequence}")
}

/// `InfoRequested` -> `info_requested`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The event's fields (as `complaintHistory` shows them) and who sent it.
fn data_of(stored: &StoredEvent, personal_data: bool) -> Value {
    let mut fields = serde_json::to_value(&stored.event)
        .ok()
        .and_then(|v| v.get(stored.event.event_type_name()).cloned())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    // Only its hash is stored, and only the submitter needs it.
    fields.remove("tracking_code_hash");
    if !personal_data {
        redact(&stored.event, &mut fields);
    }
    let m = &stored.metadata;
    let citizen = matches!(m.actor_role.as_str(), "CITIZEN" | "PUBLIC");
    let actor_id = (personal_data || !citizen).then(|| m.actor_id.clone());
    json!({
        "event": fields,
        "actor": {"id": actor_id, "role": m.actor_role, "opd": m.actor_opd},
        "channel": m.channel,
        "correlationId": m.correlation_id,
        "commandId": m.command_id,
        "recordedAt": stored.recorded_at,
    })
}

fn redact(event: &ComplaintEvent, fields: &mut Map<String, Value>) {
    if fields.contains_key("reporter") {
        fields.insert("reporter".into(), Value::Null);
    }
    if let Some(Value::Object(location)) = fields.get_mut("location") {
        location.remove("address");
    }
    for path in disclosure::internal_fields(event) {
        remove(fields, path);
    }
}

/// Leaves out the field at `path` (inside nested objects).
fn remove(fields: &mut Map<String, Value>, path: &[&str]) {
    match path {
        [] => {}
        [last] => {
            fields.remove(*last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(inner)) = fields.get_mut(*first) {
                remove(inner, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aduan_domain::events::EVENT_TYPES;
    use aduan_domain::{Channel, Location, NoteVisibility, Priority, Reporter};
    use aduan_store::Metadata;

    fn stored(event: ComplaintEvent, sequence: i64, role: &str) -> StoredEvent {
        StoredEvent {
            aggregate_id: "c-1".into(),
            sequence,
            position: 40 + sequence,
            event_type: event.event_type_name().into(),
            event_version: "1".into(),
            recorded_at: "2026-03-02T01:00:01Z".parse().unwrap(),
            event,
            metadata: Metadata {
                actor_id: "warga-9".into(),
                actor_role: role.into(),
                actor_opd: None,
                channel: "graphql".into(),
                correlation_id: "corr".into(),
                command_id: Some("cmd-1".into()),
                command_hash: None,
            },
            hash: None,
        }
    }

    fn submitted() -> ComplaintEvent {
        ComplaintEvent::Submitted {
            complaint_id: "c-1".into(),
            channel: Channel::Mobile,
            category: "ROAD_DAMAGE".into(),
            priority: Priority::Normal,
            title: "Jalan berlubang".into(),
            description: "Lubang besar".into(),
            location: Location {
                latitude: -5.15,
                longitude: 119.42,
                address: Some("Jl. Veteran Selatan 12".into()),
                kecamatan: Some("MAMAJANG".into()),
                kelurahan: None,
            },
            reporter: Some(Reporter {
                subject: Some("warga-9".into()),
                name: Some("Andi".into()),
                phone: Some("+62 811 4000 123".into()),
                email: None,
            }),
            anonymous: false,
            attachments: vec![],
            external_ref: None,
            tracking_code_hash: Some("abc".into()),
            number: None,
            occurred_at: "2026-03-02T01:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_submission_leaves_in_cloudevents_shape_without_personal_data() {
        let e = Envelope::new(
            &stored(submitted(), 1, "CITIZEN"),
            None,
            &EnvelopeOptions::default(),
        );
        let v: Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["id"], "c-1:1");
        assert_eq!(v["type"], "id.go.makassar.aduan.complaint.submitted");
        assert_eq!(v["subject"], "c-1");
        assert_eq!(v["time"], "2026-03-02T01:00:00Z");
        assert_eq!(v["datacontenttype"], "application/json");
        assert_eq!(v["position"], 41);
        assert_eq!(v["envelopeversion"], ENVELOPE_VERSION);
        assert!(v.get("opd").is_none());
        let text = v.to_string();
        for secret in [
            "Andi",
            "+62 811",
            "Veteran",
            "warga-9",
            "tracking_code_hash",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(v["data"]["event"]["location"]["kecamatan"], "MAMAJANG");
        assert_eq!(v["data"]["actor"]["role"], "CITIZEN");
    }

    #[test]
    fn a_destination_allowed_personal_data_gets_it() {
        let options = EnvelopeOptions {
            personal_data: true,
            ..EnvelopeOptions::default()
        };
        let e = Envelope::new(&stored(submitted(), 1, "CITIZEN"), Some("DPU"), &options);
        let text = serde_json::to_string(&e).unwrap();
        for wanted in ["Andi", "Veteran", "warga-9", "\"opd\":\"DPU\""] {
            assert!(text.contains(wanted), "{wanted} missing: {text}");
        }
        assert!(!text.contains("tracking_code_hash"));
    }

    #[test]
    fn an_internal_note_goes_out_without_its_text() {
        let note = |visibility| ComplaintEvent::NoteAdded {
            text: "Pelapor kerabat kepala dinas".into(),
            visibility,
            template: None,
            occurred_at: "2026-03-02T02:00:00Z".parse().unwrap(),
        };
        let options = EnvelopeOptions::default();
        let internal = Envelope::new(
            &stored(note(NoteVisibility::Internal), 5, "AGENT"),
            None,
            &options,
        );
        assert_eq!(
            internal.event_type,
            "id.go.makassar.aduan.complaint.note_added"
        );
        assert!(!serde_json::to_string(&internal)
            .unwrap()
            .contains("kerabat"));
        assert_eq!(
            internal.data["actor"]["id"], "warga-9",
            "staff ids are not personal data"
        );
        let public = Envelope::new(
            &stored(note(NoteVisibility::Public), 6, "AGENT"),
            None,
            &options,
        );
        assert!(serde_json::to_string(&public).unwrap().contains("kerabat"));
    }

    /// Every variant of the event enum, as serde's derive knows them (its
    /// refusal of an unknown variant lists them all): a new event joins this
    /// list without anyone remembering to add it.
    fn event_variants() -> Vec<String> {
        let refusal = serde_json::from_str::<ComplaintEvent>(r#"{"NoSuchEvent": {}}"#)
            .unwrap_err()
            .to_string();
        let expected = refusal.split("expected one of ").nth(1).unwrap();
        let variants: Vec<String> = expected
            .split(", ")
            .map(|v| v.split('`').nth(1).unwrap().to_string())
            .collect();
        assert!(variants.len() >= 20, "{refusal}");
        variants
    }

    #[test]
    fn every_event_is_in_event_types() {
        let mut variants = event_variants();
        let mut listed: Vec<String> = EVENT_TYPES.iter().map(|t| t.to_string()).collect();
        variants.sort();
        listed.sort();
        assert_eq!(listed, variants, "aduan_domain::events::EVENT_TYPES");
    }

    /// docs/integration.md's `type` row lists every event's snake-case name,
    /// and no other.
    #[test]
    fn the_documented_type_list_names_every_event() {
        let page = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/integration.md"
        ))
        .unwrap();
        let row = page
            .lines()
            .find(|l| l.starts_with("| `type` |"))
            .expect("the envelope table's `type` row");
        let list = row.split("snake case:").nth(1).expect("the type list");
        // The names are the row's code spans after "snake case:".
        let mut documented: Vec<String> = list
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        let mut events: Vec<String> = event_variants().iter().map(|v| snake_case(v)).collect();
        documented.sort();
        events.sort();
        assert_eq!(documented, events, "docs/integration.md's envelope types");
    }

    #[test]
    fn staff_texts_for_colleagues_stay_and_replies_to_the_citizen_leave() {
        let options = EnvelopeOptions::default();
        let transferred = ComplaintEvent::Transferred {
            from_opd: "DPU".into(),
            to_opd: "DLH".into(),
            reason: "Kepala seksi minta dipindah".into(),
            reason_code: None,
            occurred_at: "2026-03-02T02:00:00Z".parse().unwrap(),
        };
        let e = Envelope::new(&stored(transferred.clone(), 4, "AGENT"), None, &options);
        let text = serde_json::to_string(&e).unwrap();
        assert!(!text.contains("Kepala seksi"), "{text}");
        assert_eq!(e.data["event"]["to_opd"], "DLH");
        let inside = EnvelopeOptions {
            personal_data: true,
            ..EnvelopeOptions::default()
        };
        let e = Envelope::new(&stored(transferred, 4, "AGENT"), None, &inside);
        assert_eq!(e.data["event"]["reason"], "Kepala seksi minta dipindah");
        let responded = ComplaintEvent::Responded {
            message: "Tim menuju lokasi".into(),
            template: None,
            occurred_at: "2026-03-02T03:00:00Z".parse().unwrap(),
        };
        let e = Envelope::new(&stored(responded, 5, "OPD_OFFICER"), None, &options);
        assert_eq!(e.data["event"]["message"], "Tim menuju lokasi");
    }

    #[test]
    fn type_names_are_snake_case() {
        assert_eq!(snake_case("InfoRequested"), "info_requested");
        assert_eq!(snake_case("SlaBreached"), "sla_breached");
        assert_eq!(snake_case("Assigned"), "assigned");
    }
}
