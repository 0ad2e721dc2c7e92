//! Levels that depend on the dose. The thesaurus rates some pairs by the dose of one drug:
//! acetylsalicylic acid with an oral anticoagulant is contraindicated at anti-inflammatory
//! doses (≥ 1 g per intake or ≥ 3 g a day), to be avoided at analgesic doses or at
//! antiplatelet doses after a gastroduodenal ulcer, and to be taken into account at
//! antiplatelet doses (50 to 375 mg a day). Each level's condition is read into dose bounds;
//! a known dose picks the level, an unknown one leaves the worst level with a note that it
//! depends on the dose.

use super::{Level, Severity};

/// What is known of a dose, in mg.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Dose {
    pub per_intake_mg: Option<f64>,
    pub per_day_mg: Option<f64>,
}

impl Dose {
    /// A daily dose taken once a day.
    pub fn daily(mg: f64) -> Self {
        Self { per_intake_mg: Some(mg), per_day_mg: Some(mg) }
    }

    /// Reads a recorded dose ("75 mg", "1 g", "0,5 g") and frequency ("once daily", "1/j",
    /// "twice a day", "3 fois par jour"…). Without a frequency only the intake is known.
    pub fn parse(dose: &str, frequency: Option<&str>) -> Option<Self> {
        let intake = mg_of(dose)?;
        let per_day = frequency.and_then(times_a_day).map(|n| n * intake);
        Some(Self { per_intake_mg: Some(intake), per_day_mg: per_day })
    }
}

/// "75 mg", "1 g", "0,5 g", "500mg" → mg.
fn mg_of(text: &str) -> Option<f64> {
    let text = text.trim().to_lowercase().replace(',', ".");
    let digits: String = text.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let value: f64 = digits.parse().ok()?;
    let unit = text[digits.len()..].trim_start();
    if unit.starts_with("mg") {
        Some(value)
    } else if unit.starts_with('g') {
        Some(value * 1000.0)
    } else {
        None
    }
}

fn times_a_day(frequency: &str) -> Option<f64> {
    let f = frequency.trim().to_lowercase();
    let words: [(&[&str], f64); 4] = [
        (&["once", "1/j", "1 fois", "qd", "daily", "par jour", "/day", "a day"], 1.0),
        (&["twice", "2/j", "2 fois", "bid", "b.i.d"], 2.0),
        (&["three times", "3/j", "3 fois", "tid", "t.i.d"], 3.0),
        (&["four times", "4/j", "4 fois", "qid", "q.i.d"], 4.0),
    ];
    // The most specific match wins: "twice a day" also contains "a day".
    words.iter().rev().find(|(ws, _)| ws.iter().any(|w| f.contains(w))).map(|(_, n)| *n)
}

/// One alternative of a level's condition (a "- " line of its advice).
#[derive(Debug, Clone, Default, PartialEq)]
struct Alternative {
    /// A daily range, both ends included.
    day_range: Option<(f64, f64)>,
    /// At least this per intake, or (`et/ou`) at least `day_at_least` a day.
    intake_at_least: Option<f64>,
    day_at_least: Option<f64>,
    day_below: Option<f64>,
    /// Some(true): only after a gastroduodenal ulcer; Some(false): only without one.
    ulcer: Option<bool>,
}

fn number_before(text: &str, end: usize) -> Option<(f64, usize)> {
    let head = &text[..end];
    let trimmed = head.trim_end();
    let start = trimmed.rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).map_or(0, |i| i + 1);
    let value: f64 = trimmed[start..].replace(',', ".").parse().ok()?;
    Some((value, start))
}

/// The mg amount written just before `unit_at` (a "mg" or "g" in the text).
fn amount(text: &str, unit_at: usize) -> Option<f64> {
    let (value, _) = number_before(text, unit_at)?;
    Some(if text[unit_at..].starts_with("mg") { value } else { value * 1000.0 })
}

