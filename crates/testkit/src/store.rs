//! One test, either database: a throwaway PostgreSQL database or a throwaway
//! SQLite file, behind the same handle, so integration and end-to-end tests are
//! written once and run on both (`on_both_stores!`).

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use aduan_store::{Db, EventLog, PgEventLog, PgOptions, SqliteEventLog};

use crate::TestDatabase;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

pub struct TestStore {
    pub backend: Backend,
    /// What the server's DATABASE_URL is set to.
    pub url: String,
    /// The PostgreSQL database, when on PostgreSQL.
    pub pg: Option<TestDatabase>,
    dir: Option<PathBuf>,
    /// The pool the direct-SQL helpers share (opened and migrated once).
    shared: tokio::sync::OnceCell<Db>,
}

impl TestStore {
    pub async fn create(backend: Backend) -> TestStore {
        match backend {
            Backend::Postgres => Self::postgres(TestDatabase::create().await),
            Backend::Sqlite => {
                let dir = std::env::temp_dir()
                    .join(format!("aduan-sqlite-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).expect("temp dir");
                TestStore {
                    backend,
                    url: format!("sqlite://{}", dir.join("aduan.db").display()),
                    pg: None,
                    dir: Some(dir),
                    shared: Default::default(),
                }
            }
        }
    }

    /// A store kept by an earlier benchmark run (`ADUAN_BENCH_KEEP`), named by its
    /// URL; `drop_store` leaves it in place.
    pub fn existing(url: &str) -> TestStore {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        TestStore {
            backend,
            url: url.to_string(),
            pg: None,
            dir: None,
            shared: Default::default(),
        }
    }

    /// A store on a PostgreSQL database made elsewhere (for example on a private
    /// `PgCluster`).
    pub fn postgres(db: TestDatabase) -> TestStore {
        TestStore {
            backend: Backend::Postgres,
            url: db.url.clone(),
            pg: Some(db),
            dir: None,
            shared: Default::default(),
        }
    }

    /// A new connection pool on the store, migrated.
    pub async fn log(&self) -> Arc<dyn EventLog> {
        let log: Arc<dyn EventLog> = match self.backend {
            Backend::Postgres => {
                Arc::new(PgEventLog::connect(&self.url, &PgOptions::default()).expect("connect"))
            }
            Backend::Sqlite => Arc::new(
                SqliteEventLog::open(
                    std::path::Path::new(self.url.trim_start_matches("sqlite://")),
                    8,
                )
                .expect("open"),
            ),
        };
        log.migrate().await.expect("migrate");
        log
    }

    /// Waits until projectors can read every committed event (PostgreSQL's
    /// cluster-wide horizon; SQLite's readers see every commit at once).
    pub async fn settle(&self) {
        if let Some(db) = &self.pg {
            db.settle().await;
        }
    }

    /// The pool the direct-SQL helpers below share: a pool of the test's own
    /// on the store's database (migrated first), beside the server's.
    pub async fn db(&self) -> Db {
        self.shared
            .get_or_init(|| async {
                self.log().await;
                self.open_pool()
            })
            .await
            .clone()
    }

    fn open_pool(&self) -> Db {
        match self.backend {
            Backend::Postgres => Db::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect_lazy(&self.url)
                    .expect("PostgreSQL URL"),
            ),
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
                    .expect("SQLite URL")
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .foreign_keys(true);
                Db::Sqlite(
                    sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(4)
                        .connect_lazy_with(options),
                )
            }
        }
    }

    /// Runs one SQL statement directly on the database (bypassing the server).
    pub async fn exec(&self, sql: &str) -> Result<u64, String> {
        match self.db().await {
            Db::Postgres(pool) => sqlx::query(sql)
                .execute(&pool)
                .await
                .map(|r| r.rows_affected()),
            Db::Sqlite(pool) => sqlx::query(sql)
                .execute(&pool)
                .await
                .map(|r| r.rows_affected()),
        }
        .map_err(|e| e.to_string())
    }

    /// The integer a query returns.
    pub async fn scalar(&self, sql: &str) -> i64 {
        match self.db().await {
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(&pool).await,
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(&pool).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The text a query returns.
    pub async fn text(&self, sql: &str) -> String {
        match self.db().await {
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(&pool).await,
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(&pool).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The texts a one-column query returns.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        match self.db().await {
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(&pool).await,
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(&pool).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every row of `table` as text, in `order` (to compare tables row for row).
    pub async fn rows_as_text(&self, table: &str, order: &str) -> Vec<String> {
        self.rows_as_text_except(table, order, &[]).await
    }

    /// `rows_as_text` without the columns `except`.
    pub async fn rows_as_text_except(
        &self,
        table: &str,
        order: &str,
        except: &[&str],
    ) -> Vec<String> {
        match self.db().await {
            Db::Postgres(pool) => {
                let removed: String = except.iter().map(|c| format!(" - '{c}'")).collect();
                sqlx::query_scalar(&format!(
                    "SELECT (to_jsonb(t){removed})::text FROM {table} t ORDER BY {order}"
                ))
                .fetch_all(&pool)
                .await
            }
            Db::Sqlite(pool) => {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                        .bind(table)
                        .fetch_all(&pool)
                        .await
                        .expect("columns");
                let columns: Vec<String> = columns
                    .into_iter()
                    .filter(|c| !except.contains(&c.as_str()))
                    .collect();
                sqlx::query_scalar(&format!(
                    "SELECT json_array({}) FROM {table} ORDER BY {order}",
                    columns.join(", ")
                ))
                .fetch_all(&pool)
                .await
            }
        }
        .unwrap_or_else(|e| panic!("rows of {table}: {e}"))
    }

    pub async fn drop_store(self) {
        if let Some(db) = self.pg {
            db.drop_db().await;
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Runs each `async fn name(backend: Backend)` as two tests, `name::postgres` and
/// `name::sqlite`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$name($crate::store::Backend::Postgres).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name($crate::store::Backend::Sqlite).await
                }
            }
        )+
    };
}
