//! Shared wire types: dates with a standard OpenAPI format, pagination envelopes.

use std::borrow::Cow;

use chrono::NaiveDate;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type};
use serde_json::Value;

/// A calendar date, `YYYY-MM-DD` (OpenAPI `format: date`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

impl Type for Date {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_date".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

fn parse_date(s: &str) -> ParseResult<Date> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Date)
        .map_err(|_| ParseError::custom("expected a valid date as YYYY-MM-DD"))
}

impl ParseFromJSON for Date {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => parse_date(&s),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ParseFromParameter for Date {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        parse_date(value)
    }
}

impl ToJSON for Date {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.format("%Y-%m-%d").to_string()))
    }
}

/// As `to_json` writes it, for answers serialised by serde (`SerdeJson`).
impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use chrono::Datelike;
        let year = self.0.year();
        if !(0..=9999).contains(&year) {
            return serializer.collect_str(&self.0.format("%Y-%m-%d"));
        }
        let mut text = Digits::<10>::default();
        text.number(year as u32, 4).byte(b'-').number(self.0.month(), 2).byte(b'-').number(self.0.day(), 2);
        serializer.serialize_str(text.as_str())
    }
}

/// A time as poem-openapi writes it (RFC 3339 with `+00:00`; serde's chrono would write
/// `Z`), for answers serialised by serde: `#[serde(serialize_with = "types::rfc3339")]`.
pub fn rfc3339<S: serde::Serializer>(at: &chrono::DateTime<chrono::Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    use chrono::{Datelike, Timelike};
    // The accessors of a `DateTime` each convert it to local time again: read it once.
    let (date, time) = (at.naive_utc().date(), at.naive_utc().time());
    let (year, nanos) = (date.year(), time.nanosecond());
    // Years outside 0–9999 and leap seconds take chrono's own path.
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return serializer.collect_str(&at.to_rfc3339());
    }
    // `2026-11-28T10:00:00.123456789+00:00` at the longest.
    let mut text = Digits::<35>::default();
    text.number(year as u32, 4).byte(b'-').number(date.month(), 2).byte(b'-').number(date.day(), 2);
    text.byte(b'T').number(time.hour(), 2).byte(b':').number(time.minute(), 2).byte(b':').number(time.second(), 2);
    // Fractions as chrono's `SecondsFormat::AutoSi`: none, or 3, 6 or 9 digits.
    match nanos {
        0 => &mut text,
        n if n % 1_000_000 == 0 => text.byte(b'.').number(n / 1_000_000, 3),
        n if n % 1_000 == 0 => text.byte(b'.').number(n / 1_000, 6),
        n => text.byte(b'.').number(n, 9),
    }
    .bytes(b"+00:00");
    serializer.serialize_str(text.as_str())
}

/// Dates and times written as chrono writes them, without its allocation and formatting
/// machinery: a record page has two times an entry, and chrono's path was 6.5 % of such a
/// read's server CPU.
struct Digits<const N: usize> {
    text: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Digits<N> {
    fn default() -> Self {
        Self { text: [0; N], len: 0 }
    }
}

impl<const N: usize> Digits<N> {
    /// `value` in `width` decimal digits, zero-padded.
    fn number(&mut self, value: u32, width: usize) -> &mut Self {
        let mut rest = value;
        for i in (0..width).rev() {
            self.text[self.len + i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        self.len += width;
        self
    }

    fn byte(&mut self, byte: u8) -> &mut Self {
        self.bytes(&[byte])
    }

    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.text[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        self
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.text[..self.len]).unwrap_or_default()
    }
}

/// Builds the core's page request from the `cursor` and `limit` query parameters.
pub fn page_request(cursor: Option<String>, limit: Option<u32>) -> medconnect_core::PageRequest {
    medconnect_core::PageRequest { cursor, limit }
}

/// Declares a paginated envelope object for an item type.
/// `serde` first: the envelope also serialises with serde (as poem-openapi writes it: no
/// `next_cursor` on the last page), for `SerdeJson` answers.
macro_rules! page_of {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, poem_openapi::Object)]
        #[oai(skip_serializing_if_is_none)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            pub next_cursor: Option<String>,
        }

        impl<T: Into<$item>> From<medconnect_core::Page<T>> for $name {
            fn from(page: medconnect_core::Page<T>) -> Self {
                Self { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor }
            }
        }
    };
    (serde $name:ident, $item:ty, $doc:literal) => {
        $crate::api::types::page_of!($name, $item, $doc);

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut page = serializer.serialize_struct(stringify!($name), 2)?;
                page.serialize_field("items", &self.items)?;
                match &self.next_cursor {
                    Some(cursor) => page.serialize_field("next_cursor", cursor)?,
                    None => page.skip_field("next_cursor")?,
                }
                page.end()
            }
        }
    };
}
pub(crate) use page_of;

