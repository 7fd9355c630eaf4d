//! The editor's pages under `/admin/content` (the work is
//! [`crate::editor`]'s): the list of files, a file's editor with its
//! preview, saving, a new article, and a file's history with diffs and
//! restores. Every page needs the therapist's session and every form its
//! CSRF token, as the rest of `/admin`. Mounted only on a live server (the
//! editor needs the files and the rebuilds); elsewhere these answer 404.
//!
//! Everything works without JavaScript: "Preview" posts the form and the
//! page comes back with the preview of the text as typed. With it,
//! `static/js/editor.js` previews while she types, moves the cursor to a
//! problem's line, and turns pasted rich text into Markdown.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::admin::{AdminForm, AdminSession, head, tokened};
use super::client::{html, see_other};
use super::{AppState, HttpError};
use crate::diagnostic::Diagnostic;
use crate::editor::{EditError, Editor, FileKey, FileState, MAX_TEXT, Opened, Preview};
use crate::site::views::{Head, Layout};

tokened!(NewForm, EditForm, PreviewForm, AddressForm, RestoreForm);

/// A form carrying a whole text: percent-encoding can triple its bytes.
pub const TEXT_FORM_LIMIT: usize = 3 * MAX_TEXT + 8 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/content", get(list))
        .route("/admin/content/new", post(start_article))
        .route("/admin/content/{folder}/{name}", get(edit).post(save))
        .route("/admin/content/{folder}/{name}/preview", post(preview))
        .route("/admin/content/{folder}/{name}/history", get(history))
        .route("/admin/content/{folder}/{name}/restore", post(restore))
        .route(
            "/admin/content/{folder}/{name}/address",
            post(change_address),
        )
        .layer(DefaultBodyLimit::max(TEXT_FORM_LIMIT))
}

impl From<EditError> for HttpError {
    fn from(err: EditError) -> Self {
        match err {
            EditError::BadName(_) | EditError::NotFound(_) => Self::NotFound,
            EditError::TooLarge => Self::PayloadTooLarge,
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The editor, which only a live server has (elsewhere its pages are 404).
pub(super) fn editor(state: &AppState) -> Result<Arc<Editor>, HttpError> {
    state.editor.clone().ok_or(HttpError::NotFound)
}

fn key(folder: &str, name: &str) -> Result<FileKey, HttpError> {
    FileKey::new(folder, name).map_err(|_| HttpError::NotFound)
}

fn edit_path(key: &FileKey) -> String {
    format!("/admin/content/{key}")
}

/// Runs editor work (files, git, a build) off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EditError> + Send + 'static,
) -> Result<T, EditError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| EditError::Refused(format!("the editor's work stopped: {err}")))?
}

/// "Dec 6, 2026, 3:04:05 PM Pacific Time": when a file or version changed,
/// in the practice's zone (to the second: two saves a minute apart are
/// two versions).
fn when(state: &AppState, at: DateTime<Utc>) -> String {
    let rules = &state.booking.setup().rules;
    let local = at.with_timezone(&rules.time_zone);
    format!(
        "{} {}",
        local.format("%b %-d, %Y, %-I:%M:%S %p"),
        rules.time_zone_label
    )
}

pub struct EntryView {
    pub edit_url: String,
    pub key: String,
    pub title: String,
    pub status: &'static str,
    pub url: Option<String>,
    pub modified: String,
    pub errors: usize,
    pub advice: usize,
}

#[derive(Template)]
#[template(path = "admin/content.html")]
struct ListPage<'a> {
    layout: &'a Layout,
    head: Head,
    csrf: String,
    entries: Vec<EntryView>,
    title: String,
    error: Option<String>,
    git: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewForm {
    title: String,
    token: String,
}

async fn list(State(state): State<AppState>, session: AdminSession) -> Result<Response, HttpError> {
    render_list(&state, &session, StatusCode::OK, String::new(), None).await
}

async fn render_list(
    state: &AppState,
    session: &AdminSession,
    status: StatusCode,
    title: String,
    error: Option<String>,
) -> Result<Response, HttpError> {
    let editor = editor(state)?;
    let listed = Arc::clone(&editor);
    let entries = blocking(move || Ok(listed.list())).await?;
    let site = state.site.current();
    let view = ListPage {
        layout: site.layout(),
        head: head(&state.booking, "Your pages and articles"),
        csrf: session.csrf(&state.booking),
        entries: entries
            .into_iter()
            .map(|entry| EntryView {
                edit_url: edit_path(&entry.key),
                key: entry.key.to_string(),
                title: entry.title,
                status: entry.status,
                url: entry.url,
                modified: (entry.modified)
                    .map(|at| when(state, at.into()))
                    .unwrap_or_default(),
                errors: entry.errors,
                advice: entry.advice,
            })
            .collect(),
        title,
        error,
        git: editor.history().is_git(),
    };
    Ok(html(status, view.render()?))
}

