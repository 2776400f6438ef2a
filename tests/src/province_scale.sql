-- A province-scale tenant for benchmarks, written straight into PostgreSQL (`province::fill`): units
-- under the tenant's county HR bureaus with their supervising authorities and departments, CE
-- institutions, staff with active accounts (all with the demo password's hash), and their credits
-- over three years. The org tree above the units (province, cities, counties, authorities) is the one
-- `tenant sync` wrote. Reads its sizes from the temporary table `gen_params`; steps are separated by
-- `-- step:` lines and run in order, each in its own transaction. Deterministic: the same sizes give the
-- same rows.

-- step: ID number check digit (GB 11643)
CREATE FUNCTION pg_temp.with_check(body text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT body || substr('10X98765432', (SELECT SUM(substr(body, i, 1)::int * (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i])
                                        FROM generate_series(1, 17) i)::int % 11 + 1, 1)
$$;

-- step: units
INSERT INTO orgs (tenant_id, kind, name, ext_key, parent_id, supervisor_id, level, region_code, nature, status, created_at, updated_at)
SELECT g.tenant, 'unit', r.name || '压测单位' || n, 'gen:unit:' || n, r.id, a.ids[1 + (n * 7) % cardinality(a.ids)],
       r.level, r.region_code, (ARRAY['public_institution', 'public_institution', 'public_institution', 'government', 'state_enterprise',
       'private_enterprise', 'social_org', 'other'])[1 + n % 8], 'active', now(), now()
FROM gen_params g
CROSS JOIN LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM orgs WHERE tenant_id = g.tenant AND kind = 'hr' AND level = 'county') c
CROSS JOIN LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM orgs WHERE tenant_id = g.tenant AND kind = 'authority') a
CROSS JOIN generate_series(1, g.units) n
JOIN orgs r ON r.tenant_id = g.tenant AND r.id = c.ids[1 + n % cardinality(c.ids)];

-- step: units' places in the tree
UPDATE orgs u SET path = r.path || u.id || '/', hr_bureau_id = r.id, supervisor_path = a.path || u.id || '/'
FROM gen_params g, orgs r, orgs a
WHERE u.tenant_id = g.tenant AND u.ext_key LIKE 'gen:unit:%' AND r.tenant_id = u.tenant_id AND r.id = u.parent_id
  AND a.tenant_id = u.tenant_id AND a.id = u.supervisor_id;

-- step: departments
-- Two in every other unit.
INSERT INTO orgs (tenant_id, kind, name, ext_key, parent_id, level, region_code, hr_bureau_id, path, supervisor_path, status, created_at, updated_at)
SELECT u.tenant_id, 'department', (ARRAY['办公室', '业务科'])[d], 'gen:dept:' || u.id || ':' || d, u.id, u.level, u.region_code,
       u.hr_bureau_id, '', '', 'active', now(), now()
FROM gen_params g JOIN orgs u ON u.tenant_id = g.tenant AND u.ext_key LIKE 'gen:unit:%'
CROSS JOIN generate_series(1, 2) d
WHERE u.id % 2 = 0;

-- step: departments' places in the tree
UPDATE orgs d SET path = u.path || d.id || '/', supervisor_path = u.supervisor_path || d.id || '/'
FROM gen_params g, orgs u
WHERE d.tenant_id = g.tenant AND d.ext_key LIKE 'gen:dept:%' AND u.tenant_id = d.tenant_id AND u.id = d.parent_id;

-- step: CE institutions
-- One per 100 units, under the cities.
INSERT INTO orgs (tenant_id, kind, name, ext_key, parent_id, level, region_code, hr_bureau_id, path, status, created_at, updated_at)
SELECT g.tenant, 'institution', r.name || '压测培训机构' || n, 'gen:inst:' || n, r.id, r.level, r.region_code, r.id, '', 'active', now(), now()
FROM gen_params g
CROSS JOIN LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM orgs WHERE tenant_id = g.tenant AND kind = 'hr' AND level = 'city') c
CROSS JOIN generate_series(1, GREATEST(g.units / 100, 1)) n
JOIN orgs r ON r.tenant_id = g.tenant AND r.id = c.ids[1 + n % cardinality(c.ids)];

-- step: institutions' places in the tree
UPDATE orgs i SET path = r.path || i.id || '/'
FROM gen_params g, orgs r
WHERE i.tenant_id = g.tenant AND i.ext_key LIKE 'gen:inst:%' AND r.tenant_id = i.tenant_id AND r.id = i.parent_id;

