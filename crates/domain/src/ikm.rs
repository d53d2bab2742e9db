//! The community satisfaction index (Indeks Kepuasan Masyarakat, IKM) by the
//! national method, PermenPANRB No. 14 of 2017: after closing, the citizen
//! answers nine elements (unsur) U1..U9 on a 1-4 scale.
//!
//! - NRR of an element (nilai rata-rata) = sum of its answers / respondents;
//! - the index on the 1-4 scale = sum of the NRRs x 1/9 (each element weighs
//!   exactly 1/9; the regulation's worked tables round the weight to 0.111,
//!   which would give 99.9 for a service every respondent scored 4);
//! - IKM = that x 25, on 25-100.
//!
//! Everything here is integer arithmetic: IKM = 25 x S / (9 x n), where S is the
//! sum of every answer and n the respondents, rounded half up to hundredths, the
//! precision in which the regulation writes its grade intervals
//! (A 88.31-100.00, B 76.61-88.30, C 65.00-76.60, D 25.00-64.99). Rounding first
//! leaves no gap between the intervals (88.305 is 88.31, an A), and the
//! boundaries are hit exactly, with no float in between.

use serde::{Deserialize, Serialize};

/// The regulation's nine elements, by number.
pub const ELEMENTS: usize = 9;

/// The elements' codes, U1..U9 as the regulation numbers them. Stored answers
/// name these codes, so a city may rename or reorder the elements (for its
/// forms) without changing what stored answers mean.
pub const CODES: [&str; ELEMENTS] = ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"];

/// The answer scale: 1 (tidak baik) to 4 (sangat baik).
pub const MIN_SCORE: u8 = 1;
pub const MAX_SCORE: u8 = 4;

/// One element as a city names it on its form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyElement {
    /// U1..U9.
    pub code: String,
    pub name: String,
}

/// One answer: an element's code and its score (1-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    pub element: String,
    pub score: u8,
}

/// The regulation's nine elements, in its order (the default when the
/// reference data names none).
pub fn default_elements() -> Vec<SurveyElement> {
    [
        "Persyaratan",
        "Sistem, mekanisme dan prosedur",
        "Waktu penyelesaian",
        "Biaya/tarif",
        "Produk spesifikasi jenis pelayanan",
        "Kompetensi pelaksana",
        "Perilaku pelaksana",
        "Penanganan pengaduan, saran dan masukan",
        "Sarana dan prasarana",
    ]
    .iter()
    .zip(CODES)
    .map(|(name, code)| SurveyElement {
        code: code.to_string(),
        name: name.to_string(),
    })
    .collect()
}

/// Why a configured element list is not the regulation's nine.
pub fn check_elements(elements: &[SurveyElement]) -> Result<(), String> {
    if elements.len() != ELEMENTS {
        return Err(format!(
            "the survey has {} elements; the national method has exactly {ELEMENTS} (U1..U9)",
            elements.len()
        ));
    }
    for code in CODES {
        let n = elements.iter().filter(|e| e.code == code).count();
        if n != 1 {
            return Err(format!("survey element {code} appears {n} times"));
        }
    }
    if let Some(e) = elements.iter().find(|e| e.name.trim().is_empty()) {
        return Err(format!("survey element {} has no name", e.code));
    }
    Ok(())
}

/// The position (0..9) of an element code.
pub fn index_of(code: &str) -> Option<usize> {
    CODES.iter().position(|c| *c == code)
}

/// A respondent's answers, checked: every element once, each 1-4, in U1..U9
/// order. Serialised as commands always were, `[["U1", 4], ...]`, so that a
/// command's digest (the bus's idempotency check) keeps its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyAnswers(Vec<SurveyAnswer>);

impl Serialize for SurveyAnswers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|a| (&a.element, a.score)))
    }
}

impl SurveyAnswers {
    /// Checks answers as given (element code, score), in any order.
    pub fn parse(answers: &[(String, i32)]) -> Result<Self, crate::values::Invalid> {
        check_answers(answers)
            .map(SurveyAnswers)
            .map_err(|(_, message)| crate::values::Invalid::new(message))
    }

