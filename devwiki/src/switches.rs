//! The test switches (maxlag, read-only, rate limit, down, clock offset,
//! auto-approve, rejected nonces, OAuth 2.0 lifetimes and grace period,
//! profile flavour) and the one API that sets and consumes
//! them. Both the Rust handle (`DevWiki::set_*`) and the HTTP controls
//! (`/devwiki/...`) call the setters here; the wiki's handlers call the
//! `take_*` methods. No other module writes a switch.

use serde_json::{json, Value};

use crate::config::ProfileFlavour;

/// The switches. Kept in the store, behind its lock.
#[derive(Clone, Debug, Default)]
pub(crate) struct Switches {
    maxlag: Option<u32>,
    maxlag_times: Option<u32>,
    down: bool,
    clock_offset: i64,
    auto_approve: Option<String>,
    /// Read-only mode with its reason.
    readonly: Option<String>,
    /// Read-only only for the next N write requests.
    readonly_times: Option<u32>,
    /// HTTP 429 for api.php, with this `Retry-After`.
    rate_limit: Option<u32>,
    /// HTTP 429 only for the next N api.php requests.
    rate_limit_times: Option<u32>,
    /// How many of the next signed requests get "Nonce already used".
    reject_nonces: u32,
    /// `expires_in` of OAuth 2.0 access tokens issued from now on.
    oauth2_access_token_lifetime: u64,
    /// Lifetime of OAuth 2.0 refresh tokens issued from now on.
    oauth2_refresh_token_lifetime: u64,
    /// `$wgOAuth2RefreshTokenGracePeriod` (0: a used refresh token is
    /// refused at once, as on MediaWiki ≤ 1.46).
    oauth2_refresh_grace: u64,
    /// The shape of `rest.php/oauth2/resource/profile`.
    profile_as: ProfileFlavour,
    /// Extra bytes of payload in the OAuth 2.0 authorization codes.
    oauth2_code_padding: usize,
    /// Milliseconds each api.php request takes before it is answered.
    api_delay_ms: u64,
    /// Milliseconds each OAuth 2.0 `resource/profile` request takes.
    profile_delay_ms: u64,
    /// `$wgBlockDisablesLogin`: a blocked user cannot use OAuth at all.
    block_disables_login: bool,
}

/// Counts down a `times` switch: whether it applies to this request, and
/// whether it is used up afterwards.
fn take_one(times: &mut Option<u32>) -> (bool, bool) {
    match times {
        None => (true, false),
        Some(0) => (false, true),
        Some(n) => {
            *n -= 1;
            (true, *n == 0)
        }
    }
}

impl Switches {
    /// Switches with auto-approve as configured at start.
    pub(crate) fn new(auto_approve: Option<String>) -> Switches {
        Switches {
            auto_approve,
            ..Switches::default()
        }
    }

    /// See `DevWiki::set_maxlag`.
    pub(crate) fn set_maxlag(&mut self, lag_seconds: Option<u32>, times: Option<u32>) {
        self.maxlag = lag_seconds;
        self.maxlag_times = if lag_seconds.is_some() { times } else { None };
    }

    /// See `DevWiki::set_api_delay`.
    pub(crate) fn set_api_delay_ms(&mut self, ms: u64) {
        self.api_delay_ms = ms;
    }

    /// How long each api.php request is held before it is answered.
    pub(crate) fn api_delay_ms(&self) -> u64 {
        self.api_delay_ms
    }

    /// See `DevWiki::set_profile_delay`.
    pub(crate) fn set_profile_delay_ms(&mut self, ms: u64) {
        self.profile_delay_ms = ms;
    }

    /// How long each OAuth 2.0 profile request is held before it is answered.
    pub(crate) fn profile_delay_ms(&self) -> u64 {
        self.profile_delay_ms
    }

    /// See `DevWiki::set_block_disables_login`.
    pub(crate) fn set_block_disables_login(&mut self, on: bool) {
        self.block_disables_login = on;
    }

