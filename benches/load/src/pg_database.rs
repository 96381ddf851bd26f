//! A throwaway database per PostgreSQL scenario, on the bench's server.

use anyhow::Context;

/// A fresh, empty database on the PostgreSQL server at `base`, dropped with the guard.
pub struct PgDatabase {
    base: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl PgDatabase {
    /// Creates it, dropping a leftover of the same name first.
    pub async fn create(base: &str) -> anyhow::Result<Self> {
        use sqlx::Connection;
        let name = format!("herald_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(base)
            .await
            .with_context(|| format!("connecting to {base}"))?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        let (prefix, _) = base
            .rsplit_once('/')
            .context("a database URL ends in /name")?;
        let url = format!("{prefix}/{name}");
        Ok(Self {
            base: base.to_owned(),
            name,
            url,
        })
    }

    /// Drops it, whoever is still connected.
    pub async fn drop_now(self) {
        use sqlx::Connection;
        if let Ok(mut admin) = sqlx::PgConnection::connect(&self.base).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await;
        }
    }
}
