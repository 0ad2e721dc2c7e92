//! Between Python objects and the core's serde types: one definition of every type, in the
//! core, turned into Python dicts (the Python package makes them frozen records) by
//! [`to_python`](crate::to_python) and read back by pythonize.

use medconnect_core::Error;
use pyo3::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::errors;
use crate::to_python::{Values, to_python};

/// A serialisable value as Python objects (dicts, lists, strings, numbers).
pub fn into_py<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    converted(py, to_python(py, value, Values::Fresh))
}

/// As [`into_py`], for answers whose strings come from a fixed vocabulary (the interaction
/// thesaurus, the models' statements): their Python strings are made once and reused.
pub fn vocabulary_into_py<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    converted(py, to_python(py, value, Values::Reused))
}

fn converted(py: Python<'_>, value: PyResult<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
    value.map(Bound::unbind).map_err(|e| errors::to_py(py, Error::internal(format!("converting an answer: {e}"))))
}

/// Python arguments as a core type; a mismatch is an `InvalidInput` naming `what`.
pub fn from_py<T: DeserializeOwned>(py: Python<'_>, what: &'static str, value: &Bound<'_, PyAny>) -> PyResult<T> {
    pythonize::depythonize(value).map_err(|e| errors::to_py(py, Error::invalid(what, e.to_string())))
}

/// A core result as a Python result.
pub fn result<T>(py: Python<'_>, value: Result<T, Error>) -> PyResult<T> {
    value.map_err(|e| errors::to_py(py, e))
}
