//! Discrimination and calibration metrics for binary outcomes.

use serde::{Deserialize, Serialize};

/// Area under the ROC curve, by the rank-sum (Mann–Whitney) formula with average ranks for ties.
pub fn roc_auc(labels: &[u8], scores: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    let positives = labels.iter().filter(|&&l| l == 1).count() as f64;
    let negatives = labels.len() as f64 - positives;
    let rank_sum: f64 = labels.iter().zip(&ranks).filter(|(l, _)| **l == 1).map(|(_, r)| r).sum();
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Mean squared error of the probabilities.
pub fn brier(labels: &[u8], probabilities: &[f64]) -> f64 {
    labels.iter().zip(probabilities).map(|(&l, &p)| (p - f64::from(l)).powi(2)).sum::<f64>() / labels.len() as f64
}

/// (accuracy, Matthews correlation coefficient) at a 0.5 threshold.
pub fn accuracy_and_mcc(labels: &[u8], probabilities: &[f64]) -> (f64, f64) {
    let (mut tp, mut tn, mut fp, mut fneg) = (0.0, 0.0, 0.0, 0.0);
    for (&l, &p) in labels.iter().zip(probabilities) {
        match (l == 1, p >= 0.5) {
            (true, true) => tp += 1.0,
            (false, false) => tn += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fneg += 1.0,
        }
    }
    let accuracy = (tp + tn) / labels.len() as f64;
    let denominator = ((tp + fp) * (tp + fneg) * (tn + fp) * (tn + fneg)).sqrt();
    let mcc = if denominator == 0.0 { 0.0 } else { (tp * tn - fp * fneg) / denominator };
    (accuracy, mcc)
}

/// The ROC curve as (false positive rate, true positive rate) points from (0, 0) to (1, 1),
/// one step per distinct score (tied scores move diagonally), keeping only the corners:
/// the points where the curve changes direction, which draw the same curve.
pub fn roc_curve(labels: &[u8], scores: &[f64]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Highest score first; the stable sort keeps the result a function of the inputs alone.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let cases = labels.iter().filter(|&&l| l == 1).count();
    // At least one of each, so that a one-class sample gives a flat curve rather than NaN.
    let (positives, negatives) = (cases.max(1) as f64, (labels.len() - cases).max(1) as f64);
    let mut points = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            if labels[order[j]] == 1 {
                tp += 1.0
            } else {
                fp += 1.0
            }
            j += 1;
        }
        push_corner(&mut points, (fp / negatives, tp / positives));
        i = j;
    }
    points
}

/// Appends a point, first dropping the previous one when it lies on the segment to the new point.
fn push_corner(points: &mut Vec<(f64, f64)>, next: (f64, f64)) {
    if let [.., a, b] = points.as_slice() {
        let cross = (b.0 - a.0) * (next.1 - a.1) - (b.1 - a.1) * (next.0 - a.0);
        if cross.abs() < 1e-12 {
            points.pop();
        }
    }
    points.push(next);
}

/// One group of a calibration table: the rows whose predicted probabilities fall in one decile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub rows: u32,
    pub mean_predicted: f64,
    pub observed: f64,
}

/// Calibration by deciles of predicted risk (as in the Hosmer–Lemeshow table): rows sorted by
/// probability, cut into ten groups of nearly equal size; mean prediction against observed rate.
pub fn calibration_deciles(labels: &[u8], probabilities: &[f64]) -> Vec<CalibrationBin> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]));
    let groups = 10.min(order.len());
    (0..groups)
        .map(|g| {
            let rows = &order[g * order.len() / groups..(g + 1) * order.len() / groups];
            let n = rows.len() as f64;
            CalibrationBin {
                rows: u32::try_from(rows.len()).unwrap_or(u32::MAX),
                mean_predicted: rows.iter().map(|&r| probabilities[r]).sum::<f64>() / n,
                observed: rows.iter().map(|&r| f64::from(labels[r])).sum::<f64>() / n,
            }
        })
        .collect()
}

