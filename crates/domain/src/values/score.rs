use serde::Serialize;

use super::Invalid;

/// The citizen's satisfaction with a closure: 1 (very dissatisfied) to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Score(u8);

impl Score {
    pub fn parse(score: i32) -> Result<Self, Invalid> {
        u8::try_from(score)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .map(Score)
            .ok_or_else(|| Invalid::new("must be between 1 and 5"))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_is_one_to_five() {
        for s in 1..=5 {
            assert_eq!(Score::parse(s).map(Score::get), Ok(s as u8));
        }
        // 261 would wrap to 5 as a byte; -1 to 255.
        for s in [0, 6, -1, 261, i32::MAX, i32::MIN] {
            assert_eq!(
                Score::parse(s),
                Err(Invalid::new("must be between 1 and 5")),
                "{s}"
            );
        }
    }
}
