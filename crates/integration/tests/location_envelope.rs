//! A corrected place leaves the city as `location_corrected`, with the whole
//! place but, for destinations without personal data, not its exact address.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use aduan_domain::{ComplaintEvent, Location};
use aduan_integration::envelope::{Envelope, EnvelopeOptions};
use aduan_store::{Metadata, StoredEvent};

fn stored() -> StoredEvent {
    let event = ComplaintEvent::LocationCorrected {
        location: Location {
            latitude: -5.12,
            longitude: 119.44,
            address: Some("Jl. Sungai Saddang 9".into()),
            kecamatan: Some("TALLO".into()),
            kelurahan: None,
        },
        reason: Some("Pelapor menelepon.".into()),
        occurred_at: "2026-03-02T01:00:00Z".parse().unwrap(),
    };
    StoredEvent {
        aggregate_id: "c-1".into(),
        sequence: 2,
        position: 42,
        event_type: event.event_type_name().into(),
        event_version: "2".into(),
        recorded_at: "2026-03-02T01:00:01Z".parse().unwrap(),
        event,
        metadata: Metadata {
            actor_id: "agent-1".into(),
            actor_role: "AGENT".into(),
            actor_opd: None,
            channel: "graphql".into(),
            correlation_id: "corr".into(),
            command_id: None,
            command_hash: None,
        },
        hash: None,
    }
}

#[test]
fn a_corrected_place_leaves_without_its_address_unless_allowed() {
    let options = EnvelopeOptions::default();
    let e = Envelope::new(&stored(), None, &options);
    assert_eq!(
        e.event_type,
        "id.go.makassar.aduan.complaint.location_corrected"
    );
    let event = &e.data["event"];
    assert_eq!(event["location"]["kecamatan"], "TALLO");
    // The reason is a note to colleagues (docs/security.md): it stays.
    assert!(event.get("reason").is_none(), "{event}");
    assert!(event["location"].get("address").is_none(), "{event}");
    let personal = EnvelopeOptions {
        personal_data: true,
        ..EnvelopeOptions::default()
    };
    let e = Envelope::new(&stored(), None, &personal);
    assert_eq!(
        e.data["event"]["location"]["address"],
        "Jl. Sungai Saddang 9"
    );
    assert_eq!(e.data["event"]["reason"], "Pelapor menelepon.");
}
