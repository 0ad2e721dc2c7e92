//! JSON answers written straight into bytes, documented in the spec by their poem-openapi
//! type. `Json<T>` first builds a `serde_json::Value` tree of the whole answer (a map
//! allocation per object, a copy of every string) and then serialises the tree.
//!
//! - [`SerdeJson<T>`]: `T` derives both `Object` and `Serialize` (with poem-openapi's rules),
//!   and a test below checks that serde writes the JSON poem-openapi would.
//! - [`PreparedJson<T>`]: JSON written before, such as a kept interaction check answer.

use std::marker::PhantomData;

use bytes::Bytes;
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

/// `200 OK` with `T` as JSON, serialised by serde.
pub struct SerdeJson<T> {
    body: T,
    room: usize,
}

impl<T> SerdeJson<T> {
    /// An answer of up to about a kilobyte, such as a profile.
    pub fn new(body: T) -> Self {
        Self { body, room: 1024 }
    }

    /// An answer of about `bytes`: its buffer starts that large rather than growing (and
    /// copying itself) from a kilobyte.
    pub fn sized(body: T, bytes: usize) -> Self {
        Self { body, room: bytes }
    }
}

const CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T: Type + Send> Payload for SerdeJson<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for SerdeJson<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(self.room);
        match serde_json::to_writer(&mut body, &self.body) {
            Ok(()) => Response::builder().content_type(CONTENT_TYPE).body(body),
            // Only a map with non-string keys can fail, and no answer has one.
            Err(_) => Response::builder().status(poem::http::StatusCode::INTERNAL_SERVER_ERROR).finish(),
        }
    }
}

impl<T: Type + Serialize + Send> ApiResponse for SerdeJson<T> {
    fn meta() -> MetaResponses {
        documented_200::<T>()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// `200 OK` with JSON written before (`bytes`), documented in the spec as `T`: an answer
/// kept from an earlier request, sent without writing it again or copying it.
pub struct PreparedJson<T> {
    bytes: Bytes,
    documented_as: PhantomData<fn() -> T>,
}

impl<T> PreparedJson<T> {
    /// `bytes` must be the JSON of a `T`; a test of each answer kept this way checks it.
    pub fn new(bytes: Bytes) -> Self {
        Self { bytes, documented_as: PhantomData }
    }
}

impl<T: Type> Payload for PreparedJson<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T> IntoResponse for PreparedJson<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type(CONTENT_TYPE).body(self.bytes)
    }
}

