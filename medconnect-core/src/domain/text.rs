//! Free text with bounds: trimmed, never empty, no control characters.

use crate::error::Error;

/// Trimmed text of 1..=MAX characters with no control characters (newlines and tabs are
/// allowed only where `MULTILINE`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct BoundedText<const MAX: usize, const MULTILINE: bool = false>(String);

impl<const MAX: usize, const MULTILINE: bool> BoundedText<MAX, MULTILINE> {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(Error::invalid(field, "must not be empty"));
        }
        if value.chars().count() > MAX {
            return Err(Error::invalid(field, format!("must be at most {MAX} characters")));
        }
        let allowed = |c: char| !c.is_control() || (MULTILINE && (c == '\n' || c == '\t' || c == '\r'));
        if !value.chars().all(allowed) {
            return Err(Error::invalid(field, "must not contain control characters"));
        }
        Ok(Self(value.to_owned()))
    }

    /// Parses an optional field: absent or blank means `None`.
    pub fn parse_opt(field: &'static str, raw: Option<&str>) -> Result<Option<Self>, Error> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => Self::parse(field, v).map(Some),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<const MAX: usize, const MULTILINE: bool> AsRef<str> for BoundedText<MAX, MULTILINE> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(BoundedText::<5>::parse("f", "  abc ").map(|t| t.into_inner()).ok(), Some("abc".into()));
        assert!(BoundedText::<5>::parse("f", "   ").is_err());
        assert!(BoundedText::<5>::parse("f", "abcdef").is_err());
        assert!(BoundedText::<50>::parse("f", "a\u{0}b").is_err());
        assert!(BoundedText::<50>::parse("f", "a\nb").is_err());
        assert!(BoundedText::<50, true>::parse("f", "a\nb").is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(BoundedText::<3>::parse("f", "éèà").is_ok());
    }
}
