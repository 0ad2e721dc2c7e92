//! Treatment options: guideline-style rules, kept as data (`models/treatment/rules.json`,
//! each with its source), evaluated against a patient's facts, and every candidate drug
//! checked against the patient's active medications and recorded allergies.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::interactions::{InteractionKb, Severity, fold};
use crate::domain::EntryId;

const RULES_JSON: &str = include_str!("../../../models/treatment/rules.json");

/// The rule set as shipped.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub version: String,
    pub note: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub source: String,
    pub when: Condition,
    pub options: Vec<OptionSpec>,
}

/// When a rule applies. `any` holds when one branch holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    Any(Vec<Condition>),
    /// The latest value of a LOINC code within the window is at least `at_least`.
    Observation {
        code: String,
        name: String,
        at_least: f64,
        unit: String,
        within_days: i64,
    },
    /// An active diagnosis whose ICD-10 code starts with one of the prefixes.
    Diagnosis {
        prefixes: Vec<String>,
        name: String,
    },
    /// The latest stored prediction of this kind has at least this probability.
    Prediction {
        kind: String,
        at_least: f64,
        name: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub name: String,
    pub line: String,
    pub substances: Vec<String>,
}

impl RuleSet {
    /// The shipped rules, parsed once per process and shared.
    pub fn shared() -> Result<std::sync::Arc<Self>, crate::Error> {
        static SHARED: std::sync::OnceLock<std::sync::Arc<RuleSet>> = std::sync::OnceLock::new();
        if let Some(rules) = SHARED.get() {
            return Ok(rules.clone());
        }
        let rules = std::sync::Arc::new(Self::embedded().map_err(crate::Error::internal)?);
        Ok(SHARED.get_or_init(|| rules).clone())
    }

    /// The shipped rules, checked: a malformed file is an error, not a panic.
    pub fn embedded() -> Result<Self, serde_json::Error> {
        serde_json::from_str(RULES_JSON)
    }
}

/// What the rules read from a patient's record.
#[derive(Debug, Clone, Default)]
pub struct PatientFacts {
    /// Latest value per LOINC code: (code, value, unit, entry, when).
    pub observations: Vec<(String, f64, String, EntryId, DateTime<Utc>)>,
    /// Active diagnoses: (ICD-10 code, entry).
    pub diagnoses: Vec<(String, EntryId)>,
    /// Active medications: (substance, entry).
    pub medications: Vec<(String, EntryId)>,
    /// Recorded allergies: (substance, entry).
    pub allergies: Vec<(String, EntryId)>,
    /// Latest stored prediction per kind: (kind, probability, prediction id).
    pub predictions: Vec<(String, f64, Uuid)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionStatus {
    /// Nothing found against it.
    Suitable,
    /// Usable with care: see the reasons.
    Flagged,
    /// Not to be used for this patient: see the reasons.
    Excluded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    Interaction,
    Allergy,
    AlreadyTaking,
    NotInKnowledgeBase,
}

/// Why a candidate is flagged or excluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub kind: ReasonKind,
    /// The medication or allergy it concerns.
    pub with: Option<String>,
    pub severity: Option<Severity>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub substance: String,
    pub status: OptionStatus,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreatmentOption {
    pub name: String,
    /// `first`, `add-on` or `alternative`.
    pub line: String,
    /// The best status among the candidates.
    pub status: OptionStatus,
    pub candidates: Vec<Candidate>,
}

/// A rule that applies to the patient, with what made it apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indication {
    pub rule: String,
    pub title: String,
    pub source: String,
    pub evidence: Vec<String>,
    pub options: Vec<TreatmentOption>,
}

/// A rule that could not be decided for lack of data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub rule: String,
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreatmentPlan {
    pub rules_version: String,
    pub interactions_edition: String,
    pub indications: Vec<Indication>,
    pub not_evaluated: Vec<NotEvaluated>,
}

enum Outcome {
    Holds(Vec<String>),
    DoesNotHold,
    Missing(Vec<String>),
}

