//! Predicting a patient's risk from their own record: features read as the feature table
//! says (latest value in the look-back window, units converted or refused), explicit
//! overrides from the request, what is missing reported, and an explanation honest for
//! a linear model (coefficient × standardised value).

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::features::{Feature, Source};
use super::model::{Estimator, RiskKind, RiskModel};
use crate::ai::interactions::{InteractionKb, fold};
use crate::domain::{DiagnosisStatus, EntryDetails, InputSource, MedicalEntry, Patient, PredictionInput, Sex};
use crate::error::{Error, Result};

/// How far back an observation still counts.
pub const LOOK_BACK_DAYS: i64 = 730;

/// A feature's share of the prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    pub feature: String,
    pub value: f64,
    /// The feature's share, as `explanation_method` defines it; positive raises the risk.
    pub contribution: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskBand {
    Low,
    Moderate,
    High,
}

/// The result of a risk prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskResult {
    pub probability: f64,
    pub band: RiskBand,
    /// The largest contributions, by absolute size.
    pub top_factors: Vec<Factor>,
    pub explanation_method: String,
    /// Optional inputs that were not in the record and were imputed from the training median.
    pub missing: Vec<String>,
    /// What the reader must know about this answer: an age outside the training cohort's.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The band of a probability, by the cut-offs the model's statement gives with their source.
fn band(kind: RiskKind, p: f64) -> RiskBand {
    let [low, high] = kind.band_cutoffs();
    if p < low {
        RiskBand::Low
    } else if p < high {
        RiskBand::Moderate
    } else {
        RiskBand::High
    }
}

/// Age in whole years on `now`'s date.
pub fn age_on(birth: chrono::NaiveDate, now: DateTime<Utc>) -> f64 {
    let today = now.date_naive();
    let mut years = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    f64::from(years.max(0))
}

fn read(
    feature: &Feature,
    patient: &Patient,
    entries: &[MedicalEntry],
    kb: &InteractionKb,
    now: DateTime<Utc>,
) -> Result<Option<(f64, InputSource)>> {
    let today = now.date_naive();
    Ok(match feature.source {
        Source::Age => Some((age_on(patient.date_of_birth, now), InputSource::Profile)),
        Source::MaleSex => match patient.sex {
            Sex::Male => Some((1.0, InputSource::Profile)),
            Sex::Female => Some((0.0, InputSource::Profile)),
            Sex::Other | Sex::Unknown => None,
        },
        Source::Observation { codes, unit, conversions } => {
            let since = now - Duration::days(LOOK_BACK_DAYS);
            // Entries come newest first.
            let latest = entries.iter().find_map(|e| match &e.details {
                EntryDetails::Observation { code, value, unit: u }
                | EntryDetails::LabResult { code, value, unit: u, .. }
                    if codes.contains(&code.as_ref()) && e.effective_at >= since =>
                {
                    Some((e, *value, u.as_str()))
                }
                _ => None,
            });
            match latest {
                None => None,
                Some((e, value, recorded)) => {
                    let factor = if recorded == unit {
                        1.0
                    } else {
                        conversions.iter().find(|(from, _)| *from == recorded).map(|(_, f)| *f).ok_or_else(|| {
                            Error::invalid(
                                feature.column,
                                format!("is recorded in {recorded}, which cannot be converted to {unit}"),
                            )
                        })?
                    };
                    Some((value * factor, InputSource::Entry { entry_id: e.id }))
                }
            }
        }
        Source::Diagnosis { prefixes } => {
            let found = entries.iter().find(|e| {
                matches!(&e.details, EntryDetails::Diagnosis { code, status: DiagnosisStatus::Active, .. }
                    if prefixes.iter().any(|p| code.as_ref().starts_with(p)))
            });
            Some(match found {
                Some(e) => (1.0, InputSource::Entry { entry_id: e.id }),
                None => (0.0, InputSource::Absent),
            })
        }
        Source::MedicationClass { class } => {
            let class = fold(class);
            let found = entries.iter().find(|e| match &e.details {
                EntryDetails::Medication { substance, start, end, .. }
                    if *start <= today && end.is_none_or(|d| d >= today) =>
                {
                    kb.resolve(substance.as_ref()).is_ok_and(|r| r.classes.iter().any(|c| fold(c) == class))
                }
                _ => false,
            });
            Some(match found {
                Some(e) => (1.0, InputSource::Entry { entry_id: e.id }),
                None => (0.0, InputSource::Absent),
            })
        }
        Source::NotRecorded => None,
    })
}

