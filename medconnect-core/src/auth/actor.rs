use crate::domain::{DoctorId, PatientId, Role, UserId};

/// The authenticated caller of a use case. Built only by `MedConnect::authenticate`
/// (or by the bootstrap paths), so holding one means the token was checked against
/// the database: the account is active and the session not revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    /// The session (refresh-token family) the access token belongs to.
    pub session_id: uuid::Uuid,
    /// The caller's own patient record, when the caller is a patient.
    pub patient_id: Option<PatientId>,
}

impl Actor {
    pub(crate) fn new(user_id: UserId, role: Role, session_id: uuid::Uuid, patient_id: Option<PatientId>) -> Self {
        Self { user_id, role, session_id, patient_id }
    }

    /// The caller's doctor id, when the caller is a doctor.
    pub fn doctor_id(&self) -> Option<DoctorId> {
        (self.role == Role::Doctor).then_some(DoctorId(self.user_id.0))
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
