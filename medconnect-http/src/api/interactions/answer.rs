//! The check's answer, serialised by serde straight from the core's report: the JSON that
//! [`InteractionCheck`] documents, without copying the report into views first.
//!
//! Most of an answer is findings, and a finding's JSON depends only on the thesaurus entry
//! it comes from and the order of its sides, so each is written once and copied afterwards.
//! Findings are remembered by the identity of the shared texts they point into (the
//! knowledge base's `Arc`s), and a remembered one is used only for a finding equal to it:
//! a finding built another way, even around the same texts, is written afresh.
//!
//! Whole answers are kept too ([`RecentAnswers`]): an answer depends only on the names as
//! given and on the thesaurus the server loaded, never on who asks, so a list checked again
//! is answered with the bytes written the first time.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use bytes::Bytes;
use medconnect_core::MedConnect;
use medconnect_core::ai::interactions::{Finding, InteractingPair, InteractionReport};
use medconnect_core::auth::Actor;
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::{FindingView, RecognisedDrug, SeverityView, UnrecognisedDrug};

/// How many findings are remembered at most: the thesaurus gives about 6,000 (each entry
/// in both orders), a few MB of JSON. Past it, findings are written each time.
const REMEMBERED: usize = 16 * 1024;

/// Serialises as the report's [`InteractionCheck`](super::InteractionCheck).
pub struct CheckAnswer(pub InteractionReport);

/// Bytes of whole answers kept at most (weighed with their lists of names): an answer for
/// ten drugs is ~12 KB, so about 1,300 such lists.
const RECENT_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// The answers of recently checked lists, by the names exactly as given (they are in the
/// answer). Nothing in an answer is about a caller or a patient, and the check writes no
/// audit row, so one caller's list answers another's; each request is still authenticated,
/// and admitted by the core's own rule, before an answer is looked up.
pub struct RecentAnswers(moka::sync::Cache<Vec<String>, Bytes>);

impl Default for RecentAnswers {
    fn default() -> Self {
        let weigh = |names: &Vec<String>, answer: &Bytes| {
            let bytes = answer.len() + names.iter().map(|n| n.len() + size_of::<String>()).sum::<usize>();
            u32::try_from(bytes).unwrap_or(u32::MAX)
        };
        Self(moka::sync::Cache::builder().max_capacity(RECENT_ANSWER_BYTES).weigher(weigh).build())
    }
}

impl RecentAnswers {
    /// The JSON answer to checking `drugs`, kept from an earlier check of the same list or
    /// written now (and kept).
    pub fn answer(&self, app: &MedConnect, actor: &Actor, drugs: &[String]) -> medconnect_core::Result<Bytes> {
        app.admit_interaction_check(actor, drugs)?;
        if let Some(answer) = self.0.get(drugs) {
            return Ok(answer);
        }
        let report = app.check_interactions(actor, drugs)?;
        // An answer is ~12 KB for ten drugs.
        let mut json = Vec::with_capacity(16 * 1024);
        serde_json::to_writer(&mut json, &CheckAnswer(report)).map_err(medconnect_core::Error::internal)?;
        let answer = Bytes::from(json);
        self.0.insert(drugs.to_vec(), answer.clone());
        Ok(answer)
    }
}

/// Where a finding's shared texts live: equal keys mean the same texts, not yet the same finding.
type TextsAt = [usize; 4];

struct Written {
    finding: Finding,
    json: Box<RawValue>,
}

type Remembered = HashMap<TextsAt, Written>;

static WRITTEN: LazyLock<RwLock<Remembered>> = LazyLock::new(Default::default);

fn texts_at(f: &Finding) -> TextsAt {
    [
        Arc::as_ptr(&f.levels).cast::<u8>() as usize,
        Arc::as_ptr(&f.mechanism).cast::<u8>() as usize,
        Arc::as_ptr(&f.through[0].name).cast::<u8>() as usize,
        Arc::as_ptr(&f.through[1].name).cast::<u8>() as usize,
    ]
}

/// Remembers the JSON of findings an answer had to write (while there is room).
fn remember(missed: Vec<Finding>) {
    if missed.is_empty() {
        return;
    }
    let mut written = WRITTEN.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    for finding in missed {
        if written.len() >= REMEMBERED {
            break;
        }
        let Ok(json) = serde_json::value::to_raw_value(&FindingView::from(&finding)) else { continue };
        written.insert(texts_at(&finding), Written { finding, json });
    }
}

/// What the parts of one answer share: the findings remembered, and those it had to write.
struct Memo<'a> {
    written: &'a Remembered,
    missed: RefCell<Vec<Finding>>,
}

impl Serialize for CheckAnswer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = &self.0;
        let (answer, missed) = {
            let written = WRITTEN.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            let memo = Memo { written: &written, missed: RefCell::default() };
            let answer = write_answer(report, &memo, serializer);
            (answer, memo.missed.into_inner())
        };
        remember(missed);
        answer
    }
}

