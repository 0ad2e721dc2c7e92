//! The access policy: may this actor do this to that patient? Pure: the facts
//! (who the actor is to the patient) are looked up by the caller.
//!
//! A caller who has no relation to a patient gets `NotFound`, never `Forbidden`,
//! so that patient ids cannot be probed. `Forbidden` is only for callers who can
//! see the patient but whose role may not take this action.

use chrono::{DateTime, Utc};

use crate::audit::AuditAction;
use crate::auth::Actor;
use crate::domain::{ConsultationTransition, DoctorId, PatientId, Role};
use crate::error::{Error, Result};

/// What the database knows about the actor and the patient; the store reports it and
/// [`relation`] decides what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PatientFacts {
    pub patient_exists: bool,
    /// An active care relationship between the actor (as a doctor) and the patient.
    pub actor_in_care: bool,
    /// A consultation of the patient with the actor that the actor accepted and that has
    /// not ended: care until it ends.
    #[serde(default)]
    pub consultation_open: bool,
    /// The latest end of care through consultations of the patient with the actor that
    /// have ended (their end plus the grace period). An end, not a yes/no, so that facts
    /// read (or cached) before it still decide right after it.
    #[serde(default)]
    pub consultation_care_until: Option<DateTime<Utc>>,
}

impl PatientFacts {
    /// Whether the actor, as a doctor, has care of the patient at `now`: granted through
    /// the care team, or time-limited through a consultation they accepted.
    pub fn in_care_at(&self, now: DateTime<Utc>) -> bool {
        self.actor_in_care || self.consultation_open || self.consultation_care_until.is_some_and(|until| now < until)
    }
}

/// What the actor is to the patient at `now`.
pub fn relation(actor: &Actor, patient: PatientId, facts: PatientFacts, now: DateTime<Utc>) -> Relation {
    match actor.role() {
        _ if !facts.patient_exists => Relation::Stranger,
        Role::Patient if actor.patient_id() == Some(patient) => Relation::Own,
        Role::Admin => Relation::Admin,
        Role::Doctor if facts.in_care_at(now) => Relation::InCare,
        _ => Relation::Stranger,
    }
}

/// What the actor is to the patient in question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The patient themself.
    Own,
    /// A doctor with an active care relationship, ongoing or through a consultation.
    InCare,
    /// An administrator (sees every patient's profile, not their health data).
    Admin,
    /// Anyone else, or a patient that does not exist.
    Stranger,
}

/// The actions on a patient that the policy rules on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientAction {
    ReadProfile,
    ReadRecords,
    AddRecord,
    ReadCareTeam,
    GrantCare,
    RevokeCare,
    /// Run decision support; doctors in care only.
    RequestPrediction,
    ReadPredictions,
    ReviewPrediction,
}

impl PatientAction {
    /// Whether the action changes the record: then the relation it was allowed on is
    /// locked until the change commits, so a concurrent revoke waits for it (or it for the revoke).
    pub fn writes(self) -> bool {
        use PatientAction::*;
        matches!(self, AddRecord | GrantCare | RevokeCare | RequestPrediction | ReviewPrediction)
    }

    /// The name of the action in the audit log.
    pub fn audited_as(self) -> AuditAction {
        match self {
            PatientAction::ReadProfile => AuditAction::PatientRead,
            PatientAction::ReadRecords => AuditAction::MedicalRead,
            PatientAction::AddRecord => AuditAction::MedicalCreate,
            PatientAction::ReadCareTeam => AuditAction::CareRead,
            PatientAction::GrantCare => AuditAction::CareGrant,
            PatientAction::RevokeCare => AuditAction::CareRevoke,
            PatientAction::RequestPrediction => AuditAction::PredictionCreate,
            PatientAction::ReadPredictions => AuditAction::PredictionRead,
            PatientAction::ReviewPrediction => AuditAction::PredictionReview,
        }
    }
}

