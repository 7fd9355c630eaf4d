//! `backup` and `restore`: copies of the bookings database that can be put
//! back, taken while the server runs.
//!
//! **Why**: the database holds clients' names, emails and phone numbers and
//! is the only record of who booked what. Copying the file is not enough (the
//! latest bookings may still be in the `-wal` file beside it, and a copy made
//! during a write is torn), so a backup is SQLite's own `VACUUM INTO`: one
//! read transaction, so a consistent snapshot, written to a new file while
//! the server goes on taking bookings.
//!
//! **A backup** is `practice-<UTC time>.db` (`.db.age` when encrypted) in
//! its folder, written under a temporary name and renamed, so a half-written
//! file never carries a backup's name; the folder is made 0700 and each file
//! is 0600. Only the newest `keep` files of that exact naming are kept; no
//! other file in the folder is touched. With an age recipient (`age1…`, a
//! public key) the copy is encrypted before it reaches the folder, so the
//! folder can be sent off-site; the plain snapshot exists only for a moment
//! beside the database, where the same data already is.
//!
//! **A restore** decrypts (with the identity file, the private key) into a
//! temporary file beside the database, checks it (`PRAGMA integrity_check`
//! and the site's tables), and only then renames the current database (and
//! its `-wal` and `-shm`) aside as `<name>.before-restore-<time>` and the
//! checked copy into its place. It refuses while a server uses the database:
//! `serve` holds an exclusive lock on `<database>.lock` for as long as it
//! runs ([`DatabaseLock`]), and a restore takes the same lock. SQLite's own
//! locks cannot tell: in WAL mode an idle server holds no lock a writer
//! would meet, and its pool may have closed every connection.
//!
//! Every error is one sentence for the therapist ([`BackupError`]'s
//! `Display`), never a panic.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::ConnectOptions as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

/// How many backups `backup` keeps when not told.
pub const DEFAULT_KEEP: u16 = 14;

/// Every backup's name starts with this.
const PREFIX: &str = "practice-";
/// The time in a backup's name (UTC), which also sorts the names by age.
const STAMP: &str = "%Y-%m-%dT%H%M%SZ";
/// The first bytes of every age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// Tables a bookings database has (see `migrations/`).
const TABLES: [&str; 5] = [
    "consultations",
    "outbox",
    "admin_sessions",
    "settings",
    "_sqlx_migrations",
];