/// Reads the features, predicts and explains. `overrides` are (feature, value) pairs
/// from the request and win over the record.
pub fn predict(
    kind: RiskKind,
    model: &RiskModel,
    patient: &Patient,
    entries: &[MedicalEntry],
    kb: &InteractionKb,
    overrides: &[(String, f64)],
    now: DateTime<Utc>,
) -> Result<(RiskResult, Vec<PredictionInput>)> {
    // The request's own inputs first, then whether the model applies to this patient.
    check_overrides(kind, overrides)?;
    check_population(kind, patient, entries)?;
    evaluate(kind, model, overrides, |feature| read(feature, patient, entries, kb, now))
}

/// Every given input is an input of the model, with a plausible value.
fn check_overrides(kind: RiskKind, overrides: &[(String, f64)]) -> Result<()> {
    let features = kind.features();
    for (name, value) in overrides {
        let Some(feature) = features.iter().find(|f| f.column == name) else {
            let known: Vec<&str> = features.iter().map(|f| f.column).collect();
            return Err(Error::invalid(
                format!("inputs.{name}"),
                format!("is not an input of this model ({})", known.join(", ")),
            ));
        };
        if let Some(why) = feature.refuses(*value) {
            return Err(Error::invalid(format!("inputs.{name}"), why));
        }
    }
    Ok(())
}

/// Who a model does not apply to, decided per model from the patient's profile and record
/// (ARCHITECTURE.md lists the decisions): the diabetes model was fitted on women, and
/// predicts a diagnosis that a diagnosed patient already has.
pub fn check_population(kind: RiskKind, patient: &Patient, entries: &[MedicalEntry]) -> Result<()> {
    if kind != RiskKind::DiabetesRisk {
        return Ok(());
    }
    if patient.sex == Sex::Male {
        return Err(Error::invalid(
            "sex",
            "the diabetes model was fitted on women only (Pima cohort): it does not apply to men",
        ));
    }
    let diagnosed = entries.iter().find(|e| {
        matches!(&e.details, EntryDetails::Diagnosis { code, status: DiagnosisStatus::Active, .. }
            if ["E10", "E11", "E13", "E14"].iter().any(|p| code.as_ref().starts_with(p)))
    });
    if let Some(entry) = diagnosed {
        return Err(Error::invalid(
            "diagnosis",
            format!("diabetes is already diagnosed (entry {}): the risk of developing it does not apply", entry.id),
        ));
    }
    Ok(())
}

/// Children are refused by every model (all were fitted on adults); an adult age outside the
/// training cohort's ages is flagged.
fn population_warnings(kind: RiskKind, features: &[Feature], row: &[Option<f64>]) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let [lo, hi] = kind.age_range();
    let age = features.iter().position(|f| f.source == Source::Age).and_then(|j| row[j]);
    if let Some(age) = age {
        if age < 18.0 {
            return Err(Error::invalid(
                "age",
                format!("is {age}: the model was fitted on adults aged {lo} to {hi}; it does not apply to children"),
            ));
        }
        if age < lo || age > hi {
            warnings.push(format!(
                "age {age} is outside the ages of the training cohort ({lo} to {hi}): the model was not fitted on \
                 such patients"
            ));
        }
    }
    Ok(warnings)
}

