-- PostgreSQL gains row-level security here (see its 0026). SQLite has none: its queries stay scoped by
-- their own tenant predicates.
SELECT 1;