/// logit(p), with p kept away from 0 and 1.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// Fits `P(y = 1) = sigmoid(slope · logit(p) + intercept)` by maximum likelihood (Newton's
/// method, a tiny ridge for stability). On a model's held-out predictions it gives the
/// calibration slope and intercept (1 and 0 when calibrated); on a training set's held-out
/// predictions it is Platt scaling.
pub fn logistic_recalibration(labels: &[u8], probabilities: &[f64]) -> (f64, f64) {
    let x: Vec<f64> = probabilities.iter().map(|p| logit(*p)).collect();
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..50 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-6, 0.0, 1e-6);
        for (xi, yi) in x.iter().zip(labels) {
            let p = 1.0 / (1.0 + (-(a * xi + b)).exp());
            let r = p - f64::from(*yi);
            let w = (p * (1.0 - p)).max(1e-12);
            ga += r * xi;
            gb += r;
            haa += w * xi * xi;
            hab += w * xi;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        a -= da;
        b -= db;
        if da.abs() < 1e-10 && db.abs() < 1e-10 {
            break;
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recalibration_finds_slope_one_for_calibrated_scores_and_corrects_shrunk_ones() {
        // Scores whose frequencies match them exactly: slope 1, intercept 0.
        let mut labels = Vec::new();
        let mut probabilities = Vec::new();
        for (p, n) in [(0.1, 100), (0.3, 100), (0.5, 100), (0.7, 100), (0.9, 100)] {
            for i in 0..n {
                probabilities.push(p);
                labels.push(u8::from((i as f64) < p * n as f64));
            }
        }
        let (slope, intercept) = logistic_recalibration(&labels, &probabilities);
        assert!((slope - 1.0).abs() < 1e-6 && intercept.abs() < 1e-6, "{slope} {intercept}");
        // The same outcomes against scores squeezed towards 0.5: slope above 1.
        let squeezed: Vec<f64> = probabilities.iter().map(|p| 0.5 + (p - 0.5) / 3.0).collect();
        let (slope, _) = logistic_recalibration(&labels, &squeezed);
        assert!(slope > 2.0, "{slope}");
    }

    #[test]
    fn auc_of_perfect_random_and_tied_scores() {
        assert_eq!(roc_auc(&[0, 0, 1, 1], &[0.1, 0.2, 0.8, 0.9]), 1.0);
        assert_eq!(roc_auc(&[1, 1, 0, 0], &[0.1, 0.2, 0.8, 0.9]), 0.0);
        assert_eq!(roc_auc(&[0, 1, 0, 1], &[0.5, 0.5, 0.5, 0.5]), 0.5);
        // 3 of the 4 positive–negative pairs are ordered right.
        assert_eq!(roc_auc(&[0, 1, 0, 1], &[0.1, 0.4, 0.5, 0.9]), 0.75);
    }

    #[test]
    fn brier_accuracy_and_mcc() {
        assert!((brier(&[1, 0], &[0.8, 0.4]) - 0.1).abs() < 1e-12);
        let (acc, mcc) = accuracy_and_mcc(&[1, 1, 0, 0], &[0.9, 0.2, 0.1, 0.3]);
        assert_eq!(acc, 0.75);
        assert!((mcc - (1.0 / 3.0f64).sqrt()).abs() < 1e-12);
    }

    /// The trapezoidal area under the corner points equals the rank-sum AUC, ties included.
    #[test]
    fn roc_curve_keeps_corners_and_its_area_is_the_auc() {
        let labels = [0, 1, 0, 1, 1, 0, 0, 1, 0, 0];
        let scores = [0.1, 0.4, 0.5, 0.9, 0.5, 0.2, 0.3, 0.8, 0.3, 0.05];
        let curve = roc_curve(&labels, &scores);
        assert_eq!(curve.first(), Some(&(0.0, 0.0)));
        assert_eq!(curve.last(), Some(&(1.0, 1.0)));
        assert!(curve.windows(2).all(|w| w[1].0 >= w[0].0 && w[1].1 >= w[0].1), "monotone: {curve:?}");
        let area: f64 = curve.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum();
        assert!((area - roc_auc(&labels, &scores)).abs() < 1e-12, "{area}");
        // A perfect ranking is the two sides of the unit square: three corners only.
        assert_eq!(roc_curve(&[0, 0, 1, 1], &[0.1, 0.2, 0.8, 0.9]), vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]);
    }

    #[test]
    fn calibration_deciles_cover_every_row_in_order_of_risk() {
        let probabilities: Vec<f64> = (0..25).map(|i| f64::from(i) / 25.0).collect();
        let labels: Vec<u8> = (0..25).map(|i| u8::from(i >= 20)).collect();
        let bins = calibration_deciles(&labels, &probabilities);
        assert_eq!(bins.len(), 10);
        assert_eq!(bins.iter().map(|b| b.rows).sum::<u32>(), 25);
        assert!(bins.windows(2).all(|w| w[1].mean_predicted > w[0].mean_predicted));
        assert_eq!(bins[0].observed, 0.0);
        assert_eq!(bins[9].observed, 1.0);
        // Rows 0 and 1 (the first group of 2): mean prediction (0 + 0.04) / 2.
        assert!((bins[0].mean_predicted - 0.02).abs() < 1e-12);
        assert!(calibration_deciles(&[], &[]).is_empty());
    }
}
