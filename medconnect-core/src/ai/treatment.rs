//! Treatment options: guideline-style rules, kept as data (`models/treatment/rules.json`,
//! each with its source), evaluated against a patient's facts, and every candidate drug
//! checked against the patient's active medications and recorded allergies.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::interactions::dose::{self, Dose};
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
    /// The guideline and the section the rule follows.
    pub source: String,
    /// The measure the rule decides on, and how it relates to the guideline's own.
    pub measure: String,
    pub when: Condition,
    /// The rule does not apply when this holds (type 1 diabetes for a type 2 rule).
    #[serde(default)]
    pub unless: Option<Condition>,
    pub options: Vec<OptionSpec>,
}

/// When a rule applies. `any` holds when one branch holds, `all` when every one does.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    Any(Vec<Condition>),
    All(Vec<Condition>),
    /// The latest value of a LOINC code within the window is at least `at_least`.
    Observation {
        code: String,
        name: String,
        at_least: f64,
        unit: String,
        within_days: i64,
    },
    /// The mean of the readings of a LOINC code within the window (at least `min_readings`
    /// of them) is at least `at_least`, or `from_age.at_least` from that age on.
    MeanObservation {
        code: String,
        name: String,
        unit: String,
        within_days: i64,
        min_readings: usize,
        at_least: f64,
        #[serde(default)]
        from_age: Option<AgeThreshold>,
    },
    /// An active diagnosis whose ICD-10 code starts with one of the prefixes and with none
    /// of the exceptions.
    Diagnosis {
        prefixes: Vec<String>,
        #[serde(default)]
        except: Vec<String>,
        name: String,
    },
    /// The patient's age is in `[at_least, below)`.
    Age {
        at_least: f64,
        below: f64,
    },
    /// The model's probability, computed from the record when the plan is made, is at
    /// least this (what-if predictions never count: they are not the record).
    Prediction {
        kind: String,
        at_least: f64,
        name: String,
    },
}

