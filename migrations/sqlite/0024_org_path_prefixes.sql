-- PostgreSQL gains prefix indexes on organisation paths here (see its 0024). SQLite's LIKE ignores case,
-- so an index cannot answer it; nothing to do.
SELECT 1;
