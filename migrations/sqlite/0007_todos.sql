-- To-dos (待办事项, seed 001 §5): a unit admin assigns a training or activity to staff; each person
-- uploads proof; the admin accepts it or returns it. One row per assignee holds that person's state.
CREATE TABLE todos (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    unit_id     INTEGER NOT NULL,
    created_by  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    due_on      TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX todos_unit ON todos(tenant_id, unit_id);

CREATE TABLE todo_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    todo_id     INTEGER NOT NULL,
    person_id   INTEGER NOT NULL,
    status      TEXT NOT NULL,
    blob_id     INTEGER,
    note        TEXT,
    updated_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, todo_id, person_id),
    FOREIGN KEY (tenant_id, todo_id) REFERENCES todos(tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, blob_id) REFERENCES blobs(tenant_id, id)
);
CREATE INDEX todo_items_person ON todo_items(tenant_id, person_id, status);