async fn start_article(
    State(state): State<AppState>,
    AdminForm(session, posted): AdminForm<NewForm>,
) -> Result<Response, HttpError> {
    let editor = editor(&state)?;
    let title = posted.title.trim().to_string();
    if title.is_empty() {
        let why = "Give the article a title: its address is made from it.".to_string();
        return render_list(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            title,
            Some(why),
        )
        .await;
    }
    let started = title.clone();
    match blocking(move || editor.start_article(&started)).await {
        Ok(key) => Ok(see_other(&edit_path(&key))),
        Err(EditError::Refused(why)) => {
            let why = format!("The article was not started: {why}.");
            render_list(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                title,
                Some(why),
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// What the editor page says above the text.
pub enum Notice {
    None,
    /// Saved; whether it is live is in the page's state.
    Saved,
    Restored,
    /// Renamed; the old address leads to the new one.
    Renamed,
    /// Not saved: the file changed elsewhere. Its text now.
    Conflict(String),
    /// Not saved, for this reason (her text is shown as she typed it).
    Failed(String),
}

#[derive(Template)]
#[template(path = "admin/edit.html")]
struct EditPage<'a> {
    layout: &'a Layout,
    head: Head,
    csrf: String,
    key: String,
    edit_url: String,
    text: String,
    version: String,
    notice: Notice,
    /// Where the saved file stands with the live site.
    state: FileState,
    /// The preview of the text shown, when one was asked for (no script)
    /// or on opening.
    preview: PreviewView,
    /// Articles can be given a new address; the form's value and why it was
    /// refused.
    is_article: bool,
    slug: String,
    rename_error: Option<String>,
    /// The photo form's (`admin/image_form.html`): it opens the photos
    /// page in a new tab, and starts with no description.
    in_editor: bool,
    alt: String,
}

/// The preview pane: problems, then the page in a frame.
#[derive(Template, Default)]
#[template(path = "admin/edit_preview.html")]
pub struct PreviewView {
    pub errors: Vec<Diagnostic>,
    pub advice: Vec<Diagnostic>,
    pub errors_elsewhere: usize,
    /// The whole page, for the frame's `srcdoc`.
    pub page: Option<String>,
    pub url: Option<String>,
}

fn preview_view(preview: Preview, layout: &Layout) -> PreviewView {
    PreviewView {
        errors: preview.errors,
        advice: preview.advice,
        errors_elsewhere: preview.errors_elsewhere,
        page: preview.main.map(|main| framed_page(layout, &main)),
        url: preview.url,
    }
}

/// The preview's page for the frame: the page's `<main>` with the site's
/// stylesheet, and nothing that runs.
fn framed_page(layout: &Layout, main: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Preview</title>\
         <link rel=\"stylesheet\" href=\"{}\"></head><body><main id=\"main\">{main}</main></body></html>",
        layout.css_url
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EditQuery {
    saved: Option<String>,
    restored: Option<String>,
    renamed: Option<String>,
}

async fn edit(
    State(state): State<AppState>,
    session: AdminSession,
    Path((folder, name)): Path<(String, String)>,
    Query(query): Query<EditQuery>,
) -> Result<Response, HttpError> {
    let key = key(&folder, &name)?;
    let editor = editor(&state)?;
    let (opened, preview) = opened(&editor, &key).await?;
    let notice = if query.renamed.is_some() {
        Notice::Renamed
    } else if query.restored.is_some() {
        Notice::Restored
    } else if query.saved.is_some() {
        Notice::Saved
    } else {
        Notice::None
    };
    let shown = Shown {
        key,
        text: opened.text,
        version: opened.version,
        notice,
        preview,
        rename: None,
    };
    render_edit(&state, &session, &editor, StatusCode::OK, shown)
}

/// What the editor page shows of the text: its file, the text (as saved,
/// or as she typed it), the version a save will name, the notice above it,
/// its preview, and the address form's value and why it was refused.
struct Shown {
    key: FileKey,
    text: String,
    version: String,
    notice: Notice,
    preview: Preview,
    rename: Option<(String, String)>,
}

/// The file as it is on disk, with its preview.
async fn opened(editor: &Arc<Editor>, key: &FileKey) -> Result<(Opened, Preview), HttpError> {
    let (worker, file) = (Arc::clone(editor), key.clone());
    Ok(blocking(move || {
        let opened = worker.open(&file)?;
        let preview = worker.preview(&file, &opened.text)?;
        Ok((opened, preview))
    })
    .await?)
}

/// The preview of `text` as `key`, off the async threads.
async fn previewed(editor: &Arc<Editor>, key: &FileKey, text: &str) -> Result<Preview, HttpError> {
    let (worker, file, text) = (Arc::clone(editor), key.clone(), text.to_string());
    Ok(blocking(move || worker.preview(&file, &text)).await?)
}

fn render_edit(
    state: &AppState,
    session: &AdminSession,
    editor: &Editor,
    status: StatusCode,
    shown: Shown,
) -> Result<Response, HttpError> {
    let Shown {
        key,
        text,
        version,
        notice,
        preview,
        rename,
    } = shown;
    let site = state.site.current();
    let file_state = editor.state(&key);
    // The address field starts as the article's address now.
    let current = (file_state.url.as_deref())
        .and_then(|url| url.strip_prefix("/blog/"))
        .unwrap_or(key.name().trim_end_matches(".md"))
        .to_string();
    let (slug, rename_error) = match rename {
        Some((slug, why)) => (slug, Some(why)),
        None => (current, None),
    };
    let view = EditPage {
        layout: site.layout(),
        head: head(&state.booking, &format!("Editing {key}")),
        csrf: session.csrf(&state.booking),
        edit_url: edit_path(&key),
        key: key.to_string(),
        text,
        version,
        notice,
        state: file_state,
        preview: preview_view(preview, site.layout()),
        is_article: key.folder() == "blog",
        slug,
        rename_error,
        in_editor: true,
        alt: String::new(),
    };
    Ok(html(status, view.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EditForm {
    text: String,
    version: String,
    token: String,
    /// "preview", or a save.
    action: String,
}

async fn save(
    State(state): State<AppState>,
    Path((folder, name)): Path<(String, String)>,
    AdminForm(session, posted): AdminForm<EditForm>,
) -> Result<Response, HttpError> {
    let key = key(&folder, &name)?;
    let editor = editor(&state)?;
    if posted.action == "preview" {
        let preview = previewed(&editor, &key, &posted.text).await?;
        let shown = Shown {
            key,
            text: posted.text,
            version: posted.version,
            notice: Notice::None,
            preview,
            rename: None,
        };
        return render_edit(&state, &session, &editor, StatusCode::OK, shown);
    }
    let (worker, file, text, base) = (
        Arc::clone(&editor),
        key.clone(),
        posted.text.clone(),
        posted.version.clone(),
    );
    let note = format!("Edit {key} in the browser editor");
    match blocking(move || worker.save(&file, &text, &base, &note)).await {
        Ok(_) => Ok(see_other(&format!("{}?saved=1", edit_path(&key)))),
        Err(EditError::Conflict {
            theirs, version, ..
        }) => {
            tracing::info!(file = %key, "editor: a save was refused, the file changed elsewhere");
            let preview = previewed(&editor, &key, &posted.text).await?;
            let shown = Shown {
                key,
                text: posted.text,
                version,
                notice: Notice::Conflict(theirs),
                preview,
                rename: None,
            };
            render_edit(&state, &session, &editor, StatusCode::CONFLICT, shown)
        }
        Err(err) => {
            let (status, why) = match err {
                EditError::BadName(_) => return Err(HttpError::NotFound),
                EditError::NotFound(_) => (
                    StatusCode::CONFLICT,
                    "the file is not there any more (a publish may have removed or renamed it)"
                        .to_string(),
                ),
                EditError::Refused(why) => (StatusCode::UNPROCESSABLE_ENTITY, why),
                EditError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, err.to_string()),
                other => {
                    tracing::error!(file = %key, "editor: a save failed: {other}");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "the server could not save it; try again in a moment, and if it fails again, tell whoever looks after the server".to_string(),
                    )
                }
            };
            let preview = previewed(&editor, &key, &posted.text)
                .await
                .unwrap_or_default();
            let shown = Shown {
                key,
                text: posted.text,
                version: posted.version,
                notice: Notice::Failed(why),
                preview,
                rename: None,
            };
            render_edit(&state, &session, &editor, status, shown)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PreviewForm {
    text: String,
    token: String,
}

/// The preview pane for the text sent, for the script: the pane's HTML.
async fn preview(
    State(state): State<AppState>,
    Path((folder, name)): Path<(String, String)>,
    AdminForm(_, posted): AdminForm<PreviewForm>,
) -> Result<Response, HttpError> {
    let key = key(&folder, &name)?;
    let editor = editor(&state)?;
    let preview = blocking(move || editor.preview(&key, &posted.text)).await?;
    let site = state.site.current();
    let pane = preview_view(preview, site.layout()).render()?;
    Ok(html(StatusCode::OK, pane))
}

#[derive(Template)]
#[template(path = "admin/history.html")]
struct HistoryPage<'a> {
    layout: &'a Layout,
    head: Head,
    csrf: String,
    key: String,
    edit_url: String,
    git: bool,
    versions: Vec<VersionView>,
    from: String,
    to: String,
    diff: Option<Vec<DiffLine>>,
}

pub struct VersionView {
    pub id: String,
    pub when: String,
    pub note: String,
}

/// One line of a diff: `-` removed, `+` added, ` ` the same.
pub struct DiffLine {
    pub sign: char,
    pub text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DiffQuery {
    from: String,
    to: String,
}

/// The id that names the file as it is on disk now, in a comparison.
const CURRENT: &str = "current";

async fn history(
    State(state): State<AppState>,
    session: AdminSession,
    Path((folder, name)): Path<(String, String)>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, HttpError> {
    let key = key(&folder, &name)?;
    let editor = editor(&state)?;
    let (worker, file) = (Arc::clone(&editor), key.clone());
    let (from, to) = (query.from.clone(), query.to.clone());
    let (versions, diff) = blocking(move || {
        let versions = worker.versions(&file)?;
        let diff = if from.is_empty() || to.is_empty() {
            None
        } else {
            let text = |id: &str| match id {
                CURRENT => worker.open(&file).map(|opened| opened.text),
                id => worker.version_text(&file, id),
            };
            Some(diff_lines(&text(&from)?, &text(&to)?))
        };
        Ok((versions, diff))
    })
    .await?;
    let site = state.site.current();
    let view = HistoryPage {
        layout: site.layout(),
        head: head(&state.booking, &format!("History of {key}")),
        csrf: session.csrf(&state.booking),
        edit_url: edit_path(&key),
        key: key.to_string(),
        git: editor.history().is_git(),
        versions: versions
            .into_iter()
            .map(|v| VersionView {
                when: (DateTime::from_timestamp(v.at, 0))
                    .map(|at| when(&state, at))
                    .unwrap_or_default(),
                id: v.id,
                note: v.note,
            })
            .collect(),
        from: query.from,
        to: query.to,
        diff,
    };
    Ok(html(StatusCode::OK, view.render()?))
}

/// The changed lines with three lines of context around each change; `…`
/// stands for the unchanged lines between two changes.
fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for (index, group) in diff.grouped_ops(3).iter().enumerate() {
        if index > 0 {
            lines.push(DiffLine {
                sign: '…',
                text: String::new(),
            });
        }
        for change in group.iter().flat_map(|op| diff.iter_changes(op)) {
            lines.push(DiffLine {
                sign: match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                },
                text: change.value().trim_end_matches(['\r', '\n']).to_string(),
            });
        }
    }
    lines
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AddressForm {
    slug: String,
    version: String,
    token: String,
}

async fn change_address(
    State(state): State<AppState>,
    Path((folder, name)): Path<(String, String)>,
    AdminForm(session, posted): AdminForm<AddressForm>,
) -> Result<Response, HttpError> {
    let key = key(&folder, &name)?;
    let editor = editor(&state)?;
    let slug = posted.slug.trim().trim_start_matches("/blog/").to_string();
    let (worker, file, wanted, base) = (
        Arc::clone(&editor),
        key.clone(),
        slug.clone(),
        posted.version.clone(),
    );
    let refused = match blocking(move || worker.change_address(&file, &wanted, &base)).await {
        Ok(()) => return Ok(see_other(&format!("{}?renamed=1", edit_path(&key)))),
        Err(EditError::Refused(why)) => why,
        Err(EditError::Conflict { .. }) => {
            "the file was changed elsewhere since you opened it; it is shown again below as it is now: change the address from here".to_string()
        }
        Err(err) => return Err(err.into()),
    };
    let (opened, preview) = opened(&editor, &key).await?;
    let shown = Shown {
        key,
        text: opened.text,
        version: opened.version,
        notice: Notice::None,
        preview,
        rename: Some((slug, format!("The address was not changed: {refused}."))),
    };
    render_edit(
        &state,
        &session,
        &editor,
        StatusCode::UNPROCESSABLE_ENTITY,
        shown,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RestoreForm {
    version: String,
    token: String,
}

async fn restore(
    State(state): State<AppState>,
    Path((folder, name)): Path<(String, String)>,
    AdminForm(_, posted): AdminForm<RestoreForm>,
) -> Result<Response, HttpError> {
    let key = key(&folder, &name)?;
    let editor = editor(&state)?;
    let file = key.clone();
    blocking(move || editor.restore(&file, &posted.version)).await?;
    Ok(see_other(&format!("{}?restored=1", edit_path(&key))))
}
