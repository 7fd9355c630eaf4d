//! The database a test's bookings live in. The booking, admin, outbox,
//! reminder and purge tests run once on SQLite (the default) and once on
//! PostgreSQL (`TEST_STORE=postgres`, as `scripts/test` does): the same
//! tests, each on a fresh database.
//!
//! PostgreSQL comes from Debian's `postgresql` package; no server needs to
//! be running. A [`Cluster`] is made with `initdb` in a temporary folder and
//! started with `pg_ctl` on a loopback port, as the `postgres` user when the
//! tests run as root (PostgreSQL refuses root). The suite's cluster lives as
//! long as the test process: a watchdog stops it and removes its folder
//! once the process has gone, however it ended.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use practice_site::booking::store::{Database, SqlStore};

/// Whether this run's bookings are on PostgreSQL (`TEST_STORE=postgres`).
pub fn on_postgres() -> bool {
    match std::env::var("TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("TEST_STORE={other}: use sqlite or postgres"),
    }
}

/// A fresh, empty database for one test, of this run's kind.
pub fn fresh_database() -> Database {
    if on_postgres() {
        shared_cluster().fresh_database()
    } else {
        Database::Sqlite(super::fresh_database_path())
    }
}

/// The starts of the booked consultations in `database`, read as another
/// process would (for tests of a server run as its own process).
pub fn booked_starts(database: &Database) -> Vec<i64> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqlStore::open_lazy(database).unwrap();
        let rows =
            sqlx::query_scalar("SELECT starts_at FROM consultations WHERE status = 'booked'")
                .fetch_all(store.pool())
                .await
                .unwrap();
        store.pool().close().await;
        rows
    })
}

/// The suite's cluster: started on first use, stopped after the process.
pub fn shared_cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let mut cluster = Cluster::start();
        cluster.stop_when_process_ends(std::process::id());
        cluster
    })
}

/// A PostgreSQL cluster of its own, on a loopback port; stopped and removed
/// when dropped.
pub struct Cluster {
    folder: PathBuf,
    bin: PathBuf,
    pub port: u16,
    /// Set once a watchdog owns the cluster's end.
    watched: bool,
}

impl Cluster {
    pub fn start() -> Self {
        let bin = postgres_bin();
        let folder = std::env::temp_dir().join(format!(
            "practice-site-pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&folder).unwrap();
        if as_root() {
            std::os::unix::fs::chown(&folder, Some(postgres_uid()), None).unwrap();
        }
        let data = folder.join("data");
        run(Self::as_owner(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]));
        // A port the system just gave out; another cluster taking it between
        // here and the start is retried with a new one.
        for _ in 0..5 {
            let port = free_port();
            let started = Self::as_owner(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(folder.join("server.log"))
                .arg("-o")
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                    folder.display()
                ))
                .args(["-w", "-t", "60", "start"])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            if started.success() {
                return Self {
                    folder,
                    bin,
                    port,
                    watched: false,
                };
            }
        }
        let log = std::fs::read_to_string(folder.join("server.log")).unwrap_or_default();
        panic!("PostgreSQL did not start:\n{log}");
    }

    /// The URL of database `name` in this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new, empty database and returns it.
    pub fn fresh_database(&self) -> Database {
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::SeqCst));
        run(Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg(&name));
        Database::Postgres(self.url(&name))
    }

    /// Leaves stopping the cluster to a small shell that waits for process
    /// `pid` to end, for a cluster that nothing will drop.
    fn stop_when_process_ends(&mut self, pid: u32) {
        let stop = self.stop_command();
        // Started in the background by a shell that ends at once, so the
        // watchdog outlives this process and nothing is left to wait for.
        let script = format!(
            "(while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}; rm -rf '{}') >/dev/null 2>&1 &",
            self.folder.display()
        );
        let started = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert!(started.success(), "the cluster's watchdog did not start");
        self.watched = true;
    }

    fn stop_command(&self) -> String {
        let pg_ctl = format!(
            "{} -D '{}' -m immediate -w stop",
            self.bin.join("pg_ctl").display(),
            self.folder.join("data").display()
        );
        if as_root() {
            format!("runuser -u postgres -- {pg_ctl}")
        } else {
            pg_ctl
        }
    }

    /// `program`, run as the cluster's owner.
    fn as_owner(program: &Path) -> Command {
        if as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.watched {
            let _ = Command::new("sh")
                .args(["-c", &self.stop_command()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = std::fs::remove_dir_all(&self.folder);
        }
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The newest installed PostgreSQL's programs (Debian keeps them off PATH).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed: `apt-get install postgresql` (scripts/test does it), or run without TEST_STORE=postgres"
        )
    })
}

fn as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| user_id(None) == 0)
}

fn postgres_uid() -> u32 {
    user_id(Some("postgres"))
}

/// `id -u [user]`.
fn user_id(user: Option<&str>) -> u32 {
    let output = Command::new("id").arg("-u").args(user).output().unwrap();
    assert!(output.status.success(), "`id -u {user:?}` failed");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(command: &mut Command) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
