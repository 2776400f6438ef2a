//! The one dispatch point between the two backends.
//!
//! Every query is written once, in portable SQL with `$n` placeholders, and built as a [`Query`] of
//! typed [`Value`]s; [`Db`] and [`Tx`] bind those values on whichever pool is configured. Rows decode
//! through `sqlx::FromRow`, which both backends implement for the same structs. Only migrations and the
//! rare statement that must differ branch on [`Backend`].

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

pub type DbResult<T> = Result<T, sqlx::Error>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(Walled),
}

/// Connections a PostgreSQL pool opens at most: each tenant being served has one pool, and work outside
/// any tenant another.
pub const POOL_CONNECTIONS: u32 = 10;

/// PostgreSQL pools: one per tenant, whose connections carry that tenant's wall from their start
/// (`jijiao.tenant` as a startup option, migration 0026), and one without a wall for work outside any
/// tenant. A statement runs on the pool of its task's tenant ([`within_tenant`]). Setting the wall on
/// each connection taken from one shared pool cost a second round trip for every statement.
#[derive(Clone, Debug)]
pub struct Walled(std::sync::Arc<Pools>);

#[derive(Debug)]
struct Pools {
    options: PgConnectOptions,
    unscoped: PgPool,
    tenants: std::sync::RwLock<std::collections::HashMap<String, PgPool>>,
}

impl Walled {
    async fn connect(options: PgConnectOptions) -> DbResult<Walled> {
        let unscoped = pool_options().connect_with(options.clone()).await?;
        Ok(Walled(std::sync::Arc::new(Pools { options, unscoped, tenants: Default::default() })))
    }

    /// The pool of the current task's tenant, or the unscoped one outside a tenant's work.
    fn pool(&self) -> PgPool {
        TENANT
            .try_with(|tenant| (!tenant.is_empty()).then(|| self.tenant_pool(tenant)))
            .ok()
            .flatten()
            .unwrap_or_else(|| self.0.unscoped.clone())
    }

    /// A connection from the current task's pool, for work that needs one session (temporary tables).
    pub async fn acquire(&self) -> DbResult<sqlx::pool::PoolConnection<Postgres>> {
        self.pool().acquire().await
    }

    /// A transaction on the current task's pool, for work on sqlx's own API (`COPY`).
    pub async fn begin(&self) -> DbResult<Transaction<'static, Postgres>> {
        self.pool().begin().await
    }

    fn tenant_pool(&self, tenant: &str) -> PgPool {
        if let Some(pool) = self.0.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(tenant) {
            return pool.clone();
        }
        let mut pools = self.0.tenants.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        pools
            .entry(tenant.to_owned())
            .or_insert_with(|| {
                // Idle connections of a tenant nobody is using close after a minute.
                pool_options()
                    .min_connections(0)
                    .idle_timeout(Duration::from_secs(60))
                    .connect_lazy_with(self.0.options.clone().options([("jijiao.tenant", tenant)]))
            })
            .clone()
    }

    fn pools(&self) -> Vec<PgPool> {
        let tenants = self.0.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::iter::once(self.0.unscoped.clone()).chain(tenants.values().cloned()).collect()
    }
}

/// A connection taken from a pool is checked with a ping only when it has lain idle for a while (the
/// database may have restarted meanwhile), not on every statement.
fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(POOL_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > Duration::from_secs(10) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// An open transaction on either backend. Dropped without `commit` it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

tokio::task_local! {
    /// The tenant whose rows the current request or job may touch (PostgreSQL's row-level security).
    static TENANT: String;
}

/// Runs `work` behind the row-level wall of `tenant`: on PostgreSQL its statements run on the tenant's
/// own pool, whose connections are set to that tenant (`jijiao.tenant`, migration 0026), so a statement
/// that forgets its `tenant_id = $1` still sees and writes only this tenant's rows. Tasks spawned inside
/// it keep the wall when spawned with [`spawn`] (a plain `tokio::spawn` would not: the server crate's
/// clippy configuration forbids it).
pub async fn within_tenant<F: Future>(tenant: &str, work: F) -> F::Output {
    TENANT.scope(tenant.to_owned(), work).await
}

/// `tokio::spawn` that carries the current task's wall into the new task: work spawned for a tenant
/// stays behind that tenant's wall, work spawned outside any tenant (start-up, the job workers, the
/// listener) stays unscoped.
#[allow(clippy::disallowed_methods)]
pub fn spawn<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match TENANT.try_with(Clone::clone) {
        Ok(tenant) => tokio::spawn(TENANT.scope(tenant, work)),
        Err(_) => tokio::spawn(work),
    }
}

