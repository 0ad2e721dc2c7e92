//! Risk models: one prediction with features given, and loading the shipped models.
//! `cargo bench -p medconnect-benches --bench risk`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use medconnect_core::ai::risk::{RiskKind, RiskModel};

fn predict(c: &mut Criterion) {
    let model = RiskModel::shipped(RiskKind::CardiovascularRisk).expect("model");
    // A Framingham row: male, 55, education 2, smoker 20/day, no BP meds, no stroke,
    // hypertensive, not diabetic, cholesterol 250, 150/95 mmHg, BMI 28, 75/min, glucose 90.
    let row = [1.0, 55.0, 2.0, 1.0, 20.0, 0.0, 0.0, 1.0, 0.0, 250.0, 150.0, 95.0, 28.0, 75.0, 90.0].map(Some);
    c.bench_function("logistic regression, one patient, features given (impute + scale + sigmoid)", |b| {
        b.iter(|| model.model.probability(black_box(&row)).ok())
    });
    let forest = RiskModel::shipped(RiskKind::HeartFailureMortality).expect("model");
    // age 65, anaemia, CPK 250, no diabetes, EF 30 %, hypertensive, platelets 260,000, creatinine 1.4, sodium 136, male, non-smoker.
    let row = [65.0, 1.0, 250.0, 0.0, 30.0, 1.0, 260_000.0, 1.4, 136.0, 1.0, 0.0].map(Some);
    c.bench_function("bagged trees (100), one patient, features given", |b| {
        b.iter(|| forest.model.probability(black_box(&row)).ok())
    });
}

fn load(c: &mut Criterion) {
    c.bench_function("load and check all three shipped models", |b| {
        b.iter(|| RiskKind::ALL.map(|k| RiskModel::shipped(k).expect("model").features.len()))
    });
}

criterion_group!(benches, predict, load);
criterion_main!(benches);
