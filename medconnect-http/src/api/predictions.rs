//! Decision support on a patient's record: `POST /predict`, stored predictions, reviews.

use chrono::{DateTime, Utc};
use medconnect_core::MedConnect;
use medconnect_core::ai::risk::predict::{RiskBand, RiskResult};
use medconnect_core::ai::treatment::{
    Candidate, Indication, NotEvaluated, OptionStatus, Reason, ReasonKind, TreatmentOption, TreatmentPlan,
};
use medconnect_core::domain::{
    ConsultationId, InputSource, PatientId, Prediction, PredictionInput, PredictionKind, PredictionOutput,
};
use medconnect_core::services::PredictRequest;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Union};
use uuid::Uuid;

use super::interactions::{InteractionCheck, SeverityView};
use super::types::{enum_from, page_of, page_request};
use super::{ApiTags, Auth};
use crate::problem::{ApiResult, PatientReadErrors, PatientWriteErrors};

enum_from!(KindView => PredictionKind { DrugInteractions, TreatmentOptions, CardiovascularRisk, DiabetesRisk, HeartFailureMortality });
enum_from!(PredictionKind => KindView { DrugInteractions, TreatmentOptions, CardiovascularRisk, DiabetesRisk, HeartFailureMortality });
enum_from!(OptionStatus => OptionStatusView { Suitable, Flagged, Excluded });
enum_from!(ReasonKind => ReasonKindView { Interaction, Allergy, AllergyNotRecognised, AlreadyTaking, NotInKnowledgeBase });

/// What decision support to run.
///
/// - `drug_interactions`: interactions among the patient's active medications, and a proposed drug if given.
/// - `treatment_options`: guideline options for the patient's risk factors and diagnoses, screened against their medications and allergies.
/// - `cardiovascular_risk`: 10-year coronary heart disease (model trained on the Framingham cohort).
/// - `diabetes_risk`: diabetes within 5 years (model trained on the Pima cohort).
/// - `heart_failure_mortality`: death during follow-up of heart failure (model trained on a heart-failure cohort).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "PredictionKind", rename_all = "snake_case")]
pub enum KindView {
    DrugInteractions,
    TreatmentOptions,
    CardiovascularRisk,
    DiabetesRisk,
    HeartFailureMortality,
}

/// Run decision support for a patient in your care.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct PredictBody {
    pub patient_id: Uuid,
    pub kind: KindView,
    /// With `drug_interactions`: a drug you propose to add.
    #[oai(validator(max_length = 200))]
    pub proposed_drug: Option<String>,
    /// With a risk kind: input values that win over the record, by feature name
    /// (see the model cards), such as `{"sysBP": 150}`.
    pub inputs: Option<std::collections::HashMap<String, f64>>,
    /// The consultation it is made during: one of yours with this patient, accepted and
    /// not ended. `GET /consultations/{id}` then lists it.
    pub consultation_id: Option<Uuid>,
}

/// Where an input of a prediction came from.
///
/// - `entry`: a medical entry (`entry_id`).
/// - `prediction`: a stored prediction (`prediction_id`).
/// - `request`: the request's `inputs` or `proposed_drug`.
/// - `computed`: computed from the record when the prediction was made (the risks a
///   treatment plan read).
/// - `profile`: the patient's profile (date of birth, sex).
/// - `absent`: nothing in the record: the flag is 0.
/// - `imputed`: missing: the training median shown was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum InputSourceView {
    Entry,
    Prediction,
    Request,
    Computed,
    Profile,
    Absent,
    Imputed,
}

/// An input the prediction used, and where it came from.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct InputView {
    pub name: String,
    pub value: String,
    pub source: InputSourceView,
    pub entry_id: Option<Uuid>,
    pub prediction_id: Option<Uuid>,
}

impl From<PredictionInput> for InputView {
    fn from(i: PredictionInput) -> Self {
        let (source, entry_id, prediction_id) = match i.source {
            InputSource::Entry { entry_id } => (InputSourceView::Entry, Some(entry_id.0), None),
            InputSource::Prediction { prediction_id } => (InputSourceView::Prediction, None, Some(prediction_id)),
            InputSource::Request => (InputSourceView::Request, None, None),
            InputSource::Computed => (InputSourceView::Computed, None, None),
            InputSource::Profile => (InputSourceView::Profile, None, None),
            InputSource::Absent => (InputSourceView::Absent, None, None),
            InputSource::Imputed => (InputSourceView::Imputed, None, None),
        };
        Self { name: i.name, value: i.value, source, entry_id, prediction_id }
    }
}

