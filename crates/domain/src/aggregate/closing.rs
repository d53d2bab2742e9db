//! Ending a case and what follows: closing (by staff, or by the watcher when
//! the citizen never answered), breaches, reopening, rating and the survey.

use super::decide::{Decided, Decision};
use super::Case;
use crate::access::Operation;
use crate::actor::Role;
use crate::commands::{AnswerSurvey, AutoClose, Close, Rate, RecordBreach, Reopen, Verb};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::values::{Resolution, Status, Text};

impl Case {
    pub(super) fn close(&self, d: &Decision, c: Close) -> Decided {
        self.allow(d.actor, self.may(d, Operation::Close), Close::VERB)?;
        // A linked duplicate closes with its primary (or is unlinked first).
        let allowed_status = if d.actor.works_for(self.opd.as_deref()) {
            self.status.is_with_opd()
        } else {
            self.status.is_open() && self.status != Status::Duplicate
        };
        if !allowed_status {
            return Err(self.transition(Close::VERB));
        }
        let duplicate_of = c.duplicate_of.map(Text::into_string);
        let refused = |message| Err(ComplaintError::invalid("duplicate_of", message));
        match (c.resolution, &duplicate_of) {
            (Resolution::Duplicate, None) => {
                return refused("is required for a DUPLICATE resolution")
            }
            (Resolution::Duplicate, Some(d)) if *d == self.id => {
                return refused("a complaint cannot duplicate itself")
            }
            (Resolution::Duplicate, Some(_)) | (_, None) => {}
            (_, Some(_)) => return refused("is only for a DUPLICATE resolution"),
        }
        Ok(ComplaintEvent::Closed {
            resolution: c.resolution,
            summary: c.summary.into_string(),
            duplicate_of,
            template: c.template,
            occurred_at: d.now,
        })
    }

    /// The deadline watcher records that a leg's deadline passed, once each.
    pub(super) fn record_breach(&self, d: &Decision, b: RecordBreach) -> Decided {
        self.allow(d.actor, d.actor.role == Role::System, RecordBreach::VERB)?;
        if !self.status.is_open() {
            return Err(self.transition(RecordBreach::VERB));
        }
        if b.deadline > d.now {
            return Err(ComplaintError::invalid("deadline", "has not passed yet"));
        }
        if self.recorded_breaches.contains(&(b.leg, b.deadline)) {
            return Err(ComplaintError::RuleViolated(
                "this breach has already been recorded".into(),
            ));
        }
        Ok(ComplaintEvent::SlaBreached {
            leg: b.leg,
            deadline: b.deadline,
            level: self.escalation_level + 1,
            occurred_at: d.now,
        })
    }

    pub(super) fn auto_close(&self, d: &Decision, a: AutoClose) -> Decided {
        self.allow(d.actor, d.actor.role == Role::System, AutoClose::VERB)?;
        if self.status != Status::WaitingForInfo {
            return Err(self.transition(AutoClose::VERB));
        }
        Ok(ComplaintEvent::AutoClosed {
            waiting_since: a.waiting_since,
            reason: "the citizen did not answer the request for information in time".into(),
            occurred_at: d.now,
        })
    }

    /// The citizen disputes a closure, within the reopen window.
    pub(super) fn reopen(&self, d: &Decision, r: Reopen) -> Decided {
        self.allow(d.actor, self.may(d, Operation::Reopen), Reopen::VERB)?;
        if self.status != Status::Closed {
            return Err(self.transition(Reopen::VERB));
        }
        let closed_at = self.closed_at.unwrap_or(self.updated_at);
        let window = d.services.rules.reopen_window;
        if d.now - closed_at > window {
            return Err(ComplaintError::RuleViolated(format!(
                "the reopen window of {} days after closing has passed",
                window.num_days()
            )));
        }
        Ok(ComplaintEvent::Reopened {
            reason: r.reason.into_string(),
            occurred_at: d.now,
        })
    }

    /// Each closure is rated once, by the reporter (account or tracking code).
    pub(super) fn rate(&self, d: &Decision, r: Rate) -> Decided {
        let holder = self.may_with_code(d, Operation::Rate, r.tracking_code.as_deref());
        self.allow(d.actor, holder, Rate::VERB)?;
        if self.status != Status::Closed {
            return Err(self.transition(Rate::VERB));
        }
        if self.rated_closure == Some(self.closure_count) {
            return Err(ComplaintError::RuleViolated(
                "this closure has already been rated".into(),
            ));
        }
        Ok(ComplaintEvent::Rated {
            score: r.score.get(),
            comment: r.comment.map(Text::into_string),
            occurred_at: d.now,
        })
    }

    /// The satisfaction survey (IKM): by the reporter (account or tracking
    /// code), on a closed case, once per case. A second answer is refused
    /// (INVALID_TRANSITION), also after a reopening and a new closing: the
    /// index counts respondents, one per case, and the first answer stands.
    pub(super) fn answer_survey(&self, d: &Decision, s: AnswerSurvey) -> Decided {
        let verb = AnswerSurvey::VERB;
        let holder = self.may_with_code(d, Operation::AnswerSurvey, s.tracking_code.as_deref());
        self.allow(d.actor, holder, verb)?;
        if self.status != Status::Closed {
            return Err(self.transition(verb));
        }
        if self.survey_answered {
            return Err(ComplaintError::RuleViolated(
                "the survey of this case has already been answered".into(),
            ));
        }
        Ok(ComplaintEvent::SurveyAnswered {
            answers: s.answers.into_vec(),
            occurred_at: d.now,
        })
    }
}
