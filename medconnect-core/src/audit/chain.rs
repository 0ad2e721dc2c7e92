//! The two HMACs of the audit trail, both keyed with keys derived from the audit key,
//! which lives outside the database:
//!
//! - the **row MAC** covers one row's content and its random id; it is computed when the
//!   row is appended, so a row forged or edited by someone who can write the table but
//!   does not hold the key is caught even before it is sealed;
//! - the **chain hash** after a row is HMAC(previous chain hash ‖ the row's place in the
//!   chain order (txid, seq) ‖ row MAC), so a sealed row that is deleted, inserted or moved
//!   changes every later hash, and the head of the seal that covers it no longer matches.
//!
//! Fields are length-prefixed, so no two different rows encode to the same bytes.

use chrono::{DateTime, Utc};
use hmac::Mac;
use uuid::Uuid;

use crate::keys::{MacKey, SecretKey};

/// The chain hash before the first row.
pub const GENESIS: [u8; 32] = [0; 32];

/// The content of one audit row, as the row MAC covers it.
#[derive(Debug, Clone, Copy)]
pub struct RowContent<'a> {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<&'a str>,
    pub action: &'a str,
    pub patient_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub outcome: &'a str,
}

/// The keys of the two MACs, derived from the configured audit key.
#[derive(Clone)]
pub struct ChainKeys {
    row: MacKey,
    chain: MacKey,
}

impl ChainKeys {
    pub fn new(audit_key: &SecretKey) -> Self {
        Self {
            row: audit_key.mac_key("medconnect audit row v1"),
            chain: audit_key.mac_key("medconnect audit chain v1"),
        }
    }

    pub fn row_mac(&self, row: &RowContent<'_>) -> [u8; 32] {
        let mut mac = self.row.start();
        mac.update(row.id.as_bytes());
        mac.update(&row.at.timestamp_micros().to_be_bytes());
        optional_id(&mut mac, row.actor_id);
        match row.actor_role {
            None => mac.update(&[0]),
            Some(role) => {
                mac.update(&[1]);
                text(&mut mac, role);
            }
        }
        text(&mut mac, row.action);
        optional_id(&mut mac, row.patient_id);
        optional_id(&mut mac, row.target_id);
        text(&mut mac, row.outcome);
        mac.finalize().into_bytes().into()
    }

    pub fn link(&self, prev: &[u8], (txid, seq): (i64, i64), row_mac: &[u8]) -> [u8; 32] {
        let mut mac = self.chain.start();
        mac.update(prev);
        mac.update(&txid.to_be_bytes());
        mac.update(&seq.to_be_bytes());
        mac.update(row_mac);
        mac.finalize().into_bytes().into()
    }
}

fn optional_id(mac: &mut crate::keys::HmacSha256, id: Option<Uuid>) {
    match id {
        None => mac.update(&[0]),
        Some(id) => {
            mac.update(&[1]);
            mac.update(id.as_bytes());
        }
    }
}

fn text(mac: &mut crate::keys::HmacSha256, s: &str) {
    mac.update(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
    mac.update(s.as_bytes());
}

/// Compares MACs without an early exit.
pub fn same_mac(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> RowContent<'static> {
        RowContent {
            id: Uuid::from_u128(7),
            at: DateTime::from_timestamp_micros(1_764_000_000_123_456).expect("time"),
            actor_id: Some(Uuid::from_u128(1)),
            actor_role: Some("doctor"),
            action: "medical.read",
            patient_id: Some(Uuid::from_u128(2)),
            target_id: None,
            outcome: "ok",
        }
    }

    #[test]
    fn every_field_is_covered_by_the_row_mac() {
        let keys = ChainKeys::new(&SecretKey::random());
        let base = keys.row_mac(&row());
        let changed = [
            RowContent { id: Uuid::from_u128(8), ..row() },
            RowContent { at: row().at + chrono::Duration::microseconds(1), ..row() },
            RowContent { actor_id: None, ..row() },
            RowContent { actor_role: Some("admin"), ..row() },
            RowContent { actor_role: None, ..row() },
            RowContent { action: "medical.create", ..row() },
            RowContent { patient_id: Some(Uuid::from_u128(3)), ..row() },
            RowContent { target_id: Some(Uuid::from_u128(2)), ..row() },
            RowContent { patient_id: None, target_id: Some(Uuid::from_u128(2)), ..row() },
            RowContent { outcome: "denied", ..row() },
        ];
        for c in changed {
            assert_ne!(keys.row_mac(&c), base, "{c:?}");
        }
        assert_eq!(keys.row_mac(&row()), base);
    }

    #[test]
    fn another_key_gives_other_macs_and_links() {
        let (a, b) = (ChainKeys::new(&SecretKey::random()), ChainKeys::new(&SecretKey::random()));
        assert_ne!(a.row_mac(&row()), b.row_mac(&row()));
        let mac = a.row_mac(&row());
        assert_ne!(a.link(&GENESIS, (5, 1), &mac), b.link(&GENESIS, (5, 1), &mac));
        assert_ne!(a.link(&GENESIS, (5, 1), &mac), a.link(&GENESIS, (5, 2), &mac), "the place is linked");
        assert_ne!(a.link(&GENESIS, (5, 1), &mac), a.link(&GENESIS, (6, 1), &mac), "the place is linked");
    }
}
