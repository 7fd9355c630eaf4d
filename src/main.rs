//! `practice-site`: serve the site, check the content, start an article,
//! export the site, hash the admin password, back up and restore the
//! bookings, or set up publishing by `git push`.

use std::io::{BufRead as _, IsTerminal as _};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use practice_site::backup::{BackupError, DatabaseLock};
use practice_site::booking::settings::Secrets;
use practice_site::booking::store::{Database, SessionStore, SqlStore, StoreError};
use practice_site::booking::{Booking, Workers, admin, tokens};
use practice_site::check::{self, CheckError};
use practice_site::config::SiteConfig;
use practice_site::last_good::LastGood;
use practice_site::live::{Reloader, SystemClock};
use practice_site::publish::{self, PublishError};
use practice_site::site::{BuildError, BuildOptions, Site, Sources};
use practice_site::{AppState, PreparedFirst, server};
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("PRACTICE_SITE_COMMIT"), ")"),
    about = "The practice's website: serve it, or check the content."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// The Markdown content (blog/ and pages/).
    #[arg(long, global = true, default_value = "content")]
    content: PathBuf,

    /// The static files (CSS, images).
    #[arg(long = "static", global = true, default_value = "static")]
    static_dir: PathBuf,

    /// The practice's settings.
    #[arg(long, global = true, default_value = "content/site.toml")]
    config: PathBuf,

    /// Port to listen on.
    #[arg(long, global = true, env = "PORT", default_value_t = 3000)]
    port: u16,

    /// Address to listen on; 127.0.0.1 keeps the site private to this machine.
    #[arg(long, global = true, env = "HOST", default_value = "127.0.0.1")]
    host: IpAddr,

    /// Where bookings are kept: a SQLite file (a path or a sqlite: URL),
    /// created on first run, or a postgres:// URL for several servers.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "practice.db"
    )]
    database: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default). It rebuilds itself when a file changes
    /// or a scheduled article's day comes.
    Serve {
        /// The therapist's preview: drafts and scheduled articles shown, pages
        /// reload by themselves after a save, problems listed on every page.
        #[arg(long)]
        preview: bool,
    },
    /// Check every settings and content file and list every problem.
    Check {
        /// Also list everything between this folder and a real launch:
        /// sample facts, the licence, the notices, unreviewed health pages,
        /// the admin password, mail (it connects and logs in, sending
        /// nothing) and the database's folder. Exits 0 only when none blocks.
        #[arg(long)]
        launch: bool,
    },
    /// Start a new article: writes content/blog/<slug>.md as a draft with its
    /// front matter filled in, and prints its path.
    New {
        /// The article's title, in quotes.
        title: String,
    },
    /// Read a password from standard input and print its argon2 hash, for
    /// ADMIN_PASSWORD_HASH.
    HashPassword,
    /// Send one test email to ADDRESS with the mail settings in the
    /// environment, now: proof that booking mail will arrive.
    SendTestEmail {
        /// Where to send it (your own address).
        address: String,
    },
    /// Write a consistent copy of the bookings database to a folder, while
    /// the server runs: practice-<time>.db, or .db.age when encrypted.
    Backup {
        /// The folder of backups; created (owner-only) if missing.
        dir: PathBuf,
        /// How many of its backups to keep in the folder (the newest).
        #[arg(long, default_value_t = practice_site::backup::DEFAULT_KEEP,
              value_parser = clap::value_parser!(u16).range(1..))]
        keep: u16,
        /// Encrypt the backup to this age public key (age1…), for copies
        /// kept off this machine.
        #[arg(long, env = "BACKUP_RECIPIENT")]
        recipient: Option<String>,
    },
    /// Put a backup back as the database (--database). Refuses while the
    /// server runs; keeps the replaced database as <name>.before-restore-<time>.
    Restore {
        /// The backup file (practice-<time>.db or .db.age).
        file: PathBuf,
        /// The age identity file (AGE-SECRET-KEY-1…) that opens an
        /// encrypted backup.
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Make the repository on this server that the therapist publishes to
    /// with `git push`: each push to main is checked like `check`, refused
    /// with its problems listed, or published at once. Run it again if the
    /// folders change.
    PublishSetup {
        /// Where to make the bare repository (e.g. /srv/practice-site/site.git).
        #[arg(long)]
        repo: PathBuf,
    },
    /// The repository hook's work (written by publish-setup): reads git's
    /// ref updates on standard input.
    #[command(hide = true)]
    PublishReceive,
    /// Write the whole public site to a folder, for a static host or CDN.
    Export {
        /// The folder to write; created if missing.
        dir: PathBuf,
        /// Write no .gz and .br copies beside the files, for a host that
        /// compresses on its own.
        #[arg(long)]
        no_compressed_copies: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let sources = Sources {
        config: cli.config.clone(),
        content: cli.content.clone(),
        static_dir: cli.static_dir.clone(),
    };
    let database = Database::parse(&cli.database);
    match cli.command.unwrap_or(Command::Serve { preview: false }) {
        Command::Check { launch: false } => check(&sources),
        Command::Check { launch: true } => check_launch(&sources, &database),
        Command::Export {
            dir,
            no_compressed_copies,
        } => export(&sources, &dir, !no_compressed_copies),
        Command::New { title } => new_article(&sources, &title),
        Command::HashPassword => hash_password(),
        Command::SendTestEmail { address } => send_test_email(&sources, &address),
        Command::Backup {
            dir,
            keep,
            recipient,
        } => with_sqlite_file(&database, "back up", |file| {
            backup(
                file,
                &dir,
                usize::from(keep),
                recipient.as_deref().filter(|r| !r.trim().is_empty()),
            )
        }),
        Command::Restore { file, identity } => with_sqlite_file(&database, "restore", |database| {
            restore(&file, database, identity.as_deref())
        }),
        Command::PublishSetup { repo } => publish_setup(&sources, &repo),
        Command::PublishReceive => publish_receive(&sources),
        Command::Serve { preview } => serve(
            sources,
            preview,
            SocketAddr::new(cli.host, cli.port),
            &database,
        ),
    }
}

/// Runs a command that works on the SQLite file; PostgreSQL has its own
/// tools for that, which DEPLOY.md names.
fn with_sqlite_file(
    database: &Database,
    what: &str,
    command: impl FnOnce(&std::path::Path) -> ExitCode,
) -> ExitCode {
    match database.file() {
        Some(file) => command(file),
        None => {
            eprintln!(
                "error: this command can {what} a SQLite file only; the bookings are in {}: use pg_dump and pg_restore (see DEPLOY.md).",
                database.describe()
            );
            ExitCode::FAILURE
        }
    }
}

/// Reads one line from stdin (not argv, which shell history keeps).
/// Asks for the admin password twice, without showing it, on a terminal;
/// from a pipe it reads a line (and a second one, if given, must match).
fn read_new_password() -> Result<String, String> {
    use std::io::IsTerminal as _;
    let unreadable = |err: std::io::Error| format!("cannot read the password: {err}");
    let (first, second) = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Type the admin password (it is not shown): ")
            .map_err(unreadable)?;
        let second = rpassword::prompt_password("Type it again: ").map_err(unreadable)?;
        (first, Some(second))
    } else {
        let mut lines = std::io::stdin().lock().lines();
        let first = lines
            .next()
            .transpose()
            .map_err(unreadable)?
            .unwrap_or_default();
        (first, lines.next().transpose().map_err(unreadable)?)
    };
    let trim = |line: &str| line.trim_end_matches(['\r', '\n']).to_string();
    let password = trim(&first);
    if second.is_some_and(|again| trim(&again) != password) {
        return Err("the two passwords differ; nothing was changed, run it again".into());
    }
    if password.chars().count() < 12 {
        return Err("use a password of at least 12 characters".into());
    }
    Ok(password)
}