/// A threshold that changes with age.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeThreshold {
    pub age: f64,
    pub at_least: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub name: String,
    pub line: String,
    pub substances: Vec<String>,
    /// The daily dose the guideline gives for this option, in mg: it picks the level of an
    /// interaction the thesaurus rates by dose.
    #[serde(default)]
    pub daily_dose_mg: Option<f64>,
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
    /// Age in whole years, from the profile.
    pub age: Option<f64>,
    /// Latest value per LOINC code: (code, value, unit, entry, when).
    pub observations: Vec<(String, f64, String, EntryId, DateTime<Utc>)>,
    /// Every reading, newest first: (code, value, unit, entry, when).
    pub readings: Vec<(String, f64, String, EntryId, DateTime<Utc>)>,
    /// Active diagnoses: (ICD-10 code, entry).
    pub diagnoses: Vec<(String, EntryId)>,
    /// Active medications: (substance, entry).
    pub medications: Vec<(String, EntryId)>,
    /// Recorded allergies: (substance, entry).
    pub allergies: Vec<(String, EntryId)>,
    /// Doses of active medications, where recorded: (substance, dose).
    pub doses: Vec<(String, Dose)>,
    /// Risk per model kind, computed from the record for this plan: (kind, probability).
    pub predictions: Vec<(String, f64)>,
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
    /// A recorded allergy the matcher does not know: it could not be checked, never ignored.
    AllergyNotRecognised,
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
    /// The measure the rule decided on, and how it relates to the guideline's own.
    #[serde(default)]
    pub measure: String,
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
        Condition::All(branches) => {
            let mut evidence = Vec::new();
            let mut missing = Vec::new();
            for branch in branches {
                match evaluate(branch, facts, now) {
                    Outcome::Holds(e) => evidence.extend(e),
                    Outcome::DoesNotHold => return Outcome::DoesNotHold,
                    Outcome::Missing(m) => missing.extend(m),
                }
            }
            if missing.is_empty() { Outcome::Holds(evidence) } else { Outcome::Missing(missing) }
        }
        Condition::MeanObservation { code, name, unit, within_days, min_readings, at_least, from_age } => {
            let since = now - Duration::days(*within_days);
            let readings: Vec<_> =
                facts.readings.iter().filter(|(c, _, u, _, at)| c == code && u == unit && *at >= since).collect();
            if readings.len() < *min_readings {
                return Outcome::Missing(vec![format!(
                    "{min_readings} readings of {name} ({code}) in the last {within_days} days ({} found)",
                    readings.len()
                )]);
            }
            let mean = readings.iter().map(|r| r.1).sum::<f64>() / readings.len() as f64;
            let (threshold, why) = match (from_age, facts.age) {
                (Some(t), Some(age)) if age >= t.age => (t.at_least, format!("threshold from age {}", t.age)),
                (Some(t), None) => (*at_least, format!("age unknown: threshold below age {}", t.age)),
                _ => (*at_least, "threshold for the patient's age".to_owned()),
            };
            if mean >= threshold {
                let first = readings.iter().map(|r| r.4).min().unwrap_or(now).date_naive();
                let last = readings.iter().map(|r| r.4).max().unwrap_or(now).date_naive();
                Outcome::Holds(vec![format!(
                    "mean {name} {mean:.0} {unit} over {} readings from {first} to {last} ≥ {threshold} ({why})",
                    readings.len()
                )])
            } else {
                Outcome::DoesNotHold
            }
        }
        Condition::Age { at_least, below } => match facts.age {
            None => Outcome::Missing(vec!["age (date of birth)".to_owned()]),
            Some(age) if age >= *at_least && age < *below => {
                Outcome::Holds(vec![format!("age {age} within {at_least}–{below}")])
            }
            Some(_) => Outcome::DoesNotHold,
        },
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
        Condition::Diagnosis { prefixes, except, name } => {
            let found: Vec<String> = facts
                .diagnoses
                .iter()
                .filter(|(code, _)| {
                    prefixes.iter().any(|p| code.starts_with(p.as_str()))
                        && !except.iter().any(|p| code.starts_with(p.as_str()))
                })
                .map(|(code, entry)| format!("{name}: diagnosis {code} (entry {entry})"))
                .collect();
            if found.is_empty() { Outcome::DoesNotHold } else { Outcome::Holds(found) }
        }
        Condition::Prediction { kind, at_least, name } => match facts.predictions.iter().find(|(k, _)| k == kind) {
            None => Outcome::Missing(vec![format!("the record's required inputs for {kind} ({name})")]),
            Some((_, p)) if p >= at_least => Outcome::Holds(vec![format!(
                "{name} {:.0} % (computed from the record for this plan) ≥ {:.0} %",
                p * 100.0,
                at_least * 100.0
            )]),
            Some(_) => Outcome::DoesNotHold,
        },
    }
}

/// ICD-10 gastric, duodenal, peptic and gastrojejunal ulcers: a condition some dose levels name.
const ULCER: [&str; 4] = ["K25", "K26", "K27", "K28"];

