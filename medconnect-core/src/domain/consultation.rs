//! Consultations: what a patient asks of a doctor, the lifecycle the request goes through,
//! and the checks on what the patient and the doctor send.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BoundedText, ConsultationId, DoctorId, EntryId, MedicalEntry, PatientId, Prediction, UserId};
use crate::error::{Error, Result};

/// Where a consultation stands. `requested → accepted → completed`, with `declined` (from
/// requested) and `cancelled` (from requested or accepted) as exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationStatus {
    Requested,
    Accepted,
    Completed,
    Declined,
    Cancelled,
}

impl ConsultationStatus {
    pub const ALL: [ConsultationStatus; 5] =
        [Self::Requested, Self::Accepted, Self::Completed, Self::Declined, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Accepted => "accepted",
            Self::Completed => "completed",
            Self::Declined => "declined",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Error::invalid("status", "must be requested, accepted, completed, declined or cancelled"))
    }

    /// The status a transition leads to from this one, or a conflict that names where the
    /// consultation stands.
    pub fn after(self, transition: ConsultationTransition) -> Result<Self> {
        use ConsultationStatus::*;
        use ConsultationTransition::*;
        match (self, transition) {
            (Requested, Accept) => Ok(Accepted),
            (Requested, Decline) => Ok(Declined),
            (Requested | Accepted, Cancel) => Ok(Cancelled),
            (Accepted, Complete) => Ok(Completed),
            _ => Err(Error::WrongState { what: "consultation", status: self.as_str(), change: transition.verb() }),
        }
    }
}

/// A change of status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsultationTransition {
    Accept,
    Decline,
    Cancel,
    Complete,
}

impl ConsultationTransition {
    pub const ALL: [ConsultationTransition; 4] = [Self::Accept, Self::Decline, Self::Cancel, Self::Complete];

    pub fn verb(self) -> &'static str {
        match self {
            Self::Accept => "accepted",
            Self::Decline => "declined",
            Self::Cancel => "cancelled",
            Self::Complete => "completed",
        }
    }
}

/// How the patient and the doctor meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationMode {
    InPerson,
    Video,
    Phone,
}

impl ConsultationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InPerson => "in_person",
            Self::Video => "video",
            Self::Phone => "phone",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        [Self::InPerson, Self::Video, Self::Phone]
            .into_iter()
            .find(|m| m.as_str() == raw)
            .ok_or_else(|| Error::invalid("mode", "must be in_person, video or phone"))
    }
}

/// A time the patient could come, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Bounds on what a request carries.
pub const MAX_REASON_CHARS: usize = 2000;
pub const MAX_NOTE_CHARS: usize = 10_000;
pub const MAX_WINDOWS: usize = 10;
pub const MAX_SHARED_ENTRIES: usize = 50;
/// How far ahead a consultation may be asked for or scheduled.
const MAX_AHEAD: chrono::TimeDelta = chrono::TimeDelta::days(366);

pub type Reason = BoundedText<MAX_REASON_CHARS, true>;
pub type ConsultationNote = BoundedText<MAX_NOTE_CHARS, true>;

/// A patient's request, as sent.
#[derive(Debug, Clone)]
pub struct NewConsultation {
    pub doctor_id: DoctorId,
    pub reason: String,
    pub mode: ConsultationMode,
    pub preferred_windows: Vec<TimeWindow>,
    pub shared_entries: Vec<EntryId>,
}

/// A request that passed its checks.
#[derive(Debug, Clone)]
pub struct CheckedConsultation {
    pub doctor_id: DoctorId,
    pub reason: Reason,
    pub mode: ConsultationMode,
    pub preferred_windows: Vec<TimeWindow>,
    pub shared_entries: Vec<EntryId>,
}

impl NewConsultation {
    /// Checks the request at `now`: a bounded reason, windows in the future and ordered, a
    /// bounded list of distinct entries.
    pub fn parse(self, now: DateTime<Utc>) -> Result<CheckedConsultation> {
        let reason = Reason::parse("reason", &self.reason)?;
        if self.preferred_windows.len() > MAX_WINDOWS {
            return Err(Error::invalid("preferred_windows", format!("must hold at most {MAX_WINDOWS} windows")));
        }
        for window in &self.preferred_windows {
            if window.start <= now {
                return Err(Error::invalid("preferred_windows", "each window must start in the future"));
            }
            if window.end <= window.start {
                return Err(Error::invalid("preferred_windows", "each window must end after it starts"));
            }
            if window.end > now + MAX_AHEAD {
                return Err(Error::invalid("preferred_windows", "each window must end within a year"));
            }
        }
        let mut windows = self.preferred_windows;
        windows.sort_by_key(|w| w.start);
        if self.shared_entries.len() > MAX_SHARED_ENTRIES {
            return Err(Error::invalid("shared_entries", format!("must name at most {MAX_SHARED_ENTRIES} entries")));
        }
        let mut shared = self.shared_entries;
        shared.sort();
        shared.dedup();
        Ok(CheckedConsultation {
            doctor_id: self.doctor_id,
            reason,
            mode: self.mode,
            preferred_windows: windows,
            shared_entries: shared,
        })
    }
}

