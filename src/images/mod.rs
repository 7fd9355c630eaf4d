//! Photos: the files of `content/images/` and the pictures pages show.
//!
//! - [`upload`] checks a photo sent from the editor (its type read from its
//!   bytes, its size bounded before it is decoded) and cleans it: the
//!   camera's metadata (EXIF, GPS) is dropped by writing the pixels anew.
//! - [`Catalog`] is what `content/images/` holds, read at every build (a
//!   file whose size and time did not change is not read again).
//! - [`Picture::html`] is the `<picture>` a page shows, with `srcset`,
//!   `sizes`, `width` and `height`; [`variants`] makes the files it names,
//!   under URLs that carry the photo's content hash.
//!
//! The originals are never served: every byte a reader gets was written by
//! [`variants`], from the pixels alone, so a photo added through `git push`
//! with its location in it does not give it away either.

#[doc(hidden)]
pub mod testing;
pub mod upload;
pub mod variants;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use image::{ImageFormat, ImageReader, Limits};
use pulldown_cmark_escape::{escape_href, escape_html};

use crate::diagnostic::{Diagnostic, Diagnostics};

/// The folder of `content/` that holds the photos, and the start of the
/// address a Markdown file gives one: `![…](/images/portrait.jpg)`.
pub const FOLDER: &str = "images";
pub const URL_PREFIX: &str = "/images/";

/// The largest photo taken, in bytes: a phone's photo is 2–8 MB.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The most pixels a photo may have (a 48-megapixel phone's is 8064 × 6048),
/// checked from its header before it is decoded: a small file that claims
/// more is a decompression bomb, not a photo.
pub const MAX_PIXELS: u64 = 50_000_000;
/// The widths a page may choose from (CSS pixels times the screen's
/// density): a phone's column, a tablet's or a sharp phone's, a wide screen's.
pub const WIDTHS: [u32; 3] = [480, 960, 1600];
/// How wide the picture is drawn: the text column (`--measure` in the
/// stylesheet, about 36rem), or the screen less its margins on a phone.
pub const SIZES: &str = "(min-width: 40rem) 36rem, calc(100vw - 2.5rem)";
/// The photo on the home and About pages, whichever of these is in
/// `content/images/`.
pub const PORTRAIT_NAMES: [&str; 3] = ["portrait.jpg", "portrait.png", "portrait.webp"];

/// The formats taken and served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    /// The format of these bytes, read from their first bytes (the name
    /// of the file says nothing).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match image::guess_format(bytes).ok()? {
            ImageFormat::Jpeg => Some(Self::Jpeg),
            ImageFormat::Png => Some(Self::Png),
            ImageFormat::WebP => Some(Self::Webp),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    fn of_extension(extension: &str) -> Option<Self> {
        match extension.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            _ => None,
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

/// The decoder's limits: no side past 20,000 pixels and no allocation past
/// what [`MAX_PIXELS`] in RGBA needs, whatever the header claims.
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (16 << 20));
    limits
}

/// A reader for `bytes` of `format`, with [`limits`].
fn reader(bytes: &[u8], format: Format) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits());
    reader
}

/// One photo of `content/images/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Its file name: `portrait.jpg`.
    pub name: String,
    pub path: PathBuf,
    pub format: Format,
    /// As drawn: a photo the camera turned is measured upright.
    pub width: u32,
    pub height: u32,
    /// The BLAKE3 hash of the file, in hex: the variants' URLs and cache key.
    pub hash: String,
    stamp: Stamp,
}

/// A file's size, modification time and inode: the same stamp next time
/// means the same file (a photo replaced by a rename has a new inode, even
/// when its size and time are the same).
type Stamp = (u64, Option<SystemTime>, u64);

fn stamp_of(metadata: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt as _;
    (metadata.len(), metadata.modified().ok(), metadata.ino())
}

/// One file a picture's `srcset` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Variant {
    /// `/images/portrait.3fa9c2d1e0.960.webp`
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub format: Format,
}

impl Picture {
    /// Reads the photo at `path`: its format from its bytes, its size from
    /// its header (with the camera's rotation applied).
    fn read(path: &Path, name: &str) -> Result<Self, String> {
        let unreadable = |err: std::io::Error| format!("cannot read this file: {err}");
        let metadata = std::fs::metadata(path).map_err(unreadable)?;
        let bytes = std::fs::read(path).map_err(unreadable)?;
        let mut picture = Self::of_bytes(path, name, &bytes)?;
        picture.stamp = stamp_of(&metadata);
        Ok(picture)
    }

