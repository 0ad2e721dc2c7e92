//! The access policy: may this actor do this to that patient? Pure: the facts
//! (who the actor is to the patient) are looked up by the caller.
//!
//! A caller who has no relation to a patient gets `NotFound`, never `Forbidden`,
//! so that patient ids cannot be probed. `Forbidden` is only for callers who can
//! see the patient but whose role may not take this action.

use crate::audit::AuditAction;
use crate::auth::Actor;
use crate::domain::{PatientId, Role};
use crate::error::{Error, Result};

/// What the database knows about the actor and the patient; the store reports it and
/// [`relation`] decides what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PatientFacts {
    pub patient_exists: bool,
    /// An active care relationship between the actor (as a doctor) and the patient.
    pub actor_in_care: bool,
}

/// What the actor is to the patient.
pub fn relation(actor: &Actor, patient: PatientId, facts: PatientFacts) -> Relation {
    match actor.role() {
        _ if !facts.patient_exists => Relation::Stranger,
        Role::Patient if actor.patient_id() == Some(patient) => Relation::Own,
        Role::Admin => Relation::Admin,
        Role::Doctor if facts.actor_in_care => Relation::InCare,
        _ => Relation::Stranger,
    }
}

/// What the actor is to the patient in question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The patient themself.
    Own,
    /// A doctor with an active care relationship.
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

    #[test]
    fn the_relation_follows_the_facts_not_the_role_alone() {
        let patient = PatientId::new();
        let exists = PatientFacts { patient_exists: true, actor_in_care: false };
        let in_care = PatientFacts { patient_exists: true, actor_in_care: true };
        let missing = PatientFacts { patient_exists: false, actor_in_care: true };
        let own = Actor::new(crate::domain::UserId::new(), Role::Patient, uuid::Uuid::nil(), Some(patient));
        let other = Actor::new(crate::domain::UserId::new(), Role::Patient, uuid::Uuid::nil(), Some(PatientId::new()));
        let doctor = Actor::new(crate::domain::UserId::new(), Role::Doctor, uuid::Uuid::nil(), None);
        let admin = Actor::new(crate::domain::UserId::new(), Role::Admin, uuid::Uuid::nil(), None);
        assert_eq!(relation(&own, patient, exists), Own);
        assert_eq!(relation(&other, patient, exists), Stranger);
        assert_eq!(relation(&doctor, patient, exists), Stranger);
        assert_eq!(relation(&doctor, patient, in_care), InCare);
        assert_eq!(relation(&admin, patient, exists), Admin);
        for actor in [&own, &doctor, &admin] {
            assert_eq!(relation(actor, patient, missing), Stranger, "a patient that does not exist");
        }
    }

    #[test]
    fn only_changes_lock_the_relation() {
        assert!(AddRecord.writes() && GrantCare.writes() && RevokeCare.writes() && RequestPrediction.writes());
        assert!(!ReadProfile.writes() && !ReadRecords.writes() && !ReadCareTeam.writes() && !ReadPredictions.writes());
    }
}
