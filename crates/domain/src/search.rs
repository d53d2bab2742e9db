//! What a case is found by in a text search, and how words are matched.
//!
//! A case's searchable text is what was written about it that every role that
//! may list the case may also read: the title and description (personal data:
//! after an erasure they read `[erased]`, so the old words no longer find it),
//! the responses, the PUBLIC notes and the closing summaries. INTERNAL notes,
//! the reporter's name, phone, email and address, info answers and rating
//! comments are never indexed.
//!
//! Words are stemmed here, once, with the Snowball Indonesian algorithm (the
//! one behind PostgreSQL's `indonesian` text-search configuration; a test checks
//! this port against it): both stores index and query the same stems, so the
//! same words find the same cases on PostgreSQL and SQLite.

use crate::aggregate::Case;
use crate::events::ComplaintEvent;
use crate::values::NoteVisibility;

/// The searchable text of a case, as space-separated stems: `main` (title and
/// description, ranked higher) and `more` (what staff wrote back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDocument {
    pub main: String,
    pub more: String,
}

/// The case's searchable text from its folded state and its events.
// Hook: the case number (issue 24, point 7) goes into `main` here, so that
// `complaints(filter: {text: "MKS-2026-004512"})` finds the case by it.
pub fn document(case: &Case, events: &[ComplaintEvent]) -> SearchDocument {
    let main = [case.title.as_str(), case.description.as_str()]
        .into_iter()
        .filter(|t| *t != crate::erasure::ERASED)
        .collect::<Vec<_>>()
        .join(" ");
    let more: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ComplaintEvent::Responded { message, .. } => Some(message.as_str()),
            ComplaintEvent::NoteAdded {
                text,
                visibility: NoteVisibility::Public,
                ..
            } => Some(text.as_str()),
            ComplaintEvent::Closed { summary, .. } => Some(summary.as_str()),
            _ => None,
        })
        .collect();
    SearchDocument {
        main: terms(&main),
        more: terms(&more.join(" ")),
    }
}

/// The text's words, lowercased: letters and digits, anything else separates
/// (so `lampu-lampu` is `lampu lampu`).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The text's stems, space-separated.
pub fn terms(text: &str) -> String {
    words(text).map(|w| stem(&w)).collect::<Vec<_>>().join(" ")
}

/// A query's distinct stems, in order (a case matches when it has all of them).
pub fn query_terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in words(text).map(|w| stem(&w)) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// One lowercase word's stem (Snowball Indonesian, after Tala 2003).
pub fn stem(word: &str) -> String {
    let mut w = Word {
        chars: word.chars().collect(),
        measure: 0,
        prefix: 0,
    };
    w.measure = w.chars.iter().filter(|c| is_vowel(**c)).count() as i32;
    if w.measure <= 2 {
        return word.to_string();
    }
    w.remove_particle();
    if w.measure > 2 {
        w.remove_possessive();
    }
    if w.measure <= 2 {
        return w.chars.into_iter().collect();
    }
    if w.remove_first_order_prefix() {
        // A second-order prefix goes only when a suffix went too (`diperiksa`
        // stays `periksa`; `diperbaiki` is `baik`).
        let suffix_went = w.measure > 2 && w.remove_suffix();
        if suffix_went && w.measure > 2 {
            w.remove_second_order_prefix();
        }
    } else {
        w.remove_second_order_prefix();
        if w.measure > 2 {
            w.remove_suffix();
        }
    }
    w.chars.into_iter().collect()
}

struct Word {
    chars: Vec<char>,
    measure: i32,
    /// Which prefix was removed: 1 di/meng/ter..., 2 per, 3 ke/peng..., 4 ber.
    prefix: u8,
}

impl Word {
    fn ends(&self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        self.chars.ends_with(&s)
    }

    fn starts(&self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        self.chars.starts_with(&s)
    }

    fn cut_end(&mut self, n: usize) {
        self.chars.truncate(self.chars.len() - n);
        self.measure -= 1;
    }

    /// Replaces the first `n` characters by `with`.
    fn cut_start(&mut self, n: usize, with: &str) {
        self.chars.splice(0..n, with.chars());
        self.measure -= 1;
    }

