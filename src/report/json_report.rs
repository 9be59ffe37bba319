//! The JSON report: an array with one object per citation, keys from
//! [`COLUMNS`](super::COLUMNS); the redirect chain is an array of hops.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Map, Value};

use super::columns::COLUMNS;
use super::{AuditRow, Rows};

/// One citation's object.
pub fn row_value(row: &AuditRow) -> Value {
    let mut map = Map::new();
    for column in COLUMNS {
        map.insert(column.name.to_string(), (column.value)(row).into_json());
    }
    map.insert("insecure".to_string(), Value::Bool(row.result.insecure));
    Value::Object(map)
}

/// Writes the rows as a pretty-printed JSON array, one row at a time.
pub fn write_json(out: &mut dyn Write, rows: &(impl Rows + ?Sized)) -> io::Result<()> {
    out.write_all(b"[")?;
    let mut first = true;
    rows.each(&mut |row| {
        out.write_all(if first { b"\n  " } else { b",\n  " })?;
        first = false;
        serde_json::to_writer(&mut *out, &row_value(row))?;
        Ok(())
    })?;
    out.write_all(if rows.is_empty() { b"]\n" } else { b"\n]\n" })?;
    Ok(())
}

/// Writes the JSON report to `path` through a temporary file.
pub fn write_json_file(path: &Path, rows: &(impl Rows + ?Sized)) -> io::Result<()> {
    super::write_atomically(path, |out| write_json(out, rows))
}
