use sqlx::{Connection, PgConnection};

/// Where the tests find a PostgreSQL server they may create databases on.
pub fn admin_url() -> String {
    std::env::var("ADUAN_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database created for one test and dropped by `drop_db` (leftovers from
/// crashed runs are swept by `scripts/test`).
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    admin: String,
}

pub async fn admin_connection(admin: &str) -> PgConnection {
    match PgConnection::connect(admin).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "\n\nPostgreSQL is not reachable at {admin}: {e}\n\
             The tests need a real PostgreSQL. Start it with `scripts/ensure-postgres` \
             (it starts or installs one), or point ADUAN_TEST_DATABASE_URL at a server \
             where this user may CREATE DATABASE.\n"
        ),
    }
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        Self::create_on(&admin_url()).await
    }

    /// A database on the server `admin` connects to (for example a private
    /// `PgCluster`'s).
    pub async fn create_on(admin: &str) -> TestDatabase {
        let admin = admin.to_string();
        let mut conn = admin_connection(&admin).await;
        let name = format!("aduan_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = replace_database(&admin, &name);
        TestDatabase { name, url, admin }
    }

    /// Runs SQL as the admin user (for example to cut the server off its database).
    pub async fn admin_exec(&self, sql: &str) {
        let mut conn = admin_connection(&self.admin).await;
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("admin SQL failed: {sql}: {e}"));
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.name))
    }

    /// Waits until every event in this database lies below the cluster-wide
    /// transaction horizon, so projectors can read all of it. Other tests' open
    /// transactions (in any database) hold the horizon back for a moment; once
    /// passed, it never moves back.
    pub async fn settle(&self) {
        let mut conn = self.connect().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let held: i64 =
                sqlx::query_scalar("SELECT count(*) FROM events WHERE tx_id >= events_horizon()")
                    .fetch_one(&mut conn)
                    .await
                    .expect("count events above the horizon");
            if held == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{held} events stayed above the transaction horizon for 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub async fn drop_db(self) {
        let mut conn = admin_connection(&self.admin).await;
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await;
    }
}

/// The same server URL with another database name (query string kept).
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{database}{query}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::replace_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
