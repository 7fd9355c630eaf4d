//! A photo sent from the editor, checked and cleaned before anything is
//! written: its type is read from its bytes, its pixel count from its header
//! before it is decoded, and what is kept is the pixels written anew (turned
//! upright as the camera meant, in sRGB), so the camera's EXIF block, with
//! the GPS position a phone puts in it, is left behind. A photo with a
//! colour profile (an iPhone's Display P3) has its colours converted to
//! sRGB, the space every browser assumes, so nothing of the file but its
//! pixels travels on and no format shows it washed out.

use std::sync::{Mutex, MutexGuard};

use image::{DynamicImage, ImageDecoder};

use super::{Format, MAX_PIXELS, MAX_UPLOAD_BYTES, reader};

/// The longest side a photo is kept at: more than the widest variant
/// (1600 px), so the variants are sharp, and a third of a phone's 6000 px,
/// so her folder (and a `git push` of it) stays small.
pub const MAX_STORED_SIDE: u32 = 2400;

/// Why an upload was not taken, in words for her.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the file is larger than 10 MB; export the photo smaller (a phone's “medium” or “large” size is plenty) and try again"
    )]
    TooLarge,
    #[error(
        "the file is not a JPEG, PNG or WebP image, whatever its name says; choose a photo (JPEG from a phone or camera, or PNG)"
    )]
    NotAnImage,
    #[error(
        "the image says it is {width} × {height} pixels, more than the 50 megapixels a photo here may have, so it was not opened; export it smaller"
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error(
        "the image could not be read ({0}); it may be damaged. Export it again and try once more"
    )]
    Unreadable(String),
    #[error(
        "describe the image first: the description (alt text) is what a reader who cannot see it hears, and what shows if it does not load"
    )]
    NoAlt,
    #[error("the file's name may not name a folder (`/`, `\\` or `..`); choose the file itself")]
    PathInName,
}

/// A photo ready to be written: cleaned, upright, at most
/// [`MAX_STORED_SIDE`] on its longest side.
#[derive(Debug)]
pub struct Cleaned {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

/// Checks and cleans the bytes of an uploaded photo, kept in its own format.
pub fn clean(bytes: &[u8]) -> Result<Cleaned, Refusal> {
    clean_as(bytes, None)
}

/// [`clean`], written as `format` when one is given (her portrait is
/// always a JPEG, so there is only ever one).
pub fn clean_as(bytes: &[u8], format: Option<Format>) -> Result<Cleaned, Refusal> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(Refusal::TooLarge);
    }
    let sniffed = Format::sniff(bytes).ok_or(Refusal::NotAnImage)?;
    let _turn = one_at_a_time();
    let image = decode(bytes, sniffed)?;
    let format = format.unwrap_or(sniffed);
    let image = if image.width().max(image.height()) > MAX_STORED_SIDE {
        image.resize(
            MAX_STORED_SIDE,
            MAX_STORED_SIDE,
            image::imageops::FilterType::CatmullRom,
        )
    } else {
        image
    };
    let bytes = encode(&image, format, Quality::Kept)
        .map_err(|err| Refusal::Unreadable(err.to_string()))?;
    Ok(Cleaned {
        bytes,
        format,
        width: image.width(),
        height: image.height(),
    })
}

/// The name a photo is kept under: the name it came with, in lowercase
/// letters, digits and hyphens, with its format's extension: `IMG 0423.JPG`
/// becomes `img-0423.jpg`. A name that holds a folder is refused: a browser
/// sends the bare name, so that is a form made by hand.
pub fn file_name(given: &str, format: Format) -> Result<String, Refusal> {
    if given.contains(['/', '\\']) || given.contains("..") {
        return Err(Refusal::PathInName);
    }
    let stem = given.rsplit_once('.').map_or(given, |(stem, _)| stem);
    Ok(format!("{}.{}", tidy(stem), format.extension()))
}

/// A name in lowercase letters, digits and single hyphens, at most 60
/// long: `IMG 0423` becomes `img-0423`, for file names and addresses.
pub(super) fn tidy(stem: &str) -> String {
    let mut name = String::new();
    for c in stem.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(60);
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "image".to_string()
    } else {
        name.to_string()
    }
}