    pub fn into_vec(self) -> Vec<SurveyAnswer> {
        self.0
    }
}

/// Checks a respondent's answers: every element once, each 1-4. Returns them
/// in U1..U9 order, or (field, message) for the error.
fn check_answers(answers: &[(String, i32)]) -> Result<Vec<SurveyAnswer>, (&'static str, String)> {
    let mut scores: [Option<u8>; ELEMENTS] = [None; ELEMENTS];
    for (element, score) in answers {
        let i = index_of(element).ok_or_else(|| {
            (
                "answers",
                format!("unknown element {element:?}: the elements are U1..U9"),
            )
        })?;
        let s = u8::try_from(*score)
            .ok()
            .filter(|s| (MIN_SCORE..=MAX_SCORE).contains(s))
            .ok_or_else(|| {
                (
                    "answers",
                    format!("{element}: the score must be between {MIN_SCORE} and {MAX_SCORE}"),
                )
            })?;
        if scores[i].replace(s).is_some() {
            return Err(("answers", format!("{element} is answered twice")));
        }
    }
    let missing: Vec<&str> = CODES
        .iter()
        .zip(scores)
        .filter(|(_, s)| s.is_none())
        .map(|(c, _)| *c)
        .collect();
    if !missing.is_empty() {
        return Err((
            "answers",
            format!("every element is answered; missing {}", missing.join(", ")),
        ));
    }
    // Every score is there (none missing, above).
    Ok(CODES
        .iter()
        .zip(scores)
        .filter_map(|(code, s)| {
            s.map(|score| SurveyAnswer {
                element: code.to_string(),
                score,
            })
        })
        .collect())
}

/// The quality grade (mutu pelayanan) of an IKM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    /// The grade of an IKM given in hundredths (8831 is 88.31).
    pub fn of_hundredths(ikm: i64) -> Grade {
        match ikm {
            8831.. => Grade::A,
            7661.. => Grade::B,
            6500.. => Grade::C,
            _ => Grade::D,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
        }
    }

    /// The regulation's words for the service's performance (kinerja unit pelayanan).
    pub fn label(self) -> &'static str {
        match self {
            Grade::A => "Sangat Baik",
            Grade::B => "Baik",
            Grade::C => "Kurang Baik",
            Grade::D => "Tidak Baik",
        }
    }
}

/// What the answers of a group of respondents add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub respondents: i64,
    /// The sum of each element's answers, U1..U9.
    pub sums: [i64; ELEMENTS],
}

/// The IKM of a group of respondents.
#[derive(Debug, Clone, PartialEq)]
pub struct Ikm {
    pub respondents: i64,
    pub sums: [i64; ELEMENTS],
    /// NRR per element (sum / respondents), U1..U9.
    pub nrr: [f64; ELEMENTS],
    /// The IKM in hundredths, rounded half up (8831 is 88.31).
    pub hundredths: i64,
    pub grade: Grade,
}

impl Ikm {
    /// The IKM, 25.00-100.00, exact to the hundredth.
    pub fn value(&self) -> f64 {
        self.hundredths as f64 / 100.0
    }
}

impl Totals {
    /// Adds one respondent's answers.
    pub fn add(&mut self, answers: &[SurveyAnswer]) {
        self.respondents += 1;
        for a in answers {
            if let Some(i) = index_of(&a.element) {
                self.sums[i] += i64::from(a.score);
            }
        }
    }

    /// The IKM, or `None` without respondents.
    pub fn ikm(&self) -> Option<Ikm> {
        let n = self.respondents;
        if n <= 0 {
            return None;
        }
        let total: i64 = self.sums.iter().sum();
        let hundredths = hundredths(total, n);
        Some(Ikm {
            respondents: n,
            sums: self.sums,
            nrr: self.sums.map(|s| s as f64 / n as f64),
            hundredths,
            grade: Grade::of_hundredths(hundredths),
        })
    }
}