impl<T: Type> ApiResponse for PreparedJson<T> {
    fn meta() -> MetaResponses {
        documented_200::<T>()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

fn documented_200<T: Type>() -> MetaResponses {
    MetaResponses {
        responses: vec![MetaResponse {
            description: "",
            status: Some(200),
            status_range: None,
            content: vec![MetaMediaType { content_type: CONTENT_TYPE, schema: T::schema_ref() }],
            headers: vec![],
        }],
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    use poem_openapi::types::ToJSON;
    use uuid::Uuid;

    use crate::api::medical::{
        Allergy, AllergySeverityView, Diagnosis, DiagnosisStatusView, Entry, EntryKindView, EntryPage, EntryView,
        LabResult, Medication, Note, Observation,
    };
    use crate::api::patients::{EmergencyContactOut, PatientView, SexView};
    use crate::api::types::Date;

    /// serde's JSON of an answer is the JSON poem-openapi writes for its documented type.
    fn same_json<T: ToJSON + serde::Serialize + std::fmt::Debug>(answer: &T) {
        let by_serde = serde_json::to_value(answer).expect("serde");
        assert_eq!(Some(by_serde), answer.to_json(), "{answer:?}");
    }

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date(NaiveDate::from_ymd_opt(y, m, d).expect("date"))
    }

    /// Whole seconds, and a fraction: poem-openapi writes `+00:00` and only the digits needed.
    fn times() -> [DateTime<Utc>; 3] {
        let whole = Utc.with_ymd_and_hms(2026, 11, 28, 9, 30, 0).single().expect("time");
        [whole, whole + chrono::Duration::microseconds(248_119), whole + chrono::Duration::milliseconds(5)]
    }

    #[test]
    fn a_profile_is_written_as_poem_openapi_writes_it() {
        for (at, sex) in times().into_iter().zip([SexView::Female, SexView::Male, SexView::Unknown]) {
            let full = PatientView {
                id: Uuid::from_u128(1),
                user_id: Some(Uuid::from_u128(2)),
                given_name: "Ada \"Augusta\"".into(),
                family_name: "Lovelace\n".into(),
                date_of_birth: date(1815, 12, 10),
                sex,
                phone: Some("+44 20 7946 0000".into()),
                address: Some("12 St James's Square, London".into()),
                emergency_contact: Some(EmergencyContactOut {
                    name: "Mary Somerville".into(),
                    phone: "+44 20 7946 0001".into(),
                    relationship: Some("friend".into()),
                }),
                created_at: at,
            };
            same_json(&full);
            let bare = PatientView {
                user_id: None,
                phone: None,
                address: None,
                emergency_contact: Some(EmergencyContactOut {
                    name: "M".into(),
                    phone: "1".into(),
                    relationship: None,
                }),
                sex: SexView::Other,
                ..full
            };
            same_json(&bare);
            same_json(&PatientView { emergency_contact: None, ..bare });
        }
    }

    fn entries() -> Vec<Entry> {
        let observation = |value| Observation {
            kind: EntryKindView::Observation,
            code: "8480-6".into(),
            value,
            unit: "mm[Hg]".into(),
        };
        vec![
            Entry::Observation(observation(128.0)),
            Entry::Observation(observation(36.65)),
            Entry::Observation(observation(-0.5)),
            Entry::LabResult(LabResult {
                kind: EntryKindView::LabResult,
                code: "4548-4".into(),
                value: 6.1,
                unit: "%".into(),
                reference_range: Some("4.0-5.6".into()),
            }),
            Entry::LabResult(LabResult {
                kind: EntryKindView::LabResult,
                code: "2345-7".into(),
                value: 1e-7,
                unit: "mmol/L".into(),
                reference_range: None,
            }),
            Entry::Diagnosis(Diagnosis {
                kind: EntryKindView::Diagnosis,
                code: "E11.9".into(),
                description: Some("Type 2 diabetes, ü".into()),
                status: Some(DiagnosisStatusView::Resolved),
                onset: Some(date(2020, 2, 29)),
            }),
            Entry::Diagnosis(Diagnosis {
                kind: EntryKindView::Diagnosis,
                code: "I10".into(),
                description: None,
                status: Some(DiagnosisStatusView::Active),
                onset: None,
            }),
            Entry::Medication(Medication {
                kind: EntryKindView::Medication,
                substance: "amlodipine".into(),
                dose: "5 mg".into(),
                route: Some("oral".into()),
                frequency: Some("daily".into()),
                start: date(2024, 1, 1),
                end: Some(date(2025, 1, 1)),
                rxnorm: Some("17767".into()),
            }),
            Entry::Medication(Medication {
                kind: EntryKindView::Medication,
                substance: "metformin".into(),
                dose: "500 mg".into(),
                route: None,
                frequency: None,
                start: date(2024, 1, 1),
                end: None,
                rxnorm: None,
            }),
            Entry::Allergy(Allergy {
                kind: EntryKindView::Allergy,
                substance: "penicillin".into(),
                reaction: "rash".into(),
                severity: Some(AllergySeverityView::Severe),
            }),
            Entry::Allergy(Allergy {
                kind: EntryKindView::Allergy,
                substance: "latex".into(),
                reaction: "itch".into(),
                severity: None,
            }),
            Entry::Note(Note { kind: EntryKindView::Note, text: "line one\nline two\t\"quoted\" \u{1F600}".into() }),
        ]
    }

    #[test]
    fn a_record_page_is_written_as_poem_openapi_writes_it() {
        let [effective, recorded, _] = times();
        let items: Vec<EntryView> = entries()
            .into_iter()
            .enumerate()
            .map(|(i, entry)| EntryView {
                id: Uuid::from_u128(i as u128),
                patient_id: Uuid::from_u128(100),
                effective_at: effective,
                recorded_at: recorded,
                author_id: Uuid::from_u128(200),
                self_reported: i % 2 == 0,
                entry,
                consultation_id: (i % 3 == 0).then(|| Uuid::from_u128(300)),
            })
            .collect();
        assert_eq!(items.len(), 12);
        same_json(&EntryPage { items, next_cursor: Some("opaque.cursor".into()) });
        same_json(&EntryPage { items: Vec::new(), next_cursor: None });
    }
}
