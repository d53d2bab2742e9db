//! A zip archive written as it goes (the spreadsheet export's XLSX): each
//! entry is deflated into the output as its bytes come, with its CRC and sizes
//! in a data descriptor after it (general purpose flag bit 3), and the central
//! directory at the end. Nothing is held but the bytes not yet taken and one
//! small record per entry. No Zip64: an export is capped far below 4 GiB.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::Compression;

/// An entry's central-directory record.
struct Entry {
    name: String,
    crc: u32,
    compressed: u32,
    size: u32,
    offset: u32,
}

/// The entry being written.
struct Open {
    name: String,
    offset: u32,
    crc: crc32fast::Hasher,
    size: u64,
    compressed: u64,
    deflate: DeflateEncoder<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the archive outgrew 4 GiB")]
pub struct TooLarge;

/// The archive; `take` hands over the bytes written so far.
pub struct ZipStream {
    out: Vec<u8>,
    written: u64,
    entries: Vec<Entry>,
    open: Option<Open>,
}

const DATA_DESCRIPTOR: u16 = 0x0008;
const DEFLATE: u16 = 8;
/// 1980-01-01 00:00 in MS-DOS date and time: the entries carry no time.
const DOS_DATE: u16 = 0x0021;

fn u32_of(n: u64) -> Result<u32, TooLarge> {
    u32::try_from(n).map_err(|_| TooLarge)
}

impl ZipStream {
    pub fn new() -> Self {
        ZipStream {
            out: Vec::new(),
            written: 0,
            entries: Vec::new(),
            open: None,
        }
    }

    fn put(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
    }

    /// Ends the open entry, if any, and starts `name`.
    pub fn start(&mut self, name: &str) -> Result<(), TooLarge> {
        self.finish_entry()?;
        let offset = u32_of(self.written)?;
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header.extend_from_slice(&20u16.to_le_bytes());
        header.extend_from_slice(&DATA_DESCRIPTOR.to_le_bytes());
        header.extend_from_slice(&DEFLATE.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(&DOS_DATE.to_le_bytes());
        header.extend_from_slice(&[0; 12]); // CRC and sizes: in the descriptor
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        self.put(&header);
        self.open = Some(Open {
            name: name.to_string(),
            offset,
            crc: crc32fast::Hasher::new(),
            size: 0,
            compressed: 0,
            deflate: DeflateEncoder::new(Vec::new(), Compression::fast()),
        });
        Ok(())
    }

    /// Appends to the open entry.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), TooLarge> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        open.crc.update(bytes);
        open.size += bytes.len() as u64;
        // Writing to a Vec cannot fail.
        let _ = open.deflate.write_all(bytes);
        let done = std::mem::take(open.deflate.get_mut());
        open.compressed += done.len() as u64;
        self.put(&done);
        u32_of(self.written).map(|_| ())
    }

    fn finish_entry(&mut self) -> Result<(), TooLarge> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let rest = open.deflate.finish().unwrap_or_default();
        self.put(&rest);
        let entry = Entry {
            name: open.name,
            crc: open.crc.finalize(),
            compressed: u32_of(open.compressed + rest.len() as u64)?,
            size: u32_of(open.size)?,
            offset: open.offset,
        };
        let mut descriptor = Vec::with_capacity(16);
        descriptor.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
        descriptor.extend_from_slice(&entry.crc.to_le_bytes());
        descriptor.extend_from_slice(&entry.compressed.to_le_bytes());
        descriptor.extend_from_slice(&entry.size.to_le_bytes());
        self.put(&descriptor);
        self.entries.push(entry);
        Ok(())
    }

    /// Ends the archive: the open entry, the central directory, its end record.
    pub fn finish(&mut self) -> Result<(), TooLarge> {
        self.finish_entry()?;
        let start = u32_of(self.written)?;
        let mut directory = Vec::new();
        for e in &self.entries {
            directory.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            directory.extend_from_slice(&20u16.to_le_bytes());
            directory.extend_from_slice(&20u16.to_le_bytes());
            directory.extend_from_slice(&DATA_DESCRIPTOR.to_le_bytes());
            directory.extend_from_slice(&DEFLATE.to_le_bytes());
            directory.extend_from_slice(&0u16.to_le_bytes());
            directory.extend_from_slice(&DOS_DATE.to_le_bytes());
            directory.extend_from_slice(&e.crc.to_le_bytes());
            directory.extend_from_slice(&e.compressed.to_le_bytes());
            directory.extend_from_slice(&e.size.to_le_bytes());
            directory.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            directory.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            directory.extend_from_slice(&e.offset.to_le_bytes());
            directory.extend_from_slice(e.name.as_bytes());
        }
        let size = u32_of(directory.len() as u64)?;
        let count = self.entries.len() as u16;
        directory.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        directory.extend_from_slice(&[0; 4]); // this disk, the directory's disk
        directory.extend_from_slice(&count.to_le_bytes());
        directory.extend_from_slice(&count.to_le_bytes());
        directory.extend_from_slice(&size.to_le_bytes());
        directory.extend_from_slice(&start.to_le_bytes());
        directory.extend_from_slice(&0u16.to_le_bytes());
        self.put(&directory);
        Ok(())
    }

    /// The bytes written since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}