/// The model or knowledge base that made the prediction; for the risk models, also what
/// it predicts, over what horizon, for whom, within what limits, and its bands' source.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ModelView {
    pub name: String,
    pub version: String,
    /// The event the probability is about.
    pub outcome: Option<String>,
    pub horizon: Option<String>,
    /// Who the model was fitted on.
    pub training_population: Option<String>,
    /// What the model is not (a teaching cohort, not a validated clinical score).
    pub limits: Option<String>,
    /// The model card, in the repository.
    pub card: Option<String>,
    /// Below the first, `low`; below the second, `moderate`; else `high`.
    pub band_cutoffs: Option<Vec<f64>>,
    pub band_source: Option<String>,
    /// The ages of the training cohort; an age outside them is flagged in `warnings`.
    pub cohort_age_range: Option<Vec<f64>>,
}

impl ModelView {
    fn of(kind: PredictionKind, name: String, version: String) -> Self {
        let statement = kind.risk().map(|k| k.statement());
        let s = statement.as_ref();
        Self {
            name,
            version,
            outcome: s.map(|s| s.outcome.clone()),
            horizon: s.map(|s| s.horizon.clone()),
            training_population: s.map(|s| s.population.clone()),
            limits: s.map(|s| s.limits.clone()),
            card: s.map(|s| s.card.clone()),
            band_cutoffs: s.map(|s| s.band_cutoffs.to_vec()),
            band_source: s.map(|s| s.band_source.clone()),
            cohort_age_range: s.map(|s| s.age_range.to_vec()),
        }
    }
}

/// Result of `drug_interactions`.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct DrugInteractionsOutput {
    pub proposed_drug: Option<String>,
    pub interactions: InteractionCheck,
}

/// Whether a candidate drug suits the patient.
///
/// - `suitable`: nothing found against it.
/// - `flagged`: usable with care: see the reasons.
/// - `excluded`: not for this patient: see the reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum OptionStatusView {
    Suitable,
    Flagged,
    Excluded,
}

/// Why a candidate drug was flagged or excluded.
///
/// - `interaction`: it interacts with an active medication.
/// - `allergy`: the patient is allergic to it or to its class.
/// - `allergy_not_recognised`: a recorded allergy names nothing the interaction thesaurus
///   or the synonyms table knows, so it could not be checked against this drug: check by hand.
/// - `already_taking`: the patient already takes it.
/// - `not_in_knowledge_base`: the interaction thesaurus does not know it, so it was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ReasonKindView {
    Interaction,
    Allergy,
    AllergyNotRecognised,
    AlreadyTaking,
    NotInKnowledgeBase,
}

/// Why a candidate is flagged or excluded.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReasonView {
    pub kind: ReasonKindView,
    /// The medication or allergy concerned.
    pub with: Option<String>,
    pub severity: Option<SeverityView>,
    /// For interactions, the mechanism in French as the thesaurus writes it.
    pub detail: String,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CandidateView {
    pub substance: String,
    pub status: OptionStatusView,
    pub reasons: Vec<ReasonView>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TreatmentOptionView {
    pub name: String,
    /// `first`, `add-on` or `alternative`.
    pub line: String,
    pub status: OptionStatusView,
    pub candidates: Vec<CandidateView>,
}

/// A guideline rule that applies to the patient.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct IndicationView {
    pub rule: String,
    pub title: String,
    /// The guideline the rule comes from.
    pub source: String,
    /// The measure the rule decided on, and how it relates to the guideline's own.
    pub measure: String,
    /// The facts of the record that made it apply.
    pub evidence: Vec<String>,
    pub options: Vec<TreatmentOptionView>,
}

/// A rule that could not be decided for lack of data.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NotEvaluatedView {
    pub rule: String,
    pub missing: Vec<String>,
}

/// Result of `treatment_options`.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TreatmentOptionsOutput {
    pub rules_version: String,
    pub interactions_edition: String,
    pub indications: Vec<IndicationView>,
    pub not_evaluated: Vec<NotEvaluatedView>,
}

/// The risk band of a probability (cut-offs in the model card).
///
/// - `low`: below the model's lower cut-off.
/// - `moderate`: between the cut-offs.
/// - `high`: at or above the upper cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum RiskBandView {
    Low,
    Moderate,
    High,
}

enum_from!(RiskBand => RiskBandView { Low, Moderate, High });

/// A feature's share of a risk prediction.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct FactorView {
    pub feature: String,
    /// The value the model used.
    pub value: f64,
    /// Coefficient × standardised value (log-odds); positive raises the risk.
    pub contribution: f64,
}

