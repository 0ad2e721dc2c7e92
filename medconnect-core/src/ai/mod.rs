//! Decision support. `interactions`: the drug–drug interaction knowledge base and
//! its matching engine (pure, in memory, no I/O once loaded); `treatment`: guideline
//! rules kept as data, screened against medications and allergies.

pub mod interactions;
pub mod risk;
pub mod treatment;
