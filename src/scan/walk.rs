//! Finding documents: folders, ignore files, formats, and reading files safely.