fn evaluate(condition: &Condition, facts: &PatientFacts, now: DateTime<Utc>) -> Outcome {
    match condition {
        Condition::Any(branches) => {
            let mut evidence = Vec::new();
            let mut missing = Vec::new();
            for branch in branches {
                match evaluate(branch, facts, now) {
                    Outcome::Holds(e) => evidence.extend(e),
                    Outcome::DoesNotHold => {}
                    Outcome::Missing(m) => missing.extend(m),
                }
            }
            match (evidence.is_empty(), missing.is_empty()) {
                (false, _) => Outcome::Holds(evidence),
                (true, false) => Outcome::Missing(missing),
                (true, true) => Outcome::DoesNotHold,
            }
        }
        Condition::Observation { code, name, at_least, unit, within_days } => {
            let since = now - Duration::days(*within_days);
            match facts.observations.iter().find(|(c, _, u, _, at)| c == code && u == unit && *at >= since) {
                None => Outcome::Missing(vec![format!("{name} ({code}) in the last {within_days} days")]),
                Some((_, value, _, entry, at)) if value >= at_least => Outcome::Holds(vec![format!(
                    "{name} {value} {unit} on {} (entry {entry}) ≥ {at_least}",
                    at.date_naive()
                )]),
                Some(_) => Outcome::DoesNotHold,
            }
        }
        Condition::Diagnosis { prefixes, name } => {
            let found: Vec<String> = facts
                .diagnoses
                .iter()
                .filter(|(code, _)| prefixes.iter().any(|p| code.starts_with(p.as_str())))
                .map(|(code, entry)| format!("{name}: diagnosis {code} (entry {entry})"))
                .collect();
            if found.is_empty() { Outcome::DoesNotHold } else { Outcome::Holds(found) }
        }
        Condition::Prediction { kind, at_least, name } => match facts.predictions.iter().find(|(k, _, _)| k == kind) {
            None => Outcome::Missing(vec![format!("a stored {kind} prediction ({name})")]),
            Some((_, p, id)) if p >= at_least => {
                Outcome::Holds(vec![format!("{name} {:.0} % (prediction {id}) ≥ {:.0} %", p * 100.0, at_least * 100.0)])
            }
            Some(_) => Outcome::DoesNotHold,
        },
    }
}

/// Screens one candidate substance against the patient's medications and allergies.
fn screen(kb: &InteractionKb, substance: &str, facts: &PatientFacts) -> Candidate {
    let mut reasons = Vec::new();
    let resolved = kb.resolve(substance).ok();
    let candidate_names: Vec<String> = match &resolved {
        Some(r) => std::iter::once(fold(&r.name)).chain(r.classes.iter().map(|c| fold(c))).collect(),
        None => vec![fold(substance)],
    };
    for (allergy, entry) in &facts.allergies {
        let allergen = kb.resolve(allergy).map(|r| fold(&r.name)).unwrap_or_else(|_| fold(allergy));
        if candidate_names.contains(&allergen) {
            reasons.push(Reason {
                kind: ReasonKind::Allergy,
                with: Some(allergy.clone()),
                severity: None,
                detail: format!("recorded allergy to {allergy} (entry {entry})"),
            });
        }
    }
    for (medication, entry) in &facts.medications {
        let same = match (&resolved, kb.resolve(medication)) {
            (Some(r), Ok(m)) => r.name == m.name,
            _ => fold(medication) == fold(substance),
        };
        if same {
            reasons.push(Reason {
                kind: ReasonKind::AlreadyTaking,
                with: Some(medication.clone()),
                severity: None,
                detail: format!("already an active medication (entry {entry})"),
            });
        }
    }
    if resolved.is_none() {
        reasons.push(Reason {
            kind: ReasonKind::NotInKnowledgeBase,
            with: None,
            severity: None,
            detail: "not in the interaction knowledge base: its interactions were not checked".into(),
        });
    } else {
        let mut names: Vec<&str> = vec![substance];
        names.extend(facts.medications.iter().map(|(m, _)| m.as_str()));
        let report = kb.check(&names);
        for pair in report.pairs.iter().filter(|p| p.drug_a == substance) {
            reasons.push(Reason {
                kind: ReasonKind::Interaction,
                with: Some(pair.drug_b.clone()),
                severity: Some(pair.severity),
                detail: pair.findings.first().map(|f| f.mechanism.to_string()).unwrap_or_default(),
            });
        }
    }
    let status = reasons
        .iter()
        .map(|r| match (r.kind, r.severity) {
            (ReasonKind::Allergy, _) => OptionStatus::Excluded,
            (ReasonKind::Interaction, Some(Severity::Contraindicated | Severity::Avoid)) => OptionStatus::Excluded,
            _ => OptionStatus::Flagged,
        })
        .max()
        .unwrap_or(OptionStatus::Suitable);
    Candidate { substance: substance.to_owned(), status, reasons }
}

