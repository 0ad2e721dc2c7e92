//! Decision support. `interactions`: the drug–drug interaction knowledge base and
//! its matching engine (pure, in memory, no I/O once loaded).

pub mod interactions;
