//! Drug–drug interaction checks against the shipped ANSM thesaurus.

mod answer;

use medconnect_core::MedConnect;
use medconnect_core::ai::interactions::{
    EntityKind, Finding, InteractingPair, InteractionReport, Level, MatchedBy, ResolvedDrug, Severity, UnknownDrug, Via,
};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde::Serialize;

use self::answer::RecentAnswers;
use super::serde_body::PreparedJson;
use super::types::enum_from;
use super::{ApiTags, Auth};
use crate::problem::{ApiResult, ReferenceErrors};

enum_from!(Severity => SeverityView { Contraindicated, Avoid, Precaution, Consider });
enum_from!(EntityKind => KindView { Substance, Class, Other });
enum_from!(MatchedBy => MatchedByView { FrenchName, EnglishName, RxNorm, ClassName, OtherName, Synonym });

/// How serious an interaction is, in the ANSM thesaurus's four levels, most severe first.
///
/// - `contraindicated`: never together (CONTRE-INDICATION).
/// - `avoid`: together only if nothing else will do (association DECONSEILLEE).
/// - `precaution`: together with the stated precaution, such as a dose adjustment or monitoring (précaution d'emploi).
/// - `consider`: a risk to keep in mind (à prendre en compte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "snake_case")]
#[oai(rename = "Severity", rename_all = "snake_case")]
pub enum SeverityView {
    Contraindicated,
    Avoid,
    Precaution,
    Consider,
}

/// What a thesaurus entry names.
///
/// - `substance`: a single substance (INN).
/// - `class`: a class of drugs, such as `anticoagulants oraux`.
/// - `other`: neither a substance nor a class: grapefruit, alcohol….
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "snake_case")]
#[oai(rename = "DrugEntityKind", rename_all = "snake_case")]
pub enum KindView {
    Substance,
    Class,
    Other,
}

/// How a requested name was recognised.
///
/// - `french_name`: the French INN, case and accents ignored.
/// - `english_name`: an English INN derived from the French one, or a known English name.
/// - `rx_norm`: an RxNorm concept id.
/// - `class_name`: the name of a drug class.
/// - `other_name`: another name the thesaurus uses.
/// - `synonym`: a common name from the synonyms table (`aspirine`, `IEC`, `ACE inhibitors`…),
///   each entry with its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "snake_case")]
#[oai(rename = "MatchedBy", rename_all = "snake_case")]
pub enum MatchedByView {
    FrenchName,
    EnglishName,
    RxNorm,
    ClassName,
    OtherName,
    Synonym,
}

/// Drugs to check against each other.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct CheckRequest {
    /// French or English INN, RxNorm id, or drug class; case, accents and spacing do not matter.
    #[oai(validator(min_items = 1, max_items = 50))]
    pub drugs: Vec<String>,
}

impl poem_openapi::types::Example for CheckRequest {
    fn example() -> Self {
        Self { drugs: vec!["warfarin".into(), "aspirine".into(), "ibuprofène".into()] }
    }
}

/// Text in the language the source wrote it in.
#[derive(Debug, Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct LocalizedText {
    /// BCP 47 language tag.
    pub lang: String,
    pub text: String,
}

/// A drug name that was recognised.
#[derive(Debug, Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct RecognisedDrug {
    pub input: String,
    /// The thesaurus name it matched.
    pub name: String,
    pub kind: KindView,
    pub matched_by: MatchedByView,
    /// The classes through which it inherits interactions.
    pub classes: Vec<String>,
}

/// A drug name that was not recognised.
#[derive(Debug, Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct UnrecognisedDrug {
    pub input: String,
    /// The closest known names.
    pub suggestions: Vec<String>,
}

/// One severity level of an entry, with its condition.
#[derive(Debug, Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct LevelView {
    pub severity: SeverityView,
    /// The level as the thesaurus writes it.
    pub original: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<LocalizedText>,
}

/// A side of a thesaurus entry.
#[derive(Debug, Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct ViaView {
    pub name: String,
    pub kind: KindView,
}

