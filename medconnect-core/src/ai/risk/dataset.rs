//! The three cohorts, vendored under `models/data/` (provenance in `SOURCES.md` there),
//! parsed into features with missing values marked as such.

use crate::error::{Error, Result};

/// A cohort the risk models learn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cohort {
    /// Framingham: 10-year coronary heart disease.
    Framingham,
    /// Pima Indians: diabetes within 5 years.
    Pima,
    /// Heart failure (Chicco & Jurman 2020): death during follow-up.
    HeartFailure,
}

/// Rows of features (None where missing) and binary labels, with the stratified folds.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub features: Vec<String>,
    pub rows: Vec<Vec<Option<f64>>>,
    pub labels: Vec<u8>,
    /// The fold (0–4) of each row in the shared stratified 5-fold split.
    pub folds: Vec<u8>,
}

impl Cohort {
    pub const ALL: [Cohort; 3] = [Cohort::Framingham, Cohort::Pima, Cohort::HeartFailure];

    fn sources(self) -> (&'static str, &'static str) {
        match self {
            Cohort::Framingham => (
                include_str!("../../../../models/data/framingham.csv"),
                include_str!("../../../../models/data/framingham_skf5_seed42.csv"),
            ),
            Cohort::Pima => (
                include_str!("../../../../models/data/pima_diabetes.csv"),
                include_str!("../../../../models/data/pima_skf5_seed42.csv"),
            ),
            Cohort::HeartFailure => (
                include_str!("../../../../models/data/heart_failure.csv"),
                include_str!("../../../../models/data/heart_failure_skf5_seed42.csv"),
            ),
        }
    }

    fn target(self) -> &'static str {
        match self {
            Cohort::Framingham => "TenYearCHD",
            Cohort::Pima => "Outcome",
            Cohort::HeartFailure => "DEATH_EVENT",
        }
    }

    /// Columns never used as features. `time` is the follow-up period of the heart-failure
    /// cohort, known only after the outcome: using it would leak the label.
    fn excluded(self) -> &'static [&'static str] {
        match self {
            Cohort::HeartFailure => &["time"],
            _ => &[],
        }
    }

    /// Columns where 0 means "not measured" (Pima).
    fn zero_is_missing(self) -> &'static [&'static str] {
        match self {
            Cohort::Pima => &["Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI"],
            _ => &[],
        }
    }

    pub fn load(self) -> Result<Dataset> {
        let (data, folds) = self.sources();
        parse(self, data, folds)
    }
}

/// Splits a CSV line, honouring double quotes (`"265,000"`).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn bad(what: &str) -> Error {
    Error::internal(format!("cohort data: {what}"))
}

pub(crate) fn parse(cohort: Cohort, data: &str, folds: &str) -> Result<Dataset> {
    let mut lines = data.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv(lines.next().ok_or_else(|| bad("empty file"))?);
    let target = header.iter().position(|h| h == cohort.target()).ok_or_else(|| bad("no target column"))?;
    let keep: Vec<usize> =
        (0..header.len()).filter(|&i| i != target && !cohort.excluded().contains(&header[i].as_str())).collect();
    let zero_missing: Vec<bool> =
        keep.iter().map(|&i| cohort.zero_is_missing().contains(&header[i].as_str())).collect();
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells = split_csv(line);
        if cells.len() != header.len() {
            return Err(bad(&format!("row {} has {} cells, expected {}", n + 1, cells.len(), header.len())));
        }
        let value = |cell: &str| -> Result<Option<f64>> {
            let cell = cell.trim().replace(',', "");
            if cell.is_empty() || cell == "NA" {
                return Ok(None);
            }
            cell.parse::<f64>().map(Some).map_err(|_| bad(&format!("row {}: not a number", n + 1)))
        };
        let row = keep
            .iter()
            .zip(&zero_missing)
            .map(|(&i, &zero_missing)| Ok(value(&cells[i])?.filter(|v| !(zero_missing && *v == 0.0))))
            .collect::<Result<Vec<_>>>()?;
        let label = match value(&cells[target])? {
            Some(0.0) => 0,
            Some(1.0) => 1,
            _ => return Err(bad(&format!("row {}: the label is not 0 or 1", n + 1))),
        };
        rows.push(row);
        labels.push(label);
    }
    let mut fold_of = vec![u8::MAX; rows.len()];
    for line in folds.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cells = split_csv(line);
        let [row, y, fold] = cells.as_slice() else { return Err(bad("folds: expected row,y,fold")) };
        let (row, y, fold): (usize, u8, u8) = (
            row.parse().map_err(|_| bad("folds: bad row"))?,
            y.parse().map_err(|_| bad("folds: bad y"))?,
            fold.parse().map_err(|_| bad("folds: bad fold"))?,
        );
        if row >= rows.len() || labels[row] != y || fold > 4 {
            return Err(bad(&format!("folds: row {row} does not match the data")));
        }
        fold_of[row] = fold;
    }
    if fold_of.contains(&u8::MAX) {
        return Err(bad("folds: some rows have no fold"));
    }
    let features = keep.iter().map(|&i| header[i].clone()).collect();
    Ok(Dataset { features, rows, labels, folds: fold_of })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cohorts_load_with_their_known_shapes_and_missing_values() {
        let f = Cohort::Framingham.load().expect("framingham");
        assert_eq!((f.rows.len(), f.features.len()), (4240, 15));
        assert!(f.rows.iter().any(|r| r.iter().any(Option::is_none)), "NA strings are missing values");
        let p = Cohort::Pima.load().expect("pima");
        assert_eq!((p.rows.len(), p.features.len()), (768, 8));
        let insulin = p.features.iter().position(|f| f == "Insulin").expect("insulin");
        assert!(p.rows.iter().all(|r| r[insulin] != Some(0.0)), "zero insulin means not measured");
        let h = Cohort::HeartFailure.load().expect("heart failure");
        assert_eq!((h.rows.len(), h.features.len()), (299, 11));
        assert!(!h.features.iter().any(|f| f == "time"), "follow-up time leaks the outcome");
        let platelets = h.features.iter().position(|f| f == "platelets").expect("platelets");
        assert_eq!(h.rows[0][platelets], Some(265_000.0));
    }

    #[test]
    fn mismatched_folds_or_corrupt_rows_are_refused() {
        let (data, _) = Cohort::Pima.sources();
        assert!(parse(Cohort::Pima, data, "row,y,fold\n0,0,1\n").is_err(), "row 0 is labelled 1");
        assert!(parse(Cohort::Pima, "Glucose,Outcome\nabc,1\n", "row,y,fold\n0,1,0\n").is_err());
        assert!(parse(Cohort::Pima, "Glucose,Outcome\n5,3\n", "row,y,fold\n0,1,0\n").is_err());
    }
}
