//! Medical entries: one typed payload per kind, each validated for its own fields.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{EntryId, PatientId, UserId};
use super::text::BoundedText;
use crate::error::Error;

/// The kinds of entry a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// An observation or vital sign (LOINC code, value, unit).
    Observation,
    LabResult,
    Diagnosis,
    Medication,
    Allergy,
    Note,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Observation => "observation",
            EntryKind::LabResult => "lab_result",
            EntryKind::Diagnosis => "diagnosis",
            EntryKind::Medication => "medication",
            EntryKind::Allergy => "allergy",
            EntryKind::Note => "note",
        }
    }
}

/// A LOINC code such as `8480-6`, with its check digit verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LoincCode(String);

impl LoincCode {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        let value = raw.trim();
        let Some((number, check)) = value.split_once('-') else {
            return Err(Error::invalid(field, "must be a LOINC code like 8480-6"));
        };
        let digits_only = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        if !digits_only(number) || number.len() > 7 || check.len() != 1 || !digits_only(check) {
            return Err(Error::invalid(field, "must be a LOINC code like 8480-6"));
        }
        if !luhn_valid(&format!("{number}{check}")) {
            return Err(Error::invalid(field, "has a wrong LOINC check digit"));
        }
        Ok(Self(value.to_owned()))
    }
}

impl AsRef<str> for LoincCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// LOINC check digits use the Luhn (mod 10) algorithm.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// An ICD-10 code such as `I10` or `E11.9`, upper-cased, with the dot after the category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IcdCode(String);

impl IcdCode {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        let compact: String = raw.trim().to_ascii_uppercase().chars().filter(|c| *c != '.').collect();
        let bytes = compact.as_bytes();
        let ok = (3..=7).contains(&bytes.len())
            && bytes[0].is_ascii_uppercase()
            && bytes[1].is_ascii_digit()
            && bytes[2].is_ascii_alphanumeric()
            && bytes[3..].iter().all(u8::is_ascii_alphanumeric)
            && raw.trim().matches('.').count() <= 1;
        if !ok {
            return Err(Error::invalid(field, "must be an ICD-10 code like I10 or E11.9"));
        }
        let code = if compact.len() > 3 { format!("{}.{}", &compact[..3], &compact[3..]) } else { compact };
        Ok(Self(code))
    }
}

impl AsRef<str> for IcdCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisStatus {
    Active,
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllergySeverity {
    Mild,
    Moderate,
    Severe,
}

/// The validated, kind-specific content of an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryDetails {
    Observation {
        code: LoincCode,
        value: f64,
        unit: String,
    },
    LabResult {
        code: LoincCode,
        value: f64,
        unit: String,
        reference_range: Option<BoundedText<100>>,
    },
    Diagnosis {
        code: IcdCode,
        description: Option<BoundedText<500>>,
        status: DiagnosisStatus,
        onset: Option<NaiveDate>,
    },
    Medication {
        substance: BoundedText<200>,
        dose: BoundedText<100>,
        route: Option<BoundedText<50>>,
        frequency: Option<BoundedText<100>>,
        start: NaiveDate,
        end: Option<NaiveDate>,
        rxnorm: Option<String>,
    },
    Allergy {
        substance: BoundedText<200>,
        reaction: BoundedText<500>,
        severity: Option<AllergySeverity>,
    },
    Note {
        text: BoundedText<10000, true>,
    },
}

impl EntryDetails {
    pub fn kind(&self) -> EntryKind {
        match self {
            EntryDetails::Observation { .. } => EntryKind::Observation,
            EntryDetails::LabResult { .. } => EntryKind::LabResult,
            EntryDetails::Diagnosis { .. } => EntryKind::Diagnosis,
            EntryDetails::Medication { .. } => EntryKind::Medication,
            EntryDetails::Allergy { .. } => EntryKind::Allergy,
            EntryDetails::Note { .. } => EntryKind::Note,
        }
    }

    /// The searchable projection stored beside the payload: code, numeric value, unit.
    pub fn projection(&self) -> (Option<&str>, Option<f64>, Option<&str>) {
        match self {
            EntryDetails::Observation { code, value, unit } | EntryDetails::LabResult { code, value, unit, .. } => {
                (Some(code.as_ref()), Some(*value), Some(unit.as_str()))
            }
            EntryDetails::Diagnosis { code, .. } => (Some(code.as_ref()), None, None),
            EntryDetails::Medication { substance, .. } | EntryDetails::Allergy { substance, .. } => {
                (Some(substance.as_ref()), None, None)
            }
            EntryDetails::Note { .. } => (None, None, None),
        }
    }
}

