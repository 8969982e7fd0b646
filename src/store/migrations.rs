//! The migrations embedded in the binary: one list of file names, each read from both backends'
//! directories.
//!
//! sqlx's `migrate!` macro would read the same directories at compile time, but it is the only
//! reason to build sqlx's macro crate, which compiles a second copy of sqlx, its PostgreSQL and
//! SQLite drivers, SQLite's C source and rustls for the compiler (about a minute of a fresh
//! build on two cores). The list below is built the way the macro builds it: the version from
//! the digits before the file name's first `_`, the description from the rest with `_` read as
//! a space, the SHA-384 checksum of the file's text (the one recorded in `_sqlx_migrations`),
//! and "no transaction" when the file starts with `-- no-transaction`. A test compares the list
//! with the directories, so a migration file that is not listed here fails the build's tests.

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::AssertSqlSafe;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// One entry per migration: its file name and its text for SQLite and for PostgreSQL (the two
/// directories hold the same file names, kept in step).
macro_rules! embed {
    ($($file:literal),+ $(,)?) => {
        &[$((
            $file,
            include_str!(concat!("../../migrations/sqlite/", $file)),
            include_str!(concat!("../../migrations/postgres/", $file)),
        )),+]
    };
}

const FILES: &[(&str, &str, &str)] = embed!(
    "0001_initial.sql",
    "0002_review.sql",
    "0003_webhook.sql",
    "0004_additive_keyring_statements.sql",
    "0005_additive_item_signatures.sql",
    "0006_additive_decision_signatures.sql",
    "0007_additive_request_signatures.sql",
    "0008_additive_audit_proofs.sql",
    "0009_additive_reshare_parts.sql",
    "0010_additive_item_positions.sql",
    "0011_additive_claim_index.sql",
    "0012_case_keys.sql",
);

pub(super) static SQLITE_MIGRATIONS: LazyLock<Migrator> =
    LazyLock::new(|| migrator(|&(name, sqlite, _)| migration(name, sqlite)));
pub(super) static POSTGRES_MIGRATIONS: LazyLock<Migrator> =
    LazyLock::new(|| migrator(|&(name, _, postgres)| migration(name, postgres)));

fn migrator(one: fn(&(&'static str, &'static str, &'static str)) -> Migration) -> Migrator {
    let mut migrations: Vec<Migration> = FILES.iter().map(one).collect();
    migrations.sort();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// The version: the digits before the first `_` of the file name.
const fn version(file_name: &str) -> i64 {
    let bytes = file_name.as_bytes();
    let mut version = 0;
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        version = version * 10 + (bytes[i] - b'0') as i64;
        i += 1;
    }
    version
}

fn migration(file_name: &'static str, sql: &'static str) -> Migration {
    let description = file_name
        .split_once('_')
        .map_or(file_name, |(_, rest)| rest)
        .trim_end_matches(".sql")
        .replace('_', " ");
    Migration::new(
        version(file_name),
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