/// Declares the output object of one risk kind: the same fields for every kind, one
/// schema per kind, so that the discriminated union maps each `kind` to its own schema.
macro_rules! risk_output {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Object)]
        #[oai(skip_serializing_if_is_none)]
        pub struct $name {
            /// The predicted probability of the outcome, from 0 to 1.
            pub probability: f64,
            pub band: RiskBandView,
            /// The largest contributions.
            pub top_factors: Vec<FactorView>,
            /// How the contributions are computed, for this model family.
            pub explanation_method: String,
            /// Optional inputs absent from the record, imputed from the training median.
            pub missing: Vec<String>,
            /// What the reader must know about this answer, such as an age outside the
            /// training cohort's.
            pub warnings: Vec<String>,
        }

        impl From<RiskResult> for $name {
            fn from(r: RiskResult) -> Self {
                Self {
                    probability: r.probability,
                    band: r.band.into(),
                    top_factors: r
                        .top_factors
                        .into_iter()
                        .map(|f| FactorView { feature: f.feature, value: f.value, contribution: f.contribution })
                        .collect(),
                    explanation_method: r.explanation_method,
                    missing: r.missing,
                    warnings: r.warnings,
                }
            }
        }
    };
}

risk_output!(CardiovascularRiskOutput, "Result of `cardiovascular_risk`: 10-year coronary heart disease.");
risk_output!(DiabetesRiskOutput, "Result of `diabetes_risk`: diabetes within 5 years.");
risk_output!(HeartFailureMortalityOutput, "Result of `heart_failure_mortality`: death during follow-up.");

/// What the prediction found; `kind` says which, and which object the rest is.
#[derive(Debug, Union)]
#[oai(discriminator_name = "kind", one_of)]
pub enum OutputView {
    #[oai(mapping = "drug_interactions")]
    DrugInteractions(DrugInteractionsOutput),
    #[oai(mapping = "treatment_options")]
    TreatmentOptions(TreatmentOptionsOutput),
    #[oai(mapping = "cardiovascular_risk")]
    CardiovascularRisk(CardiovascularRiskOutput),
    #[oai(mapping = "diabetes_risk")]
    DiabetesRisk(DiabetesRiskOutput),
    #[oai(mapping = "heart_failure_mortality")]
    HeartFailureMortality(HeartFailureMortalityOutput),
}

impl From<Reason> for ReasonView {
    fn from(r: Reason) -> Self {
        Self { kind: r.kind.into(), with: r.with, severity: r.severity.map(Into::into), detail: r.detail }
    }
}

