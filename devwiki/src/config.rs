//! Public configuration types of the local wiki.

use std::fmt;

/// How to start a [`DevWiki`](crate::DevWiki).
///
/// ```
/// use devwiki::DevWikiConfig;
/// let config = DevWikiConfig {
///     host: "localhost".into(),
///     auto_approve: Some("Alice".into()),
///     ..DevWikiConfig::default()
/// };
/// assert_eq!(config.port, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevWikiConfig {
    /// The host name written into the wiki's `$wgServer` (and so into its
    /// URLs, the JWT `iss` and the OAuth signature base string). The server
    /// always binds `127.0.0.1`; use `"localhost"` to make a browser see the
    /// wiki as another *site* than an app on `127.0.0.1`. Default `127.0.0.1`.
    pub host: String,
    /// The TCP port; `0` (the default) picks a free one.
    pub port: u16,
    /// `$wgScriptPath`: where `index.php`, `api.php` and the uploads are.
    /// Default `/w` (as on Wikimedia wikis); `""` puts them at the root.
    /// It must be empty or start with `/`, not end with `/`, and hold only
    /// letters, digits and `-._~/`.
    pub script_path: String,
    /// Approve every authorization as this user, with no page
    /// (`Special:OAuth/authorize` then answers at once with the redirect).
    pub auto_approve: Option<String>,
    /// The registered callback URL of the default consumer.
    /// Default `http://127.0.0.1:8000/oauth-callback`.
    pub callback: String,
    /// Register the default consumer with "callback is prefix": the app may
    /// then send its own `oauth_callback`, which must extend
    /// [`DevWikiConfig::callback`] (same scheme, host and port, where a
    /// registered port `1` means any port; see the README). Default
    /// `false`: the app must send `oob` and users come back to `callback`.
    pub callback_is_prefix: bool,
    /// Fixed credentials for the default consumer (handy for a long-running
    /// wiki); random ones when `None`. The key should be 32 lowercase hex
    /// characters, the secret 40.
    pub default_consumer_key: Option<String>,
    /// See [`DevWikiConfig::default_consumer_key`].
    pub default_consumer_secret: Option<String>,
    /// Put the `email_verified` claim (newer MediaWiki, Wikimedia production)
    /// into the identify JWT. `false` gives exactly the MediaWiki 1.39 claim
    /// set. Default `true`.
    pub jwt_email_verified: bool,
    /// Let Rocket log requests (quiet by default).
    pub verbose: bool,
    /// Fixed `client_id` (32 lowercase hex) of the default OAuth 2.0
    /// client; random when `None`.
    pub default_oauth2_client_id: Option<String>,
    /// Fixed client secret (40 lowercase hex) of the default OAuth 2.0
    /// client; random when `None`.
    pub default_oauth2_client_secret: Option<String>,
    /// Register the default OAuth 2.0 client as a public (non-confidential)
    /// client: PKCE is then required and `authorization_code` needs no
    /// secret. Default `false` (confidential).
    pub oauth2_public: bool,
    /// The registered `redirect_uri` of the default OAuth 2.0 client.
    /// Default `http://127.0.0.1:8000/oauth-callback`.
    pub oauth2_redirect_uri: String,
    /// Lifetime in seconds of the OAuth 2.0 access tokens issued
    /// (`$wgOAuth2GrantExpirationInterval`, `expires_in`). Default 3600.
    /// Change it later with `DevWiki::set_oauth2_access_token_lifetime`.
    pub oauth2_access_token_lifetime: u64,
    /// Lifetime in seconds of OAuth 2.0 refresh tokens
    /// (`$wgOAuth2RefreshTokenTTL`). Default 30 days (`P1M` of newer
    /// releases; a stock 1.39 has `PT1M`, one minute).
    pub oauth2_refresh_token_lifetime: u64,
    /// Which MediaWiki's `rest.php/oauth2/resource/profile` to imitate.
    /// Left at its default ([`ProfileFlavour::Mw139`]) it follows
    /// [`DevWikiConfig::mediawiki`] (`Mw144`, with `email_verified`, on
    /// 1.43 and 1.47).
    pub profile_as: ProfileFlavour,
    /// Which MediaWiki + Extension:OAuth release to imitate (default 1.39).
    /// It sets the defaults of the version-dependent switches (profile
    /// flavour, refresh-token grace period) and the answers that differ
    /// between releases; see the README's "MediaWiki versions".
    pub mediawiki: MediaWikiVersion,
}

