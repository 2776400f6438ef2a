//! Host tests: bad components, the CLI contract, the tenants' case folders.
