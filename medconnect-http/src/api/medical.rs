//! Patients' medical records: typed entries, added and listed.

use chrono::{DateTime, Utc};
use medconnect_core::MedConnect;
use medconnect_core::domain::{
    AllergySeverity, ConsultationId, DiagnosisStatus, EntryDetails, EntryInput, EntryKind, MedicalEntry,
    NewMedicalEntry, PatientId,
};
use medconnect_core::services::{EntryFilter, EntryQuery};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Union};
use uuid::Uuid;

use super::serde_body::SerdeJson;
use super::types::{Date, enum_from, page_of, page_request, rfc3339};
use super::{ApiTags, Auth};
use crate::problem::{ApiResult, PatientReadErrors, PatientWriteErrors};

enum_from!(DiagnosisStatusView => DiagnosisStatus { Active, Resolved });
enum_from!(DiagnosisStatus => DiagnosisStatusView { Active, Resolved });
enum_from!(AllergySeverityView => AllergySeverity { Mild, Moderate, Severe });
enum_from!(AllergySeverity => AllergySeverityView { Mild, Moderate, Severe });
enum_from!(EntryKindView => EntryKind { Observation, LabResult, Diagnosis, Medication, Allergy, Note });

/// The kinds of medical entry.
///
/// - `observation`: an observation or vital sign: LOINC code, value and UCUM unit.
/// - `lab_result`: a laboratory result: LOINC code, value, UCUM unit and optional reference range.
/// - `diagnosis`: an ICD-10 coded diagnosis.
/// - `medication`: a substance with dose and dates.
/// - `allergy`: an allergy to a substance or class, with its reaction.
/// - `note`: a free-text clinical note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum EntryKindView {
    Observation,
    LabResult,
    Diagnosis,
    Medication,
    Allergy,
    Note,
}

/// Whether a diagnosis still holds.
///
/// - `active`: the condition is current (the default).
/// - `resolved`: the condition has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisStatusView {
    Active,
    Resolved,
}

/// How severe an allergic reaction is.
///
/// - `mild`: mild.
/// - `moderate`: moderate.
/// - `severe`: severe, such as anaphylaxis or angioedema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AllergySeverityView {
    Mild,
    Moderate,
    Severe,
}

/// An observation or vital sign, such as systolic blood pressure `8480-6` in `mm[Hg]`.
#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields)]
pub struct Observation {
    pub kind: EntryKindView,
    /// LOINC code, check digit included.
    #[oai(validator(max_length = 10))]
    pub code: String,
    pub value: f64,
    /// UCUM unit; common spellings (mmHg, bpm, mg/dl) are accepted and normalised.
    #[oai(validator(max_length = 32))]
    pub unit: String,
}

/// A laboratory result.
#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields)]
pub struct LabResult {
    pub kind: EntryKindView,
    #[oai(validator(max_length = 10))]
    pub code: String,
    pub value: f64,
    #[oai(validator(max_length = 32))]
    pub unit: String,
    #[oai(validator(max_length = 100))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_range: Option<String>,
}

/// A diagnosis, ICD-10 coded; `status` defaults to `active`.
#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields)]
pub struct Diagnosis {
    pub kind: EntryKindView,
    /// ICD-10 code such as `I10` or `E11.9`.
    #[oai(validator(max_length = 10))]
    pub code: String,
    #[oai(validator(max_length = 500))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DiagnosisStatusView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset: Option<Date>,
}

/// A medication the patient takes or took.
#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields)]
pub struct Medication {
    pub kind: EntryKindView,
    /// INN substance name, such as `amlodipine`.
    #[oai(validator(max_length = 200))]
    pub substance: String,
    #[oai(validator(max_length = 100))]
    pub dose: String,
    #[oai(validator(max_length = 50))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[oai(validator(max_length = 100))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
    pub start: Date,
    /// Absent while the medication is ongoing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Date>,
    /// RxNorm concept id.
    #[oai(validator(max_length = 10))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rxnorm: Option<String>,
}