/// What went wrong, as one sentence for the therapist.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no database at {0}; give the right file with --database or DATABASE_URL")]
    NoDatabase(PathBuf),
    #[error("cannot read the database {path} ({reason}); check --database and its permissions")]
    ReadDatabase { path: PathBuf, reason: String },
    #[error(
        "cannot write backups to {path} ({source}); check that the folder exists or can be created, and that this user may write to it"
    )]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0:?} is not an age public key; it starts with age1 (give it with --recipient or BACKUP_RECIPIENT)"
    )]
    Recipient(String),
    #[error("cannot encrypt the backup ({0})")]
    Encrypt(String),
    #[error("cannot read {path} ({source})")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is encrypted; give the key that opens it with --identity FILE")]
    NeedsIdentity(PathBuf),
    #[error(
        "cannot read the key {path} ({reason}); give the age identity file (AGE-SECRET-KEY-1…) with --identity"
    )]
    Identity { path: PathBuf, reason: String },
    #[error("the key {identity} does not open {file}: it was encrypted for another key")]
    WrongKey { file: PathBuf, identity: PathBuf },
    #[error("{0} is not a backup of the bookings database, or it is damaged")]
    NotABackup(PathBuf),
    #[error("{path} is damaged ({reason}); restore an older backup")]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "the database {0} is in use by a running server (or another restore); stop the server, then restore"
    )]
    InUse(PathBuf),
    #[error(
        "cannot write beside the database {path} ({source}); check that its folder is writable"
    )]
    Replace {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Takes a backup of `database` into `dir` and prunes `dir` to the newest
/// `keep` backups (at least one: the one just written). Encrypts it to
/// `recipient` (an `age1…` public key) when given. Returns the new file.
pub async fn backup(
    database: &Path,
    dir: &Path,
    keep: usize,
    recipient: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PathBuf, BackupError> {
    let recipient = recipient
        .map(|text| {
            age::x25519::Recipient::from_str(text.trim())
                .map_err(|_| BackupError::Recipient(text.to_string()))
        })
        .transpose()?;
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database.to_path_buf()));
    }
    create_private_dir(dir)?;
    let name = format!(
        "{PREFIX}{}.db{}",
        now.format(STAMP),
        if recipient.is_some() { ".age" } else { "" }
    );
    let target = dir.join(&name);
    let folder = |source| BackupError::Folder {
        path: dir.to_path_buf(),
        source,
    };
    let pid = std::process::id();
    match recipient {
        None => {
            let temporary = dir.join(format!(".{name}.tmp-{pid}"));
            let written = snapshot(database, &temporary).await;
            if let Err(err) = written {
                let _ = std::fs::remove_file(&temporary);
                return Err(err);
            }
            std::fs::rename(&temporary, &target).map_err(folder)?;
        }
        Some(recipient) => {
            // The plain snapshot stays beside the database, never in the
            // folder meant to leave the machine.
            let plain = sibling(database, &format!(".backup-tmp-{pid}"));
            let temporary = dir.join(format!(".{name}.tmp-{pid}"));
            let written = async {
                snapshot(database, &plain).await?;
                encrypt(&plain, &temporary, &recipient, dir)
            }
            .await;
            let _ = std::fs::remove_file(&plain);
            if let Err(err) = written {
                let _ = std::fs::remove_file(&temporary);
                return Err(err);
            }
            std::fs::rename(&temporary, &target).map_err(folder)?;
        }
    }
    sync_dir(dir);
    prune(dir, keep.max(1)).map_err(folder)?;
    Ok(target)
}

/// The backups in `dir`, oldest first: only names `backup` writes.
pub fn backups_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_backup_name(name))
        .collect();
    names.sort();
    Ok(names.into_iter().map(|name| dir.join(name)).collect())
}

/// `practice-2026-12-03T210455Z.db` or `….db.age`, with a real time.
fn is_backup_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX) else {
        return false;
    };
    let Some(stamp) = rest
        .strip_suffix(".db.age")
        .or_else(|| rest.strip_suffix(".db"))
    else {
        return false;
    };
    stamp.len() == "2026-12-03T210455Z".len() && NaiveDateTime::parse_from_str(stamp, STAMP).is_ok()
}

/// Deletes all but the newest `keep` backups in `dir`.
fn prune(dir: &Path, keep: usize) -> std::io::Result<()> {
    let backups = backups_in(dir)?;
    let excess = backups.len().saturating_sub(keep);
    for old in &backups[..excess] {
        std::fs::remove_file(old)?;
    }
    Ok(())
}

/// `VACUUM INTO` a new, owner-only file, then checks what was written.
async fn snapshot(database: &Path, into: &Path) -> Result<(), BackupError> {
    let cannot_read = |err: sqlx::Error| BackupError::ReadDatabase {
        path: database.to_path_buf(),
        reason: sqlite_reason(&err),
    };
    // VACUUM INTO accepts an empty file: made first, so it is never readable
    // by others.
    create_private(into).map_err(|source| match into.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => BackupError::Folder {
            path: parent.to_path_buf(),
            source,
        },
        _ => BackupError::Folder {
            path: into.to_path_buf(),
            source,
        },
    })?;
    let mut source = connect(database).await.map_err(cannot_read)?;
    let target = into.to_str().ok_or_else(|| BackupError::Folder {
        path: into.to_path_buf(),
        source: std::io::Error::other("the path is not valid UTF-8"),
    })?;
    let vacuumed = sqlx::query("VACUUM INTO ?1")
        .bind(target)
        .execute(&mut source)
        .await;
    let _ = sqlx::Connection::close(source).await;
    vacuumed.map_err(cannot_read)?;
    verify(into).await?;
    File::open(into)
        .and_then(|file| file.sync_all())
        .map_err(|source| BackupError::Folder {
            path: into.to_path_buf(),
            source,
        })
}

