//! The drug–drug interaction knowledge base (ANSM thesaurus) and its matching engine.
//!
//! The thesaurus states interactions between two substances, a substance and a drug
//! class, or two classes; a substance inherits every interaction of every class it
//! belongs to. Loading indexes every interaction by the unordered pair of its two
//! sides, so a check is a handful of hash lookups per pair of drugs, and symmetric
//! whether or not the thesaurus lists the mirror entry.

mod names;

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

pub use names::fold;

/// Which edition of the thesaurus this build ships.
pub const EDITION: &str = "ANSM Thésaurus des interactions médicamenteuses, octobre 2020";

const THESAURUS_JSON: &str = include_str!("../../../../models/interactions/ansm_thesaurus_2020_01.json");
const SUBSTANCES_JSON: &str = include_str!("../../../../models/interactions/ansm_substances_2020_01.json");
const RXNORM_TSV: &str = include_str!("../../../../models/interactions/ansm_rxnorm.tsv");
/// Common names and class names the thesaurus lacks (aspirine, IEC, ACE inhibitors…),
/// each with its source.
const SYNONYMS_TSV: &str = include_str!("../../../../models/interactions/synonyms.tsv");

/// How strongly a combination is advised against, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// "A prendre en compte": take into account.
    Consider,
    /// "Précaution d'emploi": precaution for use.
    Precaution,
    /// "Association DECONSEILLEE": combination to avoid.
    Avoid,
    /// "CONTRE-INDICATION".
    Contraindicated,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Consider => "consider",
            Severity::Precaution => "precaution",
            Severity::Avoid => "avoid",
            Severity::Contraindicated => "contraindicated",
        }
    }

    fn parse(level: &str) -> Option<Self> {
        match fold(level).as_str() {
            "contre-indication" => Some(Severity::Contraindicated),
            "association deconseillee" => Some(Severity::Avoid),
            "precaution d'emploi" => Some(Severity::Precaution),
            "a prendre en compte" | "il convient de prendre en compte" => Some(Severity::Consider),
            _ => None,
        }
    }
}

/// What a thesaurus name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Substance,
    Class,
    /// Named by the thesaurus but in neither index: grapefruit, alcohol, routes of administration…
    Other,
}

/// How an input name was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    FrenchName,
    EnglishName,
    RxNorm,
    ClassName,
    OtherName,
    /// A common name from the synonyms table (`models/interactions/synonyms.tsv`).
    Synonym,
}

type EntityId = u32;

#[derive(Debug)]
struct Entity {
    name: Arc<str>,
    kind: EntityKind,
    /// The entity and, for a substance, its classes: what its interactions come through.
    expansion: Vec<EntityId>,
}

/// One severity level of an interaction, with the condition it applies under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub severity: Severity,
    /// The level as the thesaurus writes it.
    pub original: Arc<str>,
    /// The condition or advice attached to this level (French), if any.
    pub advice: Option<Arc<str>>,
}

#[derive(Debug)]
struct Interaction {
    sides: [EntityId; 2],
    severity: Severity,
    levels: Arc<[Level]>,
    mechanism: Arc<str>,
    /// Whether its levels differ by dose: read from the advice texts once, at load.
    dose_dependent: bool,
}

/// What loading found wrong with the data, and how it was handled.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// Thesaurus names in neither index, loaded as entities of their own.
    pub unindexed_names: Vec<String>,
    /// Class spellings that fold to the same class.
    pub merged_class_spellings: Vec<Vec<String>>,
    /// Substance names that collide once accents are folded; a folded name matches all.
    pub accent_collisions: Vec<Vec<String>>,
    /// Entries whose mirror (B + A for A + B) the thesaurus does not list.
    pub entries_without_mirror: usize,
    /// Entries identical to another after ordering their sides, dropped.
    pub duplicate_entries: usize,
    /// Synonyms whose thesaurus name the thesaurus does not have (the table is wrong).
    pub unknown_synonym_targets: Vec<String>,
}

/// Why the knowledge base could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the {file} file is not valid: {reason}")]
    Malformed { file: &'static str, reason: String },
}

/// A drug name the engine recognised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedDrug {
    /// The name as given.
    pub input: String,
    /// The thesaurus name it matched.
    pub name: Arc<str>,
    pub kind: EntityKind,
    pub matched_by: MatchedBy,
    /// The classes the substance belongs to, through which it inherits interactions.
    pub classes: Vec<Arc<str>>,
    #[serde(skip)]
    entities: Vec<EntityId>,
}

