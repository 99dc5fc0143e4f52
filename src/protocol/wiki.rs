//! Where the wiki is and how this app reaches it: what both protocols'
//! requests need.

use crate::config::Callback;

/// The wiki's endpoints and the HTTP client that reaches them.
pub(super) struct Wiki {
    /// The shared HTTP client (User-Agent, timeouts).
    pub http: reqwest::Client,
    /// `…/index.php` (OAuth 1.0a's `Special:OAuth`).
    pub index_url: String,
    /// `…/rest.php` (OAuth 2.0).
    pub rest_url: String,
    /// The configured callback.
    pub callback: Callback,
    /// The origin the identify JWT's `iss` must name.
    pub issuer_origin: String,
    /// Seconds of clock skew allowed on the identify JWT.
    pub leeway: i64,
}
