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
