//! One renewal per token and instance: the requests that hold a token due
//! for renewal share one request to the wiki, and its result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::error::WikiError;
use super::oauth2;

/// Refreshes in flight or just done, by refresh token: one refresh per token
/// and instance, whose result every request holding the old token shares.
#[derive(Default)]
pub(super) struct Flights(Mutex<HashMap<String, Flight>>);

type Flight = (Instant, FlightCell);

/// The shared result of one renewal.
pub(super) type FlightCell = Arc<tokio::sync::OnceCell<Result<oauth2::Tokens, WikiError>>>;

impl Flights {
    /// A renewal's new tokens are shared this long after it began: with the
    /// requests a browser sent in parallel with the old cookie before the
    /// new one arrived. Not longer: a cookie that is still presented after
    /// that was kept (or stolen) after its rotation, and the wiki's verdict
    /// on its spent refresh token applies (RFC 9700 §4.14.2). A failure is
    /// not kept at all ([`Flights::forget`]).
    pub(super) const KEEP: Duration = Duration::from_secs(10);
    const MAX: usize = 10_000;

    pub(super) fn flight(&self, refresh: &str) -> FlightCell {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::MAX {
            map.retain(|_, (at, _)| at.elapsed() < Self::KEEP);
            if map.len() >= Self::MAX {
                map.clear();
            }
        }
        match map.get(refresh) {
            Some((at, cell)) if at.elapsed() < Self::KEEP => cell.clone(),
            _ => {
                let cell = Arc::new(tokio::sync::OnceCell::new());
                map.insert(refresh.to_string(), (Instant::now(), cell.clone()));
                cell
            }
        }
    }

    /// Forgets a failed flight, so that the next request asks again; only
    /// that flight (a request that waited for it must not forget a newer
    /// one started since).
    pub(super) fn forget(&self, refresh: &str, flight: &FlightCell) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map
            .get(refresh)
            .is_some_and(|(_, cell)| Arc::ptr_eq(cell, flight))
        {
            map.remove(refresh);
        }
    }
}