impl From<Candidate> for CandidateView {
    fn from(c: Candidate) -> Self {
        Self {
            substance: c.substance,
            status: c.status.into(),
            reasons: c.reasons.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<TreatmentOption> for TreatmentOptionView {
    fn from(o: TreatmentOption) -> Self {
        Self {
            name: o.name,
            line: o.line,
            status: o.status.into(),
            candidates: o.candidates.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Indication> for IndicationView {
    fn from(i: Indication) -> Self {
        Self {
            rule: i.rule,
            title: i.title,
            source: i.source,
            measure: i.measure,
            evidence: i.evidence,
            options: i.options.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<NotEvaluated> for NotEvaluatedView {
    fn from(n: NotEvaluated) -> Self {
        Self { rule: n.rule, missing: n.missing }
    }
}

impl From<TreatmentPlan> for TreatmentOptionsOutput {
    fn from(p: TreatmentPlan) -> Self {
        Self {
            rules_version: p.rules_version,
            interactions_edition: p.interactions_edition,
            indications: p.indications.into_iter().map(Into::into).collect(),
            not_evaluated: p.not_evaluated.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<PredictionOutput> for OutputView {
    fn from(o: PredictionOutput) -> Self {
        match o {
            PredictionOutput::DrugInteractions(d) => OutputView::DrugInteractions(DrugInteractionsOutput {
                proposed_drug: d.proposed_drug,
                interactions: (&d.interactions).into(),
            }),
            PredictionOutput::TreatmentOptions(plan) => OutputView::TreatmentOptions(plan.into()),
            PredictionOutput::CardiovascularRisk(r) => OutputView::CardiovascularRisk(r.into()),
            PredictionOutput::DiabetesRisk(r) => OutputView::DiabetesRisk(r.into()),
            PredictionOutput::HeartFailureMortality(r) => OutputView::HeartFailureMortality(r.into()),
        }
    }
}

/// A doctor's review.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReviewView {
    pub reviewed_by: Uuid,
    pub reviewed_at: DateTime<Utc>,
    pub comment: Option<String>,
}

/// A stored prediction.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "Prediction")]
pub struct PredictionView {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: KindView,
    pub created_at: DateTime<Utc>,
    pub requested_by: Uuid,
    pub model: ModelView,
    /// Every input used, with where it came from.
    pub inputs: Vec<InputView>,
    pub output: OutputView,
    pub review: Option<ReviewView>,
    /// The consultation it was made during, if any.
    pub consultation_id: Option<Uuid>,
    /// Made with values given in the request (`inputs`, `proposed_drug`): a what-if, not
    /// the patient's risk. No treatment rule reads it.
    pub scenario: bool,
}

impl From<Prediction> for PredictionView {
    fn from(p: Prediction) -> Self {
        Self {
            id: p.id,
            patient_id: p.patient_id.0,
            kind: p.kind.into(),
            created_at: p.created_at,
            requested_by: p.requested_by.0,
            model: ModelView::of(p.kind, p.model_name, p.model_version),
            inputs: p.inputs.into_iter().map(Into::into).collect(),
            output: p.output.into(),
            review: p.review.map(|r| ReviewView {
                reviewed_by: r.reviewed_by.0,
                reviewed_at: r.reviewed_at,
                comment: r.comment,
            }),
            consultation_id: p.consultation_id.map(|c| c.0),
            scenario: p.scenario,
        }
    }
}

page_of!(PredictionPage, PredictionView, "A page of stored predictions, newest first.");

/// A review of a prediction.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct ReviewBody {
    #[oai(validator(max_length = 2000))]
    pub comment: Option<String>,
}

impl poem_openapi::types::Example for ReviewBody {
    fn example() -> Self {
        Self { comment: Some("Discussed with the patient; repeat the lipid panel in 3 months.".into()) }
    }
}

impl poem_openapi::types::Example for PredictBody {
    fn example() -> Self {
        Self {
            patient_id: uuid::uuid!("6f1c2a5e-3b7d-4c1e-9a8f-2d4b6c8e0a13"),
            kind: KindView::CardiovascularRisk,
            proposed_drug: None,
            inputs: None,
            consultation_id: None,
        }
    }
}

#[derive(ApiResponse)]
pub enum PredictionCreated {
    /// The prediction was made and stored.
    #[oai(status = 201)]
    Created(Json<PredictionView>),
}

#[derive(Default)]
pub struct PredictionsApi;

#[OpenApi(tag = "ApiTags::DecisionSupport")]
impl PredictionsApi {
    /// Run decision support for a patient
    ///
    /// Doctors in the patient's care only. `drug_interactions` checks the active
    /// medications (and `proposed_drug`); `treatment_options` applies the guideline
    /// rules to the record; the risk kinds read the model's features from the record
    /// (latest value within two years), with `inputs` overriding. A required input that
    /// is missing is a 422 naming it. The result is stored with its inputs and version.
    #[oai(path = "/predict", method = "post", operation_id = "create_prediction")]
    async fn predict(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        body: Json<PredictBody>,
    ) -> ApiResult<PredictionCreated, PatientWriteErrors> {
        let body = body.0;
        let request = PredictRequest {
            patient_id: PatientId(body.patient_id),
            kind: body.kind.into(),
            proposed_drug: body.proposed_drug,
            inputs: body.inputs.unwrap_or_default().into_iter().collect(),
            consultation_id: body.consultation_id.map(ConsultationId),
        };
        Ok(PredictionCreated::Created(Json(app.predict(&auth.0, request).await?.into())))
    }

    /// A patient's stored predictions
    ///
    /// The patient and their doctors in care; newest first.
    #[oai(path = "/predictions/:patient_id", method = "get", operation_id = "list_predictions")]
    async fn list(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        patient_id: Path<Uuid>,
        kind: Query<Option<KindView>>,
        /// `next_cursor` of the previous page; absent for the first page.
        cursor: Query<Option<String>>,
        /// Page size (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<PredictionPage>, PatientReadErrors> {
        let page = page_request(cursor.0, limit.0);
        let found = app.list_predictions(&auth.0, PatientId(patient_id.0), kind.0.map(Into::into), &page).await?;
        Ok(Json(found.into()))
    }

    /// Mark a prediction as reviewed
    ///
    /// A doctor in the patient's care, with an optional comment.
    #[oai(path = "/predictions/:prediction_id/review", method = "post", operation_id = "review_prediction")]
    async fn review(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        prediction_id: Path<Uuid>,
        body: Json<ReviewBody>,
    ) -> ApiResult<Json<PredictionView>, PatientWriteErrors> {
        Ok(Json(app.review_prediction(&auth.0, prediction_id.0, body.0.comment).await?.into()))
    }
}
