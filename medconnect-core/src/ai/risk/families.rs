//! The model families smartcore offers, compared by cross-validated AUC on the same folds
//! and the same in-fold preprocessing, so that each model card can say why its family won.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::neighbors::knn_classifier::{KNNClassifier, KNNClassifierParameters};
use smartcore::tree::decision_tree_classifier::{DecisionTreeClassifier, DecisionTreeClassifierParameters};

use super::dataset::Dataset;
use super::pipeline::Preprocessor;
use super::validate::{Metrics, cross_validate_logistic, cross_validate_with};
use crate::error::{Error, Result};

/// One family's cross-validated result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyResult {
    pub family: String,
    pub settings: String,
    pub mean: Metrics,
}

const TREES: usize = 100;
const SEED: u64 = 42;

fn matrix(rows: &[Vec<f64>]) -> Result<DenseMatrix<f64>> {
    DenseMatrix::from_2d_vec(&rows.to_vec()).map_err(|e| Error::internal(e.to_string()))
}

fn standardised(p: &Preprocessor, rows: &[&[Option<f64>]]) -> Vec<Vec<f64>> {
    rows.iter().map(|r| p.transform(r)).collect()
}

/// The probability of class 1 from a fitted tree, for every test row.
fn tree_probabilities(
    x: &DenseMatrix<f64>,
    y: &[i32],
    test: &DenseMatrix<f64>,
    depth: u16,
    leaf: usize,
) -> Result<Vec<f64>> {
    let params = DecisionTreeClassifierParameters::default().with_max_depth(depth).with_min_samples_leaf(leaf);
    let tree = DecisionTreeClassifier::fit(x, &y.to_vec(), params).map_err(|e| Error::internal(e.to_string()))?;
    let proba = tree.predict_proba(test).map_err(|e| Error::internal(e.to_string()))?;
    let (n, classes) = proba.shape();
    Ok((0..n).map(|i| if classes > 1 { *proba.get((i, 1)) } else { 0.0 }).collect())
}

/// Cross-validates every family on the dataset; logistic regression first.
pub fn compare(data: &Dataset, alpha: f64) -> Result<Vec<FamilyResult>> {
    let mut results = vec![FamilyResult {
        family: "logistic regression".into(),
        settings: format!("L2, alpha = {alpha}"),
        mean: cross_validate_logistic(data, alpha)?.mean,
    }];
    let tree = cross_validate_with(data, |train, labels, test| {
        let p = Preprocessor::fit(train);
        let y: Vec<i32> = labels.iter().map(|&l| i32::from(l)).collect();
        tree_probabilities(&matrix(&standardised(&p, train))?, &y, &matrix(&standardised(&p, test))?, 4, 20)
    })?;
    results.push(FamilyResult {
        family: "decision tree".into(),
        settings:
            "depth ≤ 4, ≥ 20 rows per leaf; smartcore 0.7 gives a single tree's leaf vote (0 or 1) as its probability"
                .into(),
        mean: tree.mean,
    });
    let forest = cross_validate_with(data, |train, labels, test| {
        let p = Preprocessor::fit(train);
        let x = standardised(&p, train);
        let test = matrix(&standardised(&p, test))?;
        let mut rng = StdRng::seed_from_u64(SEED);
        let mut sum = vec![0.0; test.shape().0];
        for _ in 0..TREES {
            let picks: Vec<usize> = (0..x.len()).map(|_| rng.random_range(0..x.len())).collect();
            let xs: Vec<Vec<f64>> = picks.iter().map(|&i| x[i].clone()).collect();
            let ys: Vec<i32> = picks.iter().map(|&i| i32::from(labels[i])).collect();
            for (s, p) in sum.iter_mut().zip(tree_probabilities(&matrix(&xs)?, &ys, &test, 8, 5)?) {
                *s += p;
            }
        }
        Ok(sum.into_iter().map(|s| s / TREES as f64).collect())
    })?;
    results.push(FamilyResult {
        family: "bagged decision trees (forest)".into(),
        settings: format!("{TREES} bootstrap trees, depth ≤ 8, ≥ 5 rows per leaf, seed {SEED}"),
        mean: forest.mean,
    });
    let knn = cross_validate_with(data, |train, labels, test| {
        let p = Preprocessor::fit(train);
        let y: Vec<i32> = labels.iter().map(|&l| i32::from(l)).collect();
        let params = KNNClassifierParameters::default().with_k(25);
        let model = KNNClassifier::fit(&matrix(&standardised(&p, train))?, &y, params)
            .map_err(|e| Error::internal(e.to_string()))?;
        let proba =
            model.predict_proba(&matrix(&standardised(&p, test))?).map_err(|e| Error::internal(e.to_string()))?;
        Ok(proba.iter().map(|row| if row.len() > 1 { row[1] } else { 0.0 }).collect())
    })?;
    results.push(FamilyResult {
        family: "k nearest neighbours".into(),
        settings: "k = 25, Euclidean, standardised".into(),
        mean: knn.mean,
    });
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::risk::Cohort;

    #[test]
    fn every_family_is_cross_validated_and_beats_chance() {
        let data = Cohort::HeartFailure.load().expect("load");
        let results = compare(&data, 1.0).expect("compare");
        assert_eq!(results.len(), 4);
        for r in &results {
            eprintln!("{}: {:?}", r.family, r.mean);
            assert!(r.mean.roc_auc > 0.55, "{} AUC {}", r.family, r.mean.roc_auc);
            assert!((0.0..=1.0).contains(&r.mean.brier), "{} Brier {}", r.family, r.mean.brier);
        }
        assert_eq!(compare(&data, 1.0).expect("again"), results, "deterministic");
    }
}