/// Encrypts `plain` to `recipient` into `into` (owner-only, synced).
fn encrypt(
    plain: &Path,
    into: &Path,
    recipient: &age::x25519::Recipient,
    dir: &Path,
) -> Result<(), BackupError> {
    let folder = |source| BackupError::Folder {
        path: dir.to_path_buf(),
        source,
    };
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .map_err(|err| BackupError::Encrypt(err.to_string()))?;
    let file = create_private(into).map_err(folder)?;
    let mut input = File::open(plain).map_err(|source| BackupError::ReadFile {
        path: plain.to_path_buf(),
        source,
    })?;
    let mut writer = encryptor.wrap_output(&file).map_err(folder)?;
    std::io::copy(&mut input, &mut writer).map_err(folder)?;
    writer.finish().map_err(folder)?;
    file.sync_all().map_err(folder)
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// Where the database that was replaced now is, if there was one.
    pub kept_aside: Option<PathBuf>,
}

/// Puts the backup `file` back as `database`, decrypting it with the
/// identity file `identity` when it is encrypted. Refuses while a server
/// uses `database`; checks the backup before anything is replaced.
pub async fn restore(
    file: &Path,
    database: &Path,
    identity: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<Restored, BackupError> {
    let mut head = Vec::new();
    File::open(file)
        .and_then(|f| f.take(AGE_MAGIC.len() as u64).read_to_end(&mut head))
        .map_err(|source| BackupError::ReadFile {
            path: file.to_path_buf(),
            source,
        })?;
    let encrypted = head == AGE_MAGIC;
    let identities = match (encrypted, identity) {
        (true, None) => return Err(BackupError::NeedsIdentity(file.to_path_buf())),
        (true, Some(path)) => Some(read_identities(path)?),
        (false, _) => None,
    };
    // Held until the end: no server starts on a half-restored database.
    let _lock = DatabaseLock::take(database)?;
    let replace_error = |source| BackupError::Replace {
        path: database.to_path_buf(),
        source,
    };
    let temporary = sibling(database, &format!(".restore-tmp-{}", std::process::id()));
    let prepared = async {
        let mut output = create_private(&temporary).map_err(replace_error)?;
        let mut input = File::open(file).map_err(|source| BackupError::ReadFile {
            path: file.to_path_buf(),
            source,
        })?;
        match (identities, identity) {
            (Some(identities), Some(identity)) => {
                let decryptor = age::Decryptor::new_buffered(BufReader::new(input))
                    .map_err(|_| BackupError::NotABackup(file.to_path_buf()))?;
                let mut reader = decryptor
                    .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
                    .map_err(|err| match err {
                        age::DecryptError::NoMatchingKeys => BackupError::WrongKey {
                            file: file.to_path_buf(),
                            identity: identity.to_path_buf(),
                        },
                        _ => BackupError::NotABackup(file.to_path_buf()),
                    })?;
                std::io::copy(&mut reader, &mut output).map_err(|source| match source.kind() {
                    std::io::ErrorKind::InvalidData => BackupError::NotABackup(file.to_path_buf()),
                    _ => replace_error(source),
                })?;
            }
            _ => {
                std::io::copy(&mut input, &mut output).map_err(replace_error)?;
            }
        }
        output
            .flush()
            .and_then(|()| output.sync_all())
            .map_err(replace_error)?;
        drop(output);
        verify(&temporary).await.map_err(|err| match err {
            BackupError::NotABackup(_) => BackupError::NotABackup(file.to_path_buf()),
            BackupError::Damaged { reason, .. } => BackupError::Damaged {
                path: file.to_path_buf(),
                reason,
            },
            other => other,
        })
    }
    .await;
    if let Err(err) = prepared {
        remove_with_wal(&temporary);
        return Err(err);
    }
    remove_wal_files(&temporary);
    let kept_aside = if database.exists() {
        let aside = sibling(database, &format!(".before-restore-{}", now.format(STAMP)));
        // The -wal may hold bookings not yet in the file: it goes aside
        // with it (and must not be replayed onto the restored copy).
        for suffix in ["", "-wal", "-shm"] {
            let from = sibling(database, suffix);
            if from.exists() {
                std::fs::rename(&from, sibling(&aside, suffix)).map_err(replace_error)?;
            }
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&temporary, database).map_err(replace_error)?;
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent);
    }
    Ok(Restored { kept_aside })
}

