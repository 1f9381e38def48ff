-- What the police know of each reported recruiter: the newest report's role (recruiter,
-- sponsor, transporter, shelter operator, training centre), licence and place, and every phone
-- number ever reported. Phone numbers are personal data: served only to tokens with the
-- personal_data role, each read written to lintas_personal_data_reads.
CREATE TABLE recruiters (
    recruiter_key TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    licence_status TEXT NOT NULL,
    village TEXT,
    sub_district TEXT,
    regency TEXT NOT NULL,
    placement_agency_name TEXT,
    reported_at_ms BIGINT NOT NULL,
    report_event_id TEXT NOT NULL
);

CREATE TABLE recruiter_phones (
    recruiter_key TEXT NOT NULL,
    phone TEXT NOT NULL,
    PRIMARY KEY (recruiter_key, phone)
);
