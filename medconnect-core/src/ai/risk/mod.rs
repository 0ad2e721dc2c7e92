//! Health-risk models: the cohorts they learn from, the in-fold preprocessing, the
//! metrics, and cross-validation on the shared stratified folds. (Serving predictions
//! from a patient's record builds on this; see ARCHITECTURE.md.)

pub mod dataset;
pub mod metrics;
pub mod pipeline;
pub mod validate;

pub use dataset::{Cohort, Dataset};
pub use validate::{CvReport, cross_validate_logistic};
