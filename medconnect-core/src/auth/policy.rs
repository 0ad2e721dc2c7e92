//! The access policy: may this actor do this to that patient? Pure: the facts
//! (who the actor is to the patient) are looked up by the caller.
//!
//! A caller who has no relation to a patient gets `NotFound`, never `Forbidden`,
//! so that patient ids cannot be probed. `Forbidden` is only for callers who can
//! see the patient but whose role may not take this action.

use crate::error::{Error, Result};

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
    ManageCareTeam,
    /// Run decision support; doctors in care only.
    RequestPrediction,
    ReadPredictions,
    ReviewPrediction,
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
        (InCare, ManageCareTeam) => {
            Err(Error::forbidden("only the patient or an administrator may change the care team"))
        }
        (InCare, _) => Ok(()),
        (Admin, ReadProfile | ReadCareTeam | ManageCareTeam) => Ok(()),
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
        for action in [ReadProfile, ReadRecords, AddRecord, ReadCareTeam, ManageCareTeam, ReadPredictions] {
            assert!(matches!(authorize(Stranger, action), Err(Error::NotFound(_))));
            assert!(authorize(Own, action).is_ok());
        }
        assert!(matches!(authorize(Stranger, RequestPrediction), Err(Error::NotFound(_))));
    }

    #[test]
    fn doctors_in_care_keep_records_but_do_not_manage_the_team() {
        assert!(authorize(InCare, ReadRecords).is_ok());
        assert!(authorize(InCare, AddRecord).is_ok());
        assert!(matches!(authorize(InCare, ManageCareTeam), Err(Error::Forbidden(_))));
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
        assert!(authorize(Admin, ManageCareTeam).is_ok());
        assert!(matches!(authorize(Admin, ReadRecords), Err(Error::Forbidden(_))));
        assert!(matches!(authorize(Admin, AddRecord), Err(Error::Forbidden(_))));
    }
}