    fn remove_particle(&mut self) {
        if ["kah", "lah", "pun"].iter().any(|s| self.ends(s)) {
            self.cut_end(3);
        }
    }

    fn remove_possessive(&mut self) {
        if self.ends("nya") {
            self.cut_end(3);
        } else if self.ends("ku") || self.ends("mu") {
            self.cut_end(2);
        }
    }

    /// The longest suffix whose condition holds (Snowball's `among` falls back
    /// to a shorter string when a longer one's condition fails).
    fn remove_suffix(&mut self) -> bool {
        let n = self.chars.len();
        let cut = if self.ends("kan") && self.prefix != 3 && self.prefix != 2 {
            3
        } else if self.ends("an") && self.prefix != 1 {
            2
        } else if self.ends("i") && self.prefix <= 2 && !(n >= 2 && self.chars[n - 2] == 's') {
            1
        } else {
            return false;
        };
        self.cut_end(cut);
        true
    }

    fn vowel_at(&self, i: usize) -> bool {
        self.chars.get(i).is_some_and(|c| is_vowel(*c))
    }

    fn remove_first_order_prefix(&mut self) -> bool {
        for (p, kind) in [("meny", 1), ("peny", 3)] {
            if self.starts(p) && self.vowel_at(4) {
                self.prefix = kind;
                self.cut_start(4, "s");
                return true;
            }
        }
        for (p, kind) in [("mem", 1), ("pem", 3)] {
            if self.starts(p) {
                self.prefix = kind;
                let with = if self.vowel_at(3) { "p" } else { "" };
                self.cut_start(3, with);
                return true;
            }
        }
        let plain = [
            ("meng", 1),
            ("peng", 3),
            ("men", 1),
            ("pen", 3),
            ("ter", 1),
            ("di", 1),
            ("me", 1),
            ("ke", 3),
        ];
        for (p, kind) in plain {
            if self.starts(p) {
                self.prefix = kind;
                self.cut_start(p.len(), "");
                return true;
            }
        }
        false
    }

    fn remove_second_order_prefix(&mut self) {
        if self.starts("belajar") {
            self.prefix = 4;
            self.cut_start(7, "ajar");
        } else if self.starts("pelajar") {
            self.cut_start(7, "ajar");
        } else if self.starts("ber") {
            self.prefix = 4;
            self.cut_start(3, "");
        } else if self.starts("per") {
            self.prefix = 2;
            self.cut_start(3, "");
        } else if self.starts("pe") {
            self.prefix = 2;
            self.cut_start(2, "");
        } else if self.starts("be")
            && self.chars.get(2).is_some_and(|c| !is_vowel(*c))
            && self.chars.get(3) == Some(&'e')
            && self.chars.get(4) == Some(&'r')
        {
            self.prefix = 4;
            self.cut_start(2, "");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_and_reduplicated_words_share_a_stem() {
        assert_eq!(stem("jalanan"), "jalan");
        assert_eq!(stem("jalan"), "jalan");
        assert_eq!(terms("Lampu-lampu"), "lampu lampu");
        assert_eq!(stem("perbaikan"), "baik");
        assert_eq!(stem("dilakukan"), "laku");
        assert_eq!(stem("menumpuk"), "umpuk");
        assert_eq!(stem("sampahnya"), "sampah");
        assert_eq!(stem("menyapu"), "sapu");
        assert_eq!(stem("memakai"), "paka");
        assert_eq!(stem("diperiksa"), "periksa");
        assert_eq!(stem("diperbaiki"), "baik");
        assert_eq!(stem("keberadaan"), "ada");
        assert_eq!(stem("membaca"), "baca");
        assert_eq!(stem("bekerja"), "kerja");
        assert_eq!(stem("kesehatan"), "sehat");
    }

    #[test]
    fn a_query_is_its_distinct_stems() {
        assert_eq!(
            query_terms("Jalanan  jalan, LAMPU!"),
            vec!["jalan", "lampu"]
        );
        assert!(query_terms(" -- ").is_empty());
    }
}
