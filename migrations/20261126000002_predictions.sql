-- Decision-support results: every prediction is stored with the inputs it used and the
-- model (or knowledge base) and version that made it.

create table predictions (
    id             uuid primary key,
    patient_id     uuid not null references patients (id) on delete restrict,
    kind           text not null check (kind in ('cardiovascular_risk', 'diabetes_risk', 'heart_failure_mortality',
                                                 'drug_interactions', 'treatment_options')),
    requested_by   uuid not null references users (id),
    created_at     timestamptz not null default now(),
    model_name     text not null check (length(model_name) between 1 and 100),
    model_version  text not null check (length(model_version) between 1 and 200),
    inputs         jsonb not null check (jsonb_typeof(inputs) = 'array'),
    output         jsonb not null check (jsonb_typeof(output) = 'object'),
    reviewed_by    uuid references users (id),
    reviewed_at    timestamptz,
    review_comment text check (length(review_comment) <= 2000),
    check ((reviewed_by is null) = (reviewed_at is null))
);
create index predictions_patient_idx on predictions (patient_id, created_at desc, id desc);
create index predictions_patient_kind_idx on predictions (patient_id, kind, created_at desc, id desc);