/// 100 x IKM rounded half up: 100 x 25 x total / (9 x n) = 2500 x total / (9 x n).
fn hundredths(total: i64, respondents: i64) -> i64 {
    let (num, den) = (2500 * total, 9 * respondents);
    (2 * num + den) / (2 * den)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(scores: [u8; ELEMENTS]) -> Vec<SurveyAnswer> {
        CODES
            .iter()
            .zip(scores)
            .map(|(c, s)| SurveyAnswer {
                element: c.to_string(),
                score: s,
            })
            .collect()
    }

    fn totals(respondents: &[[u8; ELEMENTS]]) -> Totals {
        let mut t = Totals::default();
        for r in respondents {
            t.add(&answers(*r));
        }
        t
    }

    /// The regulation's arithmetic, by hand: four respondents.
    ///
    /// | respondent | U1 | U2 | U3 | U4 | U5 | U6 | U7 | U8 | U9 |
    /// |---|---|---|---|---|---|---|---|---|---|
    /// | 1 | 4 | 3 | 3 | 4 | 3 | 4 | 4 | 3 | 3 |
    /// | 2 | 3 | 3 | 2 | 4 | 3 | 3 | 4 | 3 | 3 |
    /// | 3 | 4 | 4 | 3 | 4 | 3 | 4 | 4 | 2 | 3 |
    /// | 4 | 3 | 3 | 3 | 4 | 4 | 3 | 4 | 3 | 2 |
    /// | sum | 14 | 13 | 11 | 16 | 13 | 14 | 16 | 11 | 11 |
    /// | NRR | 3.5 | 3.25 | 2.75 | 4 | 3.25 | 3.5 | 4 | 2.75 | 2.75 |
    ///
    /// Σ NRR = 29.75; x 1/9 = 3.30556 (the index on 1-4); x 25 = 82.6389,
    /// which is 82.64: grade B (76.61-88.30), "Baik". With the weight rounded
    /// to 0.111 it would be 29.75 x 0.111 x 25 = 82.5563, 82.56.
    #[test]
    fn a_worked_example_by_the_regulations_arithmetic() {
        let t = totals(&[
            [4, 3, 3, 4, 3, 4, 4, 3, 3],
            [3, 3, 2, 4, 3, 3, 4, 3, 3],
            [4, 4, 3, 4, 3, 4, 4, 2, 3],
            [3, 3, 3, 4, 4, 3, 4, 3, 2],
        ]);
        let ikm = t.ikm().unwrap();
        assert_eq!(ikm.respondents, 4);
        assert_eq!(ikm.sums, [14, 13, 11, 16, 13, 14, 16, 11, 11]);
        assert_eq!(ikm.nrr, [3.5, 3.25, 2.75, 4.0, 3.25, 3.5, 4.0, 2.75, 2.75]);
        assert_eq!(ikm.hundredths, 8264);
        assert_eq!(ikm.value(), 82.64);
        assert_eq!(ikm.grade, Grade::B);
        assert_eq!(ikm.grade.label(), "Baik");
    }

    #[test]
    fn the_weight_is_exactly_one_ninth() {
        // Everyone answers 4 everywhere: 100, not the 99.9 of a 0.111 weight.
        let best = totals(&[[4; ELEMENTS], [4; ELEMENTS]]).ikm().unwrap();
        assert_eq!(best.hundredths, 10000);
        assert_eq!(best.grade, Grade::A);
        // And 1 everywhere is the scale's floor, 25.00 (not 24.98): grade D.
        let worst = totals(&[[1; ELEMENTS]]).ikm().unwrap();
        assert_eq!(worst.hundredths, 2500);
        assert_eq!(worst.grade, Grade::D);
        // 3 everywhere: 75.00 exactly, grade C.
        let three = totals(&[[3; ELEMENTS]]).ikm().unwrap();
        assert_eq!(three.hundredths, 7500);
        assert_eq!(three.grade, Grade::C);
    }

    #[test]
    fn grade_boundaries_fall_where_the_regulation_puts_them() {
        let cases = [
            (10000, Grade::A),
            (8831, Grade::A),
            (8830, Grade::B),
            (7661, Grade::B),
            (7660, Grade::C),
            (6500, Grade::C),
            (6499, Grade::D),
            (2500, Grade::D),
        ];
        for (h, grade) in cases {
            assert_eq!(Grade::of_hundredths(h), grade, "{h}");
        }
    }

    #[test]
    fn boundaries_are_hit_exactly_from_answers() {
        // One respondent's total S gives 2500 S / 9 hundredths: S = 32 is
        // 88.888.. (A); over several respondents the index moves in finer steps.
        // n = 25, S = 795: 2500 x 795 / 225 = 8833.33 -> 88.33 (A);
        // n = 25, S = 794: 8822.2 -> 88.22 (B).
        let h = |total: i64, n: i64| hundredths(total, n);
        assert_eq!(h(795, 25), 8833);
        assert_eq!(Grade::of_hundredths(h(794, 25)), Grade::B);
        // Exactly on a boundary: n = 250, S = 7947 -> 2500 x 7947 / 2250 = 8830.0 (B),
        // S = 7948 -> 8831.11 (A).
        assert_eq!(h(7947, 250), 8830);
        assert_eq!(Grade::of_hundredths(h(7947, 250)), Grade::B);
        assert_eq!(h(7948, 250), 8831);
        assert_eq!(Grade::of_hundredths(h(7948, 250)), Grade::A);
        // 76.60 / 76.61: n = 100, S = 2757.6 .. -> S = 2758 gives 7661.1 (B),
        // S = 2757 gives 7658.3 (C).
        assert_eq!(Grade::of_hundredths(h(2758, 100)), Grade::B);
        assert_eq!(Grade::of_hundredths(h(2757, 100)), Grade::C);
        // 65.00 exactly: 2500 S / 9n = 6500 <=> S = 23.4 n; n = 5, S = 117.
        assert_eq!(h(117, 5), 6500);
        assert_eq!(Grade::of_hundredths(h(117, 5)), Grade::C);
        assert_eq!(Grade::of_hundredths(h(116, 5)), Grade::D);
        // Half a hundredth rounds up: n = 8, S = 81 is 2812.5 hundredths -> 28.13;
        // n = 5000, S = 158949 is 88.305 -> 88.31, an A (no gap between B and A).
        assert_eq!(h(81, 8), 2813);
        assert_eq!(h(158_949, 5000), 8831);
        assert_eq!(Grade::of_hundredths(h(158_949, 5000)), Grade::A);
    }

    #[test]
    fn answers_are_checked_one_by_one() {
        let all = |score: i32| -> Vec<(String, i32)> {
            CODES.iter().map(|c| (c.to_string(), score)).collect()
        };
        assert_eq!(check_answers(&all(4)).unwrap().len(), ELEMENTS);
        assert!(check_answers(&all(0)).is_err());
        assert!(check_answers(&all(5)).is_err());
        let mut missing = all(3);
        missing.pop();
        assert!(check_answers(&missing).unwrap_err().1.contains("U9"));
        let mut twice = all(3);
        twice[8].0 = "U1".into();
        assert!(check_answers(&twice).unwrap_err().1.contains("twice"));
        let mut unknown = all(3);
        unknown[0].0 = "U10".into();
        assert!(check_answers(&unknown).is_err());
        // Given in any order, stored in U1..U9 order.
        let mut reversed = all(2);
        reversed.reverse();
        reversed[0].1 = 4; // U9
        let stored = check_answers(&reversed).unwrap();
        assert_eq!(stored[8].element, "U9");
        assert_eq!(stored[8].score, 4);
    }

    #[test]
    fn the_default_elements_are_the_regulations_nine() {
        let e = default_elements();
        check_elements(&e).unwrap();
        assert_eq!(e[0].name, "Persyaratan");
        assert_eq!(e[7].code, "U8");
        let mut eight = e.clone();
        eight.pop();
        assert!(check_elements(&eight).is_err());
        let mut twice = e;
        twice[1].code = "U1".into();
        assert!(check_elements(&twice).is_err());
    }
}