fn hash_password() -> ExitCode {
    let password = match read_new_password() {
        Ok(password) => password,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let password = password.as_str();
    match admin::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            eprintln!("Set it as ADMIN_PASSWORD_HASH (in single quotes: it contains $ signs).");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn backup(
    database: &std::path::Path,
    dir: &std::path::Path,
    keep: usize,
    recipient: Option<&str>,
) -> ExitCode {
    let done = run_async(practice_site::backup::backup(
        database,
        dir,
        keep,
        recipient,
        chrono::Utc::now(),
    ));
    match done {
        Some(Ok(file)) => {
            println!("{}", file.display());
            ExitCode::SUCCESS
        }
        Some(Err(err)) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
        None => ExitCode::FAILURE,
    }
}

fn restore(
    file: &std::path::Path,
    database: &std::path::Path,
    identity: Option<&std::path::Path>,
) -> ExitCode {
    let done = run_async(practice_site::backup::restore(
        file,
        database,
        identity,
        chrono::Utc::now(),
    ));
    match done {
        Some(Ok(restored)) => {
            if let Some(aside) = restored.kept_aside {
                eprintln!("The replaced database is kept as {}.", aside.display());
            }
            println!("Restored {} as {}.", file.display(), database.display());
            ExitCode::SUCCESS
        }
        Some(Err(err)) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
        None => ExitCode::FAILURE,
    }
}

/// Runs `work` on a runtime of its own; `None` (said on stderr) if there
/// is no runtime.
fn run_async<T>(work: impl std::future::Future<Output = T>) -> Option<T> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime.block_on(work)),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            None
        }
    }
}

