-- OMOP Common Data Model 5.4: the tables pecoma exports, with their 5.4 columns, types
-- and required (NOT NULL) columns, primary keys, and the foreign keys among these tables
-- (person, episode). Written for pecoma from the CDM 5.4 table specification; portable
-- SQL for PostgreSQL and DuckDB. Foreign keys to CONCEPT are left out: they need the
-- network's vocabulary tables.

CREATE TABLE person (
    person_id                   integer     NOT NULL PRIMARY KEY,
    gender_concept_id           integer     NOT NULL,
    year_of_birth               integer     NOT NULL,
    month_of_birth              integer     NULL,
    day_of_birth                integer     NULL,
    birth_datetime              timestamp   NULL,
    race_concept_id             integer     NOT NULL,
    ethnicity_concept_id        integer     NOT NULL,
    location_id                 integer     NULL,
    provider_id                 integer     NULL,
    care_site_id                integer     NULL,
    person_source_value         varchar(50) NULL,
    gender_source_value         varchar(50) NULL,
    gender_source_concept_id    integer     NULL,
    race_source_value           varchar(50) NULL,
    race_source_concept_id      integer     NULL,
    ethnicity_source_value      varchar(50) NULL,
    ethnicity_source_concept_id integer     NULL
);

CREATE TABLE observation_period (
    observation_period_id         integer NOT NULL PRIMARY KEY,
    person_id                     integer NOT NULL REFERENCES person (person_id),
    observation_period_start_date date    NOT NULL,
    observation_period_end_date   date    NOT NULL,
    period_type_concept_id        integer NOT NULL
);

CREATE TABLE condition_occurrence (
    condition_occurrence_id       integer     NOT NULL PRIMARY KEY,
    person_id                     integer     NOT NULL REFERENCES person (person_id),
    condition_concept_id          integer     NOT NULL,
    condition_start_date          date        NOT NULL,
    condition_start_datetime      timestamp   NULL,
    condition_end_date            date        NULL,
    condition_end_datetime        timestamp   NULL,
    condition_type_concept_id     integer     NOT NULL,
    condition_status_concept_id   integer     NULL,
    stop_reason                   varchar(20) NULL,
    provider_id                   integer     NULL,
    visit_occurrence_id           integer     NULL,
    visit_detail_id               integer     NULL,
    condition_source_value        varchar(50) NULL,
    condition_source_concept_id   integer     NULL,
    condition_status_source_value varchar(50) NULL
);

CREATE TABLE measurement (
    measurement_id                integer     NOT NULL PRIMARY KEY,
    person_id                     integer     NOT NULL REFERENCES person (person_id),
    measurement_concept_id        integer     NOT NULL,
    measurement_date              date        NOT NULL,
    measurement_datetime          timestamp   NULL,
    measurement_time              varchar(10) NULL,
    measurement_type_concept_id   integer     NOT NULL,
    operator_concept_id           integer     NULL,
    value_as_number               numeric     NULL,
    value_as_concept_id           integer     NULL,
    unit_concept_id               integer     NULL,
    range_low                     numeric     NULL,
    range_high                    numeric     NULL,
    provider_id                   integer     NULL,
    visit_occurrence_id           integer     NULL,
    visit_detail_id               integer     NULL,
    measurement_source_value      varchar(50) NULL,
    measurement_source_concept_id integer     NULL,
    unit_source_value             varchar(50) NULL,
    unit_source_concept_id        integer     NULL,
    value_source_value            varchar(50) NULL,
    measurement_event_id          integer     NULL,
    meas_event_field_concept_id   integer     NULL
);

CREATE TABLE procedure_occurrence (
    procedure_occurrence_id     integer     NOT NULL PRIMARY KEY,
    person_id                   integer     NOT NULL REFERENCES person (person_id),
    procedure_concept_id        integer     NOT NULL,
    procedure_date              date        NOT NULL,
    procedure_datetime          timestamp   NULL,
    procedure_end_date          date        NULL,
    procedure_end_datetime      timestamp   NULL,
    procedure_type_concept_id   integer     NOT NULL,
    modifier_concept_id         integer     NULL,
    quantity                    integer     NULL,
    provider_id                 integer     NULL,
    visit_occurrence_id         integer     NULL,
    visit_detail_id             integer     NULL,
    procedure_source_value      varchar(50) NULL,
    procedure_source_concept_id integer     NULL,
    modifier_source_value       varchar(50) NULL
);

CREATE TABLE drug_exposure (
    drug_exposure_id             integer     NOT NULL PRIMARY KEY,
    person_id                    integer     NOT NULL REFERENCES person (person_id),
    drug_concept_id              integer     NOT NULL,
    drug_exposure_start_date     date        NOT NULL,
    drug_exposure_start_datetime timestamp   NULL,
    drug_exposure_end_date       date        NOT NULL,
    drug_exposure_end_datetime   timestamp   NULL,
    verbatim_end_date            date        NULL,
    drug_type_concept_id         integer     NOT NULL,
    stop_reason                  varchar(20) NULL,
    refills                      integer     NULL,
    quantity                     numeric     NULL,
    days_supply                  integer     NULL,
    sig                          text        NULL,
    route_concept_id             integer     NULL,
    lot_number                   varchar(50) NULL,
    provider_id                  integer     NULL,
    visit_occurrence_id          integer     NULL,
    visit_detail_id              integer     NULL,
    drug_source_value            varchar(50) NULL,
    drug_source_concept_id       integer     NULL,
    route_source_value           varchar(50) NULL,
    dose_unit_source_value       varchar(50) NULL
);

CREATE TABLE death (
    person_id               integer     NOT NULL REFERENCES person (person_id),
    death_date              date        NOT NULL,
    death_datetime          timestamp   NULL,
    death_type_concept_id   integer     NULL,
    cause_concept_id        integer     NULL,
    cause_source_value      varchar(50) NULL,
    cause_source_concept_id integer     NULL
);

CREATE TABLE episode (
    episode_id                integer     NOT NULL PRIMARY KEY,
    person_id                 integer     NOT NULL REFERENCES person (person_id),
    episode_concept_id        integer     NOT NULL,
    episode_start_date        date        NOT NULL,
    episode_start_datetime    timestamp   NULL,
    episode_end_date          date        NULL,
    episode_end_datetime      timestamp   NULL,
    episode_parent_id         integer     NULL,
    episode_number            integer     NULL,
    episode_object_concept_id integer     NOT NULL,
    episode_type_concept_id   integer     NOT NULL,
    episode_source_value      varchar(50) NULL,
    episode_source_concept_id integer     NULL
);

CREATE TABLE episode_event (
    episode_id                     integer NOT NULL REFERENCES episode (episode_id),
    event_id                       integer NOT NULL,
    episode_event_field_concept_id integer NOT NULL
);
