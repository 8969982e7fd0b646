//! The migrations embedded in the binary, one list per backend.
//!
//! sqlx's `migrate!` macro would read the same directories at compile time, but it is the only
//! reason to build sqlx's macro crate, which compiles a second copy of sqlx, its PostgreSQL and
//! SQLite drivers, SQLite's C source and rustls for the compiler (about a minute of a fresh
//! build on two cores). The list below is built the way the macro builds it: the version (given
//! beside each file name), the description from the file name after the first `_` with `_`
//! read as a space, the SHA-384 checksum of the file's text (the one recorded in `_sqlx_migrations`), and "no
//! transaction" when the file starts with `-- no-transaction`. A test compares the list with
//! the directories, so a migration file that is not listed here fails the build's tests.

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::AssertSqlSafe;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// Embeds `migrations/<dir>/<file>` for each version and file name given.
macro_rules! embed {
    ($dir:literal: $($version:literal $file:literal),+ $(,)?) => {
        &[$(($version, $file, include_str!(concat!("../../migrations/", $dir, "/", $file)))),+]
    };
}

const SQLITE: &[(i64, &str, &str)] = embed!("sqlite":
    1 "0001_initial.sql",
    2 "0002_review.sql",
    3 "0003_webhook.sql",
    4 "0004_additive_keyring_statements.sql",
    5 "0005_additive_item_signatures.sql",
    6 "0006_additive_decision_signatures.sql",
    7 "0007_additive_request_signatures.sql",
    8 "0008_additive_audit_proofs.sql",
    9 "0009_additive_reshare_parts.sql",
    10 "0010_additive_item_positions.sql",
);

const POSTGRES: &[(i64, &str, &str)] = embed!("postgres":
    1 "0001_initial.sql",
    2 "0002_review.sql",
    3 "0003_webhook.sql",
    4 "0004_additive_keyring_statements.sql",
    5 "0005_additive_item_signatures.sql",
    6 "0006_additive_decision_signatures.sql",
    7 "0007_additive_request_signatures.sql",
    8 "0008_additive_audit_proofs.sql",
    9 "0009_additive_reshare_parts.sql",
    10 "0010_additive_item_positions.sql",
);

pub(super) static SQLITE_MIGRATIONS: LazyLock<Migrator> = LazyLock::new(|| migrator(SQLITE));
pub(super) static POSTGRES_MIGRATIONS: LazyLock<Migrator> = LazyLock::new(|| migrator(POSTGRES));

fn migrator(files: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    let mut migrations: Vec<Migration> = files
        .iter()
        .map(|&(version, name, sql)| migration(version, name, sql))
        .collect();
    migrations.sort();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

fn migration(version: i64, file_name: &'static str, sql: &'static str) -> Migration {
    let description = file_name
        .split_once('_')
        .map_or(file_name, |(_, rest)| rest)
        .trim_end_matches(".sql")
        .replace('_', " ");
    Migration::new(
        version,
        Cow::Owned(description),
        MigrationType::Simple,
        AssertSqlSafe(sql).into_sql_str(),
        sql.starts_with("-- no-transaction"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migrations as sqlx resolves a directory (what `migrate!` embedded before this list).
    fn resolved_by_sqlx(dir: &str) -> Vec<Migration> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        sqlx::migrate::resolve_blocking(&path)
            .expect("the migrations directory resolves")
            .into_iter()
            .map(|(migration, _)| migration)
            .collect()
    }

    #[test]
    fn the_embedded_migrations_are_the_directories_as_sqlx_reads_them() {
        for (dir, migrator) in [
            ("sqlite", &SQLITE_MIGRATIONS),
            ("postgres", &POSTGRES_MIGRATIONS),
        ] {
            let ours = &migrator.migrations;
            let theirs = resolved_by_sqlx(dir);
            assert_eq!(
                ours.len(),
                theirs.len(),
                "src/store/migrations.rs lists every file of migrations/{dir}"
            );
            for (a, b) in ours.iter().zip(&theirs) {
                assert_eq!(a.version, b.version, "{dir}");
                assert_eq!(a.description, b.description, "{dir} {}", b.version);
                assert_eq!(a.migration_type, b.migration_type, "{dir} {}", b.version);
                assert_eq!(a.checksum, b.checksum, "{dir} {}", b.version);
                assert_eq!(a.no_tx, b.no_tx, "{dir} {}", b.version);
                assert_eq!(a.sql.as_str(), b.sql.as_str(), "{dir} {}", b.version);
            }
        }
    }
}
