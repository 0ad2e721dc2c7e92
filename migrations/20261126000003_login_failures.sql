-- Failed sign-ins per e-mail, for throttling password guessing across all instances.
create table login_failures (
    email text not null check (length(email) <= 320),
    at    timestamptz not null default now()
);
create index login_failures_email_idx on login_failures (email, at);
create index login_failures_at_idx on login_failures (at);
