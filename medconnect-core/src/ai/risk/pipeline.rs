//! Preprocessing fitted on training rows only: median imputation, then standardisation.

use serde::{Deserialize, Serialize};

/// Per-feature medians (for imputation), means and standard deviations (for scaling).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub medians: Vec<f64>,
    pub means: Vec<f64>,
    pub stds: Vec<f64>,
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 0 { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] }
}

impl Preprocessor {
    /// Fits on the given rows (the training fold).
    pub fn fit(rows: &[&[Option<f64>]]) -> Self {
        let width = rows.first().map_or(0, |r| r.len());
        let medians: Vec<f64> = (0..width).map(|j| median(rows.iter().filter_map(|r| r[j]).collect())).collect();
        let imputed: Vec<Vec<f64>> = rows.iter().map(|r| impute(r, &medians)).collect();
        let n = imputed.len().max(1) as f64;
        let means: Vec<f64> = (0..width).map(|j| imputed.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let stds: Vec<f64> = (0..width)
            .map(|j| {
                let var = imputed.iter().map(|r| (r[j] - means[j]).powi(2)).sum::<f64>() / n;
                if var > 0.0 { var.sqrt() } else { 1.0 }
            })
            .collect();
        Self { medians, means, stds }
    }

    pub fn transform(&self, row: &[Option<f64>]) -> Vec<f64> {
        impute(row, &self.medians).iter().enumerate().map(|(j, v)| (v - self.means[j]) / self.stds[j]).collect()
    }
}

fn impute(row: &[Option<f64>], medians: &[f64]) -> Vec<f64> {
    row.iter().zip(medians).map(|(v, m)| v.unwrap_or(*m)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_take_the_training_median_and_features_are_standardised() {
        let rows: Vec<Vec<Option<f64>>> = vec![vec![Some(1.0)], vec![Some(3.0)], vec![None], vec![Some(5.0)]];
        let refs: Vec<&[Option<f64>]> = rows.iter().map(Vec::as_slice).collect();
        let p = Preprocessor::fit(&refs);
        assert_eq!(p.medians, vec![3.0]);
        assert_eq!(p.means, vec![3.0]);
        assert_eq!(p.transform(&[None]), vec![0.0]);
        assert!(p.transform(&[Some(5.0)])[0] > 1.0);
    }
}