/// Predicts and explains from given inputs alone, with no record (the Python bindings'
/// `RiskModel.predict`): the inputs are checked as a request's are, a required input that
/// is not given is an error naming it, an optional one is imputed and reported missing.
pub fn predict_from_inputs(
    kind: RiskKind,
    model: &RiskModel,
    inputs: &[(String, f64)],
) -> Result<(RiskResult, Vec<PredictionInput>)> {
    evaluate(kind, model, inputs, |_| Ok(None))
}

/// The one road from inputs to a result: `overrides` win, `read` finds the rest.
fn evaluate(
    kind: RiskKind,
    model: &RiskModel,
    overrides: &[(String, f64)],
    read: impl Fn(&Feature) -> Result<Option<(f64, InputSource)>>,
) -> Result<(RiskResult, Vec<PredictionInput>)> {
    let features = kind.features();
    check_overrides(kind, overrides)?;
    let mut row = Vec::with_capacity(features.len());
    let mut inputs = Vec::with_capacity(features.len());
    let mut missing = Vec::new();
    for (j, feature) in features.iter().enumerate() {
        let given = overrides.iter().find(|(n, _)| n == feature.column).map(|(_, v)| (*v, InputSource::Request));
        let found = match given {
            Some(v) => Some(v),
            None => read(feature)?,
        };
        // A value read from the record passes the same table: an entry written before the
        // table knew its code cannot slip an implausible value into a model.
        if let Some((value, InputSource::Entry { entry_id })) = &found {
            if let Some(why) = feature.refuses(*value) {
                return Err(Error::invalid(feature.column, format!("recorded in entry {entry_id}: {why}")));
            }
        }
        match found {
            Some((value, source)) => {
                row.push(Some(value));
                inputs.push(PredictionInput { name: feature.column.to_owned(), value: format!("{value}"), source });
            }
            None if feature.required => {
                return Err(Error::invalid(
                    feature.column,
                    format!(
                        "is required ({}, {}): record it or give it in `inputs`",
                        feature.description, feature.unit
                    ),
                ));
            }
            None => {
                let median = model.model.preprocessor().medians[j];
                row.push(None);
                missing.push(feature.column.to_owned());
                inputs.push(PredictionInput {
                    name: feature.column.to_owned(),
                    value: format!("{median}"),
                    source: InputSource::Imputed,
                });
            }
        }
    }
    let warnings = population_warnings(kind, features, &row)?;
    let probability = model.model.probability(&row)?;
    let medians = &model.model.preprocessor().medians;
    let (contributions, method): (Vec<f64>, &str) = match &model.model {
        Estimator::Logistic(m) => {
            let z = m.preprocessor.transform(&row);
            (
                z.iter().zip(&m.coefficients).map(|(z, c)| c * z).collect(),
                "logistic regression: coefficient × standardised value (log-odds)",
            )
        }
        Estimator::Forest(_) => {
            // Trees have no coefficients: the honest local measure is how much the
            // probability moves when this input alone takes its training median.
            let mut out = Vec::with_capacity(row.len());
            for j in 0..row.len() {
                let mut at_median = row.clone();
                at_median[j] = Some(medians[j]);
                out.push(probability - model.model.probability(&at_median)?);
            }
            (out, "bagged trees: change in probability when the input alone is set to its training median")
        }
    };
    let mut factors: Vec<Factor> = features
        .iter()
        .zip(&contributions)
        .zip(row.iter().zip(medians))
        .map(|((f, c), (v, median))| Factor {
            feature: f.column.to_owned(),
            value: v.unwrap_or(*median),
            contribution: *c,
        })
        .collect();
    factors.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    factors.truncate(3);
    let result = RiskResult {
        probability,
        band: band(kind, probability),
        top_factors: factors,
        explanation_method: method.into(),
        missing,
        warnings,
    };
    Ok((result, inputs))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::{EntryId, IcdCode, LoincCode, PatientId, UserId};

    fn patient(sex: Sex) -> Patient {
        Patient {
            id: PatientId::new(),
            user_id: None,
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            date_of_birth: NaiveDate::from_ymd_opt(1960, 6, 1).expect("date"),
            sex,
            phone: None,
            address: None,
            emergency_contact: None,
            created_at: Utc::now(),
        }
    }

    fn entry(days_ago: i64, details: EntryDetails) -> MedicalEntry {
        let at = Utc::now() - Duration::days(days_ago);
        MedicalEntry {
            id: EntryId::new(),
            patient_id: PatientId::new(),
            effective_at: at,
            recorded_at: at,
            author_id: UserId::new(),
            self_reported: false,
            details,
            consultation_id: None,
        }
    }

    fn obs(days_ago: i64, code: &str, value: f64, unit: &str) -> MedicalEntry {
        let code = LoincCode::parse("code", code).expect("loinc");
        entry(days_ago, EntryDetails::Observation { code, value, unit: unit.into() })
    }

    fn value_of<'a>(inputs: &'a [PredictionInput], name: &str) -> &'a PredictionInput {
        inputs.iter().find(|i| i.name == name).expect("input")
    }

    fn kb() -> std::sync::Arc<InteractionKb> {
        InteractionKb::shared().expect("kb")
    }

    #[test]
    fn the_latest_value_in_the_window_wins_and_missing_inputs_are_reported() {
        let kind = RiskKind::CardiovascularRisk;
        let model = RiskModel::shipped(kind).expect("model");
        // Newest first, as the store returns them; the 800-day-old cholesterol is out of the window.
        let entries = vec![
            obs(1, "8480-6", 150.0, "mm[Hg]"),
            obs(30, "8480-6", 120.0, "mm[Hg]"),
            obs(800, "2093-3", 300.0, "mg/dL"),
        ];
        let (result, inputs) =
            predict(kind, &model, &patient(Sex::Male), &entries, &kb(), &[], Utc::now()).expect("predict");
        assert_eq!(value_of(&inputs, "sysBP").value, "150");
        assert!(
            matches!(value_of(&inputs, "sysBP").source, InputSource::Entry { entry_id } if entry_id == entries[0].id)
        );
        assert!(matches!(value_of(&inputs, "totChol").source, InputSource::Imputed));
        assert!(result.missing.contains(&"totChol".to_owned()));
        assert!(matches!(value_of(&inputs, "diabetes").source, InputSource::Absent));
        assert_eq!(value_of(&inputs, "male").value, "1");
        assert!((0.0..=1.0).contains(&result.probability));
        assert_eq!(result.top_factors.len(), 3);
        assert!(result.explanation_method.contains("coefficient"), "Framingham is a logistic regression");
    }

    #[test]
    fn units_are_converted_or_refused_never_misread() {
        let kind = RiskKind::DiabetesRisk;
        let model = RiskModel::shipped(kind).expect("model");
        let bmi = obs(2, "39156-5", 31.0, "kg/m2");
        let in_mmol = vec![obs(1, "2339-0", 7.0, "mmol/L"), bmi.clone()];
        let (_, inputs) =
            predict(kind, &model, &patient(Sex::Female), &in_mmol, &kb(), &[], Utc::now()).expect("predict");
        let glucose: f64 = value_of(&inputs, "Glucose").value.parse().expect("number");
        assert!((glucose - 126.112).abs() < 1e-6, "7 mmol/L is 126 mg/dL, got {glucose}");
        let in_grams = vec![obs(1, "2339-0", 1.26, "g/L"), bmi];
        let err = predict(kind, &model, &patient(Sex::Female), &in_grams, &kb(), &[], Utc::now()).expect_err("g/L");
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "Glucose"), "{err:?}");
    }

    #[test]
    fn a_missing_required_input_is_an_error_naming_it_and_overrides_win() {
        let kind = RiskKind::HeartFailureMortality;
        let model = RiskModel::shipped(kind).expect("model");
        let entries = vec![obs(3, "2160-0", 1.9, "mg/dL")];
        let err = predict(kind, &model, &patient(Sex::Male), &entries, &kb(), &[], Utc::now()).expect_err("no EF");
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "ejection_fraction"));
        let overrides = vec![("ejection_fraction".to_owned(), 20.0), ("serum_creatinine".to_owned(), 3.0)];
        let (low_ef, inputs) =
            predict(kind, &model, &patient(Sex::Male), &entries, &kb(), &overrides, Utc::now()).expect("ok");
        assert!(matches!(value_of(&inputs, "serum_creatinine").source, InputSource::Request));
        let healthier = vec![("ejection_fraction".to_owned(), 60.0), ("serum_creatinine".to_owned(), 0.9)];
        let (high_ef, _) =
            predict(kind, &model, &patient(Sex::Male), &entries, &kb(), &healthier, Utc::now()).expect("ok");
        assert!(low_ef.probability > high_ef.probability, "lower ejection fraction, higher mortality");
        let bad = vec![("time".to_owned(), 100.0)];
        let err = predict(kind, &model, &patient(Sex::Male), &entries, &kb(), &bad, Utc::now()).expect_err("time");
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "inputs.time"));
    }

    #[test]
    fn diagnoses_and_medication_classes_become_flags() {
        let kind = RiskKind::CardiovascularRisk;
        let model = RiskModel::shipped(kind).expect("model");
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
        let entries = vec![
            obs(1, "8480-6", 150.0, "mm[Hg]"),
            entry(
                5,
                EntryDetails::Diagnosis {
                    code: IcdCode::parse("c", "E11.9").expect("icd"),
                    description: None,
                    status: DiagnosisStatus::Active,
                    onset: None,
                },
            ),
            entry(
                6,
                EntryDetails::Medication {
                    substance: crate::domain::BoundedText::parse("s", "amlodipine").expect("text"),
                    dose: crate::domain::BoundedText::parse("d", "5 mg").expect("text"),
                    route: None,
                    frequency: None,
                    start,
                    end: None,
                    rxnorm: None,
                },
            ),
        ];
        let (_, inputs) =
            predict(kind, &model, &patient(Sex::Female), &entries, &kb(), &[], Utc::now()).expect("predict");
        assert_eq!(value_of(&inputs, "diabetes").value, "1");
        assert_eq!(value_of(&inputs, "BPMeds").value, "1", "amlodipine is an antihypertensive");
        let err = predict(kind, &model, &patient(Sex::Unknown), &entries, &kb(), &[], Utc::now()).expect_err("sex");
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "male"));
    }

    /// Every input of every model, at and just outside its plausible range, and flags at 0,
    /// 1 and in between: what is inside passes, what is outside is a 422 naming the input,
    /// the value and the range.
    #[test]
    fn every_input_is_checked_at_and_just_outside_its_range() {
        use super::super::features::Bounds;
        for kind in RiskKind::ALL {
            let model = RiskModel::shipped(kind).expect("model");
            let features = kind.features();
            let medians = model.model.preprocessor().medians.clone();
            let valid: Vec<(String, f64)> = features
                .iter()
                .zip(&medians)
                .map(|(f, m)| {
                    let value = match f.bounds() {
                        Bounds::Flag => 0.0,
                        Bounds::Range { whole: true, .. } => m.round(),
                        _ => *m,
                    };
                    (f.column.to_owned(), value)
                })
                .collect();
            let with = |name: &str, value: f64| -> Vec<(String, f64)> {
                valid.iter().map(|(n, v)| (n.clone(), if n == name { value } else { *v })).collect()
            };
            predict_from_inputs(kind, &model, &valid).unwrap_or_else(|e| panic!("{kind:?} medians: {e}"));
            for feature in features {
                let name = feature.column;
                let refused = |value: f64| match predict_from_inputs(kind, &model, &with(name, value)) {
                    Err(Error::Invalid { field, reason }) => {
                        assert_eq!(field, format!("inputs.{name}"), "{kind:?}");
                        reason.into_owned()
                    }
                    other => panic!("{kind:?} {name} = {value} was not refused: {other:?}"),
                };
                match feature.bounds() {
                    Bounds::Flag => {
                        for ok in [0.0, 1.0] {
                            assert!(predict_from_inputs(kind, &model, &with(name, ok)).is_ok(), "{name} = {ok}");
                        }
                        assert!(refused(7.0).contains("0 or 1"));
                        refused(0.5);
                        refused(-1.0);
                    }
                    Bounds::Range { min, max, whole, .. } if min > f64::MIN => {
                        // Children are refused for another reason; the adult part of the range passes.
                        let low = if feature.source == Source::Age { 18.0 } else { min };
                        for ok in [low, max] {
                            let answer = predict_from_inputs(kind, &model, &with(name, ok));
                            assert!(answer.is_ok(), "{kind:?} {name} = {ok}: {answer:?}");
                        }
                        let step = if whole { 1.0 } else { ((max - min) / 1000.0).max(0.01) };
                        let below = refused(min - step);
                        let above = refused(max + step);
                        if feature.source != Source::Age {
                            assert!(below.contains("plausible range") && above.contains(&format!("{max}")), "{above}");
                        }
                    }
                    Bounds::Range { .. } => {}
                }
                assert!(refused(f64::NAN).contains("finite"));
            }
        }
    }

    #[test]
    fn the_reported_unsafe_inputs_are_refused() {
        let cardio = RiskModel::shipped(RiskKind::CardiovascularRisk).expect("model");
        let base: Vec<(String, f64)> = vec![("male".into(), 1.0), ("age".into(), 61.0), ("sysBP".into(), 150.0)];
        let with = |name: &str, value: f64| -> Vec<(String, f64)> {
            let mut inputs = base.clone();
            inputs.retain(|(n, _)| n != name);
            inputs.push((name.into(), value));
            inputs
        };
        for (name, value) in [("age", 500.0), ("sysBP", -5.0), ("sysBP", 1e6), ("male", 7.0)] {
            let err = predict_from_inputs(RiskKind::CardiovascularRisk, &cardio, &with(name, value)).expect_err(name);
            assert!(matches!(err, Error::Invalid { ref field, .. } if *field == format!("inputs.{name}")), "{err:?}");
        }
        let failure = RiskModel::shipped(RiskKind::HeartFailureMortality).expect("model");
        let inputs = vec![
            ("age".to_owned(), 60.0),
            ("ejection_fraction".to_owned(), -20.0),
            ("serum_creatinine".to_owned(), 1.1),
        ];
        assert!(predict_from_inputs(RiskKind::HeartFailureMortality, &failure, &inputs).is_err());
        // A 7-year-old is refused; a 25-year-old is answered with a warning (the cohort is 32–70).
        assert!(predict_from_inputs(RiskKind::CardiovascularRisk, &cardio, &with("age", 7.0)).is_err());
        let (young, _) = predict_from_inputs(RiskKind::CardiovascularRisk, &cardio, &with("age", 25.0)).expect("25");
        assert!(young.warnings.iter().any(|w| w.contains("32 to 70")), "{:?}", young.warnings);
    }

    #[test]
    fn the_diabetes_model_refuses_men_and_the_already_diagnosed() {
        let kind = RiskKind::DiabetesRisk;
        let model = RiskModel::shipped(kind).expect("model");
        let overrides = [("Glucose".to_owned(), 140.0), ("BMI".to_owned(), 31.0)];
        let err = predict(kind, &model, &patient(Sex::Male), &[], &kb(), &overrides, Utc::now()).expect_err("men");
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "sex"));
        let diagnosed = vec![entry(
            10,
            EntryDetails::Diagnosis {
                code: IcdCode::parse("c", "E11.9").expect("icd"),
                description: None,
                status: DiagnosisStatus::Active,
                onset: None,
            },
        )];
        let err = predict(kind, &model, &patient(Sex::Female), &diagnosed, &kb(), &overrides, Utc::now())
            .expect_err("diagnosed");
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "diagnosis"));
        assert!(predict(kind, &model, &patient(Sex::Female), &[], &kb(), &overrides, Utc::now()).is_ok());
    }
}