/// The photo's size as drawn: a portrait photo the camera stored sideways
/// (EXIF orientation 5 to 8) is taller than its stored pixels are.
pub(super) fn upright_size(bytes: &[u8], format: Format) -> Result<(u32, u32), String> {
    let mut decoder = reader(bytes, format)
        .into_decoder()
        .map_err(|err| format!("this image cannot be read: {err}"))?;
    let (width, height) = decoder.dimensions();
    let turned = matches!(
        decoder.orientation(),
        Ok(image::metadata::Orientation::Rotate90
            | image::metadata::Orientation::Rotate270
            | image::metadata::Orientation::Rotate90FlipH
            | image::metadata::Orientation::Rotate270FlipH)
    );
    Ok(if turned {
        (height, width)
    } else {
        (width, height)
    })
}

/// One photo decoded at a time, in the whole process (a build, a preview
/// and an upload may each want one): a 50-megapixel photo takes about
/// 350 MB while it is decoded and resized, and two at once should not
/// take twice that.
static DECODING: Mutex<()> = Mutex::new(());

/// Holds the one turn to decode, resize and encode a photo until dropped.
pub(crate) fn one_at_a_time() -> MutexGuard<'static, ()> {
    DECODING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The pixels of `bytes`, upright, in sRGB, as 8-bit RGB (or RGBA when the
/// image has transparency). The header's size is checked against
/// [`MAX_PIXELS`] before any pixel is decoded, and the decoder itself has
/// [`super::limits`]. Callers hold [`one_at_a_time`].
pub(crate) fn decode(bytes: &[u8], format: Format) -> Result<DynamicImage, Refusal> {
    let unreadable = |err: image::ImageError| Refusal::Unreadable(err.to_string());
    let mut decoder = reader(bytes, format).into_decoder().map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels { width, height });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    let mut image = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.into_rgb8())
    };
    if let Some(icc) = icc {
        in_srgb(&mut image, &icc);
    }
    Ok(image)
}

/// Converts pixels described by the ICC profile `icc` to sRGB. A profile
/// that cannot be read leaves them as they are (read as sRGB, as a browser
/// reads a photo without one).
fn in_srgb(image: &mut DynamicImage, icc: &[u8]) {
    use moxcms::{ColorProfile, Layout, TransformOptions};
    let Ok(profile) = ColorProfile::new_from_slice(icc) else {
        return;
    };
    let (pixels, layout) = match image {
        DynamicImage::ImageRgb8(pixels) => (pixels.as_mut(), Layout::Rgb),
        DynamicImage::ImageRgba8(pixels) => (pixels.as_mut(), Layout::Rgba),
        _ => return,
    };
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        profile.create_transform_8bit(layout, &srgb, layout, TransformOptions::default())
    else {
        return;
    };
    let source = pixels.to_vec();
    if transform.transform(&source, pixels).is_err() {
        pixels.copy_from_slice(&source);
    }
}

/// How much of the photo's detail a written copy keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Quality {
    /// The copy kept in her folder, which the variants are made from.
    Kept,
    /// A variant a reader downloads.
    Served,
}

