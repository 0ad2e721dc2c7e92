//! The engine against the real thesaurus: class- and substance-level matches, severities,
//! symmetry, name matching, unknown names, and the known defects of the data.

use std::sync::OnceLock;

use super::*;

fn kb() -> &'static InteractionKb {
    static KB: OnceLock<InteractionKb> = OnceLock::new();
    KB.get_or_init(|| InteractionKb::embedded().expect("the shipped thesaurus loads"))
}

fn pair_of<'a>(report: &'a InteractionReport, a: &str, b: &str) -> Option<&'a InteractingPair> {
    report.pairs.iter().find(|p| (p.drug_a == a && p.drug_b == b) || (p.drug_a == b && p.drug_b == a))
}

fn via_names(finding: &Finding) -> [String; 2] {
    finding.through.clone().map(|v| fold(&v.name))
}

#[test]
fn two_nsaids_interact_through_their_class() {
    let report = kb().check(&["ibuprofène", "kétoprofène"]);
    let pair = pair_of(&report, "ibuprofène", "kétoprofène").expect("NSAIDs interact");
    assert_eq!(pair.severity, Severity::Avoid);
    let finding = &pair.findings[0];
    assert_eq!(
        via_names(finding),
        ["anti-inflammatoires non steroidiens", "autres anti-inflammatoires non steroidiens"]
    );
    assert!(finding.through.iter().all(|v| v.kind == EntityKind::Class));
}

#[test]
fn an_oral_anticoagulant_with_an_nsaid_is_to_be_avoided() {
    let report = kb().check(&["warfarine", "ibuprofène"]);
    let pair = pair_of(&report, "warfarine", "ibuprofène").expect("interaction");
    assert_eq!(pair.severity, Severity::Avoid);
    // The sides come in the order of the pair: the anticoagulant class on warfarin's side.
    assert_eq!(via_names(&pair.findings[0]), ["anticoagulants oraux", "anti-inflammatoires non steroidiens"]);
    assert!(!pair.findings[0].mechanism.is_empty());
    assert_eq!(pair.findings[0].language, "fr");
}

#[test]
fn substance_level_entries_match_and_carry_several_severities() {
    let report = kb().check(&["methotrexate", "acide acétylsalicylique"]);
    let pair = pair_of(&report, "methotrexate", "acide acétylsalicylique").expect("interaction");
    assert_eq!(pair.severity, Severity::Contraindicated);
    let finding = pair
        .findings
        .iter()
        .find(|f| f.through.iter().all(|v| v.kind == EntityKind::Substance))
        .expect("substance entry");
    let severities: Vec<Severity> = finding.levels.iter().map(|l| l.severity).collect();
    assert_eq!(severities, vec![Severity::Contraindicated, Severity::Precaution]);
    assert!(
        finding.levels.iter().all(|l| l.advice.as_deref().is_some_and(|a| !a.is_empty())),
        "each level has its condition"
    );
}

#[test]
fn warfarin_with_aspirin_is_flagged_with_every_applicable_entry() {
    let report = kb().check(&["Warfarin", "Aspirin"]);
    let pair = pair_of(&report, "Warfarin", "Aspirin").expect("warfarin + aspirin must never pass unflagged");
    assert_eq!(pair.severity, Severity::Contraindicated);
    // The substance entry and the antiplatelet class entry; the mirror copies are merged.
    assert_eq!(pair.findings.len(), 2, "{:#?}", pair.findings);
    assert!(pair.findings.windows(2).all(|w| w[0].severity >= w[1].severity));
}

#[test]
fn checks_are_symmetric_even_where_the_thesaurus_has_no_mirror_entry() {
    assert!(kb().load_report().entries_without_mirror >= 20);
    for (a, b) in [("dipyridamole", "théine"), ("warfarine", "ibuprofène"), ("simvastatine", "clarithromycine")] {
        let forward = kb().check(&[a, b]);
        let backward = kb().check(&[b, a]);
        assert_eq!(forward.pairs.len(), 1, "{a} + {b}");
        assert_eq!(backward.pairs.len(), 1, "{b} + {a}");
        assert_eq!(forward.pairs[0].severity, backward.pairs[0].severity);
        assert_eq!(forward.pairs[0].findings.len(), backward.pairs[0].findings.len());
        assert_eq!(via_names(&forward.pairs[0].findings[0]), {
            let [x, y] = via_names(&backward.pairs[0].findings[0]);
            [y, x]
        });
    }
}

