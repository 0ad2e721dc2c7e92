//! The core's errors as typed Python exceptions under one base class. Messages are the
//! core's: they name fields and rules, never values, passwords or tokens.

use medconnect_core::Error;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{PyErr, create_exception};

create_exception!(medconnect, MedConnectError, PyException, "Base class of every MedConnect error.");
create_exception!(
    medconnect,
    NotFound,
    MedConnectError,
    "The record does not exist, or you may not know that it does."
);
create_exception!(medconnect, Forbidden, MedConnectError, "You are known, but your role may not do this.");
create_exception!(
    medconnect,
    Unauthenticated,
    MedConnectError,
    "No valid credentials: wrong password, expired, revoked or unknown token or API key."
);
create_exception!(medconnect, InvalidInput, MedConnectError, "A field breaks a rule; `.field` names it.");
create_exception!(
    medconnect,
    Conflict,
    MedConnectError,
    "A unique field is in use, or the record's status does not allow the change; `.field` names it."
);
create_exception!(
    medconnect,
    RateLimited,
    MedConnectError,
    "Too many attempts; `.retry_after` says how many seconds to wait."
);
create_exception!(
    medconnect,
    Unavailable,
    MedConnectError,
    "A dependency (the database, the password hashers) cannot serve now; `.retry_after` says when to retry."
);

/// The Python exception for a core error, with `field` and `retry_after` set where they
/// apply (to `None` elsewhere, so that the attributes always exist).
pub fn to_py(py: Python<'_>, err: Error) -> PyErr {
    let message = err.to_string();
    let (exception, field, retry_after) = match &err {
        Error::NotFound(_) => (NotFound::new_err(message), None, None),
        Error::Unauthenticated(_) => (Unauthenticated::new_err(message), None, None),
        Error::Forbidden(_) => (Forbidden::new_err(message), None, None),
        Error::Invalid { field, .. } => (InvalidInput::new_err(message), Some(field.to_string()), None),
        Error::Conflict { field } => (Conflict::new_err(message), field.map(str::to_owned), None),
        Error::WrongState { .. } => (Conflict::new_err(message), Some("status".to_owned()), None),
        Error::RateLimited { retry_after } => (RateLimited::new_err(message), None, Some(retry_after.as_secs_f64())),
        Error::Unavailable { retry_after, .. } => {
            (Unavailable::new_err(message), None, Some(retry_after.as_secs_f64()))
        }
        // The cause stays out of Python, as it stays out of HTTP answers.
        Error::Internal(_) => (MedConnectError::new_err("internal error"), None, None),
    };
    let value = exception.value(py);
    // Setting attributes on a fresh exception instance does not fail; if it ever did, the
    // exception would still be raised, without them.
    let _ = value.setattr("field", field);
    let _ = value.setattr("retry_after", retry_after);
    exception
}

/// Registers the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MedConnectError", py.get_type::<MedConnectError>())?;
    m.add("NotFound", py.get_type::<NotFound>())?;
    m.add("Forbidden", py.get_type::<Forbidden>())?;
    m.add("Unauthenticated", py.get_type::<Unauthenticated>())?;
    m.add("InvalidInput", py.get_type::<InvalidInput>())?;
    m.add("Conflict", py.get_type::<Conflict>())?;
    m.add("RateLimited", py.get_type::<RateLimited>())?;
    m.add("Unavailable", py.get_type::<Unavailable>())?;
    Ok(())
}
