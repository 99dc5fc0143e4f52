#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod config;
mod error;
mod fairing;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod guards;
mod identity;
mod protocol;
pub mod redirect;
mod response;
mod routes;
mod session;
mod state;
mod user;
mod wire;

pub use api::{ApiClient, ApiError, ApiOptions};
pub use config::{Config, ConfigError, ErrorPages, OAuthVersion, OwnerOnly};
pub use error::Error;
pub use fairing::MwOAuth;
pub use guards::{LoginRequired, MwApi, OwnerApi};
pub use identity::IdentityError;
pub use protocol::{Credentials, WikiError};
pub use response::{error_info, login_redirect, ErrorInfo};
pub use state::MwOAuthHandle;
pub use user::{MwUser, VerifiedMwUser};