-- step: units numbered
-- The units in a numbered list, with their departments.
CREATE TEMP TABLE gen_units AS
SELECT row_number() OVER (ORDER BY u.id) AS unit_no, u.id, u.tenant_id,
       (SELECT array_agg(d.id ORDER BY d.id) FROM orgs d WHERE d.tenant_id = u.tenant_id AND d.parent_id = u.id AND d.kind = 'department') AS departments
FROM gen_params g JOIN orgs u ON u.tenant_id = g.tenant AND u.ext_key LIKE 'gen:unit:%';
CREATE UNIQUE INDEX ON gen_units(unit_no);

-- step: staff
-- Units of uneven size: a unit's share grows with its number's square root.
INSERT INTO people (tenant_id, id_number, name, gender, unit_id, department_id, title, title_level, title_series, post, created_at, updated_at)
SELECT g.tenant,
       pg_temp.with_check('430199' || to_char(DATE '1960-01-01' + (n / 900)::int, 'YYYYMMDD') || (100 + n % 900)::text),
       '压测' || n, CASE WHEN n % 2 = 0 THEN 'male' ELSE 'female' END, u.id,
       CASE WHEN u.departments IS NOT NULL AND n % 10 < 7 THEN u.departments[1 + n % 2] END, '专业技术职务',
       (ARRAY['senior', 'deputy_senior', 'intermediate', 'intermediate', 'junior', 'junior', 'assistant', 'none'])[1 + n % 8],
       (ARRAY['school_teacher', 'school_teacher', 'health', 'health', 'engineering', 'agriculture', 'accounting', 'economics',
              'higher_education', 'research', 'other'])[1 + (n / 8) % 11],
       'technical', now(), now()
FROM gen_params g
CROSS JOIN generate_series(1, g.people) n
JOIN gen_units u ON u.unit_no = 1 + floor(g.units * sqrt(((n::bigint * 2654435761) % 1000003) / 1000003.0))::bigint;

-- step: their accounts
INSERT INTO accounts (tenant_id, user_type, id_number, name, org_id, person_id, role, status, password_hash, created_at)
SELECT p.tenant_id, 'staff', p.id_number, p.name, p.unit_id, p.id, 'staff', 'active', g.password_hash, now()
FROM gen_params g JOIN people p ON p.tenant_id = g.tenant AND p.id_number LIKE '430199%';

-- step: people numbered
CREATE TEMP TABLE gen_people AS
SELECT row_number() OVER (ORDER BY p.id) AS n, p.id, p.tenant_id
FROM gen_params g JOIN people p ON p.tenant_id = g.tenant AND p.id_number LIKE '430199%';

-- step per year: credits
-- The year in `gen_params.year`: 0–20 per person (≈ 10), a third 公需, half from online platforms, some
-- revoked.
INSERT INTO credits (tenant_id, person_id, year, subject, hours, source, source_ref, course, created_at, revoked_at, revoke_reason)
SELECT p.tenant_id, p.id, g.year, CASE WHEN k % 3 = 0 THEN 'public' ELSE 'professional' END, 100 * (1 + (p.n + k) % 8),
       (ARRAY['offline', 'activity', 'online', 'online'])[1 + (p.n + k) % 4], 'gen:' || p.n || ':' || g.year || ':' || k, '压测课程',
       make_timestamptz(g.year::int, 1 + (k % 12)::int, 1, 0, 0, 0, 'Asia/Shanghai'),
       CASE WHEN k = 7 AND p.n % 5 = 0 THEN make_timestamptz(g.year::int, 12, 1, 0, 0, 0, 'Asia/Shanghai') END,
       CASE WHEN k = 7 AND p.n % 5 = 0 THEN '压测撤销' END
FROM gen_params g
JOIN gen_people p ON p.tenant_id = g.tenant
CROSS JOIN LATERAL generate_series(1, (p.n * 31 + g.year * 17) % 21) k;

-- step per year: yearly status rows
-- Every person-year's row, stale until the recompute judges it, as the ledger's changes leave them (and
-- so that the planner knows the table's size before the recompute reads it batch by batch).
INSERT INTO year_status (tenant_id, person_id, year, generation, computed_generation)
SELECT p.tenant_id, p.id, g.year, 1, 0 FROM gen_params g JOIN gen_people p ON p.tenant_id = g.tenant
ON CONFLICT (tenant_id, person_id, year) DO NOTHING;
