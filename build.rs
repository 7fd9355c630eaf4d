//! Records the commit the binary was built from, for `--version`: from
//! `PRACTICE_SITE_COMMIT` when set (a build from a tarball, with no git),
//! else from git, else "unknown".

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PRACTICE_SITE_COMMIT");
    // Only paths that exist: a missing one would rerun this on every build
    // (in a git worktree `.git` is a file; in a tarball there is none).
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let commit = std::env::var("PRACTICE_SITE_COMMIT").ok().or_else(|| {
        let out = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    let commit = commit.filter(|c| !c.is_empty());
    println!(
        "cargo:rustc-env=PRACTICE_SITE_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
