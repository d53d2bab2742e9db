//! Where a case has been, and which loops it has already been escalated for.

use serde::{Deserialize, Serialize};

/// The holder a case returned to the Command Center is with.
pub const COMMAND_CENTER: &str = "COMMAND_CENTER";

/// The holders a case has had since its first dispatch, in order, and what
/// was escalated of its travels. Folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffTrail {
    /// OPDs (and `COMMAND_CENTER` after a return), each arrival once.
    pub holders: Vec<String>,
    /// Transfers and returns so far.
    pub handoffs: u32,
    /// The loops escalated so far, each as its sorted holders.
    pub escalated_loops: Vec<Vec<String>>,
    /// Whether the case was escalated for too many hand-offs.
    pub escalated_over_limit: bool,
}

/// What an automatic escalation detected, recorded on its `Escalated` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffLoop {
    /// The OPD the case came back to, when it did (A -> B -> A names A).
    pub revisited: Option<String>,
    /// The holders of the loop, from the revisited OPD's earlier stay to its
    /// return; or the whole trail for too many hand-offs.
    pub holders: Vec<String>,
    /// Hand-offs so far.
    pub handoffs: u32,
    /// The hand-offs went over the configured limit with this one.
    pub over_limit: bool,
}

impl HandoffTrail {
    /// The case arrived at `holder` (dispatch, transfer or return).
    pub fn arrived(&mut self, holder: &str) {
        if self.holders.last().map(String::as_str) != Some(holder) {
            self.holders.push(holder.to_string());
        }
    }

    /// A transfer or return.
    pub fn handed_on(&mut self, to: &str) {
        self.handoffs += 1;
        self.arrived(to);
    }

    /// What the latest arrival detected that was not escalated yet: a return
    /// to an OPD the case had left, or the hand-offs going over `max`.
    pub fn detect(&self, max: u32) -> Option<HandoffLoop> {
        let loop_holders = self.revisit().filter(|l| {
            let key = sorted(l);
            !self.escalated_loops.contains(&key)
        });
        let over_limit = self.handoffs > max && !self.escalated_over_limit;
        if loop_holders.is_none() && !over_limit {
            return None;
        }
        Some(HandoffLoop {
            revisited: loop_holders.as_ref().and_then(|l| l.last().cloned()),
            holders: loop_holders.unwrap_or_else(|| self.holders.clone()),
            handoffs: self.handoffs,
            over_limit,
        })
    }

    /// Record an escalation for `found`, so the same loop is not escalated again.
    pub fn escalated(&mut self, found: &HandoffLoop) {
        if found.revisited.is_some() {
            self.escalated_loops.push(sorted(&found.holders));
        }
        self.escalated_over_limit |= found.over_limit;
    }

    /// The holders from the last holder's earlier stay to now, when the last
    /// holder is an OPD the case had already left.
    fn revisit(&self) -> Option<Vec<String>> {
        let (last, before) = self.holders.split_last()?;
        if last == COMMAND_CENTER {
            return None;
        }
        let earlier = before.iter().rposition(|h| h == last)?;
        Some(self.holders[earlier..].to_vec())
    }
}

/// A loop's OPDs as a set: DPU -> DLH -> DPU and DLH -> DPU -> DLH are one
/// loop, and so is DLH -> DPU -> Command Center -> DLH (the same two OPDs
/// bouncing it, one of them by way of the routing desk).
fn sorted(holders: &[String]) -> Vec<String> {
    let mut set: Vec<String> = holders
        .iter()
        .filter(|h| *h != COMMAND_CENTER)
        .cloned()
        .collect();
    set.sort();
    set.dedup();
    set
}

impl HandoffLoop {
    /// How the escalation's reason reads.
    pub fn describe(&self) -> String {
        let path = self.holders.join(" -> ");
        match (&self.revisited, self.over_limit) {
            (Some(opd), false) => format!("hand-off loop: back at {opd} ({path})"),
            (Some(opd), true) => format!(
                "hand-off loop: back at {opd} ({path}), and {} hand-offs",
                self.handoffs
            ),
            (None, _) => format!("{} hand-offs ({path})", self.handoffs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(moves: &[&str]) -> HandoffTrail {
        let mut t = HandoffTrail::default();
        let (first, rest) = moves.split_first().unwrap();
        t.arrived(first);
        for m in rest {
            t.handed_on(m);
        }
        t
    }

    #[test]
    fn a_b_a_is_a_loop_once() {
        let mut t = trail(&["DPU", "DLH"]);
        assert_eq!(t.detect(2), None);
        t.handed_on("DPU");
        let found = t.detect(2).expect("DPU -> DLH -> DPU");
        assert_eq!(found.revisited.as_deref(), Some("DPU"));
        assert_eq!(found.holders, ["DPU", "DLH", "DPU"]);
        assert!(!found.over_limit);
        t.escalated(&found);
        assert_eq!(t.detect(5), None, "escalated once");
        // Back to DLH: the same two OPDs, the same loop.
        t.handed_on("DLH");
        assert_eq!(t.detect(5), None);
    }

    #[test]
    fn more_than_max_handoffs_escalates_once() {
        let mut t = trail(&["DPU", "DLH", "DISHUB"]);
        assert_eq!(t.detect(2), None);
        t.handed_on("PDAM");
        let found = t.detect(2).expect("three hand-offs");
        assert!(found.over_limit && found.revisited.is_none());
        t.escalated(&found);
        t.handed_on("DINKES");
        assert_eq!(t.detect(2), None);
    }

    #[test]
    fn a_return_to_the_command_center_is_no_revisit() {
        let mut t = trail(&["DPU", COMMAND_CENTER]);
        assert_eq!(t.detect(5), None);
        t.arrived("DLH");
        t.handed_on(COMMAND_CENTER);
        assert_eq!(t.detect(5), None);
        t.arrived("DPU");
        let found = t.detect(5).unwrap();
        assert_eq!(found.revisited.as_deref(), Some("DPU"));
        t.escalated(&found);
        // DLH again, by way of the desk: still the DPU/DLH loop.
        t.handed_on(COMMAND_CENTER);
        t.arrived("DLH");
        assert_eq!(t.detect(5), None);
    }
}