pub fn authorize(relation: Relation, action: PatientAction) -> Result<()> {
    use PatientAction::*;
    use Relation::*;
    match (relation, action) {
        (Stranger, _) => Err(Error::NotFound("patient")),
        (Own, RequestPrediction | ReviewPrediction) => {
            Err(Error::forbidden("only a doctor in the patient's care may request or review predictions"))
        }
        (Own, _) => Ok(()),
        (InCare, GrantCare | RevokeCare) => {
            Err(Error::forbidden("only the patient or an administrator may change the care team"))
        }
        (InCare, _) => Ok(()),
        (Admin, ReadProfile | ReadCareTeam | GrantCare | RevokeCare) => Ok(()),
        (Admin, ReadRecords | AddRecord | RequestPrediction | ReadPredictions | ReviewPrediction) => {
            Err(Error::forbidden("administrators do not access health records"))
        }
    }
}

/// What the actor is to one consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsultationParty {
    /// The patient who asked for it.
    Patient,
    /// The doctor it was asked of.
    Doctor,
    /// An administrator: metadata only.
    Admin,
    Stranger,
}

/// The actions on one consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsultationAction {
    Read,
    Change(ConsultationTransition),
}

impl ConsultationAction {
    pub fn audited_as(self) -> AuditAction {
        match self {
            ConsultationAction::Read => AuditAction::ConsultationRead,
            ConsultationAction::Change(ConsultationTransition::Accept) => AuditAction::ConsultationAccept,
            ConsultationAction::Change(ConsultationTransition::Decline) => AuditAction::ConsultationDecline,
            ConsultationAction::Change(ConsultationTransition::Cancel) => AuditAction::ConsultationCancel,
            ConsultationAction::Change(ConsultationTransition::Complete) => AuditAction::ConsultationComplete,
        }
    }
}

pub fn consultation_party(actor: &Actor, patient: PatientId, doctor: DoctorId) -> ConsultationParty {
    match actor.role() {
        Role::Patient if actor.patient_id() == Some(patient) => ConsultationParty::Patient,
        Role::Doctor if actor.doctor_id() == Some(doctor) => ConsultationParty::Doctor,
        Role::Admin => ConsultationParty::Admin,
        _ => ConsultationParty::Stranger,
    }
}

