//! Shipped risk models: trained by `medconnect train` from the vendored cohorts, stored
//! with postcard (bit-exact floats, so the same data and code give byte-identical files),
//! and checked on load so that a corrupt or mismatched file is a clear error.

use serde::{Deserialize, Serialize};

use super::dataset::Cohort;
use super::families::{FOREST, FOREST_UNCALIBRATED, FamilyResult, ForestModel, LOGISTIC, compare};
use super::features::{self, Feature};
use super::pipeline::Preprocessor;
use super::validate::{CvReport, LogisticModel};
use crate::error::{Error, Result};

/// Bumped when the file layout changes.
pub const FORMAT: u32 = 3;
/// smartcore's L2 penalty; 1.0 matches scikit-learn's C = 1 on these cohorts.
pub const ALPHA: f64 = 1.0;

/// The risk kinds, each learned from one cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskKind {
    CardiovascularRisk,
    DiabetesRisk,
    HeartFailureMortality,
}

impl RiskKind {
    pub const ALL: [RiskKind; 3] =
        [RiskKind::CardiovascularRisk, RiskKind::DiabetesRisk, RiskKind::HeartFailureMortality];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskKind::CardiovascularRisk => "cardiovascular_risk",
            RiskKind::DiabetesRisk => "diabetes_risk",
            RiskKind::HeartFailureMortality => "heart_failure_mortality",
        }
    }

    pub fn cohort(self) -> Cohort {
        match self {
            RiskKind::CardiovascularRisk => Cohort::Framingham,
            RiskKind::DiabetesRisk => Cohort::Pima,
            RiskKind::HeartFailureMortality => Cohort::HeartFailure,
        }
    }

    pub fn features(self) -> &'static [Feature] {
        match self {
            RiskKind::CardiovascularRisk => features::CARDIOVASCULAR,
            RiskKind::DiabetesRisk => features::DIABETES_RISK,
            RiskKind::HeartFailureMortality => features::HEART_FAILURE,
        }
    }

    /// The file shipped in the library.
    pub fn shipped(self) -> &'static [u8] {
        match self {
            RiskKind::CardiovascularRisk => include_bytes!("../../../../models/risk/cardiovascular_risk.model"),
            RiskKind::DiabetesRisk => include_bytes!("../../../../models/risk/diabetes_risk.model"),
            RiskKind::HeartFailureMortality => include_bytes!("../../../../models/risk/heart_failure_mortality.model"),
        }
    }
}

/// The fitted estimator: the family that won the cross-validated AUC comparison among
/// those MedConnect can serve and explain.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub enum Estimator {
    Logistic(LogisticModel),
    Forest(ForestModel),
}

impl Estimator {
    pub fn preprocessor(&self) -> &Preprocessor {
        match self {
            Estimator::Logistic(m) => &m.preprocessor,
            Estimator::Forest(m) => &m.preprocessor,
        }
    }

    pub fn family(&self) -> &'static str {
        match self {
            Estimator::Logistic(_) => LOGISTIC,
            Estimator::Forest(_) => FOREST,
        }
    }

    /// The probability of the outcome for one row (missing values imputed).
    pub fn probability(&self, row: &[Option<f64>]) -> Result<f64> {
        match self {
            Estimator::Logistic(m) => Ok(m.probability(row)),
            Estimator::Forest(m) => Ok(m.probabilities(&[row])?.first().copied().unwrap_or(0.0)),
        }
    }
}

/// A trained model and what is known about it.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskModel {
    pub format: u32,
    pub kind: String,
    pub name: String,
    pub version: String,
    pub features: Vec<String>,
    pub training_rows: u32,
    pub alpha: f64,
    pub model: Estimator,
    /// Cross-validation of the shipped family.
    pub cross_validation: CvReport,
    /// Every family smartcore offers, cross-validated the same way (for the card).
    pub families: Vec<FamilyResult>,
    /// For a calibrated forest: the same forest's cross-validation without its calibration,
    /// so that the card shows calibration before and after.
    pub uncalibrated: Option<CvReport>,
}