/// The MediaWiki (+ Extension:OAuth of the same branch) a wiki imitates.
///
/// ```
/// use devwiki::MediaWikiVersion;
/// assert_eq!(MediaWikiVersion::default(), MediaWikiVersion::V1_39);
/// assert_eq!(MediaWikiVersion::from_name("1.43"), Some(MediaWikiVersion::V1_43));
/// assert_eq!(MediaWikiVersion::V1_47.name(), "1.47");
/// ```
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Deserialize,
    serde::Serialize,
)]
pub enum MediaWikiVersion {
    /// MediaWiki 1.39 (LTS) + Extension:OAuth REL1_39, as captured in
    /// `observed-1.39-*.md`.
    #[default]
    #[serde(rename = "1.39")]
    V1_39,
    /// MediaWiki 1.43 (LTS) + Extension:OAuth REL1_43, as captured in
    /// `observed-1.43.md`.
    #[serde(rename = "1.43")]
    V1_43,
    /// MediaWiki 1.47 (Wikimedia production in 2026) + Extension:OAuth
    /// master, from reading its source.
    #[serde(rename = "1.47")]
    V1_47,
}

impl MediaWikiVersion {
    /// Every version, oldest first.
    pub const ALL: [MediaWikiVersion; 3] = [
        MediaWikiVersion::V1_39,
        MediaWikiVersion::V1_43,
        MediaWikiVersion::V1_47,
    ];

    /// `"1.39"`, `"1.43"` or `"1.47"`.
    pub fn name(self) -> &'static str {
        match self {
            MediaWikiVersion::V1_39 => "1.39",
            MediaWikiVersion::V1_43 => "1.43",
            MediaWikiVersion::V1_47 => "1.47",
        }
    }

    /// The version of a name given by [`MediaWikiVersion::name`].
    pub fn from_name(name: &str) -> Option<MediaWikiVersion> {
        MediaWikiVersion::ALL
            .into_iter()
            .find(|v| v.name() == name.trim())
    }

    /// The profile flavour of this version (when none is chosen).
    pub(crate) fn profile_flavour(self) -> ProfileFlavour {
        match self {
            MediaWikiVersion::V1_39 => ProfileFlavour::Mw139,
            _ => ProfileFlavour::Mw144,
        }
    }

    /// `$wgOAuth2RefreshTokenGracePeriod` of this version: 600 s on
    /// Extension:OAuth master (1.47), none before.
    pub(crate) fn refresh_grace(self) -> u64 {
        match self {
            MediaWikiVersion::V1_47 => 600,
            _ => 0,
        }
    }

    /// Whether this is 1.43 or newer (the differences of observed-1.43.md).
    pub(crate) fn at_least_1_43(self) -> bool {
        self >= MediaWikiVersion::V1_43
    }
}

/// The shape of `rest.php/oauth2/resource/profile`, by MediaWiki version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileFlavour {
    /// MediaWiki 1.39 as captured: `sub` a string (`"3"`), no
    /// `email_verified`.
    #[default]
    Mw139,
    /// Newer MediaWiki (1.44+, Wikimedia production): `sub` a string, and
    /// `email_verified` after `confirmed_email`.
    Mw144,
    /// Like `Mw144` but `sub` a JSON number (`3`): not seen in any capture,
    /// for testing that a client accepts both forms (the issue reports
    /// numbers from versions before 1.44).
    SubAsNumber,
}