/// Rows to skip before page `page` (from 1) of `per_page` rows. Saturating: the page number comes from a
/// query string and can be as large as i64 allows; so far past the end the page is empty.
pub fn page_offset(page: i64, per_page: i64) -> i64 {
    (page.max(1) - 1).saturating_mul(per_page)
}

/// A row type that decodes from both backends.
pub trait Record: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Record for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// A row of a page with the number of rows on every page (`COUNT(*) OVER ()`).
#[derive(FromRow)]
struct Counted<T> {
    #[sqlx(flatten)]
    row: T,
    total_rows: i64,
}

/// A bound parameter. Nulls carry their type because Postgres needs one.
#[derive(Clone, Debug)]
pub enum Value {
    Bool(bool),
    I64(i64),
    Text(String),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Bytes(Vec<u8>),
    Null(NullKind),
    /// A whole column of a [`Bulk`] statement, bound as one array: Postgres only.
    Array(Array),
}

/// The column types a [`Bulk`] carries.
#[derive(Clone, Debug)]
pub enum Array {
    Bool(Vec<bool>),
    I64(Vec<i64>),
    Text(Vec<Option<String>>),
    Time(Vec<DateTime<Utc>>),
}

impl Array {
    fn len(&self) -> usize {
        match self {
            Array::Bool(v) => v.len(),
            Array::I64(v) => v.len(),
            Array::Text(v) => v.len(),
            Array::Time(v) => v.len(),
        }
    }