/// A drug name the engine did not recognise, with the closest known names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownDrug {
    pub input: String,
    pub suggestions: Vec<String>,
}

/// One side of a thesaurus entry: the substance, class or other name it is stated for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Via {
    pub name: Arc<str>,
    pub kind: EntityKind,
}

/// One thesaurus entry that applies to a pair of drugs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub levels: Arc<[Level]>,
    /// The entry's sides, in the order of the pair (`drug_a`, `drug_b`).
    pub through: [Via; 2],
    /// The mechanism, in French as the thesaurus writes it.
    pub mechanism: Arc<str>,
    /// Language of `mechanism` and of each level's `advice`.
    pub language: Cow<'static, str>,
}

/// A pair of the given drugs that interact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractingPair {
    pub drug_a: String,
    pub drug_b: String,
    /// The most severe level among the findings.
    pub severity: Severity,
    pub findings: Vec<Finding>,
    /// Whether the thesaurus rates the pair by a dose (each level's condition says which):
    /// `severity` is then the most severe; a known dose picks its level (`dose::severity_at`).
    #[serde(default)]
    pub dose_dependent: bool,
}

/// The answer to a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionReport {
    pub edition: String,
    pub drugs: Vec<ResolvedDrug>,
    pub unknown: Vec<UnknownDrug>,
    /// Most severe first.
    pub pairs: Vec<InteractingPair>,
}

/// The loaded knowledge base.
#[derive(Debug)]
pub struct InteractionKb {
    entities: Vec<Entity>,
    names: FxHashMap<String, (Vec<EntityId>, MatchedBy)>,
    rxnorm: FxHashMap<String, Vec<EntityId>>,
    pairs: FxHashMap<(EntityId, EntityId), Vec<u32>>,
    interactions: Vec<Interaction>,
    report: LoadReport,
}

// The source JSON is borrowed where it has no escapes: loading allocates little.
#[derive(Deserialize)]
struct RawSubstance<'a> {
    #[serde(borrow)]
    substance: Cow<'a, str>,
    #[serde(borrow)]
    drug_classes: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawEntry<'a> {
    #[serde(borrow)]
    main_drug: Cow<'a, str>,
    #[serde(borrow)]
    plus_drug: Cow<'a, str>,
    #[serde(borrow)]
    severity_levels: Vec<RawLevel<'a>>,
    #[serde(borrow)]
    interaction_mechanism: Cow<'a, str>,
}

#[derive(Deserialize)]
struct RawLevel<'a> {
    #[serde(borrow)]
    level: Cow<'a, str>,
    #[serde(borrow)]
    info: Cow<'a, str>,
}

impl InteractionKb {
    /// The edition shipped inside the library, loaded once per process and shared.
    pub fn shared() -> Result<std::sync::Arc<Self>, crate::Error> {
        static SHARED: std::sync::OnceLock<std::sync::Arc<InteractionKb>> = std::sync::OnceLock::new();
        if let Some(kb) = SHARED.get() {
            return Ok(kb.clone());
        }
        let kb = std::sync::Arc::new(Self::embedded().map_err(crate::Error::internal)?);
        Ok(SHARED.get_or_init(|| kb).clone())
    }

    /// The edition shipped inside the library, freshly parsed.
    pub fn embedded() -> Result<Self, LoadError> {
        Self::from_sources(THESAURUS_JSON, SUBSTANCES_JSON, RXNORM_TSV)
    }

