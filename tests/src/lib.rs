//! Test harness: starts a real jijiao server on a random loopback port, on SQLite or on a fresh
//! PostgreSQL database, and gives tests an HTTP client with a cookie jar.