/// An allergy or intolerance.
#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields)]
pub struct Allergy {
    pub kind: EntryKindView,
    #[oai(validator(max_length = 200))]
    pub substance: String,
    #[oai(validator(max_length = 500))]
    pub reaction: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<AllergySeverityView>,
}

/// A clinical note.
#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields)]
pub struct Note {
    pub kind: EntryKindView,
    #[oai(validator(max_length = 10000))]
    pub text: String,
}

/// The typed content of an entry; `kind` says which.
#[derive(Debug, Union, serde::Serialize)]
#[oai(discriminator_name = "kind", one_of)]
// Each variant carries its own `kind`, as poem-openapi writes it.
#[serde(untagged)]
pub enum Entry {
    #[oai(mapping = "observation")]
    Observation(Observation),
    #[oai(mapping = "lab_result")]
    LabResult(LabResult),
    #[oai(mapping = "diagnosis")]
    Diagnosis(Diagnosis),
    #[oai(mapping = "medication")]
    Medication(Medication),
    #[oai(mapping = "allergy")]
    Allergy(Allergy),
    #[oai(mapping = "note")]
    Note(Note),
}

impl From<Entry> for EntryInput {
    fn from(e: Entry) -> Self {
        match e {
            Entry::Observation(o) => EntryInput::Observation { code: o.code, value: o.value, unit: o.unit },
            Entry::LabResult(l) => {
                EntryInput::LabResult { code: l.code, value: l.value, unit: l.unit, reference_range: l.reference_range }
            }
            Entry::Diagnosis(d) => EntryInput::Diagnosis {
                code: d.code,
                description: d.description,
                status: d.status.map(Into::into),
                onset: d.onset.map(|d| d.0),
            },
            Entry::Medication(m) => EntryInput::Medication {
                substance: m.substance,
                dose: m.dose,
                route: m.route,
                frequency: m.frequency,
                start: m.start.0,
                end: m.end.map(|d| d.0),
                rxnorm: m.rxnorm,
            },
            Entry::Allergy(a) => EntryInput::Allergy {
                substance: a.substance,
                reaction: a.reaction,
                severity: a.severity.map(Into::into),
            },
            Entry::Note(n) => EntryInput::Note { text: n.text },
        }
    }
}

fn text<T: AsRef<str>>(t: T) -> String {
    t.as_ref().to_owned()
}

impl From<EntryDetails> for Entry {
    fn from(d: EntryDetails) -> Self {
        match d {
            EntryDetails::Observation { code, value, unit } => {
                Entry::Observation(Observation { kind: EntryKindView::Observation, code: text(code), value, unit })
            }
            EntryDetails::LabResult { code, value, unit, reference_range } => Entry::LabResult(LabResult {
                kind: EntryKindView::LabResult,
                code: text(code),
                value,
                unit,
                reference_range: reference_range.map(text),
            }),
            EntryDetails::Diagnosis { code, description, status, onset } => Entry::Diagnosis(Diagnosis {
                kind: EntryKindView::Diagnosis,
                code: text(code),
                description: description.map(text),
                status: Some(status.into()),
                onset: onset.map(Date),
            }),
            EntryDetails::Medication { substance, dose, route, frequency, start, end, rxnorm } => {
                Entry::Medication(Medication {
                    kind: EntryKindView::Medication,
                    substance: text(substance),
                    dose: text(dose),
                    route: route.map(text),
                    frequency: frequency.map(text),
                    start: Date(start),
                    end: end.map(Date),
                    rxnorm,
                })
            }
            EntryDetails::Allergy { substance, reaction, severity } => Entry::Allergy(Allergy {
                kind: EntryKindView::Allergy,
                substance: text(substance),
                reaction: text(reaction),
                severity: severity.map(Into::into),
            }),
            EntryDetails::Note { text: t } => Entry::Note(Note { kind: EntryKindView::Note, text: text(t) }),
        }
    }
}

/// An entry to add to a patient's record.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct NewEntryRequest {
    pub patient_id: Uuid,
    /// When it was observed or happened; defaults to now, never in the future.
    pub effective_at: Option<DateTime<Utc>>,
    pub entry: Entry,
    /// The consultation you document it during: one of yours with this patient, accepted
    /// and not ended. `GET /consultations/{id}` then lists it.
    pub consultation_id: Option<Uuid>,
}