/// What a caller sends to add an entry; `parse` turns it into `EntryDetails` or names the bad field.
/// Deserialisable as the HTTP API writes it (`{"kind": "observation", ...}`), which is how
/// the Python bindings pass it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EntryInput {
    Observation {
        code: String,
        value: f64,
        unit: String,
    },
    LabResult {
        code: String,
        value: f64,
        unit: String,
        reference_range: Option<String>,
    },
    Diagnosis {
        code: String,
        description: Option<String>,
        status: Option<DiagnosisStatus>,
        onset: Option<NaiveDate>,
    },
    Medication {
        substance: String,
        dose: String,
        route: Option<String>,
        frequency: Option<String>,
        start: NaiveDate,
        end: Option<NaiveDate>,
        rxnorm: Option<String>,
    },
    Allergy {
        substance: String,
        reaction: String,
        severity: Option<AllergySeverity>,
    },
    Note {
        text: String,
    },
}

impl EntryInput {
    pub fn parse(self) -> Result<EntryDetails, Error> {
        Ok(match self {
            EntryInput::Observation { code, value, unit } => {
                let (code, value, unit) = measurement(&code, value, &unit)?;
                EntryDetails::Observation { code, value, unit }
            }
            EntryInput::LabResult { code, value, unit, reference_range } => {
                let (code, value, unit) = measurement(&code, value, &unit)?;
                let reference_range = BoundedText::parse_opt("reference_range", reference_range.as_deref())?;
                EntryDetails::LabResult { code, value, unit, reference_range }
            }
            EntryInput::Diagnosis { code, description, status, onset } => {
                if onset.is_some_and(|d| d > Utc::now().date_naive()) {
                    return Err(Error::invalid("onset", "must not be in the future"));
                }
                EntryDetails::Diagnosis {
                    code: IcdCode::parse("code", &code)?,
                    description: BoundedText::parse_opt("description", description.as_deref())?,
                    status: status.unwrap_or(DiagnosisStatus::Active),
                    onset,
                }
            }
            EntryInput::Medication { substance, dose, route, frequency, start, end, rxnorm } => {
                if end.is_some_and(|end| end < start) {
                    return Err(Error::invalid("end", "must not be before `start`"));
                }
                if start < earliest_date() {
                    return Err(Error::invalid("start", "must not be before 1900-01-01"));
                }
                let rxnorm = match rxnorm.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(id) if id.len() <= 10 && id.chars().all(|c| c.is_ascii_digit()) => Some(id.to_owned()),
                    Some(_) => {
                        return Err(Error::invalid("rxnorm", "must be a numeric RxNorm concept id"));
                    }
                };
                EntryDetails::Medication {
                    substance: BoundedText::parse("substance", &substance)?,
                    dose: BoundedText::parse("dose", &dose)?,
                    route: BoundedText::parse_opt("route", route.as_deref())?,
                    frequency: BoundedText::parse_opt("frequency", frequency.as_deref())?,
                    start,
                    end,
                    rxnorm,
                }
            }
            EntryInput::Allergy { substance, reaction, severity } => EntryDetails::Allergy {
                substance: BoundedText::parse("substance", &substance)?,
                reaction: BoundedText::parse("reaction", &reaction)?,
                severity,
            },
            EntryInput::Note { text } => EntryDetails::Note { text: BoundedText::parse("text", &text)? },
        })
    }
}

fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid constant date")
}

/// A known observation code: the units it may be recorded in and the plausible range in each.
struct KnownCode {
    code: &'static str,
    units: &'static [(&'static str, f64, f64)],
}

/// Where every range of the table comes from: they screen out typing and unit errors, not
/// abnormal values, so each is wider than any value reported in living patients.
pub const PLAUSIBLE_RANGE_SOURCE: &str = "MedConnect plausibility table: bounds wider than any value reported in \
    living patients (typing- and unit-error screen, not a reference interval); one table for recorded entries \
    and model inputs";

