-- Row-level security: a second wall behind every query's own `tenant_id = $1`. The server sets
-- `jijiao.tenant` on each connection it takes from the pool (db::within_tenant): inside a request or a
-- job of a tenant, every table with a tenant_id shows and accepts only that tenant's rows, whatever the
-- statement says; outside one (start-up, migrations, tenant sync, the job queue's claim, the command
-- line) the setting is empty and rows of every tenant are visible. FORCE makes the policy bind the
-- tables' owner too, which the server connects as; only a superuser or a BYPASSRLS role passes
-- through (the server warns at start when it connects as one).
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.table_name
        FROM information_schema.columns c
        JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_wall ON %I USING ('
            'COALESCE(current_setting(''jijiao.tenant'', true), '''') = '''' '
            'OR tenant_id = current_setting(''jijiao.tenant'', true))', t);
    END LOOP;
END $$;
