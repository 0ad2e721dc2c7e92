//! What each model predicts, over what horizon, for whom, and within what limits: stated
//! in its card and with every answer, so that nobody reads a teaching-cohort probability
//! as a validated clinical score.

use serde::{Deserialize, Serialize};

use super::model::RiskKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelStatement {
    /// The event the probability is about.
    pub outcome: String,
    pub horizon: String,
    /// Who the model was fitted on.
    pub population: String,
    /// What the model is not.
    pub limits: String,
    /// The model card, in the repository.
    pub card: String,
    /// Probabilities below the first are `low`, below the second `moderate`, else `high`.
    pub band_cutoffs: [f64; 2],
    pub band_source: String,
    /// The ages of the training cohort: an age outside them is always flagged.
    pub age_range: [f64; 2],
}

const TEACHING: &str = "Fitted on a public teaching extract of a research cohort and cross-validated on it only; \
     not a validated clinical score, not externally validated: a signal for a clinician, never a decision";

impl RiskKind {
    /// The band cut-offs of [`ModelStatement::band_cutoffs`], without building the texts
    /// (read on every prediction).
    pub const fn band_cutoffs(self) -> [f64; 2] {
        match self {
            RiskKind::CardiovascularRisk => [0.10, 0.20],
            RiskKind::DiabetesRisk | RiskKind::HeartFailureMortality => [0.30, 0.60],
        }
    }

    /// The ages of the training cohort (tested against the cohorts below).
    pub const fn age_range(self) -> [f64; 2] {
        match self {
            RiskKind::CardiovascularRisk => [32.0, 70.0],
            RiskKind::DiabetesRisk => [21.0, 81.0],
            RiskKind::HeartFailureMortality => [40.0, 95.0],
        }
    }

    pub fn statement(self) -> ModelStatement {
        let card = format!("models/{}.md", self.as_str());
        match self {
            RiskKind::CardiovascularRisk => ModelStatement {
                outcome: "coronary heart disease (the cohort's TenYearCHD event)".into(),
                horizon: "10 years".into(),
                population: "Framingham Heart Study participants, Framingham, Massachusetts, USA: 4,240 adults aged \
                             32 to 70 (Kaggle teaching extract)"
                    .into(),
                limits: format!(
                    "{TEACHING}. It predicts coronary heart disease, not the fatal cardiovascular risk of SCORE2 \
                     that the ESC guidelines use"
                ),
                card,
                band_cutoffs: self.band_cutoffs(),
                band_source: "NCEP ATP III (JAMA 2001;285:2486–2497): 10-year coronary heart disease risk < 10 %, \
                              10–20 %, > 20 %"
                    .into(),
                age_range: self.age_range(),
            },
            RiskKind::DiabetesRisk => ModelStatement {
                outcome: "diabetes (the cohort's Outcome: diagnosed within five years of the examination)".into(),
                horizon: "5 years".into(),
                population: "768 women of Pima Indian heritage aged 21 to 81, Arizona, USA (NIDDK Pima Indians \
                             Diabetes Database)"
                    .into(),
                limits: format!(
                    "{TEACHING}. Fitted on women only: refused for men; refused for a patient already diagnosed \
                     with diabetes"
                ),
                card,
                band_cutoffs: self.band_cutoffs(),
                band_source: "MedConnect display thresholds, not from a guideline".into(),
                age_range: self.age_range(),
            },
            RiskKind::HeartFailureMortality => ModelStatement {
                outcome: "death during follow-up".into(),
                horizon: "the cohort's follow-up, 4 to 285 days".into(),
                population: "299 patients with heart failure and left ventricular systolic dysfunction (NYHA class \
                             III–IV), aged 40 to 95, Faisalabad, Pakistan, 2015 (Ahmad et al. 2017; Chicco & Jurman 2020)"
                    .into(),
                limits: format!("{TEACHING}. Only for patients with heart failure"),
                card,
                band_cutoffs: self.band_cutoffs(),
                band_source: "MedConnect display thresholds, not from a guideline".into(),
                age_range: self.age_range(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stated_age_ranges_are_the_cohorts_own() {
        for kind in RiskKind::ALL {
            let data = kind.cohort().load().expect("cohort");
            let column = data.features.iter().position(|f| f.eq_ignore_ascii_case("age")).expect("an age column");
            let ages: Vec<f64> = data.rows.iter().filter_map(|r| r[column]).collect();
            let (lo, hi) = ages.iter().fold((f64::MAX, f64::MIN), |(lo, hi), a| (lo.min(*a), hi.max(*a)));
            assert_eq!(kind.statement().age_range, [lo, hi], "{kind:?}");
        }
    }

    #[test]
    fn every_statement_names_outcome_horizon_population_and_limits() {
        for kind in RiskKind::ALL {
            let s = kind.statement();
            assert!(!s.outcome.is_empty() && !s.horizon.is_empty() && s.population.len() > 40);
            assert!(s.limits.contains("not a validated clinical score"));
            assert!(s.band_cutoffs[0] < s.band_cutoffs[1]);
            assert!(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(&s.card).exists());
        }
    }
}