/// Screens one candidate substance against the patient's medications and allergies; a
/// candidate given at `dose` takes the interaction level the thesaurus sets for that dose.
fn screen(kb: &InteractionKb, substance: &str, dose: Option<Dose>, facts: &PatientFacts) -> Candidate {
    let mut reasons = Vec::new();
    let resolved = kb.resolve(substance).ok();
    let candidate_names: Vec<String> = match &resolved {
        Some(r) => std::iter::once(fold(&r.name)).chain(r.classes.iter().map(|c| fold(c))).collect(),
        None => vec![fold(substance)],
    };
    for (allergy, entry) in &facts.allergies {
        // Allergies go through the drug matcher (names, classes, synonyms in French and
        // English); one it does not know is reported on every candidate, never dropped.
        let Ok(allergen) = kb.resolve(allergy).map(|r| fold(&r.name)) else {
            reasons.push(Reason {
                kind: ReasonKind::AllergyNotRecognised,
                with: Some(allergy.clone()),
                severity: None,
                detail: format!("allergy '{allergy}' not recognised (entry {entry}): check by hand"),
            });
            continue;
        };
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
        let ulcer = facts.diagnoses.iter().any(|(code, _)| ULCER.iter().any(|p| code.starts_with(p)));
        for pair in report.pairs.iter().filter(|p| p.drug_a == substance) {
            // The candidate's own dose decides first; else the medication's recorded one.
            let dose = dose.or_else(|| facts.doses.iter().find(|(m, _)| *m == pair.drug_b).map(|(_, d)| *d));
            let (severity, why) = pair
                .findings
                .iter()
                .map(|f| dose::severity_at(&f.levels, f.severity, dose, ulcer))
                // The most severe; of equals, the one that says what its dose decided.
                .max_by_key(|(s, why)| (*s, why.is_some()))
                .unwrap_or((pair.severity, None));
            let mechanism = pair.findings.first().map(|f| f.mechanism.to_string()).unwrap_or_default();
            reasons.push(Reason {
                kind: ReasonKind::Interaction,
                with: Some(pair.drug_b.clone()),
                severity: Some(severity),
                detail: match why {
                    Some(why) => format!("{mechanism} ({why})"),
                    None => mechanism,
                },
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
            if let Some(unless) = &rule.unless {
                if matches!(evaluate(unless, facts, now), Outcome::Holds(_)) {
                    continue;
                }
            }
            match evaluate(&rule.when, facts, now) {
                Outcome::Holds(evidence) => {
                    let options = rule
                        .options
                        .iter()
                        .map(|spec| {
                            let dose = spec.daily_dose_mg.map(Dose::daily);
                            let candidates: Vec<Candidate> =
                                spec.substances.iter().map(|s| screen(kb, s, dose, facts)).collect();
                            let status = candidates.iter().map(|c| c.status).min().unwrap_or(OptionStatus::Excluded);
                            TreatmentOption { name: spec.name.clone(), line: spec.line.clone(), status, candidates }
                        })
                        .collect();
                    indications.push(Indication {
                        rule: rule.id.clone(),
                        title: rule.title.clone(),
                        source: rule.source.clone(),
                        measure: rule.measure.clone(),
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

    /// Facts with these blood pressure readings (systolic, diastolic, days ago) at this age.
    fn pressures(age: f64, readings: &[(f64, f64, i64)], now: DateTime<Utc>) -> PatientFacts {
        let mut facts = PatientFacts { age: Some(age), ..Default::default() };
        for (systolic, diastolic, days_ago) in readings {
            let at = now - Duration::days(*days_ago);
            facts.readings.push(("8480-6".into(), *systolic, "mm[Hg]".into(), entry(), at));
            facts.readings.push(("8462-4".into(), *diastolic, "mm[Hg]".into(), entry(), at));
        }
        facts
    }

    fn indicated(facts: &PatientFacts, now: DateTime<Utc>, rule: &str) -> bool {
        RuleSet::embedded().expect("rules").plan(&kb(), facts, now).indications.iter().any(|i| i.rule == rule)
    }

    #[test]
    fn blood_pressure_treatment_follows_the_mean_of_repeated_readings_and_the_age_threshold() {
        let now = Utc::now();
        let bp = "blood_pressure_above_target";
        // Two readings with a mean of 152/88 at 45: above 140.
        let facts = pressures(45.0, &[(150.0, 88.0, 3), (154.0, 88.0, 30)], now);
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        assert_eq!(option(&plan, bp, "ACE inhibitor").status, OptionStatus::Suitable);
        let indication = plan.indications.iter().find(|i| i.rule == bp).expect("indicated");
        assert!(indication.evidence[0].contains("over 2 readings"), "{:?}", indication.evidence);
        assert!(indication.measure.contains("mean"));
        // No diagnosis says diabetes and no HbA1c is recorded: that rule is undecided, not negative.
        assert!(plan.not_evaluated.iter().any(|n| n.rule == "diabetes_first_line"));
        // One reading is not enough to decide: undecided, not indicated.
        let once = pressures(45.0, &[(170.0, 95.0, 3)], now);
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &once, now);
        assert!(plan.indications.iter().all(|i| i.rule != bp));
        assert!(plan.not_evaluated.iter().any(|n| n.rule == bp));
        // One high reading among normal ones: the mean decides.
        assert!(!indicated(&pressures(45.0, &[(165.0, 85.0, 3), (125.0, 80.0, 10), (128.0, 78.0, 20)], now), now, bp));
        // The same 152 at 85 is below the threshold from 80 (160); 165 is above it.
        assert!(!indicated(&pressures(85.0, &[(150.0, 80.0, 3), (154.0, 80.0, 30)], now), now, bp));
        assert!(indicated(&pressures(85.0, &[(164.0, 80.0, 3), (168.0, 80.0, 30)], now), now, bp));
        // Readings outside the window do not count.
        assert!(!indicated(&pressures(45.0, &[(170.0, 100.0, 400), (170.0, 100.0, 500)], now), now, bp));
    }

    #[test]
    fn type_1_diabetes_never_gets_the_type_2_first_line() {
        let now = Utc::now();
        let hba1c = ("4548-4".to_owned(), 8.1, "%".to_owned(), entry(), now - Duration::days(5));
        let type1 = PatientFacts {
            age: Some(30.0),
            diagnoses: vec![("E10.9".into(), entry())],
            observations: vec![hba1c.clone()],
            ..Default::default()
        };
        assert!(!indicated(&type1, now, "diabetes_first_line"), "metformin is not for type 1 diabetes");
        let probable_type2 = PatientFacts { age: Some(50.0), observations: vec![hba1c], ..Default::default() };
        assert!(indicated(&probable_type2, now, "diabetes_first_line"));
    }

    #[test]
    fn diabetes_aged_40_to_75_indicates_a_statin() {
        let now = Utc::now();
        let diabetic = |age: f64| PatientFacts {
            age: Some(age),
            diagnoses: vec![("E11.9".into(), entry())],
            ..Default::default()
        };
        assert!(indicated(&diabetic(55.0), now, "statin_for_cardiovascular_risk"));
        assert!(indicated(&diabetic(40.0), now, "statin_for_cardiovascular_risk"));
        assert!(indicated(&diabetic(75.0), now, "statin_for_cardiovascular_risk"));
        assert!(!indicated(&diabetic(30.0), now, "statin_for_cardiovascular_risk"));
        assert!(!indicated(&diabetic(80.0), now, "statin_for_cardiovascular_risk"));
    }

    #[test]
    fn a_cardioembolic_stroke_is_not_atherosclerotic_disease() {
        let now = Utc::now();
        let embolic =
            PatientFacts { age: Some(70.0), diagnoses: vec![("I63.4".into(), entry())], ..Default::default() };
        assert!(!indicated(&embolic, now, "statin_for_cardiovascular_risk"));
        assert!(!indicated(&embolic, now, "antiplatelet_secondary_prevention"));
        let thrombotic = PatientFacts { diagnoses: vec![("I63.3".into(), entry())], ..embolic };
        assert!(indicated(&thrombotic, now, "statin_for_cardiovascular_risk"));
        assert!(indicated(&thrombotic, now, "antiplatelet_secondary_prevention"));
    }

    #[test]
    fn every_rule_names_its_measure_and_its_diagnosis_groups_sit_in_their_icd10_chapters() {
        let rules = RuleSet::embedded().expect("rules parse");
        fn groups(condition: &Condition, out: &mut Vec<(String, Vec<String>)>) {
            match condition {
                Condition::Any(c) | Condition::All(c) => c.iter().for_each(|c| groups(c, out)),
                Condition::Diagnosis { prefixes, except, name } => {
                    out.push((name.clone(), prefixes.iter().chain(except).cloned().collect()));
                }
                _ => {}
            }
        }
        let mut found = Vec::new();
        for rule in &rules.rules {
            assert!(rule.measure.len() > 40, "{} must name the measure it uses", rule.id);
            groups(&rule.when, &mut found);
            if let Some(unless) = &rule.unless {
                groups(unless, &mut found);
            }
        }
        // ICD-10 chapters: IV endocrine (E00–E90) for diabetes, IX circulatory (I00–I99) for
        // the cardiovascular groups; E10–E14 is the diabetes block.
        for (name, codes) in &found {
            for code in codes {
                let ok = if name.contains("diabetes") {
                    ["E10", "E11", "E12", "E13", "E14"].iter().any(|b| code.starts_with(b))
                } else {
                    code.starts_with('I') && code[1..3].parse::<u32>().is_ok()
                };
                assert!(ok, "{code} does not belong to the group {name}");
            }
        }
        assert!(found.len() >= 5);
    }

    #[test]
    fn low_dose_aspirin_with_warfarin_takes_the_antiplatelet_level_and_an_ulcer_raises_it() {
        let now = Utc::now();
        let facts = PatientFacts {
            diagnoses: vec![("I25.1".into(), entry())],
            medications: vec![("warfarine".into(), entry())],
            ..Default::default()
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        let aspirin = option(&plan, "antiplatelet_secondary_prevention", "Aspirin (low dose)");
        // 75 mg a day is an antiplatelet dose: "à prendre en compte", not the contraindication
        // of anti-inflammatory doses.
        assert_eq!(aspirin.status, OptionStatus::Flagged);
        let reason = &aspirin.candidates[0].reasons[0];
        assert_eq!((reason.kind, reason.severity), (ReasonKind::Interaction, Some(Severity::Consider)));
        assert_eq!(reason.with.as_deref(), Some("warfarine"));
        assert!(reason.detail.contains("75 mg a day"), "{}", reason.detail);
        let after_ulcer =
            PatientFacts { diagnoses: vec![("I25.1".into(), entry()), ("K25.7".into(), entry())], ..facts.clone() };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &after_ulcer, now);
        let aspirin = option(&plan, "antiplatelet_secondary_prevention", "Aspirin (low dose)");
        assert_eq!(aspirin.status, OptionStatus::Excluded);
        assert_eq!(aspirin.candidates[0].reasons[0].severity, Some(Severity::Avoid));
        // The same diagnosis also indicates a statin.
        assert!(plan.indications.iter().any(|i| i.rule == "statin_for_cardiovascular_risk"));
    }

    #[test]
    fn an_allergy_excludes_the_substance_and_its_class_members_when_recorded_as_a_class() {
        let now = Utc::now();
        let high_bp = pressures(50.0, &[(160.0, 95.0, 1), (158.0, 96.0, 20)], now);
        let facts = PatientFacts { allergies: vec![("Ramipril".into(), entry())], ..high_bp.clone() };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        let ace = option(&plan, "blood_pressure_above_target", "ACE inhibitor");
        let ramipril = ace.candidates.iter().find(|c| c.substance == "ramipril").expect("ramipril");
        assert_eq!(ramipril.status, OptionStatus::Excluded);
        assert_eq!(ramipril.reasons[0].kind, ReasonKind::Allergy);
        assert_eq!(ace.status, OptionStatus::Suitable, "other ACE inhibitors remain");

        let class_allergy =
            PatientFacts { allergies: vec![("inhibiteurs de l'enzyme de conversion".into(), entry())], ..high_bp };
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

    #[test]
    fn allergies_recorded_by_class_in_french_or_english_exclude_the_class() {
        let now = Utc::now();
        let high_bp = pressures(50.0, &[(160.0, 95.0, 1), (158.0, 96.0, 20)], now);
        for name in ["IEC", "ACE inhibitors", "inhibiteurs de l'ECA"] {
            let facts = PatientFacts { allergies: vec![(name.into(), entry())], ..high_bp.clone() };
            let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
            let ace = option(&plan, "blood_pressure_above_target", "ACE inhibitor");
            assert_eq!(ace.status, OptionStatus::Excluded, "{name}");
            for candidate in &ace.candidates {
                assert_eq!(candidate.status, OptionStatus::Excluded, "{name}: {}", candidate.substance);
            }
        }
        let facts = PatientFacts { allergies: vec![("sartans".into(), entry())], ..high_bp.clone() };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        assert_eq!(
            option(&plan, "blood_pressure_above_target", "Angiotensin II receptor blocker").status,
            OptionStatus::Excluded
        );
        assert_eq!(option(&plan, "blood_pressure_above_target", "ACE inhibitor").status, OptionStatus::Suitable);
    }

    #[test]
    fn an_allergy_nobody_recognises_is_reported_on_every_option() {
        let now = Utc::now();
        let facts = PatientFacts {
            allergies: vec![("zorblaxine".into(), entry())],
            ..pressures(50.0, &[(160.0, 95.0, 1), (158.0, 96.0, 20)], now)
        };
        let plan = RuleSet::embedded().expect("rules").plan(&kb(), &facts, now);
        for indication in &plan.indications {
            for option in &indication.options {
                for candidate in &option.candidates {
                    let reason = candidate
                        .reasons
                        .iter()
                        .find(|r| r.kind == ReasonKind::AllergyNotRecognised)
                        .unwrap_or_else(|| panic!("{} has no warning", candidate.substance));
                    assert!(reason.detail.contains("'zorblaxine' not recognised"));
                    assert_ne!(candidate.status, OptionStatus::Suitable);
                }
            }
        }
    }
}
