//! Discrimination and calibration metrics for binary outcomes.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
