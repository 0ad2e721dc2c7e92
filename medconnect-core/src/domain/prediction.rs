//! Stored decision-support results.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ids::{EntryId, PatientId, UserId};
use crate::ai::interactions::InteractionReport;
use crate::ai::risk::predict::RiskResult;
use crate::ai::treatment::TreatmentPlan;
use crate::error::Error;

/// What a prediction is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictionKind {
    /// Drug–drug interactions among the patient's active medications (and a proposed drug).
    DrugInteractions,
    /// Guideline-style treatment options for the patient's risk factors and diagnoses.
    TreatmentOptions,
    /// 10-year coronary heart disease (Framingham).
    CardiovascularRisk,
    /// Diabetes within 5 years (Pima).
    DiabetesRisk,
    /// Death during follow-up of heart failure.
    HeartFailureMortality,
}

impl PredictionKind {
    /// The risk model behind a risk kind.
    pub fn risk(self) -> Option<crate::ai::risk::RiskKind> {
        use crate::ai::risk::RiskKind;
        match self {
            PredictionKind::CardiovascularRisk => Some(RiskKind::CardiovascularRisk),
            PredictionKind::DiabetesRisk => Some(RiskKind::DiabetesRisk),
            PredictionKind::HeartFailureMortality => Some(RiskKind::HeartFailureMortality),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PredictionKind::DrugInteractions => "drug_interactions",
            PredictionKind::TreatmentOptions => "treatment_options",
            PredictionKind::CardiovascularRisk => "cardiovascular_risk",
            PredictionKind::DiabetesRisk => "diabetes_risk",
            PredictionKind::HeartFailureMortality => "heart_failure_mortality",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        match raw {
            "drug_interactions" => Ok(PredictionKind::DrugInteractions),
            "treatment_options" => Ok(PredictionKind::TreatmentOptions),
            "cardiovascular_risk" => Ok(PredictionKind::CardiovascularRisk),
            "diabetes_risk" => Ok(PredictionKind::DiabetesRisk),
            "heart_failure_mortality" => Ok(PredictionKind::HeartFailureMortality),
            _ => Err(Error::invalid(field, "is not a known prediction kind")),
        }
    }
}

/// Where an input came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum InputSource {
    /// A medical entry of the patient's record.
    Entry { entry_id: EntryId },
    /// A stored prediction.
    Prediction { prediction_id: Uuid },
    /// Given in the request.
    Request,
    /// Computed from the record when the prediction was made (a risk a treatment plan read).
    Computed,
    /// The patient's profile (date of birth, sex).
    Profile,
    /// Nothing in the record: the flag is 0 (no such active diagnosis or medication).
    Absent,
    /// Missing, and imputed from the training median (the value shown).
    Imputed,
}

/// One input a prediction used, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionInput {
    pub name: String,
    pub value: String,
    #[serde(flatten)]
    pub source: InputSource,
}

/// The result of a drug-interaction prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrugInteractionsResult {
    /// The drug the doctor proposes to add, if any.
    pub proposed_drug: Option<String>,
    pub interactions: InteractionReport,
}

/// What a prediction found, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PredictionOutput {
    DrugInteractions(DrugInteractionsResult),
    TreatmentOptions(TreatmentPlan),
    CardiovascularRisk(RiskResult),
    DiabetesRisk(RiskResult),
    HeartFailureMortality(RiskResult),
}

/// A doctor's review of a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub reviewed_by: UserId,
    pub reviewed_at: DateTime<Utc>,
    pub comment: Option<String>,
}

/// A stored prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub kind: PredictionKind,
    pub created_at: DateTime<Utc>,
    pub requested_by: UserId,
    pub model_name: String,
    pub model_version: String,
    pub inputs: Vec<PredictionInput>,
    pub output: PredictionOutput,
    pub review: Option<Review>,
    /// The consultation it was made during, if any.
    #[serde(default)]
    pub consultation_id: Option<super::ConsultationId>,
    /// Made with values given in the request: a what-if, not the patient's risk. No rule
    /// reads it.
    #[serde(default)]
    pub scenario: bool,
}
