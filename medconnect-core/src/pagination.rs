//! Keyset pagination: the cursor is the sort key of the last row served, so pages
//! neither repeat nor skip rows when rows are inserted between requests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// One page of results and the cursor to the next, if there are more.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Where a page starts and how long it is, as the caller asked.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl PageRequest {
    pub fn limit(&self) -> Result<u32> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(Error::invalid("limit", format!("must be between 1 and {MAX_LIMIT}"))),
        }
    }

    pub fn key<K: DeserializeOwned>(&self) -> Result<Option<K>> {
        self.cursor.as_deref().map(decode).transpose()
    }
}

fn decode<K: DeserializeOwned>(cursor: &str) -> Result<K> {
    let invalid = || Error::invalid("cursor", "is not a cursor returned by this endpoint");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
pub fn page_from<T, K: Serialize>(mut rows: Vec<T>, limit: u32, key_of: impl Fn(&T) -> K) -> Page<T> {
    let limit = limit as usize;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&key_of(last)).unwrap_or_default()))
    } else {
        None
    };
    Page { items: rows, next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let page = page_from(vec![1, 2, 3], 2, |n| (*n, "k".to_string()));
        assert_eq!(page.items, vec![1, 2]);
        let req = PageRequest { cursor: page.next_cursor, limit: Some(2) };
        assert_eq!(req.key::<(i32, String)>().expect("decodes"), Some((2, "k".to_string())));
        let bad = PageRequest { cursor: Some("not-a-cursor!".into()), limit: None };
        assert!(bad.key::<(i32, String)>().is_err());
        assert!(PageRequest { cursor: None, limit: Some(0) }.limit().is_err());
        assert!(PageRequest { cursor: None, limit: Some(101) }.limit().is_err());
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        assert_eq!(page_from(vec![1, 2], 2, |n| *n).next_cursor, None);
    }
}
