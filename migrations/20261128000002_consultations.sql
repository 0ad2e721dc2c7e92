-- Consultations: a patient asks a doctor for one; the doctor accepts (with a time) or
-- declines; either side cancels; the doctor completes it with a note. Acceptance gives the
-- doctor time-limited care of the patient, until the consultation ends plus a grace period.

create table consultations (
    id               uuid primary key,
    patient_id       uuid not null references patients (id) on delete restrict,
    doctor_id        uuid not null references doctors (id) on delete restrict,
    status           text not null check (status in ('requested', 'accepted', 'completed', 'declined', 'cancelled')),
    mode             text not null check (mode in ('in_person', 'video', 'phone')),
    reason           text not null check (length(reason) between 1 and 2000),
    -- [{"start": ..., "end": ...}], as the patient gave them.
    preferred_windows jsonb not null default '[]' check (jsonb_typeof(preferred_windows) = 'array'),
    requested_at     timestamptz not null,
    accepted_at      timestamptz,
    scheduled_for    timestamptz,
    -- When it was completed, declined or cancelled.
    ended_at         timestamptz,
    ended_by         uuid references users (id),
    decline_reason   text check (length(decline_reason) between 1 and 2000),
    cancel_reason    text check (length(cancel_reason) between 1 and 2000),
    completion_note  text check (length(completion_note) between 1 and 10000),
    -- End of the doctor's time-limited care, set when an accepted consultation ends
    -- (ended_at plus the grace period in force then). Open while it is accepted.
    care_until       timestamptz,
    -- The date lists sort and filter by: the appointment once there is one, else the request.
    listed_at        timestamptz generated always as (coalesce(scheduled_for, requested_at)) stored,
    check (status <> 'requested' or (accepted_at is null and ended_at is null)),
    check (status <> 'accepted' or (accepted_at is not null and ended_at is null)),
    check ((accepted_at is null) = (scheduled_for is null)),
    check ((status in ('completed', 'declined', 'cancelled')) = (ended_at is not null)),
    check (status <> 'completed' or (accepted_at is not null and completion_note is not null)),
    check (status <> 'declined' or (accepted_at is null and decline_reason is not null)),
    check ((care_until is not null) = (accepted_at is not null and ended_at is not null))
);
create index consultations_patient_idx on consultations (patient_id, listed_at, id);
create index consultations_doctor_idx on consultations (doctor_id, listed_at, id);
create index consultations_listed_idx on consultations (listed_at, id);
-- The policy's question: does this doctor have care of this patient through a consultation?
create index consultations_care_idx on consultations (patient_id, doctor_id)
    where status = 'accepted' or care_until is not null;

-- The entries a patient chose to show the doctor with the request.
create table consultation_shared_entries (
    consultation_id uuid not null references consultations (id) on delete restrict,
    entry_id        uuid not null references medical_entries (id) on delete restrict,
    primary key (consultation_id, entry_id)
);

-- What was documented during a consultation carries its id.
alter table medical_entries add column consultation_id uuid references consultations (id);
alter table predictions add column consultation_id uuid references consultations (id);
create index medical_entries_consultation_idx on medical_entries (consultation_id) where consultation_id is not null;
create index predictions_consultation_idx on predictions (consultation_id) where consultation_id is not null;
