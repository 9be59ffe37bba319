//! The CSV report: one row per citation, RFC 4180, UTF-8, columns from
//! [`COLUMNS`](super::COLUMNS).

use std::io::{self, Write};
use std::path::Path;

use super::AuditRow;
use super::columns::{COLUMNS, csv_cell};

/// Writes the header and one row per citation, in the order given.
pub fn write_csv(out: &mut dyn Write, rows: &[AuditRow]) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS.iter().map(|c| c.name))?;
    for row in rows {
        writer.write_record(COLUMNS.iter().map(|c| csv_cell(c, row)))?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes the CSV report to `path` through a temporary file.
pub fn write_csv_file(path: &Path, rows: &[AuditRow]) -> io::Result<()> {
    super::write_atomically(path, |out| write_csv(out, rows))
}