impl poem_openapi::types::Example for NewEntryRequest {
    fn example() -> Self {
        Self {
            patient_id: uuid::uuid!("6f1c2a5e-3b7d-4c1e-9a8f-2d4b6c8e0a13"),
            effective_at: None,
            consultation_id: None,
            entry: Entry::Observation(Observation {
                kind: EntryKindView::Observation,
                code: "8480-6".into(),
                value: 128.0,
                unit: "mm[Hg]".into(),
            }),
        }
    }
}

/// An entry of a patient's record.
#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none, rename = "MedicalEntry")]
pub struct EntryView {
    pub id: Uuid,
    pub patient_id: Uuid,
    #[serde(serialize_with = "rfc3339")]
    pub effective_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    pub recorded_at: DateTime<Utc>,
    /// The account that added it.
    pub author_id: Uuid,
    /// True when the patient entered it themself.
    pub self_reported: bool,
    pub entry: Entry,
    /// The consultation it was documented during, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consultation_id: Option<Uuid>,
}

impl From<MedicalEntry> for EntryView {
    fn from(e: MedicalEntry) -> Self {
        Self {
            id: e.id.0,
            patient_id: e.patient_id.0,
            effective_at: e.effective_at,
            recorded_at: e.recorded_at,
            author_id: e.author_id.0,
            self_reported: e.self_reported,
            entry: e.details.into(),
            consultation_id: e.consultation_id.map(|c| c.0),
        }
    }
}

page_of!(serde EntryPage, EntryView, "A page of a patient's record, newest first.");

#[derive(ApiResponse)]
pub enum EntryCreated {
    /// The entry was added.
    #[oai(status = 201)]
    Created(Json<EntryView>),
}

#[derive(Default)]
pub struct MedicalApi;

#[OpenApi(tag = "ApiTags::MedicalData")]
impl MedicalApi {
    /// Add an entry to a patient's record
    ///
    /// Doctors add entries for patients in their care; a patient may add self-reported
    /// entries to their own record. Each kind is validated for its own fields.
    #[oai(path = "/medical_data", method = "post", operation_id = "create_medical_entry")]
    async fn create(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        body: Json<NewEntryRequest>,
    ) -> ApiResult<EntryCreated, PatientWriteErrors> {
        let body = body.0;
        let new = NewMedicalEntry {
            patient_id: PatientId(body.patient_id),
            effective_at: body.effective_at,
            entry: body.entry.into(),
            consultation_id: body.consultation_id.map(ConsultationId),
        };
        let entry = app.add_medical_entry(&auth.0, new).await?;
        Ok(EntryCreated::Created(Json(entry.into())))
    }

    /// List a patient's record
    ///
    /// Newest first, optionally of some kinds and within `[from, to)`.
    #[oai(path = "/medical_data/:patient_id", method = "get", operation_id = "list_medical_entries")]
    #[allow(clippy::too_many_arguments)] // one argument per query parameter
    async fn list(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        patient_id: Path<Uuid>,
        /// Only these kinds (repeat the parameter for several).
        kind: Query<Option<Vec<EntryKindView>>>,
        /// Only entries effective at or after this time.
        from: Query<Option<DateTime<Utc>>>,
        /// Only entries effective before this time.
        to: Query<Option<DateTime<Utc>>>,
        /// `next_cursor` of the previous page; absent for the first page.
        cursor: Query<Option<String>>,
        /// Page size (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<SerdeJson<EntryPage>, PatientReadErrors> {
        let filter = EntryFilter {
            kinds: kind.0.unwrap_or_default().into_iter().map(Into::into).collect(),
            from: from.0,
            to: to.0,
        };
        let query = EntryQuery { filter, page: page_request(cursor.0, limit.0) };
        let page: EntryPage = app.list_medical_entries(&auth.0, PatientId(patient_id.0), &query).await?.into();
        // About 250 bytes an entry.
        let bytes = 256 + 256 * page.items.len();
        Ok(SerdeJson::sized(page, bytes))
    }
}
