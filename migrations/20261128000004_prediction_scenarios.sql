-- A prediction made with values given in the request (`inputs`, a proposed drug) is a
-- what-if scenario, not the patient's risk: it is stored and listed as one, and no rule
-- reads it.
alter table predictions add column scenario boolean not null default false;