    /// Builds the base from the thesaurus JSON, the substance index JSON and the RxNorm TSV.
    pub fn from_sources(thesaurus: &str, substances: &str, rxnorm_tsv: &str) -> Result<Self, LoadError> {
        let substances: Vec<RawSubstance> = serde_json::from_str(substances)
            .map_err(|e| LoadError::Malformed { file: "substances", reason: e.to_string() })?;
        let entries: Vec<RawEntry> = serde_json::from_str(thesaurus)
            .map_err(|e| LoadError::Malformed { file: "thesaurus", reason: e.to_string() })?;
        let mut b = Builder::default();

        // Classes first, then substances with their classes.
        for s in &substances {
            for class in &s.drug_classes {
                b.entity(class, EntityKind::Class);
            }
        }
        let mut accent_groups: HashMap<String, Vec<String>> = HashMap::new();
        for s in &substances {
            let id = b.entity(&s.substance, EntityKind::Substance);
            accent_groups.entry(fold(&s.substance)).or_default().push(s.substance.to_string());
            let classes: Vec<EntityId> = s.drug_classes.iter().map(|c| b.by_key[&fold(c)][0]).collect();
            for c in classes {
                if !b.entities[id as usize].expansion.contains(&c) {
                    b.entities[id as usize].expansion.push(c);
                }
            }
        }
        b.report.accent_collisions = accent_groups.into_values().filter(|names| names.len() > 1).collect();
        b.report.accent_collisions.sort();

        // Interactions, by unordered pair; the same content twice is one entry.
        let mut seen_directions: std::collections::HashSet<(EntityId, EntityId)> = Default::default();
        let mut sides: FxHashMap<&str, EntityId> = FxHashMap::default();
        // Content hash → interactions with that hash, to find exact duplicates without copying text.
        let mut by_content: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        for entry in &entries {
            let a = b.side_cached(&mut sides, &entry.main_drug);
            let c = b.side_cached(&mut sides, &entry.plus_drug);
            seen_directions.insert((a, c));
            let mut levels = Vec::with_capacity(entry.severity_levels.len());
            for level in &entry.severity_levels {
                let severity = Severity::parse(&level.level).ok_or_else(|| LoadError::Malformed {
                    file: "thesaurus",
                    reason: format!("unknown severity level {:?}", level.level),
                })?;
                let advice = Some(level.info.trim()).filter(|i| !i.is_empty()).map(Arc::from);
                levels.push(Level { severity, original: Arc::from(level.level.trim()), advice });
            }
            let Some(severity) = levels.iter().map(|l| l.severity).max() else {
                return Err(LoadError::Malformed {
                    file: "thesaurus",
                    reason: "an entry has no severity level".into(),
                });
            };
            let key = (a.min(c), a.max(c));
            let mechanism = entry.interaction_mechanism.trim();
            let content = content_hash(key, mechanism, &levels);
            let twins = by_content.entry(content).or_default();
            let duplicate = twins.iter().any(|&i| {
                let other = &b.interactions[i as usize];
                (other.sides[0].min(other.sides[1]), other.sides[0].max(other.sides[1])) == key
                    && &*other.mechanism == mechanism
                    && other.levels.len() == levels.len()
                    && other.levels.iter().zip(&levels).all(|(x, y)| x.severity == y.severity && x.advice == y.advice)
            });
            if duplicate {
                b.report.duplicate_entries += 1;
                continue;
            }
            let index = u32::try_from(b.interactions.len()).unwrap_or(u32::MAX);
            twins.push(index);
            b.interactions.push(Interaction {
                sides: [a, c],
                severity,
                dose_dependent: dose::depends_on_dose(&levels),
                levels: levels.into(),
                mechanism: Arc::from(mechanism),
            });
            b.pairs.entry(key).or_default().push(index);
        }
        b.report.entries_without_mirror =
            seen_directions.iter().filter(|(a, c)| !seen_directions.contains(&(*c, *a))).count();

        // RxNorm ids.
        let mut rxnorm: FxHashMap<String, Vec<EntityId>> = FxHashMap::default();
        for (n, line) in rxnorm_tsv.lines().enumerate().skip(1) {
            let Some((name, cui)) = line.split_once('\t') else {
                return Err(LoadError::Malformed { file: "rxnorm", reason: format!("line {} has no tab", n + 1) });
            };
            let cui = cui.trim();
            if cui == "NA" || cui.is_empty() {
                continue;
            }
            if let Some(ids) = b.by_key.get(&fold(name)) {
                rxnorm.entry(cui.to_owned()).or_default().extend(ids.iter().copied());
            }
        }
        Ok(b.finish(rxnorm))
    }

    /// What loading found wrong with the data.
    pub fn load_report(&self) -> &LoadReport {
        &self.report
    }

    pub fn interaction_count(&self) -> usize {
        self.interactions.len()
    }