impl ProfileFlavour {
    /// `mw139`, `mw144` or `sub-as-number`.
    pub fn name(self) -> &'static str {
        match self {
            ProfileFlavour::Mw139 => "mw139",
            ProfileFlavour::Mw144 => "mw144",
            ProfileFlavour::SubAsNumber => "sub-as-number",
        }
    }

    /// The flavour of a name given by [`ProfileFlavour::name`].
    pub fn from_name(name: &str) -> Option<ProfileFlavour> {
        [
            ProfileFlavour::Mw139,
            ProfileFlavour::Mw144,
            ProfileFlavour::SubAsNumber,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }
}

impl Default for DevWikiConfig {
    fn default() -> Self {
        DevWikiConfig {
            host: "127.0.0.1".into(),
            port: 0,
            script_path: "/w".into(),
            auto_approve: None,
            callback: "http://127.0.0.1:8000/oauth-callback".into(),
            callback_is_prefix: false,
            default_consumer_key: None,
            default_consumer_secret: None,
            jwt_email_verified: true,
            verbose: false,
            default_oauth2_client_id: None,
            default_oauth2_client_secret: None,
            oauth2_public: false,
            oauth2_redirect_uri: "http://127.0.0.1:8000/oauth-callback".into(),
            oauth2_access_token_lifetime: 3600,
            oauth2_refresh_token_lifetime: 30 * 24 * 3600,
            profile_as: ProfileFlavour::Mw139,
            mediawiki: MediaWikiVersion::V1_39,
        }
    }
}

impl DevWikiConfig {
    /// Why this configuration cannot start a wiki, if it cannot.
    pub(crate) fn problem(&self) -> Option<String> {
        let sp = &self.script_path;
        let ok = sp.is_empty()
            || (sp.starts_with('/')
                && !sp.ends_with('/')
                && !sp.contains("//")
                && sp
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b)));
        if !ok {
            return Some(format!(
                "script path {sp:?}: use \"\" or a path like \"/w\" (starts with /, no trailing /)"
            ));
        }
        let host_ok = !self.host.is_empty()
            && self
                .host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b));
        if !host_ok {
            return Some(format!(
                "host {:?}: use a host name such as 127.0.0.1 or localhost",
                self.host
            ));
        }
        if !self.oauth2_redirect_uri.starts_with("http://")
            && !self.oauth2_redirect_uri.starts_with("https://")
        {
            return Some(format!(
                "OAuth 2.0 redirect_uri {:?}: use an http:// or https:// URL",
                self.oauth2_redirect_uri
            ));
        }
        None
    }
}

/// What to register with [`DevWiki::register_consumer`](crate::DevWiki::register_consumer)
/// (the fields of `Special:OAuthConsumerRegistration/propose/oauth1` or
/// `/oauth2`).
///
/// For OAuth 2.0 (`oauth2: true`) the key is the `client_id`, the secret
/// the client secret and `callback` the registered `redirect_uri` (matched
/// exactly; `callback_is_prefix` is not allowed).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ConsumerSpec {
    /// The application name shown on the authorize page.
    pub name: String,
    /// The registered "OAuth callback URL".
    pub callback: String,
    /// "Allow consumer to specify a callback in requests and use "callback"
    /// URL above as a required prefix." When false, `initiate` accepts only
    /// `oauth_callback=oob` and users are sent to the registered URL.
    pub callback_is_prefix: bool,
    /// The grants (`basic`, `editpage`, `createeditmovepage`, `highvolume`,
    /// `mwoauth-authonly`, `mwoauth-authonlyprivate`, ...). A repeated grant
    /// is kept, and like on the real wiki it turns the JWT `grants` claim
    /// into a JSON object with a gap in its numeric keys.
    pub grants: Vec<String>,
    /// Force the JWT `grants` claim into the object form seen on a real
    /// wiki (`{"0":"basic","2":"editpage",...}`) even without a repeat.
    pub grants_as_object: bool,
    /// Owner-only consumer of this user: it comes with an access token and
    /// secret, and `initiate`/`token` refuse it (E010).
    pub owner_only: Option<String>,
    /// A fixed consumer key (32 lowercase hex); random when `None`.
    pub key: Option<String>,
    /// A fixed consumer secret (40 lowercase hex); random when `None`.
    pub secret: Option<String>,
    /// An OAuth 2.0 client instead of an OAuth 1.0a consumer. Default `false`.
    pub oauth2: bool,
    /// OAuth 2.0 only: a confidential client (its secret is checked at
    /// `access_token`). `false` registers a public client, which must use
    /// PKCE. Default `true`.
    pub confidential: bool,
}