/// The plausibility table: observation and lab codes whose units and ranges are checked,
/// when an entry is written and when a model or rule reads one. Other LOINC codes are
/// accepted with any unit.
const KNOWN_CODES: &[KnownCode] = &[
    KnownCode { code: "8480-6", units: &[("mm[Hg]", 30.0, 320.0)] }, // systolic blood pressure
    KnownCode { code: "8462-4", units: &[("mm[Hg]", 10.0, 220.0)] }, // diastolic blood pressure
    KnownCode { code: "8867-4", units: &[("/min", 10.0, 350.0)] },   // heart rate
    KnownCode { code: "9279-1", units: &[("/min", 2.0, 100.0)] },    // respiratory rate
    KnownCode { code: "8310-5", units: &[("Cel", 25.0, 46.0), ("[degF]", 77.0, 115.0)] }, // body temperature
    KnownCode { code: "29463-7", units: &[("kg", 0.2, 700.0), ("[lb_av]", 0.5, 1500.0)] }, // body weight
    KnownCode { code: "8302-2", units: &[("cm", 20.0, 280.0), ("[in_i]", 8.0, 110.0)] }, // body height
    KnownCode { code: "39156-5", units: &[("kg/m2", 5.0, 150.0)] },  // body mass index
    KnownCode { code: "59408-5", units: &[("%", 30.0, 100.0)] },     // oxygen saturation
    KnownCode { code: "2093-3", units: &[("mg/dL", 20.0, 2000.0), ("mmol/L", 0.5, 52.0)] }, // total cholesterol
    KnownCode { code: "2085-9", units: &[("mg/dL", 2.0, 300.0), ("mmol/L", 0.05, 8.0)] }, // HDL cholesterol
    // Glucose below 20 mg/dL is refused with a hint: it is what a value in mmol/L looks like.
    KnownCode { code: "2339-0", units: &[("mg/dL", 20.0, 3000.0), ("mmol/L", 1.1, 170.0)] }, // blood glucose
    KnownCode { code: "2345-7", units: &[("mg/dL", 20.0, 3000.0), ("mmol/L", 1.1, 170.0)] }, // serum glucose
    KnownCode { code: "20438-8", units: &[("mg/dL", 20.0, 3000.0), ("mmol/L", 1.1, 170.0)] }, // 2 h OGTT glucose
    KnownCode { code: "4548-4", units: &[("%", 2.0, 25.0)] },                                // haemoglobin A1c
    KnownCode { code: "2160-0", units: &[("mg/dL", 0.05, 40.0), ("umol/L", 4.0, 3500.0)] },  // creatinine
    KnownCode { code: "20448-7", units: &[("u[IU]/mL", 0.0, 3000.0), ("pmol/L", 0.0, 21000.0)] }, // insulin
    KnownCode { code: "10230-1", units: &[("%", 5.0, 95.0)] }, // left ventricular ejection fraction
    KnownCode { code: "2951-2", units: &[("mmol/L", 90.0, 200.0)] }, // serum sodium
    KnownCode { code: "777-3", units: &[("10*3/uL", 1.0, 2000.0), ("/uL", 1000.0, 2_000_000.0)] }, // platelets
    KnownCode { code: "2157-6", units: &[("U/L", 1.0, 200_000.0)] }, // creatine kinase
    KnownCode { code: "39107-0", units: &[("mm", 1.0, 100.0)] }, // triceps skinfold thickness
    KnownCode { code: "11996-6", units: &[("{#}", 0.0, 30.0)] }, // number of pregnancies
    KnownCode { code: "64218-1", units: &[("/d", 0.0, 150.0)] }, // cigarettes smoked per day
];

const GLUCOSE_CODES: [&str; 3] = ["2339-0", "2345-7", "20438-8"];

/// The plausible range of a code in a unit, from the one table, if the code is known.
pub fn plausible_range(code: &str, unit: &str) -> Option<(f64, f64)> {
    KNOWN_CODES.iter().find(|k| k.code == code)?.units.iter().find(|(u, _, _)| *u == unit).map(|(_, lo, hi)| (*lo, *hi))
}

/// Why a value of a code in a unit is not plausible, or `None` when it is (or the code is
/// not in the table).
pub fn implausible(code: &str, value: f64, unit: &str) -> Option<String> {
    let (min, max) = plausible_range(code, unit)?;
    if (min..=max).contains(&value) {
        return None;
    }
    if GLUCOSE_CODES.contains(&code) && unit == "mg/dL" && value < min && value > 0.0 {
        return Some(format!(
            "{value} mg/dL is below the plausible range {min} to {max} mg/dL: it looks like a value in mmol/L \
             (record it with unit mmol/L, or multiply by 18)"
        ));
    }
    Some(format!("{value} is outside the plausible range {min} to {max} {unit}"))
}