    /// Recognises one drug name: French or English INN, RxNorm id, class or other name,
    /// ignoring case, accents and extra whitespace.
    pub fn resolve(&self, input: &str) -> Result<ResolvedDrug, UnknownDrug> {
        let trimmed = input.trim();
        let found = if !trimmed.is_empty() && trimmed.bytes().all(|c| c.is_ascii_digit()) {
            self.rxnorm.get(trimmed).map(|ids| (ids.as_slice(), MatchedBy::RxNorm))
        } else {
            self.names.get(&fold(trimmed)).map(|(ids, by)| (ids.as_slice(), *by))
        };
        let Some((ids, matched_by)) = found else {
            return Err(UnknownDrug { input: input.to_owned(), suggestions: self.suggest(trimmed) });
        };
        let first = &self.entities[ids[0] as usize];
        let classes =
            first.expansion.iter().filter(|e| **e != ids[0]).map(|e| self.entities[*e as usize].name.clone()).collect();
        Ok(ResolvedDrug {
            input: input.to_owned(),
            name: first.name.clone(),
            kind: first.kind,
            matched_by,
            classes,
            entities: ids.to_vec(),
        })
    }

    /// Up to three known names closest to `input`.
    pub fn suggest(&self, input: &str) -> Vec<String> {
        let key = fold(input);
        let mut scored: Vec<(f64, &str)> = self
            .names
            .keys()
            .map(|name| (strsim::jaro_winkler(&key, name), name.as_str()))
            .filter(|(score, _)| *score >= 0.8)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored.into_iter().take(3).map(|(_, name)| name.to_owned()).collect()
    }

    /// Every interacting pair among `drugs`, most severe first. Unknown names are reported,
    /// never dropped.
    pub fn check<S: AsRef<str>>(&self, drugs: &[S]) -> InteractionReport {
        let mut resolved = Vec::with_capacity(drugs.len());
        let mut unknown = Vec::new();
        for drug in drugs {
            match self.resolve(drug.as_ref()) {
                Ok(r) => resolved.push(r),
                Err(u) => unknown.push(u),
            }
        }
        let mut pairs = Vec::new();
        for i in 0..resolved.len() {
            for j in i + 1..resolved.len() {
                if let Some(pair) = self.pair(&resolved[i], &resolved[j]) {
                    pairs.push(pair);
                }
            }
        }
        pairs.sort_by_key(|p| std::cmp::Reverse(p.severity));
        InteractionReport { edition: EDITION.to_owned(), drugs: resolved, unknown, pairs }
    }

    fn pair(&self, a: &ResolvedDrug, b: &ResolvedDrug) -> Option<InteractingPair> {
        if a.entities.iter().any(|e| b.entities.contains(e)) {
            return None; // the same drug named twice
        }
        let mut hits: Vec<(u32, bool)> = Vec::new();
        for &ea in &a.entities {
            for &x in &self.entities[ea as usize].expansion {
                for &eb in &b.entities {
                    for &y in &self.entities[eb as usize].expansion {
                        let Some(found) = self.pairs.get(&(x.min(y), x.max(y))) else { continue };
                        for &index in found {
                            if !hits.iter().any(|(h, _)| *h == index) {
                                // Whether the entry's first side is on drug a's side.
                                let forward = self.interactions[index as usize].sides[0] == x;
                                hits.push((index, forward));
                            }
                        }
                    }
                }
            }
        }
        if hits.is_empty() {
            return None;
        }
        let dose_dependent = hits.iter().any(|&(index, _)| self.interactions[index as usize].dose_dependent);
        let mut findings: Vec<Finding> = hits
            .into_iter()
            .map(|(index, forward)| {
                let it = &self.interactions[index as usize];
                let [first, second] = it.sides.map(|e| {
                    let entity = &self.entities[e as usize];
                    Via { name: Arc::clone(&entity.name), kind: entity.kind }
                });
                Finding {
                    severity: it.severity,
                    levels: it.levels.clone(),
                    through: if forward { [first, second] } else { [second, first] },
                    mechanism: Arc::clone(&it.mechanism),
                    language: Cow::Borrowed("fr"),
                }
            })
            .collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        Some(InteractingPair {
            drug_a: a.input.clone(),
            drug_b: b.input.clone(),
            severity: findings[0].severity,
            dose_dependent,
            findings,
        })
    }
}

fn content_hash(key: (EntityId, EntityId), mechanism: &str, levels: &[Level]) -> u64 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    key.hash(&mut h);
    mechanism.hash(&mut h);
    for l in levels {
        l.severity.hash(&mut h);
        l.advice.hash(&mut h);
    }
    h.finish()
}

#[derive(Default)]
struct Builder {
    entities: Vec<Entity>,
    /// Folded name → entities (several where accents collide).
    by_key: FxHashMap<String, Vec<EntityId>>,
    interactions: Vec<Interaction>,
    pairs: FxHashMap<(EntityId, EntityId), Vec<u32>>,
    report: LoadReport,
    spellings: FxHashMap<String, Vec<String>>,
}