/// The answer's fields, findings copied where remembered (one lookup each).
fn write_answer<S: Serializer>(report: &InteractionReport, memo: &Memo<'_>, serializer: S) -> Result<S::Ok, S::Error> {
    let pairs: Vec<Pair<'_>> = report.pairs.iter().map(|pair| Pair { pair, memo }).collect();
    let mut answer = serializer.serialize_struct("InteractionCheck", 4)?;
    answer.serialize_field("edition", &report.edition)?;
    answer.serialize_field("drugs", &report.drugs.iter().map(RecognisedDrug::from).collect::<Vec<_>>())?;
    answer.serialize_field("unknown", &report.unknown.iter().map(UnrecognisedDrug::from).collect::<Vec<_>>())?;
    answer.serialize_field("pairs", &pairs)?;
    answer.end()
}

/// A pair as [`InteractingPairView`](super::InteractingPairView) writes it.
struct Pair<'a> {
    pair: &'a InteractingPair,
    memo: &'a Memo<'a>,
}

impl Serialize for Pair<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut pair = serializer.serialize_struct("InteractingPairView", 5)?;
        pair.serialize_field("drug_a", &self.pair.drug_a)?;
        pair.serialize_field("drug_b", &self.pair.drug_b)?;
        pair.serialize_field("severity", &SeverityView::from(self.pair.severity))?;
        pair.serialize_field("findings", &Findings { findings: &self.pair.findings, memo: self.memo })?;
        pair.serialize_field("dose_dependent", &self.pair.dose_dependent)?;
        pair.end()
    }
}

struct Findings<'a> {
    findings: &'a [Finding],
    memo: &'a Memo<'a>,
}

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut findings = serializer.serialize_seq(Some(self.findings.len()))?;
        for finding in self.findings {
            match self.memo.written.get(&texts_at(finding)) {
                Some(w) if w.finding == *finding => findings.serialize_element(&*w.json)?,
                _ => {
                    self.memo.missed.borrow_mut().push(finding.clone());
                    findings.serialize_element(&FindingView::from(finding))?
                }
            }
        }
        findings.end()
    }
}

#[cfg(test)]
mod tests {
    use medconnect_core::ai::interactions::{InteractionKb, Severity};
    use poem_openapi::types::ToJSON;

    use super::super::InteractionCheck;
    use super::*;

    fn report() -> InteractionReport {
        let kb = InteractionKb::shared().expect("thesaurus");
        let drugs = [
            "warfarin",
            "aspirin",
            "ibuprofène",
            "simvastatine",
            "clarithromycine",
            "amlodipine",
            "metformine",
            "paracetamol",
            "oméprazole",
            "amiodarone",
            "IEC",
            "pamplemousse",
            "not a drug",
        ];
        let report = kb.check(&drugs);
        assert!(!report.unknown.is_empty() && report.pairs.iter().any(|p| p.dose_dependent));
        report
    }

    /// The answer is written from the report, the spec from the poem-openapi type: both
    /// must give the same JSON, for a report with every kind of field (levels with and
    /// without advice, unknown names, classes, dose-dependent pairs), whether its findings
    /// are written for the first time or copied.
    #[test]
    fn the_answer_is_the_json_the_spec_describes_written_or_remembered() {
        let report = report();
        let documented = InteractionCheck::from(&report).to_json().expect("poem-openapi");
        let first = serde_json::to_string(&CheckAnswer(report.clone())).expect("serde");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&first).expect("json"), documented);
        let again = serde_json::to_string(&CheckAnswer(report)).expect("serde");
        assert_eq!(again, first, "remembered findings give the same bytes");
    }

    /// A finding around the same shared texts but not equal to a remembered one (here with
    /// another severity) is written afresh, never answered with the remembered JSON.
    #[test]
    fn a_finding_that_only_shares_texts_with_a_remembered_one_is_written_afresh() {
        let original = report().pairs[0].findings[0].clone();
        let json = serde_json::value::to_raw_value(&FindingView::from(&original)).expect("json");
        let remembered = Remembered::from([(texts_at(&original), Written { finding: original.clone(), json })]);
        let mut altered = original.clone();
        altered.severity =
            if original.severity == Severity::Consider { Severity::Contraindicated } else { Severity::Consider };
        assert_eq!(texts_at(&altered), texts_at(&original), "the same shared texts");
        // (written, whether it was one the answer had to write)
        let written = |finding: &Finding| {
            let memo = Memo { written: &remembered, missed: RefCell::default() };
            let findings = Findings { findings: std::slice::from_ref(finding), memo: &memo };
            let json = serde_json::to_value(&findings).expect("serde")[0].take();
            (json, !memo.missed.into_inner().is_empty())
        };
        assert_eq!(written(&original), (serde_json::to_value(FindingView::from(&original)).expect("view"), false));
        assert_eq!(written(&altered), (serde_json::to_value(FindingView::from(&altered)).expect("view"), true));
        assert_ne!(written(&altered).0, written(&original).0);
    }
}