/// `From` between a core enum and its wire mirror, variant by variant (same names).
macro_rules! enum_from {
    ($from:ident => $to:ident { $($variant:ident),+ $(,)? }) => {
        impl From<$from> for $to {
            fn from(value: $from) -> Self {
                match value {
                    $($from::$variant => $to::$variant),+
                }
            }
        }
    };
}
pub(crate) use enum_from;

/// Declares a string whose spec schema carries a `format` (so that clients and Swagger UI
/// know what it is) but which the core validates, so that a bad value is a 422 naming the
/// field like every other rule, not a parse error.
macro_rules! formatted_string {
    ($(#[$doc:meta])* $name:ident, $type_name:literal, $format:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(pub String);

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                $type_name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", $format)))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value.unwrap_or_default() {
                    Value::String(s) => Ok(Self(s)),
                    other => Err(ParseError::expected_type(other)),
                }
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

formatted_string!(
    /// An e-mail address (`format: email`); the core checks it.
    EmailText,
    "string_email",
    "email"
);

formatted_string!(
    /// A password (`format: password`, so that forms mask it); never returned, never logged.
    PasswordText,
    "string_password",
    "password"
);

impl std::fmt::Debug for EmailText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl AsRef<str> for EmailText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PasswordText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    #[derive(serde::Serialize)]
    struct At(#[serde(serialize_with = "super::rfc3339")] DateTime<Utc>);

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let dates = [
            (1, 1, 1),
            (1960, 1, 1),
            (2024, 2, 29),
            (9999, 12, 31),
            (0, 6, 15),
            (-1, 3, 4),
            (10_000, 1, 1),
            (12_345, 7, 8),
        ];
        for (y, m, d) in dates {
            let date = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
            let written = serde_json::to_string(&super::Date(date)).expect("json");
            assert_eq!(written, format!("\"{}\"", date.format("%Y-%m-%d")), "{date:?}");
        }
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            seed >> 11
        };
        let last_second_of_9999 = 253_402_300_799u64;
        let mut times: Vec<DateTime<Utc>> = (0..20_000)
            .map(|i| {
                let nanos = match i % 4 {
                    0 => 0,
                    1 => (next() % 1000) as u32 * 1_000_000,
                    2 => (next() % 1_000_000) as u32 * 1_000,
                    _ => (next() % 1_000_000_000) as u32,
                };
                Utc.timestamp_opt((next() % last_second_of_9999) as i64, nanos).single().expect("time")
            })
            .collect();
        // chrono's own path: before year 0, after 9999, and a leap second.
        times.push(Utc.with_ymd_and_hms(-1, 12, 31, 23, 59, 59).single().expect("time"));
        times.push(Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).single().expect("time"));
        let leap =
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31).and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000));
        times.push(leap.expect("leap second").and_utc());
        times.push(Utc.timestamp_opt(0, 0).single().expect("epoch"));
        for at in times {
            let written = serde_json::to_string(&At(at)).expect("json");
            assert_eq!(written, format!("\"{}\"", at.to_rfc3339()), "{at:?}");
        }
    }
}