impl RuleSet {
    /// The options that apply to the patient, each candidate screened.
    pub fn plan(&self, kb: &InteractionKb, facts: &PatientFacts, now: DateTime<Utc>) -> TreatmentPlan {
        let mut indications = Vec::new();
        let mut not_evaluated = Vec::new();
        for rule in &self.rules {
            match evaluate(&rule.when, facts, now) {
                Outcome::Holds(evidence) => {
                    let options = rule
                        .options
                        .iter()
                        .map(|spec| {
                            let candidates: Vec<Candidate> =
                                spec.substances.iter().map(|s| screen(kb, s, facts)).collect();
                            let status = candidates.iter().map(|c| c.status).min().unwrap_or(OptionStatus::Excluded);
                            TreatmentOption { name: spec.name.clone(), line: spec.line.clone(), status, candidates }
                        })
                        .collect();
                    indications.push(Indication {
                        rule: rule.id.clone(),
                        title: rule.title.clone(),
                        source: rule.source.clone(),
                        evidence,
                        options,
                    });
                }
                Outcome::DoesNotHold => {}
                Outcome::Missing(missing) => not_evaluated.push(NotEvaluated { rule: rule.id.clone(), missing }),
            }
        }
        TreatmentPlan {
            rules_version: self.version.clone(),
            interactions_edition: super::interactions::EDITION.to_owned(),
            indications,
            not_evaluated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb() -> std::sync::Arc<InteractionKb> {
        InteractionKb::shared().expect("kb")
    }

    fn entry() -> EntryId {
        EntryId::new()
    }

    fn option<'a>(plan: &'a TreatmentPlan, rule: &str, name: &str) -> &'a TreatmentOption {
        plan.indications
            .iter()
            .find(|i| i.rule == rule)
            .unwrap_or_else(|| panic!("{rule} not indicated: {plan:#?}"))
            .options
            .iter()
            .find(|o| o.name == name)
            .expect("option")
    }

    #[test]
    fn every_shipped_rule_names_its_source_and_known_candidates() {
        let rules = RuleSet::embedded().expect("rules parse");
        assert!(rules.rules.len() >= 4);
        for rule in &rules.rules {
            assert!(rule.source.len() > 40, "{} needs a real source", rule.id);
            assert!(!rule.options.is_empty());
        }
        let unknown: Vec<&str> = rules
            .rules
            .iter()
            .flat_map(|r| r.options.iter().flat_map(|o| o.substances.iter()))
            .filter(|s| kb().resolve(s).is_err())
            .map(String::as_str)
            .collect();
        // SGLT2 inhibitors post-date the 2020 thesaurus: they are flagged as unchecked.
        assert_eq!(unknown, vec!["empagliflozine", "dapagliflozine"]);
    }

