-- MedConnect initial schema: accounts, registries, medical entries, care, sessions, audit.

create table users (
    id            uuid primary key,
    email         text not null check (email = lower(email) and length(email) between 3 and 254),
    password_hash text not null check (password_hash like '$argon2id$%'),
    role          text not null check (role in ('admin', 'doctor', 'patient')),
    active        boolean not null default true,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
-- Case-insensitive uniqueness even if a writer forgets to lower-case.
create unique index users_email_key on users (lower(email));

-- A doctor is always an account: the doctor's id is the user's id.
create table doctors (
    id             uuid primary key references users (id) on delete restrict,
    given_name     text not null check (length(given_name) between 1 and 100),
    family_name    text not null check (length(family_name) between 1 and 100),
    specialty      text not null check (length(specialty) between 1 and 100),
    licence_number text not null check (length(licence_number) between 3 and 40),
    phone          text check (length(phone) <= 32),
    contact_email  text check (length(contact_email) <= 254),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);
create unique index doctors_licence_number_key on doctors (upper(licence_number));
create index doctors_specialty_idx on doctors (lower(specialty), family_name, given_name, id);

-- A patient may exist without an account (registered by staff, never signs in).
create table patients (
    id                       uuid primary key,
    user_id                  uuid unique references users (id) on delete restrict,
    given_name               text not null check (length(given_name) between 1 and 100),
    family_name              text not null check (length(family_name) between 1 and 100),
    date_of_birth            date not null check (date_of_birth >= date '1900-01-01'),
    sex                      text not null check (sex in ('female', 'male', 'other', 'unknown')),
    phone                    text check (length(phone) <= 32),
    address                  text check (length(address) <= 500),
    emergency_contact_name   text check (length(emergency_contact_name) between 1 and 200),
    emergency_contact_phone  text check (length(emergency_contact_phone) <= 32),
    emergency_contact_relationship text check (length(emergency_contact_relationship) <= 100),
    created_by               uuid references users (id),
    created_at               timestamptz not null default now(),
    updated_at               timestamptz not null default now(),
    check ((emergency_contact_name is null) = (emergency_contact_phone is null))
);
create index patients_name_idx on patients (lower(family_name), lower(given_name), id);

create table care_relationships (
    id         uuid primary key,
    doctor_id  uuid not null references doctors (id) on delete restrict,
    patient_id uuid not null references patients (id) on delete restrict,
    granted_by uuid not null references users (id),
    granted_at timestamptz not null default now(),
    revoked_by uuid references users (id),
    revoked_at timestamptz,
    check ((revoked_at is null) = (revoked_by is null)),
    check (revoked_at is null or revoked_at >= granted_at)
);
-- At most one active relationship per pair; history is kept.
create unique index care_active_pair_key on care_relationships (doctor_id, patient_id) where revoked_at is null;
create index care_patient_idx on care_relationships (patient_id) where revoked_at is null;

create table medical_entries (
    id            uuid primary key,
    patient_id    uuid not null references patients (id) on delete restrict,
    kind          text not null check (kind in ('observation', 'lab_result', 'diagnosis', 'medication', 'allergy', 'note')),
    effective_at  timestamptz not null,
    recorded_at   timestamptz not null default now(),
    author_id     uuid not null references users (id),
    self_reported boolean not null,
    -- Searchable projection of the typed payload: LOINC code, ICD-10 code or substance.
    code          text check (length(code) between 1 and 200),
    value         double precision check (value is null or value between -1e9 and 1e9),
    unit          text check (length(unit) between 1 and 32),
    details       jsonb not null check (jsonb_typeof(details) = 'object'),
    check (kind not in ('observation', 'lab_result') or (code is not null and value is not null and unit is not null)),
    check (kind not in ('diagnosis', 'medication', 'allergy') or code is not null),
    check (kind <> 'note' or (code is null and value is null))
);
create index medical_entries_patient_time_idx on medical_entries (patient_id, effective_at desc, id desc);
create index medical_entries_patient_kind_idx on medical_entries (patient_id, kind, effective_at desc, id desc);

-- One row per sign-in; revoking it ends every token issued in it.
create table sessions (
    id          uuid primary key,
    user_id     uuid not null references users (id) on delete cascade,
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz,
    revoke_reason text check (revoke_reason in ('logout', 'reuse_detected', 'deactivated'))
);
create index sessions_user_idx on sessions (user_id) where revoked_at is null;

create table refresh_tokens (
    id          uuid primary key,
    session_id  uuid not null references sessions (id) on delete cascade,
    token_hash  bytea not null unique check (length(token_hash) = 32),
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    rotated_at  timestamptz,
    check (expires_at > created_at)
);
create index refresh_tokens_session_idx on refresh_tokens (session_id);

-- Append-only, hash-chained log of every access to health data and every account change.
create table audit_log (
    seq         bigint generated always as identity primary key,
    at          timestamptz not null default now(),
    actor_id    uuid,
    actor_role  text,
    action      text not null,
    patient_id  uuid,
    target_id   uuid,
    outcome     text not null check (outcome in ('ok', 'denied')),
    prev_hash   bytea not null check (length(prev_hash) = 32),
    hash        bytea not null unique check (length(hash) = 32)
);
create index audit_log_patient_idx on audit_log (patient_id, seq);

create function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
    for each row execute function audit_log_is_append_only();
