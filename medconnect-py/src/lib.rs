//! Python bindings of the MedConnect core: the native part of `import medconnect`.
//!
//! The core's own use cases run in process, with the core's own authorisation, validation
//! and audit: the same rules as over HTTP. This crate only converts (serde types to
//! Python objects with [`to_python`], and back through pythonize) and releases the GIL while the core works; the
//! Python package (`python/medconnect`) turns answers into frozen records with `datetime`
//! and `uuid.UUID` values, pages into iterators, and offers `Client` and `AsyncClient`.

// The dispatch table is one large future; clippy needs more room to analyse it.
#![recursion_limit = "256"]

mod client;
mod convert;
mod dispatch;
mod errors;
mod offline;
mod to_python;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(offline::check_interactions, m)?)?;
    m.add_class::<offline::NativeRiskModel>()?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<client::NativeSession>()?;
    Ok(())
}