fn check(sources: &Sources) -> ExitCode {
    match check::run(sources) {
        Ok(site) => {
            let warnings = site.warnings();
            eprint!("{warnings}");
            match warnings.len() {
                0 => println!("No problems found: {} pages.", site.page_paths().len()),
                n => println!(
                    "No errors: {} pages. {n} piece{} of writing advice above; the site works either way.",
                    site.page_paths().len(),
                    if n == 1 { "" } else { "s" }
                ),
            }
            ExitCode::SUCCESS
        }
        Err(CheckError::Build(err)) => {
            report_build_error(&err);
            ExitCode::FAILURE
        }
        Err(err @ CheckError::Record { .. }) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn publish_setup(sources: &Sources, repo: &std::path::Path) -> ExitCode {
    // The hook runs this same program by the path it was started with, so
    // `/opt/practice-site/current/practice-site` follows updates.
    let binary = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| std::env::current_exe().ok());
    let Some(binary) = binary else {
        eprintln!("error: cannot tell where this program is; run it by its full path");
        return ExitCode::FAILURE;
    };
    match publish::setup(repo, &binary, sources) {
        Ok(hook) => {
            let repo = std::path::absolute(repo).unwrap_or_else(|_| repo.to_path_buf());
            println!(
                "Ready: pushes to {} are checked by {}",
                repo.display(),
                hook.display()
            );
            let content =
                std::path::absolute(&sources.content).unwrap_or_else(|_| sources.content.clone());
            println!(
                "and publish {} (the hook runs {}).",
                content.display(),
                binary.display()
            );
            println!("On the laptop, in the folder that holds content/, once:");
            println!(
                "  git remote add origin ssh://USER@SERVER{}",
                repo.display()
            );
            println!("then, to publish what is committed:");
            println!("  git push origin {}", publish::BRANCH);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn publish_receive(sources: &Sources) -> ExitCode {
    let mut updates = String::new();
    if let Err(err) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut updates) {
        eprintln!("error: cannot read what git sent: {err}");
        return ExitCode::FAILURE;
    }
    // git shows the hook's output in the terminal of whoever pushed, each
    // line after "remote:"; stdout and stderr alike.
    match publish::receive(&updates, sources) {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(published)) => {
            eprintln!(
                "Published {}: {} pages; readers get them within seconds.",
                &published.commit[..published.commit.len().min(7)],
                published.pages
            );
            advice_count(&published.warnings);
            ExitCode::SUCCESS
        }
        Err(PublishError::Problems(problems)) => {
            // Only the errors: the advice would bury them in a terminal.
            for error in problems.iter().filter(|p| p.is_error()) {
                eprintln!("{error}");
            }
            let count = problems.error_count();
            eprintln!(
                "Not published: {count} error{} above. The site is unchanged. Fix {}, commit, and push again.",
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" }
            );
            advice_count(&problems.warnings());
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("Not published: {err}. The site is unchanged.");
            ExitCode::FAILURE
        }
    }
}

fn send_test_email(sources: &Sources, address: &str) -> ExitCode {
    let fail = |message: &str| {
        eprintln!("error: {message}");
        ExitCode::FAILURE
    };
    let config = match SiteConfig::load(&sources.config) {
        Ok(config) => config,
        Err(problems) => {
            eprint!("{problems}");
            return ExitCode::FAILURE;
        }
    };
    let secrets = match Secrets::from_env() {
        Ok(secrets) => secrets,
        Err(problems) => return fail(&problems.join("; ")),
    };
    let Some(smtp) = secrets.smtp(&config.practice.email) else {
        return fail(
            "no mail settings: set SMTP_URL (or SMTP_HOST with SMTP_USERNAME and SMTP_PASSWORD) first",
        );
    };
    // The host names outbox Message-IDs, which a test email does not use.
    let mailer = match practice_site::booking::notify::Mailer::new(&smtp, "localhost") {
        Ok(mailer) => mailer,
        Err(message) => return fail(&message),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("cannot start the async runtime: {err}")),
    };
    match runtime.block_on(mailer.send_test(address)) {
        Ok(()) => {
            println!("Sent to {address}: check that it arrived (and not in spam).");
            ExitCode::SUCCESS
        }
        Err(message) => fail(&format!("the test email was not sent: {message}")),
    }
}

fn check_launch(sources: &Sources, database: &Database) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(practice_site::launch::check(sources, database, |name| {
        std::env::var(name).ok()
    }));
    print!("{report}");
    if report.is_ready() {
        println!("Ready to launch: no blocker left.");
        ExitCode::SUCCESS
    } else {
        let count = report.blockers.len();
        println!(
            "Not ready to launch: {count} blocker{} above. Fix {} and run `check --launch` again.",
            if count == 1 { "" } else { "s" },
            if count == 1 { "it" } else { "them" }
        );
        ExitCode::FAILURE
    }
}

