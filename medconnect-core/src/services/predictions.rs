//! Decision support on a patient's record: run, store, list and review predictions.

use chrono::Utc;
use uuid::Uuid;

use super::Done;
use crate::MedConnect;
use crate::ai::interactions::dose::Dose;
use crate::ai::risk::RiskKind;
use crate::ai::risk::predict::{age_on, predict as predict_risk};
use crate::ai::treatment::{PatientFacts, RuleSet};
use crate::auth::Actor;
use crate::auth::policy::PatientAction;
use crate::domain::{
    BoundedText, DiagnosisStatus, DrugInteractionsResult, EntryDetails, EntryKind, InputSource, MedicalEntry,
    PatientId, Prediction, PredictionInput, PredictionKind, PredictionOutput,
};
use crate::error::{Error, Result};
use crate::pagination::{Page, PageRequest};
use crate::store::predictions::{self, NewPrediction};
use crate::store::{consultations, medical, patients};

/// A request for decision support on one patient.
#[derive(Debug, Clone)]
pub struct PredictRequest {
    pub patient_id: PatientId,
    pub kind: PredictionKind,
    /// For `drug_interactions`: a drug the doctor proposes to add.
    pub proposed_drug: Option<String>,
    /// For risk kinds: explicit input values (feature name, value) that win over the record.
    pub inputs: Vec<(String, f64)>,
    /// The consultation it is made during: one of the doctor's with this patient, accepted
    /// and not ended.
    pub consultation_id: Option<crate::domain::ConsultationId>,
}

fn from_entry(name: &str, value: String, entry: &MedicalEntry) -> PredictionInput {
    PredictionInput { name: name.to_owned(), value, source: InputSource::Entry { entry_id: entry.id } }
}

/// The facts decision support reads from a record, and the inputs that say where each came from.
fn facts_of(entries: &[MedicalEntry]) -> (PatientFacts, Vec<PredictionInput>) {
    let today = Utc::now().date_naive();
    let mut facts = PatientFacts::default();
    let mut inputs = Vec::new();
    // Entries come newest first: the first value of a code is its latest.
    for e in entries {
        match &e.details {
            EntryDetails::Observation { code, value, unit } | EntryDetails::LabResult { code, value, unit, .. } => {
                let reading = (code.as_ref().to_owned(), *value, unit.clone(), e.id, e.effective_at);
                if !facts.observations.iter().any(|(c, ..)| c == code.as_ref()) {
                    facts.observations.push(reading.clone());
                    inputs.push(from_entry(code.as_ref(), format!("{value} {unit}"), e));
                }
                // Every reading too, for rules that average several.
                facts.readings.push(reading);
            }
            EntryDetails::Diagnosis { code, status: DiagnosisStatus::Active, .. } => {
                facts.diagnoses.push((code.as_ref().to_owned(), e.id));
                inputs.push(from_entry("diagnosis", code.as_ref().to_owned(), e));
            }
            EntryDetails::Medication { substance, dose, frequency, start, end, .. }
                if *start <= today && end.is_none_or(|d| d >= today) =>
            {
                facts.medications.push((substance.as_ref().to_owned(), e.id));
                if let Some(parsed) = Dose::parse(dose.as_ref(), frequency.as_ref().map(AsRef::as_ref)) {
                    facts.doses.push((substance.as_ref().to_owned(), parsed));
                }
                inputs.push(from_entry("active medication", substance.as_ref().to_owned(), e));
            }
            EntryDetails::Allergy { substance, .. } => {
                facts.allergies.push((substance.as_ref().to_owned(), e.id));
                inputs.push(from_entry("allergy", substance.as_ref().to_owned(), e));
            }
            _ => {}
        }
    }
    (facts, inputs)
}

