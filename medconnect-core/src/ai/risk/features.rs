//! Where each model feature comes from in a patient's record: written once, used by the
//! model cards and by feature extraction.

/// How a feature is read from the record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// Whole years since the date of birth.
    Age,
    /// 1 for male, 0 for female.
    MaleSex,
    /// The latest value of one of these LOINC codes, in `unit` (other units converted by
    /// the factor given, or refused).
    Observation { codes: &'static [&'static str], unit: &'static str, conversions: &'static [(&'static str, f64)] },
    /// 1 when an active diagnosis starts with one of these ICD-10 prefixes, else 0.
    Diagnosis { prefixes: &'static [&'static str] },
    /// 1 when an active medication belongs to this class of the interaction thesaurus, else 0.
    MedicationClass { class: &'static str },
    /// Not recorded in MedConnect: given in the request, or imputed.
    NotRecorded,
}

/// One model feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feature {
    /// The cohort's column name.
    pub column: &'static str,
    pub description: &'static str,
    pub unit: &'static str,
    pub source: Source,
    /// A missing required input is an error naming it; a missing optional one is imputed.
    pub required: bool,
}

/// The values one input may take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bounds {
    /// 0 or 1.
    Flag,
    /// A number in `[min, max]` (a whole one when `whole`), with where the range comes from.
    Range { min: f64, max: f64, whole: bool, source: &'static str },
}

impl Feature {
    /// The values this input may take, given or read from the record: recorded codes use
    /// the one plausibility table (`domain::plausible_range`), the same that checks entries
    /// when they are written; flags are 0 or 1; the few inputs that are not recorded are
    /// bounded here.
    pub fn bounds(&self) -> Bounds {
        if self.unit == "0/1" {
            return Bounds::Flag;
        }
        match (self.source, self.column) {
            (Source::Age, _) => Bounds::Range { min: 0.0, max: 120.0, whole: false, source: "age in years: 0 to 120" },
            (Source::Observation { codes, unit, .. }, _) => match crate::domain::plausible_range(codes[0], unit) {
                Some((min, max)) => {
                    Bounds::Range { min, max, whole: unit == "{#}", source: crate::domain::PLAUSIBLE_RANGE_SOURCE }
                }
                None => Bounds::Range { min: f64::MIN, max: f64::MAX, whole: false, source: "unbounded" },
            },
            (_, "education") => Bounds::Range {
                min: 1.0,
                max: 4.0,
                whole: true,
                source: "Framingham cohort coding: 1 some high school to 4 college",
            },
            (_, "DiabetesPedigreeFunction") => Bounds::Range {
                min: 0.0,
                max: 3.0,
                whole: false,
                source: "Pima cohort: a family-history score, 0.078 to 2.42 in the cohort",
            },
            _ => Bounds::Range { min: f64::MIN, max: f64::MAX, whole: false, source: "unbounded" },
        }
    }

    /// Why `value` is not a value of this input, or `None` when it is.
    pub fn refuses(&self, value: f64) -> Option<String> {
        if !value.is_finite() {
            return Some("must be a finite number".to_owned());
        }
        match self.bounds() {
            Bounds::Flag if value == 0.0 || value == 1.0 => None,
            Bounds::Flag => Some(format!("{value} is not 0 or 1: {} is a yes/no input", self.description)),
            Bounds::Range { min, max, whole, source } => {
                if whole && value.fract() != 0.0 {
                    Some(format!("{value} is not a whole number"))
                } else if value < min || value > max {
                    let unit = self.unit;
                    Some(format!("{value} is outside the plausible range {min} to {max} {unit} ({source})"))
                } else {
                    None
                }
            }
        }
    }
}

const fn obs(
    codes: &'static [&'static str],
    unit: &'static str,
    conversions: &'static [(&'static str, f64)],
) -> Source {
    Source::Observation { codes, unit, conversions }
}

const HYPERTENSION: &[&str] = &["I10", "I11", "I12", "I13", "I15"];
const DIABETES: &[&str] = &["E10", "E11", "E13", "E14"];

/// The same flag in the Framingham and heart-failure cohorts.
const DIABETES_FLAG: Feature = Feature {
    column: "diabetes",
    description: "diabetes",
    unit: "0/1",
    source: Source::Diagnosis { prefixes: DIABETES },
    required: false,
};

