#![doc = include_str!("../README.md")]
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

pub use api::{ApiClient, ApiError, ApiOptions};
pub use config::{Config, ConfigError};
pub use error::Error;
pub use fairing::MwOAuth;
pub use guards::{login_redirect, LoginRequired, MwApi, MwUser, VerifiedMwUser};
pub use identity::Identity;