fn read_identities(path: &Path) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, BackupError> {
    let problem = |reason: String| BackupError::Identity {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|err| problem(err.to_string()))?;
    let identities = age::IdentityFile::from_buffer(BufReader::new(file))
        .map_err(|err| problem(err.to_string()))?
        .into_identities()
        .map_err(|err| problem(err.to_string()))?;
    if identities.is_empty() {
        return Err(problem("it holds no age key".to_string()));
    }
    Ok(identities)
}

/// Opens `path` (which must exist) and checks that it is a whole bookings
/// database.
async fn verify(path: &Path) -> Result<(), BackupError> {
    let not_a_backup = || BackupError::NotABackup(path.to_path_buf());
    let mut connection = connect(path).await.map_err(|_| not_a_backup())?;
    let checked = async {
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_schema WHERE type = 'table'")
                .fetch_all(&mut connection)
                .await
                .map_err(|err| classify(path, &err))?;
        if !TABLES.iter().all(|t| tables.iter().any(|n| n == t)) {
            return Err(not_a_backup());
        }
        let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut connection)
            .await
            .map_err(|err| classify(path, &err))?;
        if report != ["ok"] {
            return Err(BackupError::Damaged {
                path: path.to_path_buf(),
                reason: report.first().cloned().unwrap_or_default(),
            });
        }
        Ok(())
    }
    .await;
    let _ = sqlx::Connection::close(connection).await;
    checked
}

fn classify(path: &Path, err: &sqlx::Error) -> BackupError {
    match err {
        // SQLITE_CORRUPT
        sqlx::Error::Database(db) if db.code().as_deref() == Some("11") => BackupError::Damaged {
            path: path.to_path_buf(),
            reason: db.message().to_string(),
        },
        _ => BackupError::NotABackup(path.to_path_buf()),
    }
}

/// One connection to an existing file; nothing is created.
async fn connect(path: &Path) -> Result<SqliteConnection, sqlx::Error> {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
}

fn sqlite_reason(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// The exclusive lock `serve` holds on `<database>.lock` while it runs, and
/// a restore holds while it replaces the file. An operating-system lock
/// (`flock`), so it ends with the process however that ends; the file
/// itself stays and means nothing.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

impl DatabaseLock {
    /// Takes the lock, or says that the database is in use.
    pub fn take(database: &Path) -> Result<Self, BackupError> {
        let path = sibling(database, ".lock");
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(|source| BackupError::Replace {
            path: database.to_path_buf(),
            source,
        })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(BackupError::InUse(database.to_path_buf()))
            }
            Err(std::fs::TryLockError::Error(source)) => Err(BackupError::Replace {
                path: database.to_path_buf(),
                source,
            }),
        }
    }
}

/// `path` with `suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_wal_files(path: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
}

fn remove_with_wal(path: &Path) {
    let _ = std::fs::remove_file(path);
    remove_wal_files(path);
}

/// A new file only its owner can read.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes `dir` (0700) with its parents if it is missing.
fn create_private_dir(dir: &Path) -> Result<(), BackupError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| BackupError::Folder {
        path: dir.to_path_buf(),
        source,
    })
}

/// Makes a rename in `dir` durable (best effort: not every system can).
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_its_own_names_are_backups() {
        assert!(is_backup_name("practice-2026-12-03T210455Z.db"));
        assert!(is_backup_name("practice-2026-12-03T210455Z.db.age"));
        for other in [
            "practice.db",
            "practice-2026-12-03T210455Z.db.tmp",
            ".practice-2026-12-03T210455Z.db.tmp-12",
            "practice-2026-13-03T210455Z.db",
            "practice-notes.db",
            "practice-2026-12-03T210455Z.sqlite",
            "x-practice-2026-12-03T210455Z.db",
        ] {
            assert!(!is_backup_name(other), "{other}");
        }
    }
}
