//! Drug–drug interaction checks for any signed-in user (reference data, no patient data).

use crate::MedConnect;
use crate::ai::interactions::InteractionReport;
use crate::auth::Actor;
use crate::error::{Error, Result};

/// The most drugs one check takes: 50 drugs are 1,225 pairs.
pub const MAX_DRUGS: usize = 50;

impl MedConnect {
    /// Every interacting pair among `drugs`, most severe first; unknown names are reported.
    pub fn check_interactions<S: AsRef<str>>(&self, actor: &Actor, drugs: &[S]) -> Result<InteractionReport> {
        self.admit_interaction_check(actor, drugs)?;
        Ok(self.interactions().check(drugs))
    }

    /// Whether `actor` may check `drugs`: what `check_interactions` decides before it looks
    /// anything up. An adapter that answers a list again from its own copy asks this first.
    /// Any signed-in caller may check: the answer is reference data about the names alone.
    pub fn admit_interaction_check<S: AsRef<str>>(&self, _actor: &Actor, drugs: &[S]) -> Result<()> {
        validate_drugs(drugs)
    }
}

/// The checks every road applies to a list of drug names before it is looked up: one to
/// `MAX_DRUGS` names of 1 to 200 characters without control characters.
pub fn validate_drugs<S: AsRef<str>>(drugs: &[S]) -> Result<()> {
    if drugs.is_empty() {
        return Err(Error::invalid("drugs", "must name at least one drug"));
    }
    if drugs.len() > MAX_DRUGS {
        return Err(Error::invalid("drugs", format!("must name at most {MAX_DRUGS} drugs")));
    }
    for (i, drug) in drugs.iter().enumerate() {
        let name = drug.as_ref().trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(Error::invalid(format!("drugs[{i}]"), "must be a drug name of 1 to 200 characters"));
        }
    }
    Ok(())
}