    #[test]
    fn high_blood_pressure_indicates_antihypertensives() {
        let now = Utc::now();
        let facts = PatientFacts {
            observations: vec![("8480-6".into(), 152.0, "mm[Hg]".into(), entry(), now - Duration::days(3))],
            ..Default::default()
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        assert_eq!(option(&plan, "blood_pressure_above_target", "ACE inhibitor").status, OptionStatus::Suitable);
        // No diagnosis says diabetes and no HbA1c is recorded: that rule is undecided, not negative.
        assert!(plan.not_evaluated.iter().any(|n| n.rule == "diabetes_first_line"));
        let normal = PatientFacts {
            observations: vec![
                ("8480-6".into(), 122.0, "mm[Hg]".into(), entry(), now),
                ("8462-4".into(), 78.0, "mm[Hg]".into(), entry(), now),
            ],
            ..Default::default()
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &normal, now);
        assert!(plan.indications.iter().all(|i| i.rule != "blood_pressure_above_target"));
        let stale = PatientFacts {
            observations: vec![("8480-6".into(), 170.0, "mm[Hg]".into(), entry(), now - Duration::days(800))],
            ..Default::default()
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &stale, now);
        assert!(plan.indications.iter().all(|i| i.rule != "blood_pressure_above_target"), "outside the window");
    }

    #[test]
    fn aspirin_is_excluded_for_a_patient_on_warfarin_and_clopidogrel_is_flagged_or_excluded_too() {
        let now = Utc::now();
        let facts = PatientFacts {
            diagnoses: vec![("I25.1".into(), entry())],
            medications: vec![("warfarine".into(), entry())],
            ..Default::default()
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        let aspirin = option(&plan, "antiplatelet_secondary_prevention", "Aspirin (low dose)");
        assert_eq!(aspirin.status, OptionStatus::Excluded);
        let reason = &aspirin.candidates[0].reasons[0];
        assert_eq!((reason.kind, reason.severity), (ReasonKind::Interaction, Some(Severity::Contraindicated)));
        assert_eq!(reason.with.as_deref(), Some("warfarine"));
        // The same diagnosis also indicates a statin.
        assert!(plan.indications.iter().any(|i| i.rule == "statin_for_cardiovascular_risk"));
    }

    #[test]
    fn an_allergy_excludes_the_substance_and_its_class_members_when_recorded_as_a_class() {
        let now = Utc::now();
        let high_bp = ("8480-6".to_owned(), 160.0, "mm[Hg]".to_owned(), entry(), now);
        let facts = PatientFacts {
            observations: vec![high_bp.clone()],
            allergies: vec![("Ramipril".into(), entry())],
            ..Default::default()
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        let ace = option(&plan, "blood_pressure_above_target", "ACE inhibitor");
        let ramipril = ace.candidates.iter().find(|c| c.substance == "ramipril").expect("ramipril");
        assert_eq!(ramipril.status, OptionStatus::Excluded);
        assert_eq!(ramipril.reasons[0].kind, ReasonKind::Allergy);
        assert_eq!(ace.status, OptionStatus::Suitable, "other ACE inhibitors remain");

        let class_allergy = PatientFacts {
            observations: vec![high_bp],
            allergies: vec![("inhibiteurs de l'enzyme de conversion".into(), entry())],
            ..Default::default()
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &class_allergy, now);
        assert_eq!(option(&plan, "blood_pressure_above_target", "ACE inhibitor").status, OptionStatus::Excluded);
        assert_eq!(
            option(&plan, "blood_pressure_above_target", "Dihydropyridine calcium-channel blocker").status,
            OptionStatus::Suitable
        );
    }

    #[test]
    fn diabetes_indicates_metformin_and_an_active_medication_is_flagged_as_already_taken() {
        let now = Utc::now();
        let facts = PatientFacts {
            diagnoses: vec![("E11.9".into(), entry())],
            medications: vec![("metformine".into(), entry())],
            ..Default::default()
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        let metformin = option(&plan, "diabetes_first_line", "Biguanide");
        assert_eq!(metformin.status, OptionStatus::Flagged);
        assert_eq!(metformin.candidates[0].reasons[0].kind, ReasonKind::AlreadyTaking);
        let sglt2 = option(&plan, "diabetes_first_line", "SGLT2 inhibitor");
        assert_eq!(sglt2.candidates[0].reasons[0].kind, ReasonKind::NotInKnowledgeBase);
    }
}
