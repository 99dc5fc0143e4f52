//! # rocket_mediawiki_oauth
//!
//! Sign users in to a [Rocket](https://rocket.rs) 0.5 app with a MediaWiki
//! wiki (Wikipedia, Wikidata, Commons, any wiki running Extension:OAuth) and
//! call the wiki's API on their behalf: the Rust successor of Python's
//! `flask-mwoauth`.
//!
//! Guide: see the crate README for the full walk-through.

#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod error;
mod fairing;
pub mod guards;
pub mod identity;
pub mod protocol;
pub mod redirect;
mod routes;
pub mod session;

#[cfg(feature = "devwiki")]
pub mod devwiki;

pub use api::{ApiClient, ApiError, ApiOptions};
pub use config::{Config, ConfigError};
pub use error::Error;
pub use fairing::MwOAuth;
pub use guards::{login_redirect, LoginRequired, MwApi, MwUser, VerifiedMwUser};
pub use identity::Identity;
