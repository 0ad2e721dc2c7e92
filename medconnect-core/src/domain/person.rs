//! Identity and contact fields of people: accounts, patients and doctors.

use chrono::{NaiveDate, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::text::BoundedText;
use crate::error::Error;

/// A given or family name.
pub type PersonName = BoundedText<100>;

/// An e-mail address, trimmed and lower-cased so that uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        let value = raw.trim().to_lowercase();
        if value.len() > 254 {
            return Err(Error::invalid(field, "must be at most 254 characters"));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(Error::invalid(field, "must be an e-mail address like name@example.org"));
        };
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && value.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if !well_formed {
            return Err(Error::invalid(field, "must be an e-mail address like name@example.org"));
        }
        Ok(Self(value))
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy. Held as a secret: it never prints.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 12;
    /// Bounds argon2's work per request.
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, Error> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(Error::invalid("password", format!("must be at least {} characters", Self::MIN_CHARS)));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(Error::invalid("password", format!("must be at most {} bytes", Self::MAX_BYTES)));
        }
        if raw.trim().is_empty() || raw.chars().collect::<std::collections::HashSet<_>>().len() < 5 {
            return Err(Error::invalid("password", "must use at least 5 different characters"));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A telephone number: digits with optional +, spaces, dots, dashes and parentheses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        let value = raw.trim();
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')') || (c == '+' && i == 0));
        if !allowed || !(3..=20).contains(&digits) || value.len() > 32 {
            return Err(Error::invalid(field, "must be a telephone number of 3 to 20 digits"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn parse_opt(field: &'static str, raw: Option<&str>) -> Result<Option<Self>, Error> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => Self::parse(field, v).map(Some),
        }
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A date of birth: not before 1900 and not in the future.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    pub fn parse(field: &'static str, date: NaiveDate) -> Result<Self, Error> {
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid constant date");
        if date < earliest {
            return Err(Error::invalid(field, "must not be before 1900-01-01"));
        }
        if date > Utc::now().date_naive() {
            return Err(Error::invalid(field, "must not be in the future"));
        }
        Ok(Self(date))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

/// Administrative sex, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "female" => Ok(Sex::Female),
            "male" => Ok(Sex::Male),
            "other" => Ok(Sex::Other),
            "unknown" => Ok(Sex::Unknown),
            _ => Err(Error::invalid(field, "must be one of female, male, other, unknown")),
        }
    }
}

/// Who to call for a patient.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmergencyContact {
    pub name: BoundedText<200>,
    pub phone: Phone,
    pub relationship: Option<BoundedText<100>>,
}

/// A doctor's licence number: letters, digits and dashes, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct LicenceNumber(String);

impl LicenceNumber {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Error> {
        let value = raw.trim().to_ascii_uppercase();
        let ok = (3..=40).contains(&value.len()) && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(Error::invalid(field, "must be 3 to 40 letters, digits or dashes"));
        }
        Ok(Self(value))
    }
}

impl AsRef<str> for LicenceNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("email", "  Ada@Example.ORG ").map(|e| e.0).ok(), Some("ada@example.org".into()));
        for bad in ["", "ada", "@example.org", "ada@", "ada@example", "a b@example.org", "ada@@example.org", "ada@.org"]
        {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_follow_the_policy_and_never_print() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("aaaaaaaaaaaaaaaa").is_err());
        assert!(Password::parse(&"x".repeat(2000)).is_err());
        let p = Password::parse("correct horse battery").expect("valid");
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn birth_dates_are_bounded() {
        let future = Utc::now().date_naive() + chrono::Days::new(2);
        assert!(BirthDate::parse("date_of_birth", future).is_err());
        assert!(BirthDate::parse("date_of_birth", NaiveDate::from_ymd_opt(1899, 12, 31).expect("date")).is_err());
        assert!(BirthDate::parse("date_of_birth", NaiveDate::from_ymd_opt(1980, 2, 29).expect("date")).is_ok());
    }

    #[test]
    fn phones_and_licences_are_checked() {
        assert!(Phone::parse("phone", "+33 1 23 45 67 89").is_ok());
        assert!(Phone::parse("phone", "12+34").is_err());
        assert!(Phone::parse("phone", "call me").is_err());
        assert_eq!(LicenceNumber::parse("l", " rpps-123 ").map(|l| l.0).ok(), Some("RPPS-123".into()));
        assert!(LicenceNumber::parse("l", "12 34").is_err());
    }

    #[test]
    fn sex_accepts_known_values_only() {
        assert_eq!(Sex::parse("sex", "Female").ok(), Some(Sex::Female));
        assert!(Sex::parse("sex", "f").is_err());
    }
}