/// Spellings people type, mapped to the UCUM unit the table uses.
const UNIT_ALIASES: &[(&str, &str)] = &[
    ("mmhg", "mm[Hg]"),
    ("mm hg", "mm[Hg]"),
    ("bpm", "/min"),
    ("beats/min", "/min"),
    ("breaths/min", "/min"),
    ("°c", "Cel"),
    ("c", "Cel"),
    ("°f", "[degF]"),
    ("f", "[degF]"),
    ("lb", "[lb_av]"),
    ("lbs", "[lb_av]"),
    ("in", "[in_i]"),
    ("kg/m²", "kg/m2"),
    ("mg/dl", "mg/dL"),
    ("mmol/l", "mmol/L"),
    ("µmol/l", "umol/L"),
    ("umol/l", "umol/L"),
];

fn normalise_unit(raw: &str) -> String {
    let trimmed = raw.trim();
    let lower = trimmed.to_lowercase();
    UNIT_ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map(|(_, ucum)| (*ucum).to_owned())
        .unwrap_or_else(|| trimmed.to_owned())
}

fn measurement(code: &str, value: f64, unit: &str) -> Result<(LoincCode, f64, String), Error> {
    let code = LoincCode::parse("code", code)?;
    if !value.is_finite() {
        return Err(Error::invalid("value", "must be a finite number"));
    }
    let unit = normalise_unit(unit);
    if unit.is_empty() || unit.len() > 32 || unit.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid("unit", "must be a UCUM unit such as mm[Hg] or mg/dL"));
    }
    if let Some(known) = KNOWN_CODES.iter().find(|k| k.code == code.as_ref()) {
        if !known.units.iter().any(|(u, _, _)| *u == unit) {
            let allowed: Vec<&str> = known.units.iter().map(|(u, _, _)| *u).collect();
            return Err(Error::invalid(
                "unit",
                format!("for {} must be one of: {}", code.as_ref(), allowed.join(", ")),
            ));
        }
        if let Some(why) = implausible(code.as_ref(), value, &unit) {
            return Err(Error::invalid("value", why));
        }
    } else if value.abs() > 1e9 {
        return Err(Error::invalid("value", "is out of range"));
    }
    Ok((code, value, unit))
}

/// A request to add an entry to a patient's record.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMedicalEntry {
    pub patient_id: PatientId,
    /// When the observation was made; defaults to now.
    #[serde(default)]
    pub effective_at: Option<DateTime<Utc>>,
    pub entry: EntryInput,
    /// The consultation during which the doctor documents it: one of theirs with this
    /// patient, accepted and not ended.
    #[serde(default)]
    pub consultation_id: Option<super::ConsultationId>,
}

