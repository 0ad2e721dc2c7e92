-- The audit trail without a global lock. Requests append rows that carry an HMAC of their
-- own content (row_mac, keyed outside the database) and the id of the transaction that
-- inserted them (txid); they take no lock and read no other row. A background sealer
-- chains the rows in batches into an HMAC chain, in (txid, seq) order: once a txid is
-- below the snapshot horizon its transaction has ended, so no row can ever join that part
-- of the order later. Each batch is recorded as one seal; audit rows are never updated.

-- Rows written before this migration kept an unkeyed SHA-256 chain; it stays as it was,
-- renamed. Those rows sort first (txid 0) and are chained on the sealer's first pass.
alter table audit_log rename column prev_hash to legacy_prev_hash;
alter table audit_log rename column hash to legacy_hash;
alter table audit_log alter column legacy_prev_hash drop not null;
alter table audit_log alter column legacy_hash drop not null;
alter table audit_log drop constraint audit_log_hash_key;

-- A random id per row is part of what the row MAC covers, so a copied row is a duplicate.
alter table audit_log disable trigger audit_log_no_update;
alter table audit_log add column id uuid, add column txid bigint;
update audit_log set id = gen_random_uuid(), txid = 0;
alter table audit_log enable trigger audit_log_no_update;
alter table audit_log
    alter column id set not null,
    alter column txid set not null,
    alter column txid set default (pg_current_xact_id()::text::bigint),
    add constraint audit_log_id_key unique (id),
    add column row_mac bytea check (length(row_mac) = 32),
    add constraint audit_log_mac_or_legacy check (row_mac is not null or legacy_hash is not null);
create index audit_log_chain_order_idx on audit_log (txid, seq);

-- One row per batch the sealer chained: the batch ends at (last_txid, last_seq) and starts
-- after the previous seal's end. `head` is the chain hash after its last row; the sealer logs
-- it, so the operator can keep it outside the database and detect a cut tail later.
create table audit_seals (
    id         bigint generated always as identity primary key,
    sealed_at  timestamptz not null default now(),
    last_txid  bigint not null,
    last_seq   bigint not null,
    rows       bigint not null check (rows > 0),
    head       bytea not null check (length(head) = 32)
);

-- Sign-in throttling: counters per keyed hash of (e-mail, client address), of the client
-- address alone, and of sign-ups per address, each in a fixed window. One upsert both
-- counts and checks, so parallel guesses cannot pass the limit.
drop table login_failures;
create table sign_in_counters (
    key          bytea primary key check (length(key) = 32),
    window_start timestamptz not null,
    attempts     integer not null check (attempts >= 0)
);
create index sign_in_counters_window_idx on sign_in_counters (window_start);
