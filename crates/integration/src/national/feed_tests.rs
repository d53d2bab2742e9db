use chrono::Utc;

use super::*;
use crate::national::contract::ReportLocation;

fn report(id: &str) -> Report {
    Report {
        tracking_id: id.into(),
        title: "t".into(),
        body: "b".into(),
        category: "Infrastruktur".into(),
        location: ReportLocation {
            lat: -5.1,
            lon: 119.4,
            address: None,
        },
        reporter: None,
        anonymous: false,
        confidential: false,
        attachments: vec![],
        created_at: Utc::now(),
        disposed_at: None,
    }
}

fn page(ids: &[&str], next: Option<&str>) -> Page {
    Page {
        items: ids.iter().map(|id| report(id)).collect(),
        next: next.map(str::to_string),
    }
}

fn ids(step: &Step) -> Vec<String> {
    step.fresh.iter().map(|r| r.tracking_id.clone()).collect()
}

#[test]
fn a_page_with_a_new_cursor_moves_on_at_once() {
    let start = FeedPosition::default();
    let p = page(&["A", "B"], Some("2"));
    let step = start.step(&p);
    assert_eq!(ids(&step), ["A", "B"]);
    assert_eq!(step.position.after.as_deref(), Some("2"));
    assert!(step.position.seen.is_empty());
    assert!(step.more);
}

#[test]
fn next_null_stays_at_the_cursor_and_reads_each_report_once() {
    let at = FeedPosition {
        after: Some("2".into()),
        seen: vec![],
    };
    let last = page(&["C", "D"], None);
    let step = at.step(&last);
    assert_eq!(ids(&step), ["C", "D"]);
    assert!(!step.more);
    assert_eq!(step.position.after.as_deref(), Some("2"));
    // The same last page on the next poll: nothing to import.
    let again = step.position.step(&last);
    assert!(again.fresh.is_empty());
    assert_eq!(again.position, step.position);
    // A new report at the end: only it.
    let grown = page(&["C", "D", "E"], None);
    let step = again.position.step(&grown);
    assert_eq!(ids(&step), ["E"]);
    assert_eq!(step.position.seen, ["C", "D", "E"]);
}

#[test]
fn an_empty_page_or_a_repeated_cursor_is_the_end() {
    let at = FeedPosition {
        after: Some("4".into()),
        seen: vec![],
    };
    let empty_page = page(&[], Some("4"));
    let empty = at.step(&empty_page);
    assert!(empty.fresh.is_empty() && !empty.more);
    assert_eq!(empty.position, at);
    let repeated = page(&["C"], Some("4"));
    let step = at.step(&repeated);
    assert_eq!(ids(&step), ["C"]);
    assert!(!step.more);
    assert!(step.position.step(&repeated).fresh.is_empty());
    // An empty page with a new cursor moves the cursor, then waits.
    let moved_page = page(&[], Some("5"));
    let moved = at.step(&moved_page);
    assert_eq!(moved.position.after.as_deref(), Some("5"));
    assert!(!moved.more);
}

#[test]
fn the_first_call_sends_no_cursor_and_a_short_feed_is_read_once() {
    let start = FeedPosition::default();
    let only = page(&["A", "A", "B"], None);
    let step = start.step(&only);
    assert_eq!(ids(&step), ["A", "B"], "a report twice on a page is one");
    assert_eq!(step.position.after, None);
    assert!(step.position.step(&only).fresh.is_empty());
}

#[test]
fn a_stored_bare_cursor_still_reads() {
    let old: FeedPosition = serde_json::from_str("\"17\"").unwrap();
    assert_eq!(old.after.as_deref(), Some("17"));
    let none: FeedPosition = serde_json::from_str("null").unwrap();
    assert_eq!(none, FeedPosition::default());
    let new = FeedPosition {
        after: Some("3".into()),
        seen: vec!["X".into()],
    };
    let text = serde_json::to_string(&new).unwrap();
    assert_eq!(serde_json::from_str::<FeedPosition>(&text).unwrap(), new);
}
