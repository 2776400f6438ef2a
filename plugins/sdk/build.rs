//! In `no_std` wasm builds, `memcmp`, `memcpy` and friends come from wasi-libc's `libc.a` (shipped with the
//! wasm32-wasip2 target); these functions import nothing.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-lib=c");
    }
}