/// Framingham, 10-year coronary heart disease.
pub const CARDIOVASCULAR: &[Feature] = &[
    Feature { column: "male", description: "male sex", unit: "0/1", source: Source::MaleSex, required: true },
    Feature { column: "age", description: "age", unit: "years", source: Source::Age, required: true },
    Feature {
        column: "education",
        description: "education level (1–4)",
        unit: "level",
        source: Source::NotRecorded,
        required: false,
    },
    Feature {
        column: "currentSmoker",
        description: "current smoker",
        unit: "0/1",
        source: Source::NotRecorded,
        required: false,
    },
    Feature {
        column: "cigsPerDay",
        description: "cigarettes per day",
        unit: "/d",
        source: obs(&["64218-1"], "/d", &[]),
        required: false,
    },
    Feature {
        column: "BPMeds",
        description: "on blood-pressure medication",
        unit: "0/1",
        source: Source::MedicationClass { class: "antihypertenseurs sauf alpha-bloquants" },
        required: false,
    },
    Feature {
        column: "prevalentStroke",
        description: "prior stroke",
        unit: "0/1",
        source: Source::Diagnosis { prefixes: &["I60", "I61", "I63", "I64"] },
        required: false,
    },
    Feature {
        column: "prevalentHyp",
        description: "hypertension",
        unit: "0/1",
        source: Source::Diagnosis { prefixes: HYPERTENSION },
        required: false,
    },
    DIABETES_FLAG,
    Feature {
        column: "totChol",
        description: "total cholesterol",
        unit: "mg/dL",
        source: obs(&["2093-3"], "mg/dL", &[("mmol/L", 38.67)]),
        required: false,
    },
    Feature {
        column: "sysBP",
        description: "systolic blood pressure",
        unit: "mm[Hg]",
        source: obs(&["8480-6"], "mm[Hg]", &[]),
        required: true,
    },
    Feature {
        column: "diaBP",
        description: "diastolic blood pressure",
        unit: "mm[Hg]",
        source: obs(&["8462-4"], "mm[Hg]", &[]),
        required: false,
    },
    Feature {
        column: "BMI",
        description: "body mass index",
        unit: "kg/m2",
        source: obs(&["39156-5"], "kg/m2", &[]),
        required: false,
    },
    Feature {
        column: "heartRate",
        description: "heart rate",
        unit: "/min",
        source: obs(&["8867-4"], "/min", &[]),
        required: false,
    },
    Feature {
        column: "glucose",
        description: "blood glucose",
        unit: "mg/dL",
        source: obs(&["2339-0", "2345-7"], "mg/dL", &[("mmol/L", 18.016)]),
        required: false,
    },
];

/// Pima, diabetes within 5 years.
pub const DIABETES_RISK: &[Feature] = &[
    Feature {
        column: "Pregnancies",
        description: "number of pregnancies",
        unit: "count",
        source: obs(&["11996-6"], "{#}", &[]),
        required: false,
    },
    Feature {
        column: "Glucose",
        description: "plasma glucose (2 h oral glucose tolerance test)",
        unit: "mg/dL",
        source: obs(&["20438-8", "2345-7", "2339-0"], "mg/dL", &[("mmol/L", 18.016)]),
        required: true,
    },
    Feature {
        column: "BloodPressure",
        description: "diastolic blood pressure",
        unit: "mm[Hg]",
        source: obs(&["8462-4"], "mm[Hg]", &[]),
        required: false,
    },
    Feature {
        column: "SkinThickness",
        description: "triceps skinfold thickness",
        unit: "mm",
        source: obs(&["39107-0"], "mm", &[]),
        required: false,
    },
    Feature {
        column: "Insulin",
        description: "2 h serum insulin",
        unit: "u[IU]/mL",
        source: obs(&["20448-7"], "u[IU]/mL", &[("pmol/L", 1.0 / 6.0)]),
        required: false,
    },
    Feature {
        column: "BMI",
        description: "body mass index",
        unit: "kg/m2",
        source: obs(&["39156-5"], "kg/m2", &[]),
        required: true,
    },
    Feature {
        column: "DiabetesPedigreeFunction",
        description: "diabetes pedigree function",
        unit: "score",
        source: Source::NotRecorded,
        required: false,
    },
    Feature { column: "Age", description: "age", unit: "years", source: Source::Age, required: true },
];

/// Heart failure (Chicco & Jurman 2020), death during follow-up; follow-up time excluded.
pub const HEART_FAILURE: &[Feature] = &[
    Feature { column: "age", description: "age", unit: "years", source: Source::Age, required: true },
    Feature {
        column: "anaemia",
        description: "anaemia",
        unit: "0/1",
        source: Source::Diagnosis { prefixes: &["D50", "D51", "D52", "D53", "D55", "D58", "D59", "D61", "D63", "D64"] },
        required: false,
    },
    Feature {
        column: "creatinine_phosphokinase",
        description: "creatine phosphokinase",
        unit: "U/L",
        source: obs(&["2157-6"], "U/L", &[]),
        required: false,
    },
    DIABETES_FLAG,
    Feature {
        column: "ejection_fraction",
        description: "left ventricular ejection fraction",
        unit: "%",
        source: obs(&["10230-1"], "%", &[]),
        required: true,
    },
    Feature {
        column: "high_blood_pressure",
        description: "hypertension",
        unit: "0/1",
        source: Source::Diagnosis { prefixes: HYPERTENSION },
        required: false,
    },
    Feature {
        column: "platelets",
        description: "platelets",
        unit: "/uL",
        source: obs(&["777-3"], "/uL", &[("10*3/uL", 1000.0)]),
        required: false,
    },
    Feature {
        column: "serum_creatinine",
        description: "serum creatinine",
        unit: "mg/dL",
        source: obs(&["2160-0"], "mg/dL", &[("umol/L", 1.0 / 88.4)]),
        required: true,
    },
    Feature {
        column: "serum_sodium",
        description: "serum sodium",
        unit: "mmol/L",
        source: obs(&["2951-2"], "mmol/L", &[]),
        required: false,
    },
    Feature { column: "sex", description: "male sex", unit: "0/1", source: Source::MaleSex, required: false },
    Feature { column: "smoking", description: "smoker", unit: "0/1", source: Source::NotRecorded, required: false },
];
