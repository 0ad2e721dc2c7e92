//! Cross-validation on the shared stratified folds: train on four folds (preprocessing
//! fitted there too), score the fifth, report the mean over the five.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

use super::dataset::Dataset;
use super::metrics::{
    CalibrationBin, accuracy_and_mcc, brier, calibration_deciles, logistic_recalibration, roc_auc, roc_curve,
};
use super::pipeline::Preprocessor;
use crate::error::{Error, Result};

/// Metrics on one held-out fold, or their mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub roc_auc: f64,
    pub brier: f64,
    pub accuracy: f64,
    pub mcc: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    pub folds: Vec<Metrics>,
    pub mean: Metrics,
    /// The five folds' held-out predictions taken together (what the card's plots draw).
    pub pooled: PooledCurves,
}

/// ROC curve and calibration of the out-of-fold predictions of every row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledCurves {
    pub roc_auc: f64,
    /// Corners of the ROC curve, (false positive rate, true positive rate).
    pub roc: Vec<(f64, f64)>,
    pub calibration: Vec<CalibrationBin>,
    /// Logistic recalibration of the pooled predictions: slope 1 and intercept 0 when
    /// calibrated; a slope below 1 means predictions too extreme, above 1 too timid.
    pub calibration_slope: f64,
    pub calibration_intercept: f64,
}

/// A fitted logistic model: preprocessing, coefficients on standardised features, intercept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    pub preprocessor: Preprocessor,
    pub coefficients: Vec<f64>,
    pub intercept: f64,
}

impl LogisticModel {
    /// Fits on rows; `alpha` is smartcore's L2 penalty (0 separates small data perfectly).
    pub fn fit(rows: &[&[Option<f64>]], labels: &[u8], alpha: f64) -> Result<Self> {
        let preprocessor = Preprocessor::fit(rows);
        let x: Vec<Vec<f64>> = rows.iter().map(|r| preprocessor.transform(r)).collect();
        let x = DenseMatrix::from_2d_vec(&x).map_err(|e| Error::internal(e.to_string()))?;
        let y: Vec<i32> = labels.iter().map(|&l| i32::from(l)).collect();
        let params = LogisticRegressionParameters::default().with_alpha(alpha);
        let fitted = LogisticRegression::fit(&x, &y, params).map_err(|e| Error::internal(e.to_string()))?;
        let width = preprocessor.medians.len();
        let coefficients = (0..width).map(|j| *fitted.coefficients().get((0, j))).collect();
        let intercept = *fitted.intercept().get((0, 0));
        Ok(Self { preprocessor, coefficients, intercept })
    }

    /// sigmoid(x·coefficients + intercept), which agrees with smartcore's `predict`.
    pub fn probability(&self, row: &[Option<f64>]) -> f64 {
        let x = self.preprocessor.transform(row);
        let z: f64 = x.iter().zip(&self.coefficients).map(|(a, b)| a * b).sum::<f64>() + self.intercept;
        1.0 / (1.0 + (-z).exp())
    }
}

/// Cross-validates an L2 logistic regression on the dataset's folds.
pub fn cross_validate_logistic(data: &Dataset, alpha: f64) -> Result<CvReport> {
    cross_validate_with(data, |train, labels, test| {
        let model = LogisticModel::fit(train, labels, alpha)?;
        Ok(test.iter().map(|r| model.probability(r)).collect())
    })
}

