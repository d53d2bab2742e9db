//! PDFs without their document information (`/Info`: author, creator,
//! producer, dates, title) and XMP metadata (`/Metadata` streams, on the
//! document, its pages or its pictures), nor applications' private data
//! (`/PieceInfo`): read and written again by lopdf, the pages untouched.

use lopdf::{Document, Object};

use crate::Refused;

/// Keys whose values describe the document or its authors rather than show it.
const DROPPED_KEYS: [&[u8]; 2] = [b"Metadata", b"PieceInfo"];

/// Markers one of which any PDF carrying metadata has in its bytes: the
/// trailer's `/Info`, a `/Metadata` key, or an object stream (where a
/// catalog's `/Metadata` may sit compressed). A file with none has nothing to
/// remove and is kept byte for byte.
const MARKERS: [&[u8]; 3] = [b"/Info", b"/Metadata", b"/ObjStm"];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The PDF `input` without its metadata; refused when it cannot be read (or
/// is encrypted with a password), since it could not be cleaned.
pub fn strip(input: Vec<u8>) -> Result<Vec<u8>, Refused> {
    if !MARKERS.iter().any(|m| contains(&input, m)) {
        return Ok(input);
    }
    let unreadable = |e: lopdf::Error| Refused::Unreadable(format!("PDF: {e}"));
    let mut doc = Document::load_mem(&input).map_err(unreadable)?;
    if doc.is_encrypted() {
        return Err(Refused::Unreadable(
            "PDF: encrypted; send it without a password".into(),
        ));
    }
    doc.trailer.remove(b"Info");
    let metadata: Vec<_> = doc
        .objects
        .iter()
        .filter(|(_, o)| is_metadata(o))
        .map(|(id, _)| *id)
        .collect();
    for id in metadata {
        doc.objects.remove(&id);
    }
    for object in doc.objects.values_mut() {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &mut s.dict,
            _ => continue,
        };
        for key in DROPPED_KEYS {
            dict.remove(key);
        }
    }
    doc.prune_objects();
    let mut out = Vec::with_capacity(input.len());
    doc.save_to(&mut out)
        .map_err(|e| Refused::Unreadable(format!("PDF: {e}")))?;
    Ok(out)
}

/// An XMP packet (`/Type /Metadata`), wherever it hangs.
fn is_metadata(object: &Object) -> bool {
    let dict = match object {
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        _ => return false,
    };
    dict.has_type(b"Metadata")
}