    /// Postgres's name for an array of this type (the cast in `UNNEST`).
    fn pg_type(&self) -> &'static str {
        match self {
            Array::Bool(_) => "boolean[]",
            Array::I64(_) => "bigint[]",
            Array::Text(_) => "text[]",
            Array::Time(_) => "timestamptz[]",
        }
    }

    fn value(&self, row: usize) -> Value {
        match self {
            Array::Bool(v) => Value::Bool(v[row]),
            Array::I64(v) => Value::I64(v[row]),
            Array::Text(v) => v[row].clone().to_value(),
            Array::Time(v) => Value::Time(v[row]),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum NullKind {
    Bool,
    I64,
    Text,
    Time,
    Date,
    Bytes,
}

pub trait ToValue {
    fn to_value(self) -> Value;
}

macro_rules! to_value {
    ($t:ty, $variant:ident, $conv:expr) => {
        impl ToValue for $t {
            fn to_value(self) -> Value {
                #[allow(clippy::redundant_closure_call)]
                Value::$variant(($conv)(self))
            }
        }
        impl ToValue for Option<$t> {
            fn to_value(self) -> Value {
                match self {
                    #[allow(clippy::redundant_closure_call)]
                    Some(v) => Value::$variant(($conv)(v)),
                    None => Value::Null(NullKind::$variant),
                }
            }
        }
    };
}
to_value!(bool, Bool, |v| v);
to_value!(i64, I64, |v| v);
to_value!(i32, I64, i64::from);
to_value!(String, Text, |v| v);
to_value!(&str, Text, |v: &str| v.to_owned());
to_value!(&String, Text, |v: &String| v.clone());
to_value!(DateTime<Utc>, Time, |v| v);
to_value!(NaiveDate, Date, |v| v);
to_value!(Vec<u8>, Bytes, |v| v);

/// SQL text plus its parameters, in order.
#[derive(Clone, Debug)]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// Starts a query: `q("SELECT … WHERE tenant_id = $1").bind(tenant)`.
pub fn q(sql: impl Into<Cow<'static, str>>) -> Query {
    Query { sql: sql.into(), args: Vec::new() }
}

impl Query {
    pub fn bind(mut self, value: impl ToValue) -> Self {
        self.args.push(value.to_value());
        self
    }

    /// Binds several values in order (a column list several statements share).
    pub fn bind_all(mut self, values: Vec<Value>) -> Self {
        self.args.extend(values);
        self
    }

    /// Appends SQL (for optional filters); `next_param` gives the number of the next `$n`.
    pub fn push_sql(mut self, sql: &str) -> Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// A query from SQL and parameters collected while building optional filters.
    pub fn with_args(sql: impl Into<Cow<'static, str>>, args: Vec<Value>) -> Self {
        Query { sql: sql.into(), args }
    }

    pub fn next_param(&self) -> usize {
        self.args.len() + 1
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// Many rows for one statement, bound column by column: batch ingest, stale marks, look-ups by a
/// list of keys. In the statement's SQL, `{rows}` stands for them as a table named `rows` whose
/// columns have the names given here, after the statement's own parameters. On Postgres each column
/// is one array parameter read back with `UNNEST`: one statement, one cached plan and a handful of
/// parameters whatever the number of rows (thousands of `$n` placeholders cost more to send, parse and
/// plan than the rows cost to write). On SQLite the rows become a `VALUES` list, split into
/// statements under its parameter limit. A statement with no rows is not run.
#[derive(Clone, Debug, Default)]
pub struct Bulk {
    names: Vec<&'static str>,
    columns: Vec<Array>,
}

/// SQLite's limit on parameters in one statement (`SQLITE_MAX_VARIABLE_NUMBER` since 3.32).
const SQLITE_MAX_PARAMS: usize = 32_766;

impl Bulk {
    pub fn new() -> Self {
        Bulk::default()
    }

    fn column(mut self, name: &'static str, values: Array) -> Self {
        debug_assert!(self.columns.first().is_none_or(|c| c.len() == values.len()), "every column of a Bulk has one value per row");
        self.names.push(name);
        self.columns.push(values);
        self
    }

    pub fn bool(self, name: &'static str, values: impl IntoIterator<Item = bool>) -> Self {
        self.column(name, Array::Bool(values.into_iter().collect()))
    }

    pub fn i64(self, name: &'static str, values: impl IntoIterator<Item = i64>) -> Self {
        self.column(name, Array::I64(values.into_iter().collect()))
    }

    pub fn text<S: Into<String>>(self, name: &'static str, values: impl IntoIterator<Item = S>) -> Self {
        self.column(name, Array::Text(values.into_iter().map(|v| Some(v.into())).collect()))
    }

    pub fn opt_text(self, name: &'static str, values: impl IntoIterator<Item = Option<String>>) -> Self {
        self.column(name, Array::Text(values.into_iter().collect()))
    }

    pub fn time(self, name: &'static str, values: impl IntoIterator<Item = DateTime<Utc>>) -> Self {
        self.column(name, Array::Time(values.into_iter().collect()))
    }

    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Array::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The statements that run `query` over these rows on `backend`.
    fn statements(&self, query: &Query, backend: Backend) -> Vec<Query> {
        if self.is_empty() {
            return Vec::new();
        }
        let first = query.args.len() + 1;
        let names = self.names.join(", ");
        let statement = |source: String, rows: Vec<Value>| {
            let mut args = query.args.clone();
            args.extend(rows);
            Query::with_args(query.sql.replace("{rows}", &source), args)
        };
        match backend {
            Backend::Postgres => {
                let arrays: Vec<String> =
                    self.columns.iter().enumerate().map(|(i, c)| format!("${}::{}", first + i, c.pg_type())).collect();
                let source = format!("UNNEST({}) AS rows({names})", arrays.join(", "));
                vec![statement(source, self.columns.iter().cloned().map(Value::Array).collect())]
            }
            Backend::Sqlite => {
                let width = self.columns.len();
                let per_statement = ((SQLITE_MAX_PARAMS - query.args.len()) / width).max(1);
                let aliases: Vec<String> = self.names.iter().enumerate().map(|(i, n)| format!("column{} AS {n}", i + 1)).collect();
                (0..self.len())
                    .step_by(per_statement)
                    .map(|start| {
                        let end = (start + per_statement).min(self.len());
                        let mut values = Vec::with_capacity((end - start) * width);
                        let mut tuples = Vec::with_capacity(end - start);
                        for row in start..end {
                            let marks: Vec<String> = (0..width).map(|i| format!("${}", first + values.len() + i)).collect();
                            tuples.push(format!("({})", marks.join(", ")));
                            values.extend(self.columns.iter().map(|c| c.value(row)));
                        }
                        statement(format!("(SELECT {} FROM (VALUES {})) AS rows", aliases.join(", "), tuples.join(", ")), values)
                    })
                    .collect()
            }
        }
    }
}

/// A `WHERE` clause built from optional filters, for every list with filters and pagination.
/// Conditions use `?` for their one parameter; it becomes the right `$n`.
#[derive(Clone, Debug)]
pub struct Filters {
    sql: String,
    args: Vec<Value>,
}

impl Filters {
    /// Starts with `<tenant_column> = $1`: every list is scoped by tenant.
    pub fn tenant(column: &str, tenant: &str) -> Self {
        Filters { sql: format!("{column} = $1"), args: vec![tenant.to_value()] }
    }

    pub fn and(&mut self, condition: &str, value: impl ToValue) -> &mut Self {
        self.args.push(value.to_value());
        self.sql.push_str(" AND ");
        self.sql.push_str(&condition.replacen('?', &format!("${}", self.args.len()), 1));
        self
    }

    /// A condition whose every `?` is the same value (bound once as `$n`).
    pub fn and_same(&mut self, condition: &str, value: impl ToValue) -> &mut Self {
        self.args.push(value.to_value());
        self.sql.push_str(" AND ");
        self.sql.push_str(&condition.replace('?', &format!("${}", self.args.len())));
        self
    }

    /// A condition without a parameter.
    pub fn and_sql(&mut self, condition: &str) -> &mut Self {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
        self
    }

    /// `SELECT COUNT(*) <from> WHERE …`
    pub fn count(&self, from: &str) -> Query {
        Query::with_args(format!("SELECT COUNT(*) {from} WHERE {}", self.sql), self.args.clone())
    }

    /// `SELECT <columns> <from> WHERE … ORDER BY <order> LIMIT … OFFSET …`
    pub fn page(&self, select: &str, order: &str, page: i64, per_page: i64) -> Query {
        let n = self.args.len();
        let mut args = self.args.clone();
        args.push(per_page.to_value());
        args.push(page_offset(page, per_page).to_value());
        Query::with_args(format!("{select} WHERE {} ORDER BY {order} LIMIT ${} OFFSET ${}", self.sql, n + 1, n + 2), args)
    }

    /// [`Filters::page`] of `SELECT <columns> <from>` with every page's row count beside each row
    /// (`total_rows`; read by [`Db::page`]).
    fn page_counted(&self, columns: &str, from: &str, order: &str, page: i64, per_page: i64) -> Query {
        self.page(&format!("SELECT {columns}, COUNT(*) OVER () AS total_rows {from}"), order, page, per_page)
    }

    /// `<select> WHERE … GROUP BY <group> ORDER BY <order>` (counts per group).
    pub fn grouped(&self, select: &str, group: &str, order: &str) -> Query {
        Query::with_args(format!("{select} WHERE {} GROUP BY {group} ORDER BY {order}", self.sql), self.args.clone())
    }

    /// `<select> WHERE … ORDER BY <order>` without a limit (exports, batch actions).
    pub fn all(&self, select: &str, order: &str) -> Query {
        Query::with_args(format!("{select} WHERE {} ORDER BY {order}", self.sql), self.args.clone())
    }
}

/// Binds a [`Value::Array`]: Postgres takes it as one parameter; [`Bulk`] never makes one for SQLite.
macro_rules! bind_array {
    (Postgres, $query:expr, $array:expr) => {
        match $array {
            Array::Bool(v) => $query.bind(v),
            Array::I64(v) => $query.bind(v),
            Array::Text(v) => $query.bind(v),
            Array::Time(v) => $query.bind(v),
        }
    };
    (Sqlite, $query:expr, $array:expr) => {{
        let _ = $array;
        unreachable!("arrays are bound on Postgres only (Bulk writes VALUES lists on SQLite)")
    }};
}

macro_rules! bind_all {
    ($backend:ident, $query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Value::Bool(v) => query.bind(v),
                Value::I64(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Time(v) => query.bind(v),
                Value::Date(v) => query.bind(v),
                Value::Bytes(v) => query.bind(v),
                Value::Null(NullKind::Bool) => query.bind(None::<bool>),
                Value::Null(NullKind::I64) => query.bind(None::<i64>),
                Value::Null(NullKind::Text) => query.bind(None::<String>),
                Value::Null(NullKind::Time) => query.bind(None::<DateTime<Utc>>),
                Value::Null(NullKind::Date) => query.bind(None::<NaiveDate>),
                Value::Null(NullKind::Bytes) => query.bind(None::<Vec<u8>>),
                Value::Array(array) => bind_array!($backend, query, array),
            };
        }
        query
    }};
}

/// Runs one statement on an executor of either backend. SQL text is only ever assembled from fixed
/// fragments and `$n` placeholders (see [`Filters`]); values are always bound, hence `AssertSqlSafe`.
/// Runs one statement on an executor of either backend; `$exec` is an expression giving the
/// executor inside each arm (the pool, or `&mut **tx`).
macro_rules! dispatch {
    ($self:expr, $exec:ident, $q:expr, as $t:ty, $method:ident) => {{
        let Query { sql, args } = $q;
        match $self {
            Self::Sqlite($exec) => {
                bind_all!(Sqlite, sqlx::query_as::<Sqlite, $t>(sqlx::AssertSqlSafe(sql)), args).$method(exec!($exec)).await
            }
            Self::Postgres($exec) => {
                bind_all!(Postgres, sqlx::query_as::<Postgres, $t>(sqlx::AssertSqlSafe(sql)), args).$method(exec!($exec)).await
            }
        }
    }};
    ($self:expr, $exec:ident, $q:expr, execute) => {{
        let Query { sql, args } = $q;
        match $self {
            Self::Sqlite($exec) => bind_all!(Sqlite, sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(sql)), args)
                .execute(exec!($exec))
                .await
                .map(|r| r.rows_affected()),
            Self::Postgres($exec) => bind_all!(Postgres, sqlx::query::<Postgres>(sqlx::AssertSqlSafe(sql)), args)
                .execute(exec!($exec))
                .await
                .map(|r| r.rows_affected()),
        }
    }};
}

/// The operations [`Db`] and [`Tx`] share, generated once for both.
macro_rules! executor_methods {
    ($($m:tt)?) => {
        pub async fn all<T: Record>(& $($m)? self, query: Query) -> DbResult<Vec<T>> {
            dispatch!(self, e, query, as T, fetch_all)
        }

        pub async fn opt<T: Record>(& $($m)? self, query: Query) -> DbResult<Option<T>> {
            dispatch!(self, e, query, as T, fetch_optional)
        }

        pub async fn one<T: Record>(& $($m)? self, query: Query) -> DbResult<T> {
            dispatch!(self, e, query, as T, fetch_one)
        }

        /// Runs a statement and returns the number of rows it changed.
        pub async fn run(& $($m)? self, query: Query) -> DbResult<u64> {
            dispatch!(self, e, query, execute)
        }

        /// A single scalar (`SELECT COUNT(*) …`, `INSERT … RETURNING id`).
        pub async fn scalar(& $($m)? self, query: Query) -> DbResult<i64> {
            Ok(self.one::<(i64,)>(query).await?.0)
        }

        /// Runs a statement over many rows (see [`Bulk`]) and returns what it returns.
        pub async fn all_bulk<T: Record>(& $($m)? self, query: Query, rows: &Bulk) -> DbResult<Vec<T>> {
            let mut found = Vec::new();
            for statement in rows.statements(&query, self.backend()) {
                found.extend(self.all::<T>(statement).await?);
            }
            Ok(found)
        }

        /// Runs a statement over many rows (see [`Bulk`]) and returns the number of rows it changed.
        pub async fn run_bulk(& $($m)? self, query: Query, rows: &Bulk) -> DbResult<u64> {
            let mut changed = 0;
            for statement in rows.statements(&query, self.backend()) {
                changed += self.run(statement).await?;
            }
            Ok(changed)
        }

        /// Whether the query returns any row (`SELECT 1 FROM … WHERE …`).
        pub async fn exists(& $($m)? self, query: Query) -> DbResult<bool> {
            let Query { sql, args } = query;
            let wrapped = Query { sql: format!("SELECT EXISTS ({sql})").into(), args };
            Ok(self.one::<(bool,)>(wrapped).await?.0)
        }
    };
}

/// PostgreSQL connection options from a URL, with one change to the libpq default: `sslmode=prefer`
/// (what an unset sslmode means) connects without TLS when the server is on this machine. TLS on
/// loopback protects nothing, and with sqlx 0.9.0 it is slow: that release stopped setting
/// `TCP_NODELAY` (launchbadge/sqlx#4335, fixed upstream after 0.9.0), and a statement bound with large
/// arrays goes out as several TLS records, the later ones held back by Nagle's algorithm until the
/// server's delayed ACK (≈ 40 ms) — the platform ingest benchmark ran at half speed. Any other sslmode
/// (`require`, `verify-full`, `disable`) is kept as given.
pub fn postgres_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url)?;
    // IPv6 hosts keep the URL's brackets.
    let host = options.get_host().trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    // No JIT: it compiles every statement above a cost threshold afresh on each run, ≈ 1–3 s for the
    // statements that read a province's million staff, which are then slower than without it, and it
    // stalls a busy server's other requests for as long.
    let options = options.options([("jit", "off")]);
    Ok(if loopback && matches!(options.get_ssl_mode(), PgSslMode::Prefer) { options.ssl_mode(PgSslMode::Disable) } else { options })
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Db::Postgres(Walled::connect(postgres_options(url)?).await?))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
            Ok(Db::Sqlite(pool))
        } else {
            anyhow::bail!("unsupported database URL (want sqlite:// or postgres://): {url}")
        }
    }

    /// Whether the connected role passes through row-level security (a PostgreSQL superuser or a
    /// BYPASSRLS role); SQLite has none to pass.
    pub async fn bypasses_row_security(&self) -> DbResult<bool> {
        match self {
            Db::Sqlite(_) => Ok(false),
            Db::Postgres(pools) => {
                let (bypasses,): (bool,) = sqlx::query_as("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
                    .fetch_one(&pools.0.unscoped)
                    .await?;
                Ok(bypasses)
            }
        }
    }

    /// One page of `SELECT <columns> <from>` under `filters` and the number of rows on every page, in
    /// one statement (a page past the end has no row to carry the count: that one is counted apart).
    pub async fn page<T: Record>(
        &self,
        filters: &Filters,
        columns: &str,
        from: &str,
        order: &str,
        page: i64,
        per_page: i64,
    ) -> DbResult<(Vec<T>, i64)> {
        let rows: Vec<Counted<T>> = self.all(filters.page_counted(columns, from, order, page, per_page)).await?;
        let total = match rows.first() {
            Some(row) => row.total_rows,
            None if page > 1 => self.scalar(filters.count(from)).await?,
            None => 0,
        };
        Ok((rows.into_iter().map(|r| r.row).collect(), total))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Connections the pool holds, and how many of them are idle (for `/metrics`).
    pub fn pool_use(&self) -> (u32, usize) {
        match self {
            Db::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Db::Postgres(pools) => pools.pools().iter().fold((0, 0), |(size, idle), p| (size + p.size(), idle + p.num_idle())),
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Db::Postgres(pools) => sqlx::migrate!("../migrations/postgres").run(&pools.0.unscoped).await?,
        }
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`) so
    /// that two writers queue on the busy timeout instead of failing halfway.
    pub async fn begin(&self) -> DbResult<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pools) => Tx::Postgres(pools.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pools) => {
                for pool in pools.pools() {
                    pool.close().await;
                }
            }
        }
    }

    executor_methods!();
}

impl Tx {
    pub async fn commit(self) -> DbResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    executor_methods!(mut);
}

/// Turns what a `match` on `&Db` or `&mut Tx` binds into an sqlx executor: what it takes a connection
/// from, held for the statement (a tenant's PostgreSQL pool is looked up per statement), then borrowed.
macro_rules! exec {
    ($e:ident) => {
        IntoExecutor::into_executor(&mut Hold::hold($e))
    };
}
use exec;

trait Hold {
    type Held;
    fn hold(self) -> Self::Held;
}

impl<'a> Hold for &'a SqlitePool {
    type Held = &'a SqlitePool;
    fn hold(self) -> Self::Held {
        self
    }
}

impl Hold for &Walled {
    type Held = PgPool;
    fn hold(self) -> Self::Held {
        self.pool()
    }
}

impl<D: sqlx::Database> Hold for &mut Transaction<'static, D> {
    type Held = Self;
    fn hold(self) -> Self::Held {
        self
    }
}

trait IntoExecutor {
    type Executor;
    fn into_executor(self) -> Self::Executor;
}

impl<'a> IntoExecutor for &mut &'a SqlitePool {
    type Executor = &'a SqlitePool;
    fn into_executor(self) -> Self::Executor {
        *self
    }
}

impl<'b> IntoExecutor for &'b mut PgPool {
    type Executor = &'b PgPool;
    fn into_executor(self) -> Self::Executor {
        self
    }
}

impl<'b> IntoExecutor for &'b mut &mut Transaction<'static, Sqlite> {
    type Executor = &'b mut sqlx::SqliteConnection;
    fn into_executor(self) -> Self::Executor {
        self
    }
}

impl<'b> IntoExecutor for &'b mut &mut Transaction<'static, Postgres> {
    type Executor = &'b mut sqlx::PgConnection;
    fn into_executor(self) -> Self::Executor {
        self
    }
}

/// Whether an error is a unique-constraint violation (a duplicate), on either backend.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_on_this_machine_goes_without_tls_unless_asked() {
        let mode = |url: &str| format!("{:?}", postgres_options(url).unwrap().get_ssl_mode());
        assert_eq!(mode("postgres://u@127.0.0.1:5432/db"), "Disable");
        assert_eq!(mode("postgres://u@localhost/db"), "Disable");
        assert_eq!(mode("postgres://u@[::1]/db?sslmode=prefer"), "Disable");
        assert_eq!(mode("postgres://u@127.0.0.1/db?sslmode=require"), "Require");
        assert_eq!(mode("postgres://u@db.example.org/db"), "Prefer");
        assert_eq!(mode("postgres://u@10.0.0.5/db?sslmode=verify-full"), "VerifyFull");
    }

    #[tokio::test]
    async fn bulk_statements_cover_every_row_once_under_sqlites_parameter_limit() {
        let path = std::env::temp_dir().join(format!("jijiao-bulk-{}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        db.run(q("CREATE TABLE t (tenant TEXT NOT NULL, n BIGINT NOT NULL, label TEXT)")).await.unwrap();
        let n = 20_000;
        let rows = Bulk::new().i64("n", 0..n).opt_text("label", (0..n).map(|i| (i % 2 == 0).then(|| format!("L{i}"))));
        let insert = q("INSERT INTO t (tenant, n, label) SELECT $1, n, label FROM {rows}").bind("a");
        // Two columns and one fixed parameter: 16,382 rows per statement.
        assert_eq!(rows.statements(&insert, Backend::Sqlite).len(), 2);
        assert_eq!(rows.statements(&insert, Backend::Postgres).len(), 1);
        assert_eq!(db.run_bulk(insert, &rows).await.unwrap(), 20_000);
        let (count, sum, labelled): (i64, i64, i64) =
            db.one(q("SELECT COUNT(*), SUM(n), COUNT(label) FROM t WHERE tenant = 'a'")).await.unwrap();
        assert_eq!((count, sum, labelled), (n, n * (n - 1) / 2, n / 2));

        let wanted = Bulk::new().i64("n", [3, 19_999, 50_000]);
        let found: Vec<(i64, Option<String>)> = db
            .all_bulk(q("SELECT n, label FROM t WHERE tenant = $1 AND n IN (SELECT n FROM {rows}) ORDER BY n").bind("a"), &wanted)
            .await
            .unwrap();
        assert_eq!(found, vec![(3, None), (19_999, None)]);
        // No rows, no statement.
        assert_eq!(db.run_bulk(q("DELETE FROM t WHERE n IN (SELECT n FROM {rows})"), &Bulk::new().i64("n", [])).await.unwrap(), 0);
        db.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
