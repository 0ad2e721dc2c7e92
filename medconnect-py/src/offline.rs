//! Decision support that needs no database: interaction checks and risk models, with the
//! inputs checked exactly as the core checks them on every other road.

use medconnect_core::ai::interactions::InteractionKb;
use medconnect_core::ai::risk::predict::predict_from_inputs;
use medconnect_core::ai::risk::{RiskKind, RiskModel};
use medconnect_core::domain::PredictionKind;
use medconnect_core::{Error, services};
use pyo3::prelude::*;
use serde_json::json;

use crate::convert::{into_py, result, vocabulary_into_py};

/// Every interacting pair among `drugs` (French or English names, RxNorm ids, classes),
/// most severe first, with unknown names and suggestions.
#[pyfunction]
pub fn check_interactions(py: Python<'_>, drugs: Vec<String>) -> PyResult<Py<PyAny>> {
    let report = py.detach(|| -> Result<_, Error> {
        services::validate_drugs(&drugs)?;
        Ok(InteractionKb::shared()?.check(&drugs))
    });
    vocabulary_into_py(py, &result(py, report)?)
}

/// One of the shipped risk models.
#[pyclass(frozen, module = "medconnect._native")]
pub struct NativeRiskModel {
    kind: RiskKind,
    model: RiskModel,
}

#[pymethods]
impl NativeRiskModel {
    #[staticmethod]
    fn load(py: Python<'_>, kind: &str) -> PyResult<Self> {
        let loaded = (|| -> Result<Self, Error> {
            let kind = PredictionKind::parse("kind", kind)?.risk().ok_or_else(|| {
                Error::invalid(
                    "kind",
                    "is not a risk model (cardiovascular_risk, diabetes_risk, heart_failure_mortality)",
                )
            })?;
            Ok(Self { kind, model: RiskModel::shipped(kind)? })
        })();
        result(py, loaded)
    }

    /// What the model predicts and from what: name, version, outcome and its inputs.
    fn describe(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let inputs: Vec<_> = self
            .kind
            .features()
            .iter()
            .map(|f| json!({ "name": f.column, "description": f.description, "unit": f.unit, "required": f.required }))
            .collect();
        let description = json!({
            "kind": self.kind.as_str(),
            "name": self.model.name,
            "version": self.model.version,
            "family": self.model.model.family(),
            "training_rows": self.model.training_rows,
            "statement": self.kind.statement(),
            "inputs": inputs,
        });
        into_py(py, &description)
    }

    /// Probability, band and explanation from the given inputs (feature name → value).
    fn predict(&self, py: Python<'_>, inputs: Vec<(String, f64)>) -> PyResult<Py<PyAny>> {
        let predicted = py.detach(|| predict_from_inputs(self.kind, &self.model, &inputs));
        let (prediction, used) = result(py, predicted)?;
        vocabulary_into_py(py, &json!({ "result": prediction, "inputs": used }))
    }
}