fn alternative(line: &str) -> Option<Alternative> {
    let l = line.to_lowercase().replace('\n', " ").replace("  ", " ");
    let mut alt = Alternative::default();
    let mut dosed = false;
    // "de 50 mg à 375 mg par jour": "<n> mg à <n> mg par jour"
    for (a, _) in l.match_indices(" à ") {
        let before = l[..a].trim_end();
        let Some(u1) = before.strip_suffix("mg").map(|b| b.len()) else { continue };
        let start = a + " à ".len();
        let after = &l[start..];
        let digits = after.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',').count();
        let lead = after.len() - after.trim_start().len();
        let rest = after[lead + digits..].trim_start();
        if digits == 0 || !rest.starts_with("mg") {
            continue;
        }
        let u2 = start + (after.len() - rest.len());
        if let (Some(lo), Some(hi)) = (amount(&l, u1), amount(&l, u2)) {
            if rest.trim_start_matches("mg").trim_start().starts_with("par jour") {
                alt.day_range = Some((lo, hi));
                dosed = true;
            }
        }
    }
    // ">=1g par prise", ">=3g par jour", "<3g par jour"
    for (marker, is_below) in [(">=", false), ("<", true)] {
        let mut from = 0;
        while let Some(i) = l[from..].find(marker).map(|i| from + i) {
            from = i + marker.len();
            if !is_below && l[..i].ends_with('>') || is_below && l[i..].starts_with("<=") {
                continue;
            }
            let rest = &l[from..];
            let digits = rest.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',').count();
            let offset = rest.len() - rest.trim_start().len() + digits;
            let after = rest[offset..].trim_start();
            let unit_at = from + (rest.len() - after.len());
            let Some(mg) = amount(&l, unit_at).filter(|_| after.starts_with("mg") || after.starts_with('g')) else {
                continue;
            };
            let per = after.trim_start_matches("mg").trim_start_matches('g').trim_start();
            dosed = true;
            match (is_below, per.starts_with("par prise"), per.starts_with("par jour")) {
                (false, true, _) => alt.intake_at_least = Some(mg),
                (false, _, true) => alt.day_at_least = Some(mg),
                (true, _, true) => alt.day_below = Some(mg),
                _ => {}
            }
        }
    }
    if l.contains("absence d") && l.contains("ulc") {
        alt.ulcer = Some(false);
    } else if l.contains("antécédent d") && l.contains("ulc") {
        alt.ulcer = Some(true);
    }
    dosed.then_some(alt)
}

/// The dose alternatives of a level, or none when its condition says nothing of doses.
fn alternatives(level: &Level) -> Vec<Alternative> {
    let Some(advice) = level.advice.as_deref() else { return Vec::new() };
    // Alternatives are "- " lines; a line may wrap onto the next.
    let mut lines: Vec<String> = Vec::new();
    for raw in advice.lines() {
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix('-') {
            lines.push(rest.trim().to_owned());
        } else if let Some(last) = lines.last_mut() {
            last.push(' ');
            last.push_str(raw);
        } else {
            lines.push(raw.to_owned());
        }
    }
    lines.iter().filter_map(|l| alternative(l)).collect()
}

/// Whether an alternative holds at this dose: `None` when the dose does not say.
fn holds(alt: &Alternative, dose: Dose, ulcer_history: bool) -> Option<bool> {
    let mut dose_ok = true;
    if let Some((lo, hi)) = alt.day_range {
        let day = dose.per_day_mg?;
        dose_ok &= day >= lo && day <= hi;
    }
    if alt.intake_at_least.is_some() || alt.day_at_least.is_some() {
        // "≥ X par prise et/ou ≥ Y par jour": either is enough.
        let by_intake = alt.intake_at_least.zip(dose.per_intake_mg).map(|(min, v)| v >= min);
        let by_day = alt.day_at_least.zip(dose.per_day_mg).map(|(min, v)| v >= min);
        dose_ok &= match (by_intake, by_day) {
            (Some(true), _) | (_, Some(true)) => true,
            (None, None) => return None,
            _ => false,
        };
    }
    if let Some(below) = alt.day_below {
        if let Some(day) = dose.per_day_mg {
            dose_ok &= day < below;
        }
    }
    let ulcer_ok = alt.ulcer.is_none_or(|needs| needs == ulcer_history);
    Some(dose_ok && ulcer_ok)
}

/// Whether a finding's levels differ by dose.
pub fn depends_on_dose(levels: &[Level]) -> bool {
    levels.len() > 1 && levels.iter().any(|l| !alternatives(l).is_empty())
}

/// The level that applies at this dose: the most severe level one of whose alternatives
/// holds. `None` when the dose does not decide (unknown, or no level's condition matches).
pub fn level_at(levels: &[Level], dose: Dose, ulcer_history: bool) -> Option<&Level> {
    let mut matching: Vec<&Level> = Vec::new();
    for level in levels {
        let alts = alternatives(level);
        if alts.is_empty() {
            continue;
        }
        let mut any = false;
        for alt in &alts {
            match holds(alt, dose, ulcer_history) {
                Some(true) => any = true,
                Some(false) => {}
                None => return None,
            }
        }
        if any {
            matching.push(level);
        }
    }
    matching.into_iter().max_by_key(|l| l.severity)
}

