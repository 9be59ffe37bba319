//! The embedded store of past runs (SQLite), and the dead-link policy that
//! reads it.
