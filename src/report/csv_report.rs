//! The CSV report: one row per citation, RFC 4180, UTF-8, columns from
//! [`COLUMNS`](super::COLUMNS).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use super::columns::{COLUMNS, Cell};
use super::{AuditRow, Rows};

/// Writes the header and one row per citation, in the order given.
pub fn write_csv(out: &mut dyn Write, rows: &(impl Rows + ?Sized)) -> io::Result<()> {
    write_csv_seen(out, rows, &mut |_| {})
}

/// [`write_csv`], showing each row to `seen` as it is written: a run counts
/// its rows in the same pass instead of reading them twice.
pub fn write_csv_seen(
    out: &mut dyn Write,
    rows: &(impl Rows + ?Sized),
    seen: &mut dyn FnMut(&AuditRow),
) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS.iter().map(|c| c.name))?;
    // Numbers are formatted into one buffer, reused for every cell.
    let mut number = String::new();
    rows.each(&mut |row| {
        seen(row);
        for column in COLUMNS {
            if let Some(text) = column.csv {
                writer.write_field(text(row))?;
                continue;
            }
            match (column.value)(row) {
                Cell::Null => writer.write_field("")?,
                Cell::Text(text) => writer.write_field(text.as_bytes())?,
                Cell::Int(n) => {
                    number.clear();
                    let _ = write!(number, "{n}");
                    writer.write_field(&number)?;
                }
                other => match other.into_json() {
                    serde_json::Value::Null => writer.write_field("")?,
                    serde_json::Value::String(text) => writer.write_field(text)?,
                    value => writer.write_field(value.to_string())?,
                },
            }
        }
        writer.write_record(None::<&[u8]>)?;
        Ok(())
    })?;
    writer.flush()?;
    Ok(())
}

/// Writes the CSV report to `path` through a temporary file.
pub fn write_csv_file(path: &Path, rows: &(impl Rows + ?Sized)) -> io::Result<()> {
    super::write_atomically(path, |out| write_csv(out, rows))
}