/// The severity of a finding at a dose, with what decided it.
pub fn severity_at(
    levels: &[Level],
    worst: Severity,
    dose: Option<Dose>,
    ulcer_history: bool,
) -> (Severity, Option<String>) {
    if !depends_on_dose(levels) {
        return (worst, None);
    }
    match dose.and_then(|d| level_at(levels, d, ulcer_history).map(|l| (d, l))) {
        Some((d, level)) => {
            let at = match (d.per_day_mg, d.per_intake_mg) {
                (Some(day), _) => format!("{day} mg a day"),
                (None, Some(intake)) => format!("{intake} mg per intake"),
                _ => "this dose".to_owned(),
            };
            (level.severity, Some(format!("at {at} the thesaurus rates it \"{}\"", level.original)))
        }
        None => (worst, Some("the level depends on the dose, which is not recorded: the most severe is shown".into())),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn aspirin_with_anticoagulants() -> Vec<Level> {
        let level = |severity, original: &str, advice: &str| Level {
            severity,
            original: Arc::from(original),
            advice: Some(Arc::from(advice)),
        };
        vec![
            level(
                Severity::Contraindicated,
                "CONTRE-INDICATION",
                "avec :\n- des doses anti-inflammatoires d'acide acétylsalicylique (>=1g par prise \net/ou >=3g par jour)\n- des doses antalgiques ou antipyrétiques (>=500 mg par prise et/ou \n<3g par jour) et en cas d'antécédent d'ulcère gastro-duodénal",
            ),
            level(
                Severity::Avoid,
                "Association DECONSEILLEE",
                "avec :\n- des doses antalgiques ou antipyrétiques (>=500 mg par prise et/ou \n<3g par jour) en l'absence d'antécédent d'ulcère gastro-duodénal\n- des doses antiagrégantes (de 50 mg à 375 mg par jour) et en cas d'antécédent d'ulcère gastro-duodénal",
            ),
            level(
                Severity::Consider,
                "A prendre en compte",
                "avec :\n- des doses antiagrégantes (de 50 mg à 375 mg par jour)",
            ),
        ]
    }

    #[test]
    fn the_dose_picks_the_level_of_aspirin_with_an_anticoagulant() {
        let levels = aspirin_with_anticoagulants();
        assert!(depends_on_dose(&levels));
        let at = |dose: Dose, ulcer: bool| level_at(&levels, dose, ulcer).map(|l| l.severity);
        assert_eq!(at(Dose::daily(75.0), false), Some(Severity::Consider), "antiplatelet dose");
        assert_eq!(at(Dose::daily(75.0), true), Some(Severity::Avoid), "antiplatelet dose after an ulcer");
        let analgesic = Dose { per_intake_mg: Some(500.0), per_day_mg: Some(1500.0) };
        assert_eq!(at(analgesic, false), Some(Severity::Avoid));
        assert_eq!(at(analgesic, true), Some(Severity::Contraindicated));
        assert_eq!(at(Dose::daily(3000.0), false), Some(Severity::Contraindicated), "anti-inflammatory dose");
        let unknown = severity_at(&levels, Severity::Contraindicated, None, false);
        assert_eq!(unknown.0, Severity::Contraindicated);
        assert!(unknown.1.is_some_and(|n| n.contains("depends on the dose")));
        let (severity, why) = severity_at(&levels, Severity::Contraindicated, Some(Dose::daily(75.0)), false);
        assert_eq!(severity, Severity::Consider);
        assert!(why.is_some_and(|w| w.contains("75 mg a day")));
    }

    #[test]
    fn recorded_doses_are_read_with_their_frequency() {
        assert_eq!(Dose::parse("75 mg", Some("once daily")), Some(Dose::daily(75.0)));
        assert_eq!(Dose::parse("1 g", Some("3 fois par jour")).and_then(|d| d.per_day_mg), Some(3000.0));
        assert_eq!(Dose::parse("0,5 g", Some("twice a day")).and_then(|d| d.per_day_mg), Some(1000.0));
        assert_eq!(Dose::parse("500mg", None), Some(Dose { per_intake_mg: Some(500.0), per_day_mg: None }));
        assert_eq!(Dose::parse("1 tablet", Some("daily")), None);
    }
}