#[test]
fn names_match_regardless_of_case_accents_whitespace_language_or_rxnorm_id() {
    let expect = |input: &str, name: &str, by: MatchedBy| {
        let r = kb().resolve(input).unwrap_or_else(|u| panic!("{input} unknown, suggestions {:?}", u.suggestions));
        assert_eq!((fold(&r.name), r.matched_by), (fold(name), by), "{input}");
    };
    expect("warfarine", "warfarine", MatchedBy::FrenchName);
    expect("  WARFARINE  ", "warfarine", MatchedBy::FrenchName);
    expect("Ibuprofène", "ibuprofene", MatchedBy::FrenchName);
    expect("warfarin", "warfarine", MatchedBy::EnglishName);
    expect("Ibuprofen", "ibuprofene", MatchedBy::EnglishName);
    expect("acetylsalicylic acid", "acide acetylsalicylique", MatchedBy::EnglishName);
    expect("valproic  acid", "acide valproique", MatchedBy::EnglishName);
    expect("acetaminophen", "paracetamol", MatchedBy::EnglishName);
    expect("11289", "warfarine", MatchedBy::RxNorm);
    expect("5640", "ibuprofene", MatchedBy::RxNorm);
    expect("Anticoagulants  oraux", "anticoagulants oraux", MatchedBy::ClassName);
    let class = kb().resolve("antivitamines k").expect("class");
    assert_eq!(class.kind, EntityKind::Class);
    let warfarin = kb().resolve("warfarin").expect("warfarin");
    assert!(warfarin.classes.iter().any(|c| fold(c) == "antivitamines k"));
}

#[test]
fn unknown_names_are_reported_with_the_closest_known_names() {
    let report = kb().check(&["warfarn", "ibuprofène", "no such drug at all"]);
    assert_eq!(report.drugs.len(), 1);
    assert_eq!(report.unknown.len(), 2);
    let typo = report.unknown.iter().find(|u| u.input == "warfarn").expect("reported");
    assert!(typo.suggestions.iter().any(|s| s.starts_with("warfarin")), "{:?}", typo.suggestions);
    assert!(kb().resolve("").is_err());
    assert!(kb().resolve("99999999").is_err(), "an unknown RxNorm id");
}

#[test]
fn drugs_known_not_to_interact_give_no_pair() {
    for (a, b) in [("paracetamol", "ibuprofène"), ("paracetamol", "amlodipine")] {
        let report = kb().check(&[a, b]);
        assert_eq!(report.drugs.len(), 2, "{a}, {b} both known");
        assert!(report.pairs.is_empty(), "{a} + {b}: {:?}", report.pairs);
    }
    assert!(kb().check(&["ibuprofène", "Ibuprofen"]).pairs.is_empty(), "one drug named twice");
}

#[test]
fn names_outside_both_indexes_such_as_grapefruit_and_alcohol_are_matchable() {
    let unindexed = &kb().load_report().unindexed_names;
    assert_eq!(unindexed.len(), 7, "{unindexed:?}");
    for input in ["pamplemousse", "Grapefruit juice", "PAMPLEMOUSSE (JUS ET FRUIT)"] {
        let report = kb().check(&["simvastatine", input]);
        assert_eq!(report.pairs.len(), 1, "{input}");
        assert_eq!(report.pairs[0].severity, Severity::Avoid);
    }
    assert_eq!(kb().resolve("alcohol").map(|r| r.kind).ok(), Some(EntityKind::Other));
    assert!(kb().resolve("alcool").is_ok());
}

#[test]
fn a_class_spelled_two_ways_loses_no_interaction() {
    let merged = &kb().load_report().merged_class_spellings;
    assert!(merged.iter().any(|s| s.iter().any(|n| n.contains("gastro- intestinaux"))), "{merged:?}");
    // Ciprofloxacin's class is spelled "gastro- intestinaux"; charcoal is a gastro-intestinal topical.
    let report = kb().check(&["ciprofloxacine", "charbon active"]);
    assert_eq!(report.pairs.len(), 1, "{report:?}");
    let both =
        kb().resolve("substances à absorption réduite par les topiques gastro- intestinaux, antiacides et adsorbants");
    let one =
        kb().resolve("substances à absorption réduite par les topiques gastro-intestinaux, antiacides et adsorbants");
    assert_eq!(both.map(|r| r.name).ok(), one.map(|r| r.name).ok());
}

#[test]
fn substance_names_that_collide_after_folding_match_every_variant() {
    let collisions = &kb().load_report().accent_collisions;
    assert_eq!(collisions.len(), 3, "{collisions:?}");
    // "everolimus" and "évérolimus" carry different classes; a check sees both.
    let everolimus = kb().resolve("everolimus").expect("known");
    assert_eq!(everolimus.entities.len(), 2);
    let via_cyp3a4 = kb().check(&["everolimus", "clarithromycine"]);
    let via_angioedema = kb().check(&["évérolimus", "ramipril"]);
    assert_eq!(via_cyp3a4.pairs.len(), 1);
    assert_eq!(via_angioedema.pairs.len(), 1);
}

