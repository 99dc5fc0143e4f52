//! `devwiki`: runs the local wiki until Ctrl-C or SIGTERM. See
//! `devwiki --help` and the crate's README.

fn main() -> std::process::ExitCode {
    devwiki::cli::main()
}