/// Cross-validates any learner: `fit_predict(train rows, train labels, test rows)` returns
/// the probabilities of the test rows. Preprocessing belongs inside it (fitted on `train`).
pub fn cross_validate_with(
    data: &Dataset,
    mut fit_predict: impl FnMut(&[&[Option<f64>]], &[u8], &[&[Option<f64>]]) -> Result<Vec<f64>>,
) -> Result<CvReport> {
    let mut folds = Vec::with_capacity(5);
    let (mut pooled_labels, mut pooled_probabilities) = (vec![], vec![]);
    for fold in 0..5u8 {
        let (mut train_rows, mut train_labels, mut test_rows, mut test_labels) = (vec![], vec![], vec![], vec![]);
        for ((row, &label), &f) in data.rows.iter().zip(&data.labels).zip(&data.folds) {
            if f == fold {
                test_rows.push(row.as_slice());
                test_labels.push(label);
            } else {
                train_rows.push(row.as_slice());
                train_labels.push(label);
            }
        }
        let p = fit_predict(&train_rows, &train_labels, &test_rows)?;
        let (accuracy, mcc) = accuracy_and_mcc(&test_labels, &p);
        folds.push(Metrics { roc_auc: roc_auc(&test_labels, &p), brier: brier(&test_labels, &p), accuracy, mcc });
        pooled_labels.extend(test_labels);
        pooled_probabilities.extend(p);
    }
    let mean = |f: fn(&Metrics) -> f64| folds.iter().map(f).sum::<f64>() / folds.len() as f64;
    let mean = Metrics {
        roc_auc: mean(|m| m.roc_auc),
        brier: mean(|m| m.brier),
        accuracy: mean(|m| m.accuracy),
        mcc: mean(|m| m.mcc),
    };
    let (calibration_slope, calibration_intercept) = logistic_recalibration(&pooled_labels, &pooled_probabilities);
    let pooled = PooledCurves {
        roc_auc: roc_auc(&pooled_labels, &pooled_probabilities),
        roc: roc_curve(&pooled_labels, &pooled_probabilities),
        calibration: calibration_deciles(&pooled_labels, &pooled_probabilities),
        calibration_slope,
        calibration_intercept,
    };
    Ok(CvReport { folds, mean, pooled })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::risk::Cohort;

    /// Reference (scikit-learn, same folds, logistic regression): AUC / Brier.
    /// Framingham 0.722 / 0.117, Pima 0.837 / 0.157, heart failure 0.766 / 0.177.
    #[test]
    fn logistic_regression_on_the_shared_folds_matches_the_reference() {
        for (cohort, min_auc, max_brier) in
            [(Cohort::Pima, 0.83, 0.160), (Cohort::HeartFailure, 0.76, 0.180), (Cohort::Framingham, 0.72, 0.118)]
        {
            let data = cohort.load().expect("load");
            let report = cross_validate_logistic(&data, 1.0).expect("cross-validate");
            eprintln!("{cohort:?}: {:?}", report.mean);
            assert!(report.mean.roc_auc >= min_auc, "{cohort:?} AUC {}", report.mean.roc_auc);
            assert!(report.mean.brier <= max_brier, "{cohort:?} Brier {}", report.mean.brier);
        }
    }

    #[test]
    fn probabilities_agree_with_smartcore_predictions() {
        let data = Cohort::Pima.load().expect("load");
        let rows: Vec<&[Option<f64>]> = data.rows.iter().map(Vec::as_slice).collect();
        let model = LogisticModel::fit(&rows, &data.labels, 1.0).expect("fit");
        // Fit smartcore the same way and ask it for its class predictions of every row.
        let x: Vec<Vec<f64>> = rows.iter().map(|r| model.preprocessor.transform(r)).collect();
        let x = DenseMatrix::from_2d_vec(&x).expect("matrix");
        let y: Vec<i32> = data.labels.iter().map(|&l| i32::from(l)).collect();
        let params = LogisticRegressionParameters::default().with_alpha(1.0);
        let smartcore = LogisticRegression::fit(&x, &y, params).expect("smartcore fit");
        let predicted: Vec<i32> = smartcore.predict(&x).expect("smartcore predict");
        let mut compared = 0;
        for (row, class) in rows.iter().zip(&predicted) {
            let p = model.probability(row);
            assert!((0.0..=1.0).contains(&p));
            if (p - 0.5).abs() > 1e-9 {
                assert_eq!(*class, i32::from(p > 0.5), "probability {p} against smartcore's class {class}");
                compared += 1;
            }
        }
        assert!(compared > 700, "{compared} of {} rows compared", rows.len());
        assert!(predicted.contains(&0) && predicted.contains(&1), "both classes predicted");
    }
}
