//! Metadata out of HEIC files without decoding the picture (no pure-Rust HEVC
//! decoder exists): in HEIF, EXIF and XMP are items of their own (`Exif`, and
//! `mime` items of XMP's content type), located by the `iloc` box. Their bytes
//! are overwritten with zeros in place, so every offset in the file stays
//! valid and the picture is untouched. A file whose metadata cannot be located
//! with certainty is refused rather than kept.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable HEIC: {0}")]
pub struct HeifError(pub &'static str);

type Result<T> = std::result::Result<T, HeifError>;

/// A box: its type and the range of its content (after the header).
struct Box4 {
    kind: [u8; 4],
    body: Range<usize>,
}

fn be(bytes: &[u8], at: usize, n: usize) -> Result<u64> {
    let slice = bytes.get(at..at + n).ok_or(HeifError("truncated"))?;
    Ok(slice.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
}

/// The boxes in `range`, in order.
#[allow(clippy::expect_used, reason = "the slice is exactly four bytes long")]
fn boxes(bytes: &[u8], range: Range<usize>) -> Result<Vec<Box4>> {
    let mut out = Vec::new();
    let mut at = range.start;
    while at + 8 <= range.end {
        let mut size = be(bytes, at, 4)? as usize;
        let mut header = 8;
        if size == 1 {
            size =
                usize::try_from(be(bytes, at + 8, 8)?).map_err(|_| HeifError("box too large"))?;
            header = 16;
        } else if size == 0 {
            size = range.end - at;
        }
        if size < header || at + size > range.end {
            return Err(HeifError("box size out of bounds"));
        }
        let kind = bytes[at + 4..at + 8].try_into().expect("four bytes");
        out.push(Box4 {
            kind,
            body: at + header..at + size,
        });
        at += size;
    }
    Ok(out)
}

fn find<'a>(list: &'a [Box4], kind: &[u8; 4]) -> Option<&'a Box4> {
    list.iter().find(|b| &b.kind == kind)
}

/// Item ids of metadata items, from `iinf`.
fn metadata_items(bytes: &[u8], iinf: &Box4) -> Result<Vec<u32>> {
    let version = bytes[iinf.body.start];
    let entries_at = iinf.body.start + 4 + if version == 0 { 2 } else { 4 };
    let mut ids = Vec::new();
    for infe in boxes(bytes, entries_at..iinf.body.end)? {
        if &infe.kind != b"infe" {
            continue;
        }
        let b = infe.body.start;
        let version = bytes[b];
        if version < 2 {
            return Err(HeifError("item info entry of an old version"));
        }
        let (id, next) = if version == 2 {
            (be(bytes, b + 4, 2)? as u32, b + 6)
        } else {
            (be(bytes, b + 4, 4)? as u32, b + 8)
        };
        let item_type = bytes
            .get(next + 2..next + 6)
            .ok_or(HeifError("truncated"))?;
        // EXIF, and every `mime` item: XMP is one, and any other may carry
        // text about the picture too.
        if item_type == b"Exif" || item_type == b"mime" {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The byte ranges of `items`, from `iloc` (file offsets, or inside `idat`).
fn locations(
    bytes: &[u8],
    iloc: &Box4,
    items: &[u32],
    idat: Option<&Box4>,
) -> Result<Vec<Range<usize>>> {
    let b = iloc.body.start;
    let version = bytes[b];
    let sizes = be(bytes, b + 4, 2)? as usize;
    let (offset_size, length_size) = (sizes >> 12 & 0xF, sizes >> 8 & 0xF);
    let base_size = sizes >> 4 & 0xF;
    let index_size = if version >= 1 { sizes & 0xF } else { 0 };
    let (count, mut at) = if version < 2 {
        (be(bytes, b + 6, 2)?, b + 8)
    } else {
        (be(bytes, b + 6, 4)?, b + 10)
    };
    let mut out = Vec::new();
    for _ in 0..count {
        let id_size = if version < 2 { 2 } else { 4 };
        let id = be(bytes, at, id_size)? as u32;
        at += id_size;
        let method = if version >= 1 {
            at += 2;
            be(bytes, at - 2, 2)? & 0xF
        } else {
            0
        };
        at += 2; // data_reference_index
        let base = be(bytes, at, base_size)? as usize;
        at += base_size;
        let extents = be(bytes, at, 2)?;
        at += 2;
        for _ in 0..extents {
            at += index_size;
            let offset = be(bytes, at, offset_size)? as usize;
            at += offset_size;
            let length = be(bytes, at, length_size)? as usize;
            at += length_size;
            if !items.contains(&id) {
                continue;
            }
            let start = match (method, idat) {
                (0, _) => base + offset,
                (1, Some(idat)) => idat.body.start + base + offset,
                _ => return Err(HeifError("metadata stored in a way not handled")),
            };
            if length == 0 || start + length > bytes.len() {
                return Err(HeifError("metadata extent out of bounds"));
            }
            out.push(start..start + length);
        }
    }
    Ok(out)
}

/// `bytes` with every EXIF and XMP item zeroed; the number of items cleared.
pub fn strip(mut bytes: Vec<u8>) -> Result<(Vec<u8>, usize)> {
    let top = boxes(&bytes, 0..bytes.len())?;
    let meta = find(&top, b"meta").ok_or(HeifError("no meta box"))?;
    let children = boxes(&bytes, meta.body.start + 4..meta.body.end)?;
    let Some(iinf) = find(&children, b"iinf") else {
        return Ok((bytes, 0));
    };
    let items = metadata_items(&bytes, iinf)?;
    if items.is_empty() {
        return Ok((bytes, 0));
    }
    let iloc = find(&children, b"iloc").ok_or(HeifError("metadata items without locations"))?;
    let ranges = locations(&bytes, iloc, &items, find(&children, b"idat"))?;
    if ranges.is_empty() {
        return Err(HeifError("metadata items without locations"));
    }
    for r in &ranges {
        bytes[r.clone()].fill(0);
    }
    Ok((bytes, items.len()))
}