impl RiskModel {
    /// Cross-validates on the shared folds, then fits on every row.
    pub fn train(kind: RiskKind) -> Result<Self> {
        let data = kind.cohort().load()?;
        let compared = compare(&data, ALPHA)?;
        let rows: Vec<&[Option<f64>]> = data.rows.iter().map(Vec::as_slice).collect();
        let report = |name: &str| compared.iter().find(|(f, _)| f.family == name).map(|(_, r)| r);
        let auc = |name: &str| report(name).map_or(0.0, |r| r.mean.roc_auc);
        // Chosen by cross-validated AUC among the families MedConnect serves and explains.
        let (model, family) = if auc(FOREST) > auc(LOGISTIC) {
            (Estimator::Forest(ForestModel::fit_calibrated(&rows, &data.labels)?), FOREST)
        } else {
            (Estimator::Logistic(LogisticModel::fit(&rows, &data.labels, ALPHA)?), LOGISTIC)
        };
        let cross_validation =
            report(family).cloned().ok_or_else(|| Error::internal(format!("{family} was not cross-validated")))?;
        let uncalibrated = (family == FOREST).then(|| report(FOREST_UNCALIBRATED).cloned()).flatten();
        let families = compared.into_iter().map(|(f, _)| f).collect();
        Ok(Self {
            format: FORMAT,
            kind: kind.as_str().to_owned(),
            name: format!(
                "{}-{}",
                kind.as_str(),
                if matches!(model, Estimator::Forest(_)) { "bagged-trees" } else { "logistic-l2" }
            ),
            // 1.1.0: the forest is Platt-scaled (the logistic models are unchanged since 1.0.0).
            version: if matches!(model, Estimator::Forest(_)) { "1.1.0" } else { "1.0.0" }.to_owned(),
            features: data.features,
            training_rows: u32::try_from(data.rows.len()).unwrap_or(u32::MAX),
            alpha: ALPHA,
            model,
            cross_validation,
            families,
            uncalibrated,
        })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        postcard::to_allocvec(self).map_err(Error::internal)
    }

    /// Reads a model file for `kind`, refusing a corrupt file or one made for other features.
    pub fn from_bytes(kind: RiskKind, bytes: &[u8]) -> Result<Self> {
        let bad = |why: String| Error::internal(format!("model file for {}: {why}", kind.as_str()));
        let model: RiskModel = postcard::from_bytes(bytes).map_err(|e| bad(format!("cannot be read ({e})")))?;
        if model.format != FORMAT {
            return Err(bad(format!("format {} is not {FORMAT}", model.format)));
        }
        if model.kind != kind.as_str() {
            return Err(bad(format!("it is a {} model", model.kind)));
        }
        let expected: Vec<&str> = kind.features().iter().map(|f| f.column).collect();
        let width = expected.len();
        let p = model.model.preprocessor();
        let mut sizes_ok =
            model.features == expected && p.medians.len() == width && p.means.len() == width && p.stds.len() == width;
        let mut finite =
            p.means.iter().chain(&p.stds).chain(&p.medians).all(|v| v.is_finite()) && p.stds.iter().all(|s| *s > 0.0);
        match &model.model {
            Estimator::Logistic(m) => {
                sizes_ok &= m.coefficients.len() == width;
                finite &= m.coefficients.iter().all(|v| v.is_finite()) && m.intercept.is_finite();
            }
            Estimator::Forest(m) => sizes_ok &= !m.trees.is_empty(),
        }
        if !sizes_ok {
            return Err(bad("its features do not match this version of MedConnect".into()));
        }
        if !finite {
            return Err(bad("it holds non-finite or zero-scale parameters".into()));
        }
        Ok(model)
    }

    /// The shipped model of a kind.
    pub fn shipped(kind: RiskKind) -> Result<Self> {
        Self::from_bytes(kind, kind.shipped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_reproduces_every_shipped_model_file_byte_for_byte() {
        for kind in RiskKind::ALL {
            let trained = RiskModel::train(kind).expect("train").to_bytes().expect("encode");
            assert!(
                trained == kind.shipped(),
                "{} differs from the shipped file: run `medconnect train`",
                kind.as_str()
            );
        }
    }

    #[test]
    fn shipped_models_load_and_corrupt_or_mismatched_files_are_refused() {
        for kind in RiskKind::ALL {
            let model = RiskModel::shipped(kind).expect("shipped model loads");
            assert_eq!(model.features.len(), kind.features().len());
        }
        let bytes = RiskKind::DiabetesRisk.shipped();
        let err = RiskModel::from_bytes(RiskKind::DiabetesRisk, &bytes[..bytes.len() / 2]).expect_err("truncated");
        assert!(err.source_text().contains("cannot be read"), "{}", err.source_text());
        let err = RiskModel::from_bytes(RiskKind::CardiovascularRisk, bytes).expect_err("wrong kind");
        assert!(err.source_text().contains("diabetes_risk model"));
        let mut other = RiskModel::shipped(RiskKind::DiabetesRisk).expect("load");
        other.features.pop();
        let err =
            RiskModel::from_bytes(RiskKind::DiabetesRisk, &other.to_bytes().expect("encode")).expect_err("features");
        assert!(err.source_text().contains("features do not match"));
        assert!(RiskModel::from_bytes(RiskKind::DiabetesRisk, b"").is_err());
    }

    #[test]
    fn feature_tables_name_the_cohort_columns_in_order() {
        for kind in RiskKind::ALL {
            let data = kind.cohort().load().expect("load");
            let columns: Vec<&str> = kind.features().iter().map(|f| f.column).collect();
            assert_eq!(data.features, columns, "{}", kind.as_str());
        }
    }
}
