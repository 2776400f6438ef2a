//! All end-to-end tests in one binary (link time matters on two cores).
