//! Health-risk models: the cohorts they learn from, the in-fold preprocessing, the
//! metrics, and cross-validation on the shared stratified folds. (Serving predictions
//! from a patient's record builds on this; see ARCHITECTURE.md.)

pub mod card;
pub mod dataset;
pub mod families;
pub mod features;
pub mod metrics;
pub mod model;
pub mod pipeline;
#[cfg(feature = "plots")]
pub mod plots;
pub mod predict;
pub mod statement;
pub mod validate;

pub use dataset::{Cohort, Dataset};
pub use model::{RiskKind, RiskModel};
pub use validate::{CvReport, cross_validate_logistic};