#[test]
fn reports_list_pairs_most_severe_first() {
    let drugs =
        ["warfarine", "acide acétylsalicylique", "ibuprofène", "paracetamol", "simvastatine", "clarithromycine"];
    let report = kb().check(&drugs);
    assert!(report.pairs.len() >= 4);
    assert!(report.pairs.windows(2).all(|w| w[0].severity >= w[1].severity));
    assert_eq!(report.edition, EDITION);
}

#[test]
fn a_corrupt_or_mismatched_source_fails_to_load_with_a_clear_error() {
    let err = InteractionKb::from_sources("{not json", SUBSTANCES_JSON, RXNORM_TSV).expect_err("corrupt");
    assert!(err.to_string().contains("thesaurus"));
    let bad_level = r#"[{"main_drug":"A","plus_drug":"B","severity_levels":[{"level":"PEUT-ETRE","info":""}],"interaction_mechanism":"x"}]"#;
    let err = InteractionKb::from_sources(bad_level, "[]", "substance\tRxNorm\n").expect_err("unknown level");
    assert!(err.to_string().contains("PEUT-ETRE"));
    let err = InteractionKb::from_sources("[]", "[]", "substance\tRxNorm\nno tab here\n").expect_err("bad tsv");
    assert!(err.to_string().contains("rxnorm"));
}

#[test]
fn every_synonym_points_at_a_thesaurus_name_and_aspirine_is_known() {
    assert_eq!(kb().load_report().unknown_synonym_targets, Vec::<String>::new());
    assert!(synonyms().count() >= 30);
    let aspirine = kb().resolve("aspirine").expect("aspirine");
    assert_eq!(fold(&aspirine.name), "acide acetylsalicylique");
    assert_eq!(aspirine.matched_by, MatchedBy::Synonym);
    let report = kb().check(&["warfarine", "aspirine"]);
    assert!(pair_of(&report, "warfarine", "aspirine").is_some(), "warfarine + aspirine interact");
    for class in
        ["IEC", "ACE inhibitors", "sartans", "ARBs", "AINS", "NSAIDs", "pénicillines", "penicillins", "sulfamides"]
    {
        let resolved = kb().resolve(class).unwrap_or_else(|_| panic!("{class}"));
        assert_eq!(resolved.kind, EntityKind::Class, "{class}");
    }
}

/// The figure in models/interactions/COVERAGE.md: how many of 111 commonly prescribed
/// substances resolve, by French and by English name. It may rise, never fall.
#[test]
fn coverage_of_commonly_prescribed_substances() {
    let list = include_str!("../../../../models/interactions/coverage.tsv");
    let rows: Vec<(&str, &str)> = list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("french\t"))
        .filter_map(|l| l.split_once('\t'))
        .collect();
    assert!(rows.len() >= 100);
    let french = rows.iter().filter(|(f, _)| kb().resolve(f).is_ok()).count();
    let english = rows.iter().filter(|(_, e)| kb().resolve(e).is_ok()).count();
    let missing: Vec<&str> = rows.iter().filter(|(f, _)| kb().resolve(f).is_err()).map(|(f, _)| *f).collect();
    let missing_english: Vec<&str> = rows.iter().filter(|(_, e)| kb().resolve(e).is_err()).map(|(_, e)| *e).collect();
    println!(
        "coverage: {french}/{} French, {english}/{} English; unresolved: {missing:?} / {missing_english:?}",
        rows.len(),
        rows.len()
    );
    assert!(french >= COVERAGE_FRENCH && english >= COVERAGE_ENGLISH, "{french} {english} {missing:?}");
}

/// Recorded in models/interactions/COVERAGE.md.
const COVERAGE_FRENCH: usize = 106;
const COVERAGE_ENGLISH: usize = 105;

#[test]
fn pairs_rated_by_dose_say_so() {
    let report = kb().check(&["warfarine", "acide acétylsalicylique", "amlodipine"]);
    let aspirin = pair_of(&report, "warfarine", "acide acétylsalicylique").expect("they interact");
    assert!(aspirin.dose_dependent, "anti-inflammatory, analgesic and antiplatelet doses have their own levels");
    assert_eq!(aspirin.severity, Severity::Contraindicated, "the most severe level, without a dose");
    for pair in report.pairs.iter().filter(|p| p.drug_a == "amlodipine" || p.drug_b == "amlodipine") {
        assert!(!pair.dose_dependent, "{pair:?}");
    }
}
