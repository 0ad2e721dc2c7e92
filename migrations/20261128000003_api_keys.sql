-- API keys: how a system (a hospital integration, a Python service) acts as an account
-- without a password. Issued by an administrator, shown once, stored as SHA-256 (a key
-- is 256 random bits: no slow hash is needed), revocable, optionally expiring.
create table api_keys (
    id         uuid primary key,
    user_id    uuid not null references users (id) on delete cascade,
    name       text not null check (length(name) between 1 and 100),
    key_hash   bytea not null unique check (length(key_hash) = 32),
    created_by uuid references users (id),
    created_at timestamptz not null,
    expires_at timestamptz check (expires_at is null or expires_at > created_at),
    revoked_at timestamptz,
    revoked_by uuid references users (id)
);
create index api_keys_user_idx on api_keys (user_id, created_at, id);