/// The pixels written as `format`, and nothing else.
pub(crate) fn encode(
    image: &DynamicImage,
    format: Format,
    quality: Quality,
) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    match format {
        Format::Jpeg => {
            let quality = match quality {
                Quality::Kept => 92,
                Quality::Served => 80,
            };
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
            DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)?;
        }
        Format::Png => {
            image.write_with_encoder(image::codecs::png::PngEncoder::new(&mut out))?;
        }
        Format::Webp => {
            let quality = match quality {
                Quality::Kept => 92.0,
                Quality::Served => 78.0,
            };
            let (width, height) = (image.width(), image.height());
            let encoded = match image {
                DynamicImage::ImageRgba8(pixels) => {
                    webp::Encoder::from_rgba(pixels, width, height).encode_simple(false, quality)
                }
                other => {
                    let pixels = other.to_rgb8();
                    webp::Encoder::from_rgb(&pixels, width, height).encode_simple(false, quality)
                }
            };
            let encoded = encoded.map_err(|err| {
                image::ImageError::Encoding(image::error::EncodingError::new(
                    image::error::ImageFormatHint::Exact(image::ImageFormat::WebP),
                    format!("{err:?}"),
                ))
            })?;
            out.extend_from_slice(&encoded);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::testing::{
        bomb_png, display_p3_photo, has_exif, has_icc, phone_photo, photo_in,
    };

    #[test]
    fn the_test_photo_carries_gps_and_its_orientation() {
        let photo = phone_photo(64, 32);
        assert!(has_exif(&photo));
        assert_eq!(upright_size(&photo, Format::Jpeg).unwrap(), (32, 64));
    }

    #[test]
    fn a_phone_photo_is_kept_upright_without_its_exif() {
        let cleaned = clean(&phone_photo(64, 32)).unwrap();
        assert_eq!(cleaned.format, Format::Jpeg);
        assert_eq!((cleaned.width, cleaned.height), (32, 64));
        assert!(!has_exif(&cleaned.bytes));
        assert_eq!(
            upright_size(&cleaned.bytes, Format::Jpeg).unwrap(),
            (32, 64)
        );
    }

    #[test]
    fn a_display_p3_photo_is_kept_in_srgb_without_its_profile() {
        let photo = display_p3_photo([100, 150, 200]);
        assert!(has_icc(&photo), "the test photo carries its profile");
        let cleaned = clean(&photo).unwrap();
        assert!(!has_icc(&cleaned.bytes));
        let pixel = image::load_from_memory(&cleaned.bytes).unwrap().to_rgb8()[(8, 8)];
        // The same colour in sRGB has less red and more blue than its P3
        // numbers (read as sRGB, it would look washed out).
        assert!(pixel[0] < 90 && pixel[2] > 200, "{pixel:?}");
    }

    #[test]
    fn png_and_webp_keep_their_format() {
        for format in [Format::Png, Format::Webp] {
            let cleaned = clean(&photo_in(format, 30, 20)).unwrap();
            assert_eq!(cleaned.format, format);
            assert_eq!((cleaned.width, cleaned.height), (30, 20));
        }
    }

    #[test]
    fn a_large_photo_is_kept_at_the_stored_size() {
        let cleaned = clean(&phone_photo(3000, 1000)).unwrap();
        assert_eq!((cleaned.width, cleaned.height), (800, 2400));
    }

    #[test]
    fn html_named_png_is_not_an_image() {
        let page = b"<!doctype html><script>alert(1)</script>";
        assert_eq!(clean(page).unwrap_err(), Refusal::NotAnImage);
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert!(matches!(clean(&fake), Err(Refusal::Unreadable(_))));
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_it_is_decoded() {
        // 9,000 × 9,000 of one grey compresses to a few hundred KB; its
        // header alone says what decoding it would cost.
        let bomb = bomb_png(9_000, 9_000);
        assert!(bomb.len() < MAX_UPLOAD_BYTES / 10, "{} bytes", bomb.len());
        assert_eq!(
            clean(&bomb).unwrap_err(),
            Refusal::TooManyPixels {
                width: 9_000,
                height: 9_000
            }
        );
    }

    #[test]
    fn too_large_a_file_is_refused_unread() {
        let big = vec![0u8; MAX_UPLOAD_BYTES + 1];
        assert_eq!(clean(&big).unwrap_err(), Refusal::TooLarge);
    }

    #[test]
    fn names_are_tidied_and_folders_refused() {
        assert_eq!(
            file_name("IMG 0423.JPG", Format::Jpeg).unwrap(),
            "img-0423.jpg"
        );
        assert_eq!(
            file_name("Portrait (2).heic.png", Format::Png).unwrap(),
            "portrait-2-heic.png"
        );
        assert_eq!(file_name("…", Format::Webp).unwrap(), "image.webp");
        for bad in ["../../etc/passwd.png", "a/b.jpg", "c:\\x.jpg", "..jpg"] {
            assert_eq!(
                file_name(bad, Format::Jpeg).unwrap_err(),
                Refusal::PathInName,
                "{bad}"
            );
        }
    }
}
