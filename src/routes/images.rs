//! The editor's photos under `/admin/images` (the work is
//! [`crate::editor::Editor::add_image`] and [`crate::images`]): the photos
//! of `content/images/` with the line that shows each, and the upload.
//!
//! The upload works without JavaScript: the form on the editor's page opens
//! this page in a new tab (her unsaved text stays where it is), which names
//! the line to put in the text. With it, `static/js/editor.js` sends the
//! form itself and puts the line at the cursor; it asks for JSON.

use askama::Template;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::{AdminForm, AdminSession, head, tokened};
use super::client::{html, json};
use super::editor::{blocking, editor};
use super::{AppState, HttpError};
use crate::editor::{AddedImage, EditError};
use crate::images::{self, MAX_UPLOAD_BYTES, upload::Refusal};
use crate::site::views::{Head, Layout};

tokened!(RemoveForm);

/// An upload's body: the photo and a few short fields.
pub const UPLOAD_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;
/// How long an upload may take to arrive and be answered: 10 MB at
/// 2 Mbit/s, a slow home connection's upload speed, is 40 s.
pub const UPLOAD_TIME: std::time::Duration = std::time::Duration::from_secs(120);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/images", get(list).post(upload))
        .route("/admin/images/remove", post(remove))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
}

/// One photo of the list.
pub struct PhotoView {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Its smallest variant, for the list's thumbnail, once served.
    pub thumbnail: Option<String>,
    pub markdown: String,
}

#[derive(Template)]
#[template(path = "admin/images.html")]
struct ImagesPage<'a> {
    layout: &'a Layout,
    head: Head,
    csrf: String,
    photos: Vec<PhotoView>,
    said: Said,
    alt: String,
    /// The form is the editor page's (it opens this page in a new tab).
    in_editor: bool,
    has_portrait: bool,
    therapist: String,
}

/// What the form sent.
#[derive(Default)]
struct Sent {
    token: String,
    alt: String,
    portrait: bool,
    /// The file's name as the browser gave it, and its bytes.
    photo: Option<(String, bytes::Bytes)>,
}

async fn list(State(state): State<AppState>, session: AdminSession) -> Result<Response, HttpError> {
    editor(&state)?;
    page(
        &state,
        &session,
        StatusCode::OK,
        Said::Nothing,
        String::new(),
    )
}

/// What the page says above the form.
pub enum Said {
    Nothing,
    Added(AddedImage),
    /// The photo removed, by file name.
    Removed(String),
    /// Why a photo was not added or removed.
    Refused(String),
}

fn page(
    state: &AppState,
    session: &AdminSession,
    status: StatusCode,
    said: Said,
    alt: String,
) -> Result<Response, HttpError> {
    let site = state.site.current();
    // The folder as it is (a photo just added is listed even while a
    // problem elsewhere keeps the site from building); its thumbnail once
    // the site serves it.
    let pictures = editor(state)?.pictures();
    let photos = pictures
        .iter()
        .map(|picture| PhotoView {
            name: picture.name.clone(),
            width: picture.width,
            height: picture.height,
            thumbnail: Some(picture.variants().swap_remove(0).url)
                .filter(|url| site.get(url).is_some()),
            markdown: format!(
                "![Describe the photo]({}{})",
                images::URL_PREFIX,
                picture.name
            ),
        })
        .collect();
    let view = ImagesPage {
        layout: site.layout(),
        head: head(&state.booking, "Your photos"),
        csrf: session.csrf(&state.booking),
        photos,
        said,
        alt,
        in_editor: false,
        has_portrait: pictures.portrait().is_some(),
        therapist: site
            .config()
            .map(|c| c.therapist.name.clone())
            .unwrap_or_default(),
    };
    Ok(html(status, view.render()?))
}

