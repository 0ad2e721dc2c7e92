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
        serializer.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

/// A time as poem-openapi writes it (RFC 3339 with `+00:00`; serde's chrono would write
/// `Z`), for answers serialised by serde: `#[serde(serialize_with = "types::rfc3339")]`.
pub fn rfc3339<S: serde::Serializer>(at: &chrono::DateTime<chrono::Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&at.to_rfc3339())
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