    /// The photo `bytes` would be as the file `name` at `path`. One over
    /// [`MAX_PIXELS`] is refused, as an upload of it would be.
    pub fn of_bytes(path: &Path, name: &str, bytes: &[u8]) -> Result<Self, String> {
        let named = name
            .rsplit_once('.')
            .and_then(|(_, extension)| Format::of_extension(extension));
        let format = Format::sniff(bytes).ok_or_else(|| {
            "this file is not a JPEG, PNG or WebP image (its name says so, its content does not); upload the photo again in the editor".to_string()
        })?;
        if named != Some(format) {
            return Err(format!(
                "this file is a {} image under another name; name it {}.{}",
                format.extension().to_uppercase(),
                name.rsplit_once('.').map_or(name, |(stem, _)| stem),
                format.extension()
            ));
        }
        let (width, height) = upload::upright_size(bytes, format)?;
        if u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(upload::Refusal::TooManyPixels { width, height }.to_string());
        }
        Ok(Self {
            name: name.to_string(),
            path: path.to_path_buf(),
            format,
            width,
            height,
            hash: blake3::hash(bytes).to_hex().to_string(),
            stamp: (0, None, 0),
        })
    }

    /// The files its `srcset` names: each of [`WIDTHS`] narrower than the
    /// photo, then the photo's own width (at most the last of them), in
    /// WebP and, unless it is one already, in its own format for the
    /// browsers that take no WebP.
    pub fn variants(&self) -> Vec<Variant> {
        let largest = self.width.min(WIDTHS[WIDTHS.len() - 1]);
        let mut widths: Vec<u32> = WIDTHS.into_iter().filter(|w| *w < largest).collect();
        widths.push(largest);
        let stem = upload::tidy(self.name.rsplit_once('.').map_or(&*self.name, |(s, _)| s));
        let mut formats = vec![Format::Webp];
        if self.format != Format::Webp {
            formats.push(self.format);
        }
        let mut variants = Vec::new();
        for format in formats {
            for &width in &widths {
                let height = scaled_height(self.width, self.height, width);
                variants.push(Variant {
                    url: format!(
                        "{URL_PREFIX}{stem}.{}.{width}.{}",
                        &self.hash[..10],
                        format.extension()
                    ),
                    width,
                    height,
                    format,
                });
            }
        }
        variants
    }

    /// The `<picture>` a page shows: WebP for the browsers that take it,
    /// the photo's own format for the rest, each at every width; `width`
    /// and `height` give the browser its shape before a byte arrives, so
    /// nothing below it moves. `eager` for the first picture of a page;
    /// the others load as the reader nears them.
    pub fn html(&self, alt: &str, eager: bool) -> String {
        self.html_sized(alt, eager, SIZES)
    }

    /// [`Picture::html`] for a picture drawn `sizes` wide.
    pub fn html_sized(&self, alt: &str, eager: bool, sizes: &str) -> String {
        let variants = self.variants();
        let srcset = |format: Format| {
            let mut set = String::new();
            for variant in variants.iter().filter(|v| v.format == format) {
                if !set.is_empty() {
                    set.push_str(", ");
                }
                escape_href(&mut set, &variant.url).expect("writing to a String cannot fail");
                set.push_str(&format!(" {}w", variant.width));
            }
            set
        };
        let own = variants
            .iter()
            .rfind(|v| v.format == self.format)
            .expect("a picture has a variant in its own format");
        let mut html = String::from("<picture>");
        if self.format != Format::Webp {
            html.push_str(&format!(
                "<source type=\"image/webp\" srcset=\"{}\" sizes=\"{sizes}\">",
                srcset(Format::Webp)
            ));
        }
        html.push_str(&format!(
            "<img src=\"{}\" srcset=\"{}\" sizes=\"{sizes}\" width=\"{}\" height=\"{}\" alt=\"",
            own.url,
            srcset(self.format),
            own.width,
            own.height
        ));
        escape_html(&mut html, alt).expect("writing to a String cannot fail");
        html.push('"');
        html.push_str(if eager {
            " decoding=\"async\""
        } else {
            " loading=\"lazy\" decoding=\"async\""
        });
        html.push_str("></picture>");
        html
    }
}

/// The height of a `width`-wide copy of a `w` × `h` photo, rounded.
fn scaled_height(w: u32, h: u32, width: u32) -> u32 {
    ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)).max(1) as u32
}

/// Whether `path` is a symbolic link.
pub fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The photos of `content/images/`, by file name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pictures: BTreeMap<String, Picture>,
    /// Files that are there but cannot be shown, and why.
    refused: BTreeMap<String, String>,
}

impl Catalog {
    /// Reads `content/images/`, reusing from `previous` each photo whose
    /// size and modification time are unchanged. A file that cannot be
    /// shown is advice at its path (a stray file keeps no page from
    /// readers); a page that names it is an error.
    pub fn load(content_dir: &Path, previous: &Catalog) -> (Self, Diagnostics) {
        let folder = content_dir.join(FOLDER);
        let mut catalog = Self::default();
        let mut problems = Diagnostics::default();
        if is_link(&folder) {
            // As for the files in it: nothing outside content/ is read.
            let why = "this folder is a link to another place; photos are read only from a real folder here";
            problems.push(Diagnostic::warning(&folder, 1, why));
            return (catalog, problems);
        }
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return (catalog, problems);
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        paths.sort();
        for path in paths {
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            // Symlinks are skipped, as in static/: nothing outside the
            // content folder is ever read for a page.
            let Ok(metadata) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if name.starts_with('.') || !metadata.is_file() {
                continue;
            }
            let stamp = stamp_of(&metadata);
            let known = previous
                .pictures
                .get(&name)
                .filter(|known| known.stamp == stamp && known.path == path);
            let read = match known {
                Some(known) => Ok(known.clone()),
                None => Picture::read(&path, &name),
            };
            match read {
                Ok(picture) => {
                    catalog.pictures.insert(name, picture);
                }
                Err(why) => {
                    problems.push(Diagnostic::warning(&path, 1, why.clone()));
                    catalog.refused.insert(name, why);
                }
            }
        }
        (catalog, problems)
    }