async fn upload(
    State(state): State<AppState>,
    session: AdminSession,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, HttpError> {
    let editor = editor(&state)?;
    let wants_json = (headers.get(header::ACCEPT))
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    let sent = match read(multipart.map_err(|_| HttpError::BadRequest)?).await {
        Ok(sent) => sent,
        Err(status) if status == StatusCode::PAYLOAD_TOO_LARGE => {
            tracing::info!("editor: photo refused, over the size limit");
            let why = Refusal::TooLarge.to_string();
            return refused(&state, &session, wants_json, status, why, String::new());
        }
        Err(_) => return Err(HttpError::BadRequest),
    };
    session.check(&state.booking, &sent.token)?;
    let Some((given_name, bytes)) = sent.photo.filter(|(_, bytes)| !bytes.is_empty()) else {
        let why = "choose a photo first".to_string();
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return refused(&state, &session, wants_json, status, why, sent.alt);
    };
    let (alt, portrait) = (sent.alt.clone(), sent.portrait);
    match blocking(move || editor.add_image(&given_name, &bytes, &alt, portrait)).await {
        Ok(added) => {
            if wants_json {
                let body = serde_json::json!({
                    "name": added.name,
                    "markdown": added.markdown,
                });
                return Ok(json(StatusCode::OK, body));
            }
            page(
                &state,
                &session,
                StatusCode::OK,
                Said::Added(added),
                String::new(),
            )
        }
        Err(EditError::Image(refusal)) => {
            tracing::info!(reason = ?refusal, "editor: photo refused");
            let status = match refusal {
                Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                Refusal::NotAnImage => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Refusal::PathInName => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            refused(
                &state,
                &session,
                wants_json,
                status,
                refusal.to_string(),
                sent.alt,
            )
        }
        Err(EditError::Refused(why)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            refused(&state, &session, wants_json, status, why, sent.alt)
        }
        Err(err) => Err(HttpError::Internal(err.to_string())),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RemoveForm {
    name: String,
    token: String,
}

/// Removes a photo (kept in the history), unless a file still shows it.
async fn remove(
    State(state): State<AppState>,
    AdminForm(session, posted): AdminForm<RemoveForm>,
) -> Result<Response, HttpError> {
    let editor = editor(&state)?;
    let name = posted.name.clone();
    let (status, said) = match blocking(move || editor.remove_image(&name)).await {
        Ok(()) => (StatusCode::OK, Said::Removed(posted.name)),
        Err(EditError::Refused(why)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Said::Refused(format!("images/{} was not removed: {why}.", posted.name)),
        ),
        Err(EditError::BadName(_) | EditError::NotFound(_)) => return Err(HttpError::NotFound),
        Err(err) => return Err(HttpError::Internal(err.to_string())),
    };
    page(&state, &session, status, said, String::new())
}

/// The form's fields; the photo is read whole (the body limit bounds it).
/// A body over the limit is 413, any other unreadable form 400.
async fn read(mut multipart: Multipart) -> Result<Sent, StatusCode> {
    let mut sent = Sent::default();
    while let Some(field) = multipart.next_field().await.map_err(|err| err.status())? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "photo" => {
                let file_name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|err| err.status())?;
                sent.photo = Some((file_name, bytes));
            }
            "token" | "alt" | "portrait" => {
                let text = field.text().await.map_err(|err| err.status())?;
                match name.as_str() {
                    "token" => sent.token = text,
                    "alt" => sent.alt = text.chars().take(500).collect(),
                    _ => sent.portrait = !text.is_empty(),
                }
            }
            _ => {}
        }
    }
    Ok(sent)
}

/// Not taken: the form again with what she typed and why, or the reason
/// as JSON for the editor's script.
fn refused(
    state: &AppState,
    session: &AdminSession,
    wants_json: bool,
    status: StatusCode,
    why: String,
    alt: String,
) -> Result<Response, HttpError> {
    if wants_json {
        return Ok(json(
            status,
            serde_json::json!({ "error": capitalised(&why) }),
        ));
    }
    page(
        state,
        session,
        status,
        Said::Refused(capitalised(&why)),
        alt,
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}