impl MedConnect {
    /// Runs decision support for a patient in the caller's care and stores the result.
    pub async fn predict(&self, actor: &Actor, request: PredictRequest) -> Result<Prediction> {
        let patient = request.patient_id;
        let proposed = BoundedText::<200>::parse_opt("proposed_drug", request.proposed_drug.as_deref())?;
        if proposed.is_some() && request.kind != PredictionKind::DrugInteractions {
            return Err(Error::invalid("proposed_drug", "applies only to kind `drug_interactions`"));
        }
        if !request.inputs.is_empty() && request.kind.risk().is_none() {
            return Err(Error::invalid("inputs", "apply only to the risk kinds"));
        }
        // Values given in the request make a what-if: stored and listed as a scenario.
        let scenario = !request.inputs.is_empty() || proposed.is_some();
        self.with_patient(actor, patient, PatientAction::RequestPrediction, async |tx| {
            if let Some(consultation) = request.consultation_id {
                consultations::check_documenting(&mut *tx, consultation, patient, actor).await?;
            }
            let kinds = [
                EntryKind::Observation,
                EntryKind::LabResult,
                EntryKind::Diagnosis,
                EntryKind::Medication,
                EntryKind::Allergy,
            ];
            let entries = medical::of_kinds(&mut *tx, patient, &kinds).await?;
            let (mut facts, mut inputs) = facts_of(&entries);
            let (model_name, model_version, output) = match request.kind {
                PredictionKind::DrugInteractions => {
                    inputs.retain(|i| i.name == "active medication");
                    let mut names: Vec<String> = facts.medications.iter().map(|(m, _)| m.clone()).collect();
                    if let Some(drug) = &proposed {
                        names.push(drug.as_ref().to_owned());
                        inputs.push(PredictionInput {
                            name: "proposed drug".into(),
                            value: drug.as_ref().to_owned(),
                            source: InputSource::Request,
                        });
                    }
                    let interactions = self.interactions().check(&names);
                    let output = PredictionOutput::DrugInteractions(DrugInteractionsResult {
                        proposed_drug: proposed.map(BoundedText::into_inner),
                        interactions,
                    });
                    ("ansm-interaction-thesaurus", crate::ai::interactions::EDITION.to_owned(), output)
                }
                PredictionKind::TreatmentOptions => {
                    let profile = patients::get(&mut *tx, patient).await?.ok_or(Error::NotFound("patient"))?;
                    let now = Utc::now();
                    facts.age = Some(age_on(profile.date_of_birth, now));
                    // Risks are computed from the record for this plan, never read from stored
                    // predictions: a stored one may be a what-if, or older than the record.
                    for risk in RiskKind::ALL {
                        let computed = predict_risk(
                            risk,
                            self.risk_model(risk),
                            &profile,
                            &entries,
                            self.interactions(),
                            &[],
                            now,
                        );
                        if let Ok((result, _)) = computed {
                            facts.predictions.push((risk.as_str().to_owned(), result.probability));
                            inputs.push(PredictionInput {
                                name: risk.as_str().to_owned(),
                                value: format!("{:.3}", result.probability),
                                source: InputSource::Computed,
                            });
                        }
                    }
                    let rules = RuleSet::shared()?;
                    let plan = rules.plan(self.interactions(), &facts, Utc::now());
                    ("medconnect-treatment-rules", rules.version.clone(), PredictionOutput::TreatmentOptions(plan))
                }
                kind @ (PredictionKind::CardiovascularRisk
                | PredictionKind::DiabetesRisk
                | PredictionKind::HeartFailureMortality) => {
                    let risk = kind.risk().ok_or_else(|| Error::internal("risk kind without a model"))?;
                    let profile = patients::get(&mut *tx, patient).await?.ok_or(Error::NotFound("patient"))?;
                    let model = self.risk_model(risk);
                    let (result, risk_inputs) = predict_risk(
                        risk,
                        model,
                        &profile,
                        &entries,
                        self.interactions(),
                        &request.inputs,
                        Utc::now(),
                    )?;
                    inputs = risk_inputs;
                    let output = match kind {
                        PredictionKind::CardiovascularRisk => PredictionOutput::CardiovascularRisk(result),
                        PredictionKind::DiabetesRisk => PredictionOutput::DiabetesRisk(result),
                        _ => PredictionOutput::HeartFailureMortality(result),
                    };
                    (model.name.as_str(), model.version.clone(), output)
                }
            };
            let stored = predictions::insert(
                &mut *tx,
                &NewPrediction {
                    patient_id: patient,
                    kind: request.kind,
                    requested_by: actor.user_id(),
                    model_name,
                    model_version: &model_version,
                    inputs: &inputs,
                    output: &output,
                    consultation: request.consultation_id,
                    scenario,
                },
            )
            .await?;
            Ok(Done::on(stored.id, stored))
        })
        .await
    }

    /// A patient's stored predictions, newest first: the patient and their doctors in care.
    pub async fn list_predictions(
        &self,
        actor: &Actor,
        patient: PatientId,
        kind: Option<PredictionKind>,
        page: &PageRequest,
    ) -> Result<Page<Prediction>> {
        let scope = format!("predictions/{}/{patient}/{}", actor.user_id(), kind.map_or("", PredictionKind::as_str));
        let limit = page.limit()?;
        let after = self.cursors().after(&scope, page)?;
        let entry = serde_json::to_string(&("predictions", kind.map(PredictionKind::as_str), after, limit))
            .map_err(Error::internal)?;
        let rows = self
            .read_patient(actor, patient, PatientAction::ReadPredictions, &entry, async |conn| {
                predictions::list(&mut *conn, patient, kind, after, limit).await
            })
            .await?;
        Ok(self.cursors().page(&scope, rows, limit, predictions::list_key))
    }

    /// Marks a prediction as reviewed by a doctor in the patient's care, with a comment.
    pub async fn review_prediction(
        &self,
        actor: &Actor,
        prediction: Uuid,
        comment: Option<String>,
    ) -> Result<Prediction> {
        let comment = BoundedText::<2000, true>::parse_opt("comment", comment.as_deref())?;
        let Some(patient) = predictions::patient_of(self.pool(), prediction).await? else {
            return Err(Error::NotFound("prediction"));
        };
        let reviewed = self
            .with_patient(actor, patient, PatientAction::ReviewPrediction, async |tx| {
                let by = actor.user_id();
                let reviewed =
                    predictions::review(&mut *tx, prediction, by, comment.as_ref().map(AsRef::as_ref)).await?;
                Ok(Done::on(prediction, reviewed))
            })
            .await;
        // A stranger learns nothing, not even that the prediction exists.
        reviewed.map_err(|e| if matches!(e, Error::NotFound(_)) { Error::NotFound("prediction") } else { e })
    }
}
