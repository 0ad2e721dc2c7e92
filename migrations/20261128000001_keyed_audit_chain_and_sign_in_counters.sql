-- The audit trail without a global lock: requests append rows that carry an HMAC of
-- their own content (row_mac, keyed outside the database), and a background sealer
-- chains them in batches (chain_pos, chain_hash) into an HMAC chain. Appends no longer
-- take an advisory lock or read the previous hash.

-- Rows written before this migration kept an unkeyed SHA-256 chain; it stays as it was,
-- renamed, and the sealer gives those rows a row MAC and a chain position on first start.
alter table audit_log rename column prev_hash to legacy_prev_hash;
alter table audit_log rename column hash to legacy_hash;
alter table audit_log alter column legacy_prev_hash drop not null;
alter table audit_log alter column legacy_hash drop not null;

-- A random id per row is part of what the row MAC covers, so a copied row is caught as
-- a duplicate rather than accepted as a second access.
alter table audit_log disable trigger audit_log_no_update;
alter table audit_log add column id uuid;
update audit_log set id = gen_random_uuid();
alter table audit_log enable trigger audit_log_no_update;
alter table audit_log alter column id set not null;
alter table audit_log add constraint audit_log_id_key unique (id);

alter table audit_log
    add column row_mac    bytea check (length(row_mac) = 32),
    add column chain_pos  bigint,
    add column chain_hash bytea check (length(chain_hash) = 32),
    add constraint audit_log_row_mac_key unique (row_mac),
    add constraint audit_log_chain_pos_key unique (chain_pos),
    add constraint audit_log_sealed_together check ((chain_pos is null) = (chain_hash is null)),
    add constraint audit_log_mac_or_legacy check (row_mac is not null or legacy_hash is not null),
    add constraint audit_log_sealed_rows_have_a_mac check (chain_pos is null or row_mac is not null);
create index audit_log_unsealed_idx on audit_log (seq) where chain_pos is null;

-- Append-only, except for the sealer's one update per row: setting the chain position and
-- hash (and, for rows older than the keyed chain, the row MAC) of a row not yet sealed.
create or replace function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE'
       and old.chain_pos is null and new.chain_pos is not null
       and (old.row_mac is null or new.row_mac = old.row_mac)
       and (new.seq, new.id, new.at, new.actor_id, new.actor_role, new.action, new.patient_id, new.target_id,
            new.outcome, new.legacy_prev_hash, new.legacy_hash)
           is not distinct from
           (old.seq, old.id, old.at, old.actor_id, old.actor_role, old.action, old.patient_id, old.target_id,
            old.outcome, old.legacy_prev_hash, old.legacy_hash)
    then
        return new;
    end if;
    raise exception 'audit_log is append-only';
end $$;

-- One row per batch the sealer chained: the operator can keep `head` elsewhere, and
-- verification can start from a seal.
create table audit_seals (
    id         bigint generated always as identity primary key,
    sealed_at  timestamptz not null default now(),
    first_pos  bigint not null,
    last_pos   bigint not null,
    head       bytea not null check (length(head) = 32),
    check (last_pos >= first_pos)
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
