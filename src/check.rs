//! The check that every way of publishing shares: `practice-site check` on
//! the therapist's laptop and the `git push` gate on the server
//! ([`crate::publish`]). It builds every page as readers would get it (the
//! same build the running server does on each change), then adds the pages
//! published now to the record of published addresses, so a later rename
//! without an alias is caught however it arrives.

use std::path::PathBuf;

use crate::content::record;
use crate::site::{BuildError, BuildOptions, Site, Sources};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The files have problems (or a template is broken): nothing changed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The site builds, but its record of addresses could not be written.
    #[error("cannot update {}: {source}", path.display())]
    Record {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Builds the site from `sources` as published now and records its
/// addresses; the built site carries the writing advice found on the way.
pub fn run(sources: &Sources) -> Result<Site, CheckError> {
    let site = Site::load_with(sources, BuildOptions::published_now())?;
    record::update(&sources.content, site.published_paths()).map_err(|source| {
        CheckError::Record {
            path: record::path(&sources.content),
            source,
        }
    })?;
    Ok(site)
}
