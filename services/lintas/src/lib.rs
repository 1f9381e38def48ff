#![forbid(unsafe_code)]

// The binary is `main.rs`; this library target holds checks of the crate itself.
#[cfg(test)]
mod black_box_tests;