fn new_article(sources: &Sources, title: &str) -> ExitCode {
    let today = match SiteConfig::load(&sources.config) {
        Ok(config) => config.today(chrono::Utc::now()),
        Err(_) => chrono::Utc::now().date_naive(),
    };
    match practice_site::content::start_article(&sources.content, title, today) {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}

fn export(sources: &Sources, dir: &std::path::Path, compressed_copies: bool) -> ExitCode {
    // Compressed as the files are written, if at all.
    let site = match Site::load_with(sources, BuildOptions::published_now()) {
        Ok(site) => site,
        Err(err) => {
            report_build_error(&err);
            return ExitCode::FAILURE;
        }
    };
    let options = practice_site::site::export::Options { compressed_copies };
    match practice_site::site::export::export_with(&site, dir, options) {
        Ok(summary) => {
            println!(
                "Wrote {} files{}, {} redirects and {} retired pages to {}.",
                summary.files,
                if compressed_copies {
                    " (each with its .gz and .br copies)"
                } else {
                    ""
                },
                summary.redirects,
                summary.gone,
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: cannot write the export to {}: {err}", dir.display());
            ExitCode::FAILURE
        }
    }
}

/// One line for the writing advice a push carries: `check` and the preview
/// show each piece; the site works either way.
fn advice_count(warnings: &practice_site::diagnostic::Diagnostics) {
    match warnings.len() {
        0 => {}
        n => eprintln!(
            "({n} piece{} of writing advice, never blocking: `check` or the preview lists {}.)",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" }
        ),
    }
}

fn report_build_error(err: &BuildError) {
    match err {
        BuildError::Content(problems) => {
            eprint!("{problems}");
            let count = problems.error_count();
            eprintln!(
                "{count} error{} found. Fix {} and run the check again.",
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" }
            );
        }
        BuildError::Template { .. } => eprintln!("error: {err}"),
    }
}

fn serve(sources: Sources, preview: bool, address: SocketAddr, database: &Database) -> ExitCode {
    // With PostgreSQL there is no file to sit beside: the last good copy
    // goes in the working directory, as practice.last-good.
    let last_good = LastGood::beside(database.file().unwrap_or(std::path::Path::new("practice")));
    let reloader =
        match Reloader::start_keeping(sources, preview, Arc::new(SystemClock), Some(last_good)) {
            Ok(reloader) => reloader,
            Err(err) => {
                report_build_error(&err);
                eprintln!("The site was not started.");
                return ExitCode::FAILURE;
            }
        };
    if let Some(problems) = reloader.status().borrow().problems.clone() {
        eprint!("{problems}");
        if preview {
            eprintln!("The preview shows these problems on every page until they are fixed.");
        } else {
            eprintln!(
                "Readers get the last good version of the site until these are fixed; /healthz says \"degraded\"."
            );
        }
    }
    // Booking settings are read once, at start, from the settings file (or,
    // when it is broken, those of the last good version being served).
    let served = reloader.site().current().config().cloned();
    let config = match (SiteConfig::load(&reloader.sources().config), served) {
        (Ok(config), _) | (Err(_), Some(config)) => config,
        (Err(problems), None) => {
            eprint!("{problems}");
            eprintln!("The site was not started.");
            return ExitCode::FAILURE;
        }
    };
    let secrets = match Secrets::from_env() {
        Ok(secrets) => secrets,
        Err(problems) => {
            for problem in problems {
                eprintln!("error: {problem}");
            }
            eprintln!("The site was not started.");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let store = match SqlStore::open(database).await {
            Ok(store) => store,
            Err(err) => {
                eprintln!("error: {}", database_problem(database, &err));
                return ExitCode::FAILURE;
            }
        };
        // Held while the server runs: `restore` refuses to replace the file,
        // and a second server refuses to share it (several servers share
        // PostgreSQL, never a SQLite file).
        let _lock = match database.file().map(DatabaseLock::take).transpose() {
            Ok(lock) => lock,
            Err(BackupError::InUse(_)) => {
                eprintln!(
                    "error: the database {} is in use by another server or a restore; stop it first, or choose another file with --database.",
                    database.describe()
                );
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(database = %database.describe(), "bookings are kept in the database");
        let key = match &secrets.secret_key {
            Some(key) => key.clone(),
            None => match store.secret_key(&tokens::random_key).await {
                Ok(key) => key,
                Err(err) => {
                    eprintln!("error: cannot read the signing key: {err}");
                    return ExitCode::FAILURE;
                }
            },
        };
        let booking = match Booking::new(
            &config,
            Arc::new(store.clone()),
            Arc::new(SystemClock),
            &secrets,
            &key,
        ) {
            Ok(booking) => Arc::new(booking),
            Err(err) => {
                eprintln!("error: {err}");
                eprintln!("The site was not started.");
                return ExitCode::FAILURE;
            }
        };
        // Her calendars, before the first page: no time is offered over her sessions.
        let fetching = Arc::clone(&booking);
        let _ = tokio::task::spawn_blocking(move || fetching.refresh_busy_calendars()).await;
        if !booking.login_on() {
            tracing::warn!("ADMIN_PASSWORD_HASH is not set; the /admin login is off");
        }
        let listener = match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => listener,
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
                eprintln!(
                    "error: port {} is already in use; stop the other program or choose another port with --port or PORT.",
                    address.port()
                );
                return ExitCode::FAILURE;
            }
            Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
                eprintln!(
                    "error: port {} may not be used by this user ({err}); choose a port above 1023 with --port or PORT.",
                    address.port()
                );
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!(
                    "error: cannot listen on {address} ({err}); choose an address of this machine with --host or HOST."
                );
                return ExitCode::FAILURE;
            }
        };
        // With --port 0 the system chose the port: say which.
        let address = listener.local_addr().unwrap_or(address);
        reloader.compress_in_background();
        let editor = Arc::new(practice_site::editor::Editor::new(Arc::clone(&reloader)));
        let state = AppState::live(&reloader, Arc::clone(&booking))
            .trusting_proxy(secrets.trust_proxy)
            .with_editor(editor);
        let workers = Workers::start(booking);
        let shutdown = shutdown_signal();
        let watching = tokio::spawn(Arc::clone(&reloader).run());
        let following = tokio::spawn(follow_settings(
            reloader.status(),
            reloader.site(),
            Arc::clone(&state.booking),
        ));
        if preview {
            tracing::info!("previewing the site at http://{address} (drafts shown, pages reload after each save)");
        } else {
            tracing::info!("serving the site at http://{address}");
        }
        server::serve_on_every_core(
            listener,
            PreparedFirst::new(state),
            server::Limits::default().behind_proxy(secrets.trust_proxy),
            shutdown,
        )
        .await;
        watching.abort();
        following.abort();
        workers.stop().await;
        store.close().await;
        ExitCode::SUCCESS
    })
}

/// Booking follows each good build's settings (hours, blocked dates,
/// notices, the practice's facts) with no restart. A build whose settings
/// have an error never becomes the site, so booking keeps the last good ones.
async fn follow_settings(
    mut status: tokio::sync::watch::Receiver<practice_site::live::BuildStatus>,
    site: Arc<practice_site::site::SiteHandle>,
    booking: Arc<Booking>,
) {
    while status.changed().await.is_ok() {
        let built = status.borrow_and_update().problems.is_none();
        if built && let Some(config) = site.current().config() {
            booking.update_setup(config);
        }
    }
}

/// Why the database could not be opened, and what to do, in one sentence.
fn database_problem(database: &Database, err: &StoreError) -> String {
    let path = database.describe();
    if database.file().is_none() {
        let reason = match err {
            StoreError::Database(sqlx::Error::Database(db)) => db.message().to_string(),
            other => other.to_string(),
        };
        return match err {
            StoreError::Migrate(migrate) => format!(
                "the {path} cannot be brought up to date ({migrate}); it may have been made by a newer version of the site: run that version, or restore a dump."
            ),
            _ => format!(
                "cannot open the {path} ({reason}); check that the server runs, that the database exists, and the user and password in DATABASE_URL."
            ),
        };
    }
    let another = "or choose another file with --database";
    match err {
        StoreError::File { source, .. } => format!(
            "cannot create the database {path} ({source}); check that its folder exists and is writable, {another}."
        ),
        StoreError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("26") => {
            format!(
                "{path} is not a bookings database, or it is damaged; restore it from a backup, {another}."
            )
        }
        StoreError::Migrate(migrate) => format!(
            "the database {path} cannot be brought up to date ({migrate}); it may have been made by a newer version of the site: run that version, restore a backup, {another}."
        ),
        StoreError::Database(sqlx::Error::Database(db)) => format!(
            "cannot open the database {path} ({}); check that it is a file in a writable folder, {another}.",
            db.message()
        ),
        StoreError::Database(other) => format!(
            "cannot open the database {path} ({other}); check that it is a file in a writable folder, {another}."
        ),
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, so requests in flight can finish.
/// Both handlers are installed when this is called, not when first polled,
/// so a stop sent right after "serving the site" is not missed (and a
/// SIGINT then does not kill the process outright).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (terminate, interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let received = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = received(terminate) => {},
                () = received(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
