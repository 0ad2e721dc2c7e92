use crate::domain::{DoctorId, PatientId, Role, UserId};

/// The authenticated caller of a use case. Its fields are private and only the core
/// makes one, from a verified access token (`MedConnect::authenticate`): holding an
/// `Actor` means the token was checked against the database, the account is active
/// and the session not revoked. No other crate can make an administrator out of thin air.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user_id: UserId,
    role: Role,
    /// The session (refresh-token family) the access token belongs to.
    session_id: uuid::Uuid,
    /// The caller's own patient record, when the caller is a patient.
    patient_id: Option<PatientId>,
}

impl Actor {
    pub(crate) fn new(user_id: UserId, role: Role, session_id: uuid::Uuid, patient_id: Option<PatientId>) -> Self {
        Self { user_id, role, session_id, patient_id }
    }

    /// The caller's account.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The caller's own patient record, when the caller is a patient with one.
    pub fn patient_id(&self) -> Option<PatientId> {
        self.patient_id
    }

    /// The caller's doctor id, when the caller is a doctor.
    pub fn doctor_id(&self) -> Option<DoctorId> {
        (self.role == Role::Doctor).then_some(DoctorId(self.user_id.0))
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub(crate) fn session_id(&self) -> uuid::Uuid {
        self.session_id
    }
}