    /// The photo a Markdown image's address names (`/images/x.jpg`, or
    /// `../images/x.jpg` from a page or an article), `None` when the address
    /// is not one of `content/images/`, and the problem when it is but the
    /// photo cannot be shown.
    pub fn find(&self, dest: &str) -> Option<Result<&Picture, String>> {
        let name = dest
            .strip_prefix(URL_PREFIX)
            .or_else(|| dest.strip_prefix("../images/"))?;
        Some(match (self.pictures.get(name), self.refused.get(name)) {
            (Some(picture), _) => Ok(picture),
            (None, Some(why)) => Err(format!("content/images/{name} cannot be shown: {why}")),
            (None, None) => Err(format!(
                "there is no image content/images/{name}; upload it in the editor (Add an image), or check the name{}",
                self.closest(name)
                    .map(|near| format!(" (there is {near})"))
                    .unwrap_or_default()
            )),
        })
    }

    /// A name of the catalog that differs from `name` only in case or
    /// extension, for the message.
    fn closest(&self, name: &str) -> Option<&str> {
        let stem = |n: &str| {
            n.rsplit_once('.')
                .map_or(n, |(s, _)| s)
                .to_ascii_lowercase()
        };
        self.pictures
            .keys()
            .find(|known| stem(known) == stem(name))
            .map(String::as_str)
    }

    /// The content hash of the photo `name` (`office.jpg`), if it can be shown.
    pub fn hash_of(&self, name: &str) -> Option<&str> {
        self.pictures.get(name).map(|picture| picture.hash.as_str())
    }

    /// Her portrait, once she has put one in.
    pub fn portrait(&self) -> Option<&Picture> {
        PORTRAIT_NAMES
            .iter()
            .find_map(|name| self.pictures.get(*name))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Picture> {
        self.pictures.values()
    }

    pub fn is_empty(&self) -> bool {
        self.pictures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(width: u32, height: u32, format: Format) -> Picture {
        Picture {
            name: "office.jpg".into(),
            path: PathBuf::from("content/images/office.jpg"),
            format,
            width,
            height,
            hash: "0123456789abcdef".into(),
            stamp: (0, None, 0),
        }
    }

    #[test]
    fn a_photo_gets_each_narrower_width_and_its_own_in_webp_and_its_format() {
        let variants = picture(1200, 800, Format::Jpeg).variants();
        let shown: Vec<_> = variants
            .iter()
            .map(|v| (v.format, v.width, v.height))
            .collect();
        assert_eq!(
            shown,
            [
                (Format::Webp, 480, 320),
                (Format::Webp, 960, 640),
                (Format::Webp, 1200, 800),
                (Format::Jpeg, 480, 320),
                (Format::Jpeg, 960, 640),
                (Format::Jpeg, 1200, 800),
            ]
        );
        assert_eq!(variants[0].url, "/images/office.0123456789.480.webp");
        let big = picture(4000, 3000, Format::Webp).variants();
        assert_eq!(big.len(), 3, "a WebP photo needs no second format");
        assert_eq!(big[2].width, 1600);
        assert_eq!(big[2].height, 1200);
    }

    #[test]
    fn the_html_gives_the_shape_and_loads_all_but_the_first_lazily() {
        let html = picture(1200, 800, Format::Jpeg).html("Two chairs & a lamp", false);
        assert!(html.starts_with("<picture><source type=\"image/webp\" srcset=\"/images/office.0123456789.480.webp 480w, "), "{html}");
        assert!(
            html.contains("<img src=\"/images/office.0123456789.1200.jpg\""),
            "{html}"
        );
        assert!(html.contains(" width=\"1200\" height=\"800\""), "{html}");
        assert!(html.contains("alt=\"Two chairs &amp; a lamp\""), "{html}");
        assert!(html.contains("loading=\"lazy\""), "{html}");
        let first = picture(1200, 800, Format::Jpeg).html("x", true);
        assert!(!first.contains("loading="), "{first}");
    }

    #[test]
    fn addresses_of_the_images_folder_are_found_and_others_left_alone() {
        let mut catalog = Catalog::default();
        catalog
            .pictures
            .insert("office.jpg".into(), picture(10, 10, Format::Jpeg));
        assert!(matches!(catalog.find("/images/office.jpg"), Some(Ok(_))));
        assert!(matches!(catalog.find("../images/office.jpg"), Some(Ok(_))));
        assert_eq!(catalog.find("/static/images/share.png"), None);
        let missing = catalog.find("/images/Office.JPEG").unwrap().unwrap_err();
        assert!(missing.contains("there is office.jpg"), "{missing}");
    }
}