    /// `$wgBlockDisablesLogin`.
    pub(crate) fn block_disables_login(&self) -> bool {
        self.block_disables_login
    }

    /// See `DevWiki::set_down`.
    pub(crate) fn set_down(&mut self, down: bool) {
        self.down = down;
    }

    /// See `DevWiki::set_clock_offset`.
    pub(crate) fn set_clock_offset(&mut self, seconds: i64) {
        self.clock_offset = seconds;
    }

    /// See `DevWiki::set_auto_approve`.
    pub(crate) fn set_auto_approve(&mut self, user: Option<String>) {
        self.auto_approve = user;
    }

    /// See `DevWiki::set_readonly`.
    pub(crate) fn set_readonly(&mut self, reason: Option<String>, times: Option<u32>) {
        let on = reason.is_some() && times != Some(0);
        self.readonly = reason.filter(|_| on);
        self.readonly_times = if on { times } else { None };
    }

    /// See `DevWiki::set_rate_limited`.
    pub(crate) fn set_rate_limited(&mut self, times: Option<u32>, retry_after: u32) {
        if times == Some(0) {
            self.rate_limit = None;
            self.rate_limit_times = None;
        } else {
            self.rate_limit = Some(retry_after);
            self.rate_limit_times = times;
        }
    }

    /// See `DevWiki::reject_next_nonce`; calls add up.
    pub(crate) fn reject_next_nonces(&mut self, count: u32) {
        self.reject_nonces = self.reject_nonces.saturating_add(count);
    }

    /// See `DevWiki::set_oauth2_access_token_lifetime`.
    pub(crate) fn set_oauth2_access_token_lifetime(&mut self, seconds: u64) {
        self.oauth2_access_token_lifetime = seconds;
    }

    /// See `DevWiki::set_oauth2_refresh_token_lifetime`.
    pub(crate) fn set_oauth2_refresh_token_lifetime(&mut self, seconds: u64) {
        self.oauth2_refresh_token_lifetime = seconds;
    }

    /// See `DevWiki::set_oauth2_refresh_grace_period`.
    pub(crate) fn set_oauth2_refresh_grace(&mut self, seconds: u64) {
        self.oauth2_refresh_grace = seconds;
    }

    /// See `DevWiki::set_oauth2_code_padding`.
    pub(crate) fn set_oauth2_code_padding(&mut self, extra_payload_bytes: usize) {
        self.oauth2_code_padding = extra_payload_bytes;
    }

    /// Extra payload bytes of the OAuth 2.0 authorization codes.
    pub(crate) fn oauth2_code_padding(&self) -> usize {
        self.oauth2_code_padding
    }

    /// See `DevWiki::set_profile_as`.
    pub(crate) fn set_profile_as(&mut self, flavour: ProfileFlavour) {
        self.profile_as = flavour;
    }

    /// OAuth 2.0 access-token lifetime in seconds (capped to `i64`).
    pub(crate) fn oauth2_access_token_lifetime(&self) -> i64 {
        i64::try_from(self.oauth2_access_token_lifetime).unwrap_or(i64::MAX)
    }

    /// OAuth 2.0 refresh-token lifetime in seconds (capped to `i64`).
    pub(crate) fn oauth2_refresh_token_lifetime(&self) -> i64 {
        i64::try_from(self.oauth2_refresh_token_lifetime).unwrap_or(i64::MAX)
    }

    /// The refresh-token grace period in seconds (0: none).
    pub(crate) fn oauth2_refresh_grace(&self) -> i64 {
        i64::try_from(self.oauth2_refresh_grace).unwrap_or(i64::MAX)
    }

    /// The profile flavour.
    pub(crate) fn profile_as(&self) -> ProfileFlavour {
        self.profile_as
    }

    /// Whether the wiki is "down".
    pub(crate) fn down(&self) -> bool {
        self.down
    }

    /// The clock offset in seconds.
    pub(crate) fn clock_offset(&self) -> i64 {
        self.clock_offset
    }

    /// The user to approve as, if auto-approve is on.
    pub(crate) fn auto_approve(&self) -> Option<&str> {
        self.auto_approve.as_deref()
    }

