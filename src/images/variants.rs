//! The files a picture's `srcset` names, made from the photo's pixels and
//! kept by content hash.
//!
//! Making one costs tens of milliseconds to a second (decoding a photo,
//! resizing it, encoding WebP), so each is made once per process: a build,
//! the editor's preview or a rebuild after an upload asks the cache, and only
//! a photo never seen before is decoded. The cache is the process's own
//! (every build of it, live, preview or check, shares the work); the upload
//! warms it before the file is written, so the rebuild the upload starts
//! finds every variant made. It holds the variants of the photos the latest
//! build found ([`retain`]), which that build's `Site` holds anyway: the
//! same bytes, shared, so the cache costs no memory of its own.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};

use bytes::Bytes;

use super::upload::{Quality, decode, encode, one_at_a_time};
use super::{Catalog, Format, Picture, Variant};

/// By (photo hash, width, format).
type Key = (String, u32, Format);

static CACHE: LazyLock<Mutex<HashMap<Key, Bytes>>> = LazyLock::new(Mutex::default);

fn cache() -> std::sync::MutexGuard<'static, HashMap<Key, Bytes>> {
    CACHE.lock().unwrap_or_else(|p| p.into_inner())
}

fn key(picture: &Picture, variant: &Variant) -> Key {
    (picture.hash.clone(), variant.width, variant.format)
}

/// Drops the variants of photos no longer in `catalog` (deleted or
/// changed): called by each build of the served site.
pub fn retain(catalog: &Catalog) {
    keep_only(&mut cache(), catalog);
}

fn keep_only(cache: &mut HashMap<Key, Bytes>, catalog: &Catalog) {
    let kept: HashSet<&str> = catalog.iter().map(|p| p.hash.as_str()).collect();
    cache.retain(|(hash, _, _), _| kept.contains(hash.as_str()));
}

/// Every variant of `picture` with its bytes: from the cache, or made from
/// the file (once for all its variants) and kept.
pub fn of(picture: &Picture) -> Result<Vec<(Variant, Bytes)>, String> {
    let variants = picture.variants();
    let cached: Option<Vec<Bytes>> = {
        let cache = cache();
        variants
            .iter()
            .map(|v| cache.get(&key(picture, v)).cloned())
            .collect()
    };
    if let Some(cached) = cached {
        return Ok(variants.into_iter().zip(cached).collect());
    }
    let source =
        std::fs::read(&picture.path).map_err(|err| format!("cannot read this file: {err}"))?;
    if blake3::hash(&source).to_hex().as_str() != picture.hash {
        return Err(
            "this file changed while the site was being built; it is read again at the next build"
                .into(),
        );
    }
    let made = make(&source, picture.format, &variants)?;
    let mut cache = cache();
    for (variant, bytes) in &made {
        cache.insert(key(picture, variant), bytes.clone());
    }
    Ok(made)
}

/// The variants of the photo in `source`, made from its pixels alone.
pub fn make(
    source: &[u8],
    format: Format,
    variants: &[Variant],
) -> Result<Vec<(Variant, Bytes)>, String> {
    let _turn = one_at_a_time();
    let image = decode(source, format).map_err(|refusal| refusal.to_string())?;
    let mut made = Vec::with_capacity(variants.len());
    let mut resized: HashMap<u32, image::DynamicImage> = HashMap::new();
    for variant in variants {
        let sized = resized.entry(variant.width).or_insert_with(|| {
            if variant.width == image.width() {
                image.clone()
            } else {
                image.resize_exact(
                    variant.width,
                    variant.height,
                    image::imageops::FilterType::CatmullRom,
                )
            }
        });
        let bytes = encode(sized, variant.format, Quality::Served)
            .map_err(|err| format!("a smaller copy could not be made: {err}"))?;
        made.push((variant.clone(), Bytes::from(bytes)));
    }
    Ok(made)
}

/// Makes and keeps the variants of a photo about to be written, so the
/// build its writing starts finds them made.
pub fn warm(picture: &Picture, source: &[u8]) -> Result<(), String> {
    let variants = picture.variants();
    if variants
        .iter()
        .all(|v| cache().contains_key(&key(picture, v)))
    {
        return Ok(());
    }
    let made = make(source, picture.format, &variants)?;
    let mut cache = cache();
    for (variant, bytes) in made {
        cache.insert(key(picture, &variant), bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::testing::{has_exif, phone_photo};

    #[test]
    fn variants_are_upright_without_exif_and_the_size_they_say() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.jpg");
        std::fs::write(&path, phone_photo(1200, 600)).unwrap();
        let picture = Picture::read(&path, "photo.jpg").unwrap();
        assert_eq!((picture.width, picture.height), (600, 1200));
        let made = of(&picture).unwrap();
        assert_eq!(made.len(), 4, "480 and 600 wide, in WebP and JPEG");
        for (variant, bytes) in &made {
            assert_eq!(
                Format::sniff(bytes),
                Some(variant.format),
                "{}",
                variant.url
            );
            let size = super::super::upload::upright_size(bytes, variant.format).unwrap();
            assert_eq!(size, (variant.width, variant.height), "{}", variant.url);
            assert!(!has_exif(bytes), "{} keeps EXIF", variant.url);
        }
        // The second time comes from the cache, even with the file gone.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(of(&picture).unwrap(), made);
    }

    #[test]
    fn the_cache_keeps_only_the_photos_of_the_latest_catalog() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("images");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("kept.jpg"), phone_photo(40, 30)).unwrap();
        let (catalog, _) = Catalog::load(dir.path(), &Catalog::default());
        let kept = catalog.iter().next().unwrap().clone();
        let gone =
            Picture::of_bytes(&folder.join("gone.jpg"), "gone.jpg", &phone_photo(41, 30)).unwrap();
        // A cache of the test's own: the process's is shared by the tests.
        let mut cache = HashMap::new();
        for picture in [&kept, &gone] {
            for variant in picture.variants() {
                cache.insert(key(picture, &variant), Bytes::from_static(b"x"));
            }
        }
        keep_only(&mut cache, &catalog);
        let held = |p: &Picture| p.variants().iter().all(|v| cache.contains_key(&key(p, v)));
        assert!(held(&kept), "a photo still there keeps its variants");
        assert!(
            !cache.keys().any(|(hash, _, _)| *hash == gone.hash),
            "a photo gone loses them"
        );
    }
}
