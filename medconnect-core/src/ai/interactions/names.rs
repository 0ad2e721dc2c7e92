//! Drug-name normalisation, and the English names derived from the French ones.

use unicode_normalization::UnicodeNormalization;

/// The key a name is matched by: accents folded, lower case, typographic apostrophes
/// straightened, whitespace trimmed and collapsed, and no space around hyphens (the
/// thesaurus spells one class both `gastro-intestinaux` and `gastro- intestinaux`).
pub fn fold(name: &str) -> String {
    if name.is_ascii() {
        return fold_ascii(name);
    }
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)) {
        let c = match c {
            '’' | '‘' | '`' => '\'',
            'œ' | 'Œ' => {
                push(&mut out, &mut pending_space, 'o');
                'e'
            }
            c => c,
        };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c == '-' {
            pending_space = false;
        } else if out.ends_with('-') {
            pending_space = false;
        }
        for lower in c.to_lowercase() {
            push(&mut out, &mut pending_space, lower);
        }
    }
    out
}

/// The same as `fold` for ASCII input, without Unicode decomposition (most lookups).
fn fold_ascii(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for b in name.bytes() {
        let c = match b {
            b'`' => '\'',
            b if b.is_ascii_whitespace() => {
                pending_space = !out.is_empty();
                continue;
            }
            b => char::from(b.to_ascii_lowercase()),
        };
        if c == '-' || out.ends_with('-') {
            pending_space = false;
        }
        push(&mut out, &mut pending_space, c);
    }
    out
}

fn push(out: &mut String, pending_space: &mut bool, c: char) {
    if *pending_space {
        out.push(' ');
        *pending_space = false;
    }
    out.push(c);
}

/// English INN spellings derivable from a folded French INN:
/// - French adds a final `e` to many INNs: `warfarine` → `warfarin`, `ibuprofene` → `ibuprofen`;
/// - `acide …ique` → `…ic acid`: `acide valproique` → `valproic acid`.
///
/// Candidates that are also another substance's French key are dropped by the caller.
pub fn english_candidates(folded_french: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(stem) = folded_french.strip_suffix('e') {
        if stem.len() >= 4 && !stem.ends_with(' ') && stem.chars().last().is_some_and(|c| c.is_ascii_alphabetic()) {
            out.push(stem.to_owned());
        }
    }
    if let Some(rest) = folded_french.strip_prefix("acide ") {
        let (first, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        if let Some(stem) = first.strip_suffix("ique") {
            out.push(if tail.is_empty() { format!("{stem}ic acid") } else { format!("{stem}ic acid {tail}") });
        }
    }
    out
}

/// English names that no rule derives (USAN names, common names), mapped to the
/// thesaurus's French names. Only names the data contains are loaded.
pub const ENGLISH_ALIASES: &[(&str, &str)] = &[
    ("aspirin", "acide acétylsalicylique"),
    ("acetaminophen", "paracétamol"),
    ("epinephrine", "adrénaline"),
    ("adrenaline", "adrénaline"),
    ("norepinephrine", "noradrénaline"),
    ("noradrenaline", "noradrénaline"),
    ("rifampin", "rifampicine"),
    ("cyclosporine", "ciclosporine"),
    ("cyclosporin", "ciclosporine"),
    ("valproate", "acide valproïque"),
    ("st john's wort", "millepertuis"),
    ("st. john's wort", "millepertuis"),
    ("grapefruit", "pamplemousse (jus et fruit)"),
    ("grapefruit juice", "pamplemousse (jus et fruit)"),
    ("alcohol", "alcool (boisson ou excipient)"),
    ("ethanol", "alcool (boisson ou excipient)"),
    ("iron", "fer"),
    ("nsaids", "anti-inflammatoires non stéroïdiens"),
    ("nsaid", "anti-inflammatoires non stéroïdiens"),
    ("oral anticoagulants", "anticoagulants oraux"),
    ("vitamin k antagonists", "antivitamines k"),
    ("statins", "inhibiteurs de l'hmg-coenzyme a réductase"),
    ("live attenuated vaccines", "vaccins vivants atténués"),
    ("glyceryl trinitrate", "trinitrine"),
    ("nitroglycerin", "trinitrine"),
    ("salbutamol", "salbutamol"),
    ("albuterol", "salbutamol"),
    ("amphetamine", "amfétamine"),
    ("meperidine", "péthidine"),
    ("pethidine", "péthidine"),
    ("furosemide", "furosémide"),
    ("hydrochlorothiazide", "hydrochlorothiazide"),
    ("levothyroxine", "lévothyroxine"),
    ("colestyramine", "colestyramine"),
    ("cholestyramine", "colestyramine"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_spacing() {
        assert_eq!(fold("  IBUPROFÈNE "), "ibuprofene");
        assert_eq!(fold("Acide   Acétylsalicylique"), "acide acetylsalicylique");
        assert_eq!(fold("topiques gastro- intestinaux"), "topiques gastro-intestinaux");
        assert_eq!(fold("angio-Œdème"), "angio-oedeme");
        assert_eq!(fold("médicaments à l’origine"), "medicaments a l'origine");
    }

    #[test]
    fn the_ascii_fast_path_agrees_with_the_general_one() {
        for name in
            ["  Warfarin  ", "gastro- intestinaux", "a  -  b", "ACIDE  VALPROIQUE", "x`y", "co-trimoxazole", "- lead"]
        {
            let general: String = {
                // Force the general path by adding then removing a non-ASCII character.
                let folded = fold(&format!("{name}é"));
                folded.strip_suffix('e').unwrap_or(&folded).trim_end().to_owned()
            };
            assert_eq!(fold(name), general, "{name:?}");
        }
    }

    #[test]
    fn english_names_are_derived_from_french_inns() {
        assert!(english_candidates("warfarine").contains(&"warfarin".to_owned()));
        assert!(english_candidates("ibuprofene").contains(&"ibuprofen".to_owned()));
        assert!(english_candidates("acide valproique").contains(&"valproic acid".to_owned()));
        assert!(english_candidates("acide acetylsalicylique").contains(&"acetylsalicylic acid".to_owned()));
        assert!(english_candidates("fer").is_empty());
    }
}