/// One thesaurus entry that applies to the pair.
#[derive(Debug, Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct FindingView {
    pub severity: SeverityView,
    pub levels: Vec<LevelView>,
    /// The entry's two sides, in the order `drug_a`, `drug_b`: the classes or substances
    /// the interaction came through.
    pub through: Vec<ViaView>,
    pub mechanism: LocalizedText,
}

/// Two of the given drugs that interact; `severity` is the most severe level among the findings.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct InteractingPairView {
    pub drug_a: String,
    pub drug_b: String,
    pub severity: SeverityView,
    pub findings: Vec<FindingView>,
    /// The thesaurus rates this pair by dose (see each level's advice): `severity` is the
    /// most severe level, which applies only at the doses its condition names.
    pub dose_dependent: bool,
}

/// The result of a check.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct InteractionCheck {
    /// The knowledge-base edition the check used.
    pub edition: String,
    pub drugs: Vec<RecognisedDrug>,
    /// Names that were not recognised: never silently dropped.
    pub unknown: Vec<UnrecognisedDrug>,
    /// Most severe first.
    pub pairs: Vec<InteractingPairView>,
}

fn french(text: &str) -> LocalizedText {
    LocalizedText { lang: "fr".into(), text: text.to_owned() }
}

impl From<&Level> for LevelView {
    fn from(l: &Level) -> Self {
        Self { severity: l.severity.into(), original: l.original.to_string(), advice: l.advice.as_deref().map(french) }
    }
}

impl From<&Via> for ViaView {
    fn from(v: &Via) -> Self {
        Self { name: v.name.to_string(), kind: v.kind.into() }
    }
}

impl From<&Finding> for FindingView {
    fn from(f: &Finding) -> Self {
        Self {
            severity: f.severity.into(),
            levels: f.levels.iter().map(Into::into).collect(),
            through: f.through.iter().map(Into::into).collect(),
            mechanism: LocalizedText { lang: f.language.to_string(), text: f.mechanism.to_string() },
        }
    }
}

impl From<&InteractingPair> for InteractingPairView {
    fn from(p: &InteractingPair) -> Self {
        Self {
            drug_a: p.drug_a.clone(),
            drug_b: p.drug_b.clone(),
            severity: p.severity.into(),
            findings: p.findings.iter().map(Into::into).collect(),
            dose_dependent: p.dose_dependent,
        }
    }
}

impl From<&ResolvedDrug> for RecognisedDrug {
    fn from(d: &ResolvedDrug) -> Self {
        Self {
            input: d.input.clone(),
            name: d.name.to_string(),
            kind: d.kind.into(),
            matched_by: d.matched_by.into(),
            classes: d.classes.iter().map(ToString::to_string).collect(),
        }
    }
}

impl From<&UnknownDrug> for UnrecognisedDrug {
    fn from(u: &UnknownDrug) -> Self {
        Self { input: u.input.clone(), suggestions: u.suggestions.clone() }
    }
}

impl From<&InteractionReport> for InteractionCheck {
    fn from(r: &InteractionReport) -> Self {
        Self {
            edition: r.edition.clone(),
            drugs: r.drugs.iter().map(Into::into).collect(),
            unknown: r.unknown.iter().map(Into::into).collect(),
            pairs: r.pairs.iter().map(Into::into).collect(),
        }
    }
}

#[derive(Default)]
pub struct InteractionsApi {
    answers: RecentAnswers,
}

#[OpenApi(tag = "ApiTags::DecisionSupport")]
impl InteractionsApi {
    /// Check drugs for interactions
    ///
    /// Every interacting pair among the given drugs, most severe first, with the
    /// severity levels, the classes or substances each interaction came through, and the
    /// mechanism and advice in the thesaurus's French. Names may be French or English
    /// INNs, RxNorm ids or class names; unknown names come back with suggestions.
    #[oai(path = "/interactions/check", method = "post", operation_id = "check_interactions")]
    async fn check(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        body: Json<CheckRequest>,
    ) -> ApiResult<PreparedJson<InteractionCheck>, ReferenceErrors> {
        Ok(PreparedJson::new(self.answers.answer(&app, &auth.0, &body.drugs)?))
    }
}
