//! The export's columns and how each format writes a row of them.

use serde_json::Value;

use super::zip::{TooLarge, ZipStream};

/// The columns, in order: each is a `ComplaintListItem` field of the list, so
/// an export shows what the list shows and nothing more. The case number
/// (`number`) goes right after `id` when cases have one.
pub const COLUMNS: &[&str] = &[
    "id",
    "number",
    "status",
    "channel",
    "category",
    "priority",
    "opd",
    "officerId",
    "kecamatan",
    "kelurahan",
    "title",
    "anonymous",
    "externalRef",
    "escalationLevel",
    "resolution",
    "duplicateOf",
    "reportCount",
    "rating",
    "reopenCount",
    "slaState",
    "slaDeadline",
    "createdAt",
    "updatedAt",
    "verifiedAt",
    "assignedAt",
    "firstResponseAt",
    "closedAt",
    "latitude",
    "longitude",
];

/// The byte order mark: Excel reads a CSV as UTF-8 only with it.
const BOM: &str = "\u{feff}";

/// A text cell as CSV (RFC 4180): a cell a spreadsheet would take for a
/// formula (starting with = + - @, or a tab or carriage return before one)
/// gets a leading apostrophe; quoted when it holds a comma, quote or line end.
fn csv_text(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => csv_text(s),
        other => other.to_string(),
    }
}

/// The header line, after the byte order mark.
pub fn csv_header() -> String {
    format!("{BOM}{}\r\n", COLUMNS.join(","))
}

/// One list item as a CSV line.
pub fn csv_row(node: &Value) -> String {
    let cells: Vec<String> = COLUMNS.iter().map(|c| csv_cell(&node[*c])).collect();
    format!("{}\r\n", cells.join(","))
}

/// Text as XML character data: escaped, without the characters XML 1.0 forbids.
fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A column's letters (0 is A).
fn column(mut i: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// One row of the sheet: text as inline strings (never a formula), numbers
/// and booleans as themselves, an empty cell for null.
fn xlsx_row(r: usize, cells: &[Value]) -> String {
    let mut out = format!("<row r=\"{r}\">");
    for (i, v) in cells.iter().enumerate() {
        let at = format!("{}{r}", column(i));
        match v {
            Value::Null => {}
            Value::Bool(b) => out.push_str(&format!(
                "<c r=\"{at}\" t=\"b\"><v>{}</v></c>",
                u8::from(*b)
            )),
            Value::Number(n) => out.push_str(&format!("<c r=\"{at}\"><v>{n}</v></c>")),
            Value::String(s) => out.push_str(&format!(
                "<c r=\"{at}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                xml_text(s)
            )),
            other => out.push_str(&format!(
                "<c r=\"{at}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                xml_text(&other.to_string())
            )),
        }
    }
    out.push_str("</row>");
    out
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="complaints" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_END: &str = "</sheetData></worksheet>";

/// An XLSX workbook of one sheet, written row by row into a streamed zip.
pub struct Xlsx {
    zip: ZipStream,
    rows: usize,
}

impl Xlsx {
    /// The package's fixed parts, then the sheet's start and header row.
    pub fn start() -> Result<Xlsx, TooLarge> {
        let mut zip = ZipStream::new();
        for (name, text) in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        ] {
            zip.start(name)?;
            zip.write(text.as_bytes())?;
        }
        zip.start("xl/worksheets/sheet1.xml")?;
        zip.write(SHEET_START.as_bytes())?;
        let header: Vec<Value> = COLUMNS.iter().map(|c| Value::from(*c)).collect();
        zip.write(xlsx_row(1, &header).as_bytes())?;
        Ok(Xlsx { zip, rows: 1 })
    }

    pub fn row(&mut self, node: &Value) -> Result<(), TooLarge> {
        self.rows += 1;
        let cells: Vec<Value> = COLUMNS.iter().map(|c| node[*c].clone()).collect();
        self.zip.write(xlsx_row(self.rows, &cells).as_bytes())
    }

    pub fn finish(&mut self) -> Result<(), TooLarge> {
        self.zip.write(SHEET_END.as_bytes())?;
        self.zip.finish()
    }

    /// The bytes ready to send.
    pub fn take(&mut self) -> Vec<u8> {
        self.zip.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_text("Jalan rusak"), "Jalan rusak");
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_text("-1+2"), "'-1+2");
        assert_eq!(csv_text("@cmd"), "'@cmd");
        assert_eq!(csv_text("a,b\nc"), "\"a,b\nc\"");
        assert_eq!(csv_cell(&serde_json::json!(-5.25)), "-5.25");
        assert_eq!(csv_cell(&Value::Null), "");
    }

    #[test]
    fn columns_are_lettered_like_a_spreadsheet() {
        assert_eq!(column(0), "A");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(27), "AB");
        assert_eq!(xml_text("a<b>&\u{1}c"), "a&lt;b&gt;&amp;c");
    }
}