    /// For one api.php request: the `Retry-After` of a 429 if the rate
    /// limiter turns it away (counting down a limited switch).
    pub(crate) fn take_rate_limit(&mut self) -> Option<u32> {
        let retry_after = self.rate_limit?;
        let (applies, used_up) = take_one(&mut self.rate_limit_times);
        if used_up {
            self.rate_limit = None;
            self.rate_limit_times = None;
        }
        applies.then_some(retry_after)
    }

    /// For one write request: the read-only reason if it is refused
    /// (counting down a limited switch).
    pub(crate) fn take_readonly(&mut self) -> Option<String> {
        let reason = self.readonly.clone()?;
        let (applies, used_up) = take_one(&mut self.readonly_times);
        if used_up {
            self.readonly = None;
            self.readonly_times = None;
        }
        applies.then_some(reason)
    }

    /// For one api.php request that carries `maxlag`: the simulated lag
    /// (counting down a limited switch).
    pub(crate) fn take_maxlag(&mut self) -> Option<u32> {
        let lag = self.maxlag?;
        if let Some(times) = self.maxlag_times {
            if times <= 1 {
                self.maxlag = None;
                self.maxlag_times = None;
            } else {
                self.maxlag_times = Some(times - 1);
            }
        }
        Some(lag)
    }

    /// For one signed request: whether its nonce is to be treated as used.
    pub(crate) fn take_rejected_nonce(&mut self) -> bool {
        if self.reject_nonces > 0 {
            self.reject_nonces -= 1;
            true
        } else {
            false
        }
    }

    /// The switches as the info control shows them.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "auto_approve": self.auto_approve,
            "maxlag": self.maxlag,
            "maxlag_times": self.maxlag_times,
            "down": self.down,
            "clock_offset": self.clock_offset,
            "readonly": self.readonly,
            "readonly_times": self.readonly_times,
            "rate_limit_retry_after": self.rate_limit,
            "rate_limit_times": self.rate_limit_times,
            "reject_nonces": self.reject_nonces,
            "oauth2_access_token_lifetime": self.oauth2_access_token_lifetime,
            "oauth2_refresh_token_lifetime": self.oauth2_refresh_token_lifetime,
            "oauth2_refresh_grace_period": self.oauth2_refresh_grace,
            "profile_as": self.profile_as.name(),
            "oauth2_code_padding": self.oauth2_code_padding,
            "api_delay_ms": self.api_delay_ms,
            "block_disables_login": self.block_disables_login,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_switches_count_down_and_switch_off() {
        let mut s = Switches::default();
        s.set_readonly(Some("Maintenance".into()), Some(2));
        assert_eq!(s.take_readonly().as_deref(), Some("Maintenance"));
        assert_eq!(s.take_readonly().as_deref(), Some("Maintenance"));
        assert_eq!(s.take_readonly(), None);

        s.set_rate_limited(Some(1), 3);
        assert_eq!(s.take_rate_limit(), Some(3));
        assert_eq!(s.take_rate_limit(), None);
        s.set_rate_limited(None, 4);
        assert_eq!(s.take_rate_limit(), Some(4));
        assert_eq!(s.take_rate_limit(), Some(4));
        s.set_rate_limited(Some(0), 4);
        assert_eq!(s.take_rate_limit(), None);

        s.set_maxlag(Some(7), Some(2));
        assert_eq!(s.take_maxlag(), Some(7));
        assert_eq!(s.take_maxlag(), Some(7));
        assert_eq!(s.take_maxlag(), None);

        s.reject_next_nonces(2);
        assert!(s.take_rejected_nonce() && s.take_rejected_nonce());
        assert!(!s.take_rejected_nonce());
    }

    #[test]
    fn readonly_with_zero_times_is_off() {
        let mut s = Switches::default();
        s.set_readonly(Some("x".into()), Some(0));
        assert_eq!(s.take_readonly(), None);
        assert_eq!(s.to_json()["readonly"], Value::Null);
    }
}
