-- Training institutions (issue 6 part 5; seed 003 施教机构, seed 004 §5.1.5 and §5.2).
-- Subject catalogues: public subjects belong to the provincial HR department, professional subjects to
-- an industry authority (owner_org_id). Institutions pick an enabled subject of the plan's kind and year.
CREATE TABLE training_subjects (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    owner_org_id INTEGER NOT NULL,
    -- public or professional
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    year         INTEGER NOT NULL,
    major        TEXT,
    -- teaching suggestion (教学建议)
    suggestion   TEXT,
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_by   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, owner_org_id, year, kind, name),
    FOREIGN KEY (tenant_id, owner_org_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX training_subjects_year ON training_subjects(tenant_id, year, kind);

-- An institution's training plan, routed for approval by the rules plugin (request kind training-plan).
-- pending → approved | rejected; editable and deletable while not approved (an edit resubmits it as a
-- new round). Hours are in hundredths like the ledger.
CREATE TABLE training_plans (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    institution_id INTEGER NOT NULL,
    name           TEXT NOT NULL,
    subject_kind   TEXT NOT NULL,
    subject_id     INTEGER NOT NULL,
    -- 培训年度 (when it runs) and 继续教育年度 (the year its hours count towards)
    year           INTEGER NOT NULL,
    credit_year    INTEGER NOT NULL,
    -- 培训形式: face_to_face, online or blended
    mode           TEXT NOT NULL,
    planned_count  INTEGER NOT NULL,
    hours          INTEGER NOT NULL,
    start_date     TEXT NOT NULL,
    end_date       TEXT NOT NULL,
    place          TEXT,
    remark         TEXT,
    route_choice   TEXT,
    status         TEXT NOT NULL,
    round          INTEGER NOT NULL DEFAULT 1,
    created_by     INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    decided_at     TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, institution_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES training_subjects(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX training_plans_institution ON training_plans(tenant_id, institution_id, status);

-- A class run under an approved plan; its students' scores are declared once (class_declarations).
CREATE TABLE training_classes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    plan_id        INTEGER NOT NULL,
    institution_id INTEGER NOT NULL,
    name           TEXT NOT NULL,
    capacity       INTEGER NOT NULL,
    start_date     TEXT NOT NULL,
    end_date       TEXT NOT NULL,
    place          TEXT,
    teacher        TEXT,
    created_by     INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, plan_id) REFERENCES training_plans(tenant_id, id),
    FOREIGN KEY (tenant_id, institution_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX training_classes_plan ON training_classes(tenant_id, plan_id);
CREATE INDEX training_classes_institution ON training_classes(tenant_id, institution_id);

-- A student's score in a class (entered by ID number or imported). Score in hundredths of a point.
CREATE TABLE class_scores (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    class_id   INTEGER NOT NULL,
    person_id  INTEGER NOT NULL,
    score      INTEGER NOT NULL,
    passed     INTEGER NOT NULL,
    remark     TEXT,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, class_id, person_id),
    FOREIGN KEY (tenant_id, class_id) REFERENCES training_classes(tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);

-- One declaration per class (每个培训班仅允许上报一次成绩): the roster as declared, audited per student.
CREATE TABLE class_declarations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    class_id       INTEGER NOT NULL,
    institution_id INTEGER NOT NULL,
    route_choice   TEXT,
    -- pending → approved | rejected
    status         TEXT NOT NULL,
    declared_by    INTEGER NOT NULL,
    declared_at    TEXT NOT NULL,
    decided_at     TEXT,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, class_id),
    FOREIGN KEY (tenant_id, class_id) REFERENCES training_classes(tenant_id, id),
    FOREIGN KEY (tenant_id, institution_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, declared_by) REFERENCES accounts(tenant_id, id)
);

-- The declared students: score and the institution's result as declared, and the reviewer's verdict
-- (pending until set; approving the declaration turns pending verdicts into the declared result).
CREATE TABLE declaration_students (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    declaration_id INTEGER NOT NULL,
    person_id      INTEGER NOT NULL,
    score          INTEGER NOT NULL,
    passed         INTEGER NOT NULL,
    remark         TEXT,
    verdict        TEXT NOT NULL DEFAULT 'pending',
    decided_by     INTEGER,
    decided_at     TEXT,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, declaration_id, person_id),
    FOREIGN KEY (tenant_id, declaration_id) REFERENCES class_declarations(tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, decided_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX declaration_students_declaration ON declaration_students(tenant_id, declaration_id, verdict);
