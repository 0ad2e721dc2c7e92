//! Validated domain types. Parse, don't validate: a value of these types is
//! valid by construction, so the storage and service layers never re-check.

mod consultation;
mod ids;
mod medical;
mod person;
mod prediction;
mod registry;
mod role;
mod text;

pub use consultation::{
    CheckedConsultation, Consultation, ConsultationContent, ConsultationMode, ConsultationNote, ConsultationRecord,
    ConsultationStatus, ConsultationTransition, NewConsultation, Reason, TimeWindow, check_appointment,
};
pub use ids::{ConsultationId, DoctorId, EntryId, PatientId, UserId};
pub use medical::{
    AllergySeverity, DiagnosisStatus, EntryDetails, EntryInput, EntryKind, IcdCode, LoincCode, MedicalEntry,
    NewMedicalEntry, PLAUSIBLE_RANGE_SOURCE, implausible, plausible_range,
};
pub use person::{BirthDate, Email, EmergencyContact, LicenceNumber, Password, PersonName, Phone, Sex};
pub use prediction::{
    DrugInteractionsResult, InputSource, Prediction, PredictionInput, PredictionKind, PredictionOutput, Review,
};
pub use registry::{
    Account, ApiKey, CareRelationship, Doctor, DoctorContact, EmergencyContactView, IssuedApiKey, Patient,
};
pub use role::Role;
pub use text::BoundedText;
