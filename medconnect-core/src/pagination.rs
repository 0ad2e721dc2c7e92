//! Keyset pagination with cursors that reveal nothing and cannot be forged.
//!
//! A cursor is the sort key of the last row served (so pages neither repeat nor skip rows
//! when rows are inserted between requests), serialised and authenticated with an HMAC
//! that also binds it to the list and the caller it was issued for. A cursor that was
//! altered, made up, or issued to someone else is refused as invalid, before any query
//! runs: a cursor is never a way to ask about a record outside the caller's scope.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};
use crate::keys::{MacKey, SecretKey};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// Bytes of HMAC-SHA256 kept in a cursor: 128 bits, beyond guessing.
const TAG_BYTES: usize = 16;

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
}

/// Signs and checks cursors. `scope` names the list and the caller, for example
/// `medical/<caller>/<patient>`: a cursor only works in the scope it was issued for.
#[derive(Clone)]
pub(crate) struct Cursors {
    key: MacKey,
}

impl Cursors {
    pub fn new(secret: &SecretKey) -> Self {
        Self { key: secret.mac_key("medconnect pagination cursor v1") }
    }

    fn tag(&self, scope: &str, payload: &[u8]) -> [u8; 32] {
        let mut mac = self.key.start();
        mac.update(&u32::try_from(scope.len()).unwrap_or(u32::MAX).to_be_bytes());
        mac.update(scope.as_bytes());
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }

    /// The sort key a request continues after, if it has a cursor.
    pub fn after<K: DeserializeOwned>(&self, scope: &str, request: &PageRequest) -> Result<Option<K>> {
        let Some(cursor) = request.cursor.as_deref() else { return Ok(None) };
        let invalid = || Error::invalid("cursor", "is not a cursor this list gave you");
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        let expected = self.tag(scope, &payload);
        let matches = tag.len() == TAG_BYTES && tag.iter().zip(&expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !matches {
            return Err(invalid());
        }
        serde_json::from_slice(&payload).map(Some).map_err(|_| invalid())
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
    pub fn page<T, K: Serialize>(
        &self,
        scope: &str,
        mut rows: Vec<T>,
        limit: u32,
        key_of: impl Fn(&T) -> K,
    ) -> Page<T> {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().and_then(|last| serde_json::to_vec(&key_of(last)).ok()).map(|payload| {
                let tag = self.tag(scope, &payload);
                format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES]))
            })
        } else {
            None
        };
        Page { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursors() -> Cursors {
        Cursors::new(&SecretKey::random())
    }

    #[test]
    fn cursors_round_trip_in_their_scope() {
        let c = cursors();
        let page = c.page("list/a", vec![1, 2, 3], 2, |n| (*n, "k".to_string()));
        assert_eq!(page.items, vec![1, 2]);
        let req = PageRequest { cursor: page.next_cursor, limit: Some(2) };
        assert_eq!(c.after::<(i32, String)>("list/a", &req).expect("decodes"), Some((2, "k".to_string())));
    }

    #[test]
    fn forged_altered_and_foreign_cursors_are_refused() {
        let c = cursors();
        let page = c.page("list/a", vec![1, 2, 3], 2, |n| *n);
        let cursor = page.next_cursor.expect("cursor");
        let other_scope = PageRequest { cursor: Some(cursor.clone()), limit: None };
        assert!(c.after::<i32>("list/b", &other_scope).is_err(), "issued to another caller or list");
        assert!(cursors().after::<i32>("list/a", &other_scope).is_err(), "signed with another key");
        let (_, tag) = cursor.split_once('.').expect("two parts");
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(b"99"));
        assert!(c.after::<i32>("list/a", &PageRequest { cursor: Some(forged), limit: None }).is_err());
        let bare = URL_SAFE_NO_PAD.encode(b"2");
        assert!(c.after::<i32>("list/a", &PageRequest { cursor: Some(bare), limit: None }).is_err(), "unsigned");
        for garbage in ["", ".", "not-a-cursor!", "a.b.c"] {
            let req = PageRequest { cursor: Some(garbage.into()), limit: None };
            assert!(matches!(c.after::<i32>("list/a", &req), Err(Error::Invalid { .. })), "{garbage}");
        }
    }

    #[test]
    fn limits_are_bounded_and_the_last_page_has_no_cursor() {
        assert!(PageRequest { cursor: None, limit: Some(0) }.limit().is_err());
        assert!(PageRequest { cursor: None, limit: Some(101) }.limit().is_err());
        assert_eq!(cursors().page("s", vec![1, 2], 2, |n| *n).next_cursor, None);
    }
}
