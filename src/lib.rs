//! The website of a psychotherapy practice. Markdown in `content/` is checked
//! and rendered once into an immutable [`site::Site`]; [`app`] serves it.
//!
//! Dependencies point one way: `routes → site → content` and
//! `routes → booking`, and all of them read `config`.

pub mod backup;
pub mod booking;
pub mod check;
pub mod client;
pub mod clock;
pub mod config;
pub mod content;
pub mod diagnostic;
pub mod editor;
pub mod fuzzing;
pub mod images;
pub mod last_good;
pub mod launch;
pub mod live;
pub mod publish;
pub mod routes;
pub mod server;
pub mod site;

pub use routes::{AppState, PreparedFirst, RequestLimits, app, app_with, app_with_limits};