impl Builder {
    /// The entity for a name, created if new. Class spellings that fold alike are one class.
    fn entity(&mut self, name: &str, kind: EntityKind) -> EntityId {
        let key = fold(name);
        if kind == EntityKind::Class {
            let spellings = self.spellings.entry(key.clone()).or_default();
            if !spellings.iter().any(|s| s == name) {
                spellings.push(name.to_owned());
            }
            if let Some(ids) = self.by_key.get(&key) {
                return ids[0];
            }
        }
        let id = u32::try_from(self.entities.len()).unwrap_or(u32::MAX);
        self.entities.push(Entity { name: Arc::from(name.trim()), kind, expansion: vec![id] });
        self.by_key.entry(key).or_default().push(id);
        id
    }

    // `&Cow` on purpose: only borrowed names outlive the loop and can be cached.
    #[allow(clippy::ptr_arg)]
    /// `side`, remembering each distinct spelling: the thesaurus repeats 626 names 6,278 times.
    fn side_cached<'a>(&mut self, cache: &mut FxHashMap<&'a str, EntityId>, name: &Cow<'a, str>) -> EntityId {
        if let Some(id) = cache.get(name.as_ref()) {
            return *id;
        }
        let id = self.side(name);
        if let Cow::Borrowed(n) = name {
            cache.insert(n, id);
        }
        id
    }

    /// The entity a thesaurus side names: a substance, a class, or a new "other" entity.
    fn side(&mut self, name: &str) -> EntityId {
        if let Some(ids) = self.by_key.get(&fold(name)) {
            return ids[0];
        }
        let display = name.trim().to_lowercase();
        self.report.unindexed_names.push(display.clone());
        let id = self.entity(&display, EntityKind::Other);
        // "pamplemousse (jus et fruit)" is also "pamplemousse".
        if let Some((short, _)) = display.split_once(" (") {
            self.by_key.entry(fold(short)).or_default().push(id);
        }
        id
    }

    fn finish(mut self, rxnorm: FxHashMap<String, Vec<EntityId>>) -> InteractionKb {
        self.report.merged_class_spellings = self.spellings.into_values().filter(|s| s.len() > 1).collect();
        self.report.unindexed_names.sort();
        let mut names: FxHashMap<String, (Vec<EntityId>, MatchedBy)> = FxHashMap::default();
        for (key, ids) in &self.by_key {
            let by = match self.entities[ids[0] as usize].kind {
                EntityKind::Substance => MatchedBy::FrenchName,
                EntityKind::Class => MatchedBy::ClassName,
                EntityKind::Other => MatchedBy::OtherName,
            };
            names.insert(key.clone(), (ids.clone(), by));
        }
        // English names: derived ones, then the alias table; never over a French name.
        for (key, ids) in &self.by_key {
            if self.entities[ids[0] as usize].kind != EntityKind::Substance {
                continue;
            }
            for english in names::english_candidates(key) {
                names.entry(english).or_insert_with(|| (ids.clone(), MatchedBy::EnglishName));
            }
        }
        for (english, french) in names::ENGLISH_ALIASES {
            if let Some(ids) = self.by_key.get(&fold(french)) {
                names.entry(fold(english)).or_insert_with(|| (ids.clone(), MatchedBy::EnglishName));
            }
        }
        for (name, target) in synonyms() {
            match self.by_key.get(&fold(target)) {
                Some(ids) => {
                    names.entry(fold(name)).or_insert_with(|| (ids.clone(), MatchedBy::Synonym));
                }
                None => self.report.unknown_synonym_targets.push(target.to_owned()),
            }
        }
        InteractionKb {
            entities: self.entities,
            names,
            rxnorm,
            pairs: self.pairs,
            interactions: self.interactions,
            report: self.report,
        }
    }
}

/// The synonyms table: (name, thesaurus name) pairs, comments and the header skipped.
pub fn synonyms() -> impl Iterator<Item = (&'static str, &'static str)> {
    SYNONYMS_TSV.lines().filter(|l| !l.starts_with('#') && !l.starts_with("name\t")).filter_map(|l| {
        let mut columns = l.split('\t');
        Some((columns.next()?.trim(), columns.next()?.trim()))
    })
}

pub mod dose;

#[cfg(test)]
mod tests;