/// The time a doctor sets when accepting: in the future, within a year.
pub fn check_appointment(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if at <= now {
        return Err(Error::invalid("scheduled_for", "must be in the future"));
    }
    if at > now + MAX_AHEAD {
        return Err(Error::invalid("scheduled_for", "must be within a year"));
    }
    Ok(at)
}

/// A consultation as its patient and doctor see it. For an administrator the health
/// content (`reason`, the windows, the decline and cancel reasons, the completion note) is
/// left out: they see who, when and the status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consultation {
    pub id: ConsultationId,
    pub patient_id: PatientId,
    pub doctor_id: DoctorId,
    pub status: ConsultationStatus,
    pub mode: ConsultationMode,
    pub requested_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub scheduled_for: Option<DateTime<Utc>>,
    /// When it was completed, declined or cancelled, and by whom.
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<UserId>,
    /// When the doctor's care through this consultation ends (once an accepted
    /// consultation has ended: its end plus the grace period).
    pub care_until: Option<DateTime<Utc>>,
    pub content: Option<ConsultationContent>,
}

/// The health content of a consultation: for its patient and its doctor only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsultationContent {
    pub reason: String,
    pub preferred_windows: Vec<TimeWindow>,
    pub decline_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub completion_note: Option<String>,
}

impl Consultation {
    /// The metadata alone, for administrators.
    pub fn metadata_only(mut self) -> Self {
        self.content = None;
        self
    }
}

/// One consultation with what it carries: the entries the patient shared, and what was
/// documented during it (entries and predictions that carry its id).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsultationRecord {
    pub consultation: Consultation,
    pub shared_entries: Vec<MedicalEntry>,
    pub documented_entries: Vec<MedicalEntry>,
    pub predictions: Vec<Prediction>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsultationStatus::*;
    use ConsultationTransition::*;

    #[test]
    fn every_transition_is_allowed_or_names_the_current_status() {
        let allowed = [
            (Requested, Accept, Accepted),
            (Requested, Decline, Declined),
            (Requested, Cancel, Cancelled),
            (Accepted, Cancel, Cancelled),
            (Accepted, Complete, Completed),
        ];
        for status in ConsultationStatus::ALL {
            for transition in ConsultationTransition::ALL {
                let expected = allowed.iter().find(|(s, t, _)| *s == status && *t == transition).map(|(_, _, to)| *to);
                match (status.after(transition), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want),
                    (Err(err @ Error::WrongState { .. }), None) => {
                        let message = err.to_string();
                        assert!(message.contains(status.as_str()), "{message}");
                        assert!(message.contains(transition.verb()), "{message}");
                    }
                    (got, want) => panic!("{status:?} {transition:?}: got {got:?}, expected {want:?}"),
                }
            }
        }
    }

    fn request(windows: Vec<TimeWindow>) -> NewConsultation {
        NewConsultation {
            doctor_id: DoctorId::new(),
            reason: "chest pain on exertion".into(),
            mode: ConsultationMode::Video,
            preferred_windows: windows,
            shared_entries: vec![],
        }
    }

    #[test]
    fn windows_must_be_in_the_future_ordered_and_bounded() {
        let now = Utc::now();
        let h = chrono::Duration::hours;
        let field = |r: Result<CheckedConsultation>| match r {
            Err(Error::Invalid { field, .. }) => field.into_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(request(vec![TimeWindow { start: now - h(1), end: now + h(1) }]).parse(now)),
            "preferred_windows"
        );
        assert_eq!(
            field(request(vec![TimeWindow { start: now + h(2), end: now + h(1) }]).parse(now)),
            "preferred_windows"
        );
        let far = TimeWindow { start: now + h(1), end: now + chrono::Duration::days(400) };
        assert_eq!(field(request(vec![far]).parse(now)), "preferred_windows");
        let many = vec![TimeWindow { start: now + h(1), end: now + h(2) }; MAX_WINDOWS + 1];
        assert_eq!(field(request(many).parse(now)), "preferred_windows");
        let later = TimeWindow { start: now + h(5), end: now + h(6) };
        let sooner = TimeWindow { start: now + h(1), end: now + h(2) };
        let checked = request(vec![later, sooner]).parse(now).expect("valid");
        assert_eq!(checked.preferred_windows, vec![sooner, later], "sorted by start");
    }

    #[test]
    fn the_reason_is_bounded_and_not_blank() {
        let now = Utc::now();
        let mut blank = request(vec![]);
        blank.reason = "   ".into();
        assert!(matches!(blank.parse(now), Err(Error::Invalid { field, .. }) if field == "reason"));
        let mut long = request(vec![]);
        long.reason = "x".repeat(MAX_REASON_CHARS + 1);
        assert!(matches!(long.parse(now), Err(Error::Invalid { field, .. }) if field == "reason"));
    }

    #[test]
    fn appointments_are_in_the_future_within_a_year() {
        let now = Utc::now();
        assert!(check_appointment(now - chrono::Duration::minutes(1), now).is_err());
        assert!(check_appointment(now + chrono::Duration::days(400), now).is_err());
        assert!(check_appointment(now + chrono::Duration::days(3), now).is_ok());
    }
}