impl Default for ConsumerSpec {
    fn default() -> Self {
        ConsumerSpec {
            name: "DevWiki test app".into(),
            callback: "http://127.0.0.1:8000/oauth-callback".into(),
            callback_is_prefix: false,
            grants: vec!["basic".into()],
            grants_as_object: false,
            owner_only: None,
            key: None,
            secret: None,
            oauth2: false,
            confidential: true,
        }
    }
}

/// A registered consumer and its credentials.
///
/// `Debug` does not show the secrets.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct Consumer {
    /// Consumer key (32 hex).
    pub key: String,
    /// Consumer secret (40 hex).
    pub secret: String,
    /// Application name.
    pub name: String,
    /// Registered callback URL.
    pub callback: String,
    /// Whether the callback is a prefix (see [`ConsumerSpec::callback_is_prefix`]).
    pub callback_is_prefix: bool,
    /// Grants, as registered.
    pub grants: Vec<String>,
    /// The owner of an owner-only consumer.
    pub owner_only: Option<String>,
    /// Access token and secret of an owner-only OAuth 1.0a consumer.
    pub access_token: Option<(String, String)>,
    /// An OAuth 2.0 client (`key` is then its `client_id`, `secret` its
    /// client secret, `callback` its `redirect_uri`).
    pub oauth2: bool,
    /// OAuth 2.0: a confidential client (false: public).
    pub confidential: bool,
    /// The long-lived Bearer token of an owner-only OAuth 2.0 client
    /// (valid ~1000 years, until revoked).
    pub oauth2_access_token: Option<String>,
}

impl Consumer {
    /// The OAuth 2.0 `client_id` (the key).
    pub fn client_id(&self) -> &str {
        &self.key
    }

    /// The OAuth 2.0 client secret (the secret).
    pub fn client_secret(&self) -> &str {
        &self.secret
    }

    /// The registered OAuth 2.0 `redirect_uri` (the callback).
    pub fn redirect_uri(&self) -> &str {
        &self.callback
    }
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("key", &self.key)
            .field("secret", &"[redacted]")
            .field("name", &self.name)
            .field("callback", &self.callback)
            .field("callback_is_prefix", &self.callback_is_prefix)
            .field("grants", &self.grants)
            .field("owner_only", &self.owner_only)
            .field(
                "access_token",
                &self
                    .access_token
                    .as_ref()
                    .map(|(k, _)| (k.clone(), "[redacted]")),
            )
            .field("oauth2", &self.oauth2)
            .field("confidential", &self.confidential)
            .field(
                "oauth2_access_token",
                &self.oauth2_access_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let c = Consumer {
            key: "k".into(),
            secret: "topsecret".into(),
            name: "n".into(),
            callback: "oob".into(),
            callback_is_prefix: false,
            grants: vec![],
            owner_only: Some("Alice".into()),
            access_token: Some(("tok".into(), "tokensecret".into())),
            oauth2: false,
            confidential: true,
            oauth2_access_token: Some("bearersecret".into()),
        };
        let s = format!("{c:?}");
        assert!(
            !s.contains("topsecret") && !s.contains("tokensecret") && !s.contains("bearersecret"),
            "{s}"
        );
        assert!(s.contains("tok"));
    }
}
