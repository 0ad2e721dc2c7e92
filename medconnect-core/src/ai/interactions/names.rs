//! Drug-name normalisation, and the English names derived from the French ones.

/// The key a name is matched by: accents folded, lower case, typographic apostrophes
/// straightened, whitespace trimmed and collapsed, and no space around hyphens (the
/// thesaurus spells one class both `gastro-intestinaux` and `gastro- intestinaux`).
/// Characters are decomposed one at a time (combining marks dropped), which is all
/// folding needs and much cheaper than normalising the whole string.
pub fn fold(name: &str) -> String {
    let mut folder = Folder { out: String::with_capacity(name.len()), pending_space: false };
    for c in name.chars() {
        match c {
            c if c.is_ascii() => folder.push(c),
            '’' | '‘' => folder.push('\''),
            'œ' | 'Œ' => {
                folder.push('o');
                folder.push('e');
            }
            c => unicode_normalization::char::decompose_canonical(c, |d| {
                if !unicode_normalization::char::is_combining_mark(d) {
                    folder.push(d);
                }
            }),
        }
    }
    folder.out
}

struct Folder {
    out: String,
    pending_space: bool,
}

impl Folder {
    fn push(&mut self, c: char) {
        if c.is_whitespace() {
            self.pending_space = !self.out.is_empty();
            return;
        }
        let c = if c == '`' { '\'' } else { c };
        if c == '-' || self.out.ends_with('-') {
            self.pending_space = false;
        }
        if self.pending_space {
            self.out.push(' ');
            self.pending_space = false;
        }
        for lower in c.to_lowercase() {
            self.out.push(lower);
        }
    }
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
        assert_eq!(fold("a  -  b"), "a-b");
        assert_eq!(fold("x`y"), "x'y");
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
