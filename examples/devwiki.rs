//! Runs DevWiki, the local imitation of MediaWiki + Extension:OAuth, until
//! Ctrl-C: the same program as `cargo run -p devwiki`, with the same flags
//! and environment variables.
//!
//! ```text
//! cargo run --example devwiki
//! cargo run --example devwiki -- --port 9090 --auto-approve Alice
//! DEVWIKI_PORT=9090 DEVWIKI_HOST=localhost cargo run --example devwiki
//! cargo run --example devwiki -- --help
//! ```
//!
//! It listens on port 8080 and prints its URLs, the default consumer's key
//! and secret (fixed development values) and a `Rocket.toml` block to paste
//! into an app. See `devwiki/README.md` for everything it does.

fn main() -> std::process::ExitCode {
    devwiki::cli::main()
}