/// Who may do what to a consultation: its doctor answers, accepts, completes; either side
/// cancels; administrators read metadata (the caller strips the content); anyone else
/// learns nothing of it.
pub fn authorize_consultation(party: ConsultationParty, action: ConsultationAction) -> Result<()> {
    use ConsultationAction::*;
    use ConsultationParty::*;
    use ConsultationTransition::*;
    match (party, action) {
        (Stranger, _) => Err(Error::NotFound("consultation")),
        (_, Read) => Ok(()),
        (Doctor, Change(_)) | (Patient, Change(Cancel)) => Ok(()),
        (Patient, Change(Accept | Decline | Complete)) => {
            Err(Error::forbidden("only the consultation's doctor may accept, decline or complete it"))
        }
        (Admin, Change(_)) => Err(Error::forbidden("administrators see consultation metadata only")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PatientAction::*;
    use Relation::*;

    #[test]
    fn strangers_learn_nothing() {
        for action in [ReadProfile, ReadRecords, AddRecord, ReadCareTeam, GrantCare, RevokeCare, ReadPredictions] {
            assert!(matches!(authorize(Stranger, action), Err(Error::NotFound(_))));
            assert!(authorize(Own, action).is_ok());
        }
        assert!(matches!(authorize(Stranger, RequestPrediction), Err(Error::NotFound(_))));
    }

    #[test]
    fn doctors_in_care_keep_records_but_do_not_manage_the_team() {
        assert!(authorize(InCare, ReadRecords).is_ok());
        assert!(authorize(InCare, AddRecord).is_ok());
        assert!(matches!(authorize(InCare, GrantCare), Err(Error::Forbidden(_))));
        assert!(matches!(authorize(InCare, RevokeCare), Err(Error::Forbidden(_))));
    }

    #[test]
    fn only_doctors_in_care_request_and_review_predictions() {
        assert!(authorize(InCare, RequestPrediction).is_ok());
        assert!(authorize(InCare, ReviewPrediction).is_ok());
        for relation in [Own, Admin] {
            assert!(matches!(authorize(relation, RequestPrediction), Err(Error::Forbidden(_))));
            assert!(matches!(authorize(relation, ReviewPrediction), Err(Error::Forbidden(_))));
        }
        assert!(matches!(authorize(Admin, ReadPredictions), Err(Error::Forbidden(_))));
    }

    #[test]
    fn admins_manage_accounts_not_health_data() {
        assert!(authorize(Admin, ReadProfile).is_ok());
        assert!(authorize(Admin, GrantCare).is_ok());
        assert!(matches!(authorize(Admin, ReadRecords), Err(Error::Forbidden(_))));
        assert!(matches!(authorize(Admin, AddRecord), Err(Error::Forbidden(_))));
    }

    fn facts(patient_exists: bool, actor_in_care: bool) -> PatientFacts {
        PatientFacts { patient_exists, actor_in_care, consultation_open: false, consultation_care_until: None }
    }

    #[test]
    fn the_relation_follows_the_facts_not_the_role_alone() {
        let patient = PatientId::new();
        let now = Utc::now();
        let exists = facts(true, false);
        let in_care = facts(true, true);
        let missing = facts(false, true);
        let own = Actor::new(crate::domain::UserId::new(), Role::Patient, uuid::Uuid::nil(), Some(patient));
        let other = Actor::new(crate::domain::UserId::new(), Role::Patient, uuid::Uuid::nil(), Some(PatientId::new()));
        let doctor = Actor::new(crate::domain::UserId::new(), Role::Doctor, uuid::Uuid::nil(), None);
        let admin = Actor::new(crate::domain::UserId::new(), Role::Admin, uuid::Uuid::nil(), None);
        assert_eq!(relation(&own, patient, exists, now), Own);
        assert_eq!(relation(&other, patient, exists, now), Stranger);
        assert_eq!(relation(&doctor, patient, exists, now), Stranger);
        assert_eq!(relation(&doctor, patient, in_care, now), InCare);
        assert_eq!(relation(&admin, patient, exists, now), Admin);
        for actor in [&own, &doctor, &admin] {
            assert_eq!(relation(actor, patient, missing, now), Stranger, "a patient that does not exist");
        }
    }

    #[test]
    fn care_through_a_consultation_lasts_while_it_is_open_and_until_its_end() {
        let patient = PatientId::new();
        let doctor = Actor::new(crate::domain::UserId::new(), Role::Doctor, uuid::Uuid::nil(), None);
        let now = Utc::now();
        let open = PatientFacts { consultation_open: true, ..facts(true, false) };
        assert_eq!(relation(&doctor, patient, open, now), InCare);
        let until = now + chrono::Duration::days(7);
        let ended = PatientFacts { consultation_care_until: Some(until), ..facts(true, false) };
        assert_eq!(relation(&doctor, patient, ended, now), InCare, "within the grace period");
        assert_eq!(relation(&doctor, patient, ended, until - chrono::Duration::seconds(1)), InCare);
        assert_eq!(relation(&doctor, patient, ended, until), Stranger, "care ends at its end");
        let also_granted = PatientFacts { actor_in_care: true, ..ended };
        assert_eq!(relation(&doctor, patient, also_granted, until + chrono::Duration::days(30)), InCare);
    }

    #[test]
    fn consultations_are_answered_by_their_doctor_and_cancelled_by_either_side() {
        use ConsultationParty as P;
        use ConsultationTransition::*;
        for transition in ConsultationTransition::ALL {
            let change = ConsultationAction::Change(transition);
            assert!(authorize_consultation(P::Doctor, change).is_ok());
            assert!(matches!(authorize_consultation(P::Admin, change), Err(Error::Forbidden(_))));
            assert!(matches!(authorize_consultation(P::Stranger, change), Err(Error::NotFound(_))));
            let patient = authorize_consultation(P::Patient, change);
            assert_eq!(patient.is_ok(), transition == Cancel, "{transition:?}");
        }
        for party in [P::Patient, P::Doctor, P::Admin] {
            assert!(authorize_consultation(party, ConsultationAction::Read).is_ok());
        }
        assert!(matches!(authorize_consultation(P::Stranger, ConsultationAction::Read), Err(Error::NotFound(_))));
    }

    #[test]
    fn only_changes_lock_the_relation() {
        assert!(AddRecord.writes() && GrantCare.writes() && RevokeCare.writes() && RequestPrediction.writes());
        assert!(!ReadProfile.writes() && !ReadRecords.writes() && !ReadCareTeam.writes() && !ReadPredictions.writes());
    }
}