impl NewMedicalEntry {
    /// Checks the time and the payload; returns the effective time to store.
    pub fn parse(self) -> Result<(PatientId, DateTime<Utc>, EntryDetails), Error> {
        let now = Utc::now();
        let effective_at = self.effective_at.unwrap_or(now);
        // A few minutes of clock skew between devices is tolerated.
        if effective_at > now + Duration::minutes(5) {
            return Err(Error::invalid("effective_at", "must not be in the future"));
        }
        if effective_at.date_naive() < earliest_date() {
            return Err(Error::invalid("effective_at", "must not be before 1900-01-01"));
        }
        Ok((self.patient_id, effective_at, self.entry.parse()?))
    }
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MedicalEntry {
    pub id: EntryId,
    pub patient_id: PatientId,
    pub effective_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub author_id: UserId,
    /// True when the patient entered it themself.
    pub self_reported: bool,
    pub details: EntryDetails,
    /// The consultation it was documented during, if any.
    #[serde(default)]
    pub consultation_id: Option<super::ConsultationId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(code: &str, value: f64, unit: &str) -> Result<EntryDetails, Error> {
        EntryInput::Observation { code: code.into(), value, unit: unit.into() }.parse()
    }

    fn field_of(err: Error) -> String {
        match err {
            Error::Invalid { field, .. } => field.into_owned(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn loinc_check_digits_are_verified() {
        for good in ["8480-6", "8462-4", "2093-3", "39156-5", "8867-4", "2339-0"] {
            assert!(LoincCode::parse("code", good).is_ok(), "{good}");
        }
        for bad in ["8480-7", "8480", "84806", "x480-6", "8480-66", "-6", "12345678-9"] {
            assert!(LoincCode::parse("code", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn icd10_codes_are_normalised() {
        assert_eq!(IcdCode::parse("code", "e119").map(|c| c.0).ok(), Some("E11.9".into()));
        assert_eq!(IcdCode::parse("code", "I10").map(|c| c.0).ok(), Some("I10".into()));
        for bad in ["", "10", "I1", "E11..9", "E11.9ABCDE", "1E1"] {
            assert!(IcdCode::parse("code", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn observations_check_unit_and_range_for_known_codes() {
        assert!(
            matches!(obs("8480-6", 128.0, "mmHg"), Ok(EntryDetails::Observation { ref unit, .. }) if unit == "mm[Hg]")
        );
        assert_eq!(field_of(obs("8480-6", 128.0, "kPa").unwrap_err()), "unit");
        assert_eq!(field_of(obs("8480-6", 1280.0, "mm[Hg]").unwrap_err()), "value");
        assert_eq!(field_of(obs("8480-6", f64::NAN, "mm[Hg]").unwrap_err()), "value");
        assert_eq!(field_of(obs("8480-5", 120.0, "mm[Hg]").unwrap_err()), "code");
        assert_eq!(field_of(obs("1234-4", 1.0, "").unwrap_err()), "unit");
        assert!(obs("2339-0", 5.4, "mmol/L").is_ok());
    }

    #[test]
    fn values_models_read_are_checked_when_written() {
        // Each was accepted before the table knew its code.
        for (code, value, unit) in [("10230-1", 500.0, "%"), ("2951-2", -40.0, "mmol/L"), ("777-3", -5.0, "10*3/uL")] {
            let err = obs(code, value, unit).expect_err(code);
            assert_eq!(field_of(err), "value", "{code}");
        }
        assert!(obs("10230-1", 35.0, "%").is_ok());
        assert!(obs("777-3", 265.0, "10*3/uL").is_ok());
        // A glucose of 7.0 "mg/dL" is a value in mmol/L: refused with the hint.
        match obs("2345-7", 7.0, "mg/dL") {
            Err(Error::Invalid { field, reason }) => {
                assert_eq!(field, "value");
                assert!(reason.contains("mmol/L"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(obs("2345-7", 7.0, "mmol/L").is_ok());
    }

    #[test]
    fn each_kind_names_its_bad_field() {
        let lab = EntryInput::LabResult {
            code: "4548-4".into(),
            value: 6.1,
            unit: "%".into(),
            reference_range: Some("x".repeat(200)),
        };
        assert_eq!(field_of(lab.parse().unwrap_err()), "reference_range");
        let dx = EntryInput::Diagnosis { code: "hypertension".into(), description: None, status: None, onset: None };
        assert_eq!(field_of(dx.parse().unwrap_err()), "code");
        let start = NaiveDate::from_ymd_opt(2024, 5, 1).expect("date");
        let med = EntryInput::Medication {
            substance: "amlodipine".into(),
            dose: "5 mg".into(),
            route: None,
            frequency: None,
            start,
            end: Some(start - Duration::days(1)),
            rxnorm: None,
        };
        assert_eq!(field_of(med.parse().unwrap_err()), "end");
        let med = EntryInput::Medication {
            substance: "amlodipine".into(),
            dose: " ".into(),
            route: None,
            frequency: None,
            start,
            end: None,
            rxnorm: None,
        };
        assert_eq!(field_of(med.parse().unwrap_err()), "dose");
        let allergy = EntryInput::Allergy { substance: "penicillin".into(), reaction: "".into(), severity: None };
        assert_eq!(field_of(allergy.parse().unwrap_err()), "reaction");
        let note = EntryInput::Note { text: "x".repeat(10_001) };
        assert_eq!(field_of(note.parse().unwrap_err()), "text");
    }

    #[test]
    fn future_entries_are_refused() {
        let entry = NewMedicalEntry {
            patient_id: PatientId::new(),
            effective_at: Some(Utc::now() + Duration::days(1)),
            entry: EntryInput::Note { text: "fine".into() },
            consultation_id: None,
        };
        assert_eq!(field_of(entry.parse().unwrap_err()), "effective_at");
    }

    #[test]
    fn details_round_trip_through_json_with_their_kind_tag() {
        let details = obs("8867-4", 72.0, "bpm").expect("valid");
        let json = serde_json::to_value(&details).expect("serialise");
        assert_eq!(json["kind"], "observation");
        let back: EntryDetails = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, details);
    }
}
