//! The `store` seam: where the signed-in record lives. Guards and routes
//! call these functions alone and never ask which store is configured.
//!
//! - [`Store::Cookie`] (the default): the record is the sealed cookie
//!   itself ([`super::record`]); the server keeps only a bounded cache of
//!   the records it opened lately ([`UserCache`]: nothing the cookie does
//!   not hold).
//! - `Store::Redis` (feature `redis`): the cookie holds a random session id,
//!   the record lives in Redis, encrypted; see [`super::redis`].

use std::sync::Arc;

use rocket::http::CookieJar;

use super::cache::UserCache;
use super::cookies::CookiePolicy;
#[cfg(feature = "redis")]
use super::cookies::SESSION_COOKIE;
pub(crate) use super::record::Unavailable;
use super::record::{clear_session, cookie_sealer, store_session, SessionRecord, TooLarge};
use super::seal::{secret_key, Sealer};
use crate::protocol::Credentials;
use crate::user::MwUser;

/// Why a record was not written.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteError {
    /// Too large for a cookie (see [`TooLarge`]).
    TooLarge(TooLarge),
    /// The store could not be reached.
    Unavailable,
    /// The session ended while this request was working on it (a logout,
    /// or signed out everywhere, elsewhere): nothing was written.
    Gone,
}

/// Whether a write keeps the session's id or starts a new session (a
/// sign-in: never reuse an id the browser brought, which someone else may
/// have planted), and what it changes. With Redis, a write to the same
/// session never brings back a session that ended while the request was
/// waiting on the wiki.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Session {
    /// A new sign-in.
    New,
    /// The same session, its tokens renewed (under the refresh lock).
    Renewed,
    /// The same session, its user confirmed by the wiki; the tokens are
    /// kept as the store holds them now (with Redis, another request may
    /// have renewed them meanwhile).
    Confirmed,
}

/// Where the signed-in record lives ([`crate::config::SessionStore`]).
pub(crate) enum Store {
    /// In the sealed cookie: its key, and the records opened lately.
    Cookie(Sealer, UserCache),
    /// In Redis.
    #[cfg(feature = "redis")]
    Redis(Arc<super::redis::RedisStore>),
}

/// What [`Store::begin_refresh`] found.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Refresh {
    /// This request renews the tokens of `record` (the record as the store
    /// has it now); call [`RefreshLock::release`] once the new record is
    /// written, or given up.
    Go(RefreshLock, Arc<SessionRecord>),
    /// Another request (or instance) renewed them meanwhile: use these.
    Done(Arc<SessionRecord>),
    /// The session ended meanwhile (logout, signed out everywhere).
    Gone,
}

/// The right to renew a session's tokens across the deployment (a Redis
/// lock with a lifetime); nothing to hold with the cookie store, where
/// [`crate::protocol`]'s in-process single flight is all there is.
pub(crate) struct RefreshLock {
    #[cfg(feature = "redis")]
    held: Option<(Arc<super::redis::RedisStore>, super::redis::Lock)>,
}

impl RefreshLock {
    fn none() -> RefreshLock {
        RefreshLock {
            #[cfg(feature = "redis")]
            held: None,
        }
    }

    #[cfg(feature = "redis")]
    pub(super) fn held(
        store: Arc<super::redis::RedisStore>,
        lock: super::redis::Lock,
    ) -> RefreshLock {
        RefreshLock {
            held: Some((store, lock)),
        }
    }

    /// Gives the lock up (only if it is still this request's).
    pub(crate) async fn release(self) {
        #[cfg(feature = "redis")]
        if let Some((store, lock)) = self.held {
            store.release(lock).await;
        }
    }
}

impl Store {
    /// The store of `config`. With Redis: the connection is made lazily and
    /// checked once with PING; when Redis cannot be reached the app starts
    /// all the same, with a warning, and pages that need a session answer
    /// 503 until it is back (an app restarted while Redis restarts too
    /// serves as soon as it can).
    pub(crate) async fn start(
        config: &crate::config::Config,
        rocket: &rocket::Rocket<rocket::Build>,
    ) -> Result<Store, String> {
        match config.store {
            crate::config::SessionStore::Cookie => Ok(Store::Cookie(
                cookie_sealer(&secret_key(rocket)),
                UserCache::default(),
            )),
            #[cfg(not(feature = "redis"))]
            crate::config::SessionStore::Redis => Err(
                "mwoauth.store = \"redis\" needs the cargo feature `redis` of rocket_mediawiki_oauth"
                    .into(),
            ),
            #[cfg(feature = "redis")]
            crate::config::SessionStore::Redis => {
                let secret = secret_key(rocket);
                let lock_ttl = config.timeout * 2 + std::time::Duration::from_secs(5);
                let redis = super::redis::RedisStore::start(
                    &config.redis_url,
                    &config.redis_prefix,
                    &secret,
                    lock_ttl,
                    config.session_days,
                )?;
                match redis.ping().await {
                    Ok(()) => log::info!("MediaWiki OAuth: sessions are kept in Redis"),
                    Err(e) => log::warn!(
                        "MediaWiki OAuth: Redis ({}) cannot be reached now: {e}. The app \
                         starts; pages that need a session answer 503 until Redis is back",
                        crate::config::redacted_url(&config.redis_url)
                    ),
                }
                Ok(Store::Redis(redis))
            }
        }
    }

    /// The signed-in record of this request, if any, from the bounded
    /// in-process caches when seen before (the opened cookie, or Redis's
    /// record).
    pub(crate) async fn read(
        &self,
        jar: &CookieJar<'_>,
        policy: &CookiePolicy,
    ) -> Result<Option<Arc<SessionRecord>>, Unavailable> {
        match self {
            Store::Cookie(sealer, records) => Ok(records.record(jar, policy, sealer)),
            #[cfg(feature = "redis")]
            Store::Redis(redis) => match session_id_ref(jar) {
                // Boxed, here and in `user`: a Redis call's future is large,
                // and the cookie store's requests would carry (and copy) its
                // room in theirs.
                Some(id) => Ok(Box::pin(redis.read(id, policy))
                    .await?
                    .map(|(record, _)| record)),
                None => Ok(None),
            },
        }
    }

    /// The signed-in user of this request, if any, from the bounded
    /// in-process caches when seen before.
    pub(crate) async fn user(
        &self,
        jar: &CookieJar<'_>,
        policy: &CookiePolicy,
    ) -> Result<Option<Arc<MwUser>>, Unavailable> {
        match self {
            Store::Cookie(sealer, users) => Ok(users.user(jar, policy, sealer)),
            #[cfg(feature = "redis")]
            Store::Redis(redis) => match session_id_ref(jar) {
                Some(id) => Ok(Box::pin(redis.read(id, policy))
                    .await?
                    .map(|(_, user)| user)),
                None => Ok(None),
            },
        }
    }

    /// Writes the signed-in record (and, with Redis, the cookie with its id).
    pub(crate) async fn write(
        &self,
        jar: &CookieJar<'_>,
        policy: &CookiePolicy,
        credentials: Credentials,
        user: &MwUser,
        session: Session,
    ) -> Result<(), WriteError> {
        match self {
            Store::Cookie(sealer, _) => {
                let _ = session;
                store_session(jar, policy, sealer, credentials, user).map_err(WriteError::TooLarge)
            }
            #[cfg(feature = "redis")]
            Store::Redis(redis) => {
                let unavailable = |Unavailable| WriteError::Unavailable;
                let id = match session {
                    Session::New => {
                        let value = super::record::encode_record(policy, credentials, user)
                            .map_err(WriteError::TooLarge)?;
                        if let Some(old) = session_id(jar) {
                            // A new sign-in in this browser ends the old one.
                            let _ = redis.delete(&old).await;
                        }
                        let id = super::redis::new_session_id();
                        redis
                            .write_new(&id, &value, user.central_id)
                            .await
                            .map_err(unavailable)?;
                        id
                    }
                    Session::Renewed | Session::Confirmed => {
                        let Some(id) = session_id(jar) else {
                            return Err(WriteError::Gone);
                        };
                        let written = if session == Session::Renewed {
                            let value = super::record::encode_record(policy, credentials, user)
                                .map_err(WriteError::TooLarge)?;
                            redis
                                .replace(&id, &value, user.central_id)
                                .await
                                .map_err(unavailable)?
                        } else {
                            use super::redis::Confirmed;
                            match redis
                                .confirm(&id, user, policy)
                                .await
                                .map_err(unavailable)?
                            {
                                Confirmed::Kept => true,
                                Confirmed::Gone => false,
                                Confirmed::TooLarge(e) => return Err(WriteError::TooLarge(e)),
                            }
                        };
                        if !written {
                            return Err(WriteError::Gone);
                        }
                        id
                    }
                };
                let max_age = time::Duration::days(policy.session_days.into());
                jar.add(policy.cookie(SESSION_COOKIE.into(), id, max_age));
                Ok(())
            }
        }
    }

    /// Ends this request's session (logout): with Redis, the record is
    /// deleted, so every copy of the cookie is signed out at once. The cookie
    /// is removed only when that worked.
    pub(crate) async fn delete(
        &self,
        jar: &CookieJar<'_>,
        policy: &CookiePolicy,
    ) -> Result<(), Unavailable> {
        #[cfg(feature = "redis")]
        if let Store::Redis(redis) = self {
            if let Some(id) = session_id(jar) {
                redis.delete(&id).await?;
            }
        }
        clear_session(jar, policy);
        Ok(())
    }

    /// Before renewing the tokens of `record`: with Redis, takes the
    /// session's refresh lock, or waits for the request that holds it and
    /// uses its result (another instance's too).
    pub(crate) async fn begin_refresh(
        &self,
        jar: &CookieJar<'_>,
        policy: &CookiePolicy,
        record: &Arc<SessionRecord>,
    ) -> Result<Refresh, Unavailable> {
        match self {
            Store::Cookie(..) => {
                let _ = (jar, policy);
                Ok(Refresh::Go(RefreshLock::none(), record.clone()))
            }
            #[cfg(feature = "redis")]
            Store::Redis(redis) => {
                let Some(id) = session_id(jar) else {
                    return Ok(Refresh::Gone);
                };
                use super::redis::Found;
                Ok(match redis.begin_refresh(&id, policy, record).await? {
                    Found::Locked(lock, now) => {
                        Refresh::Go(RefreshLock::held(redis.clone(), lock), now)
                    }
                    Found::Renewed(now) => Refresh::Done(now),
                    Found::Gone => Refresh::Gone,
                })
            }
        }
    }
}

impl Store {
    /// Ends every session of the user with `central_id` (Redis store); how
    /// many there were. `None` with the cookie store, which cannot.
    pub(crate) async fn sign_out_everywhere(
        &self,
        central_id: u64,
    ) -> Option<Result<usize, Unavailable>> {
        match self {
            Store::Cookie(..) => {
                let _ = central_id;
                None
            }
            #[cfg(feature = "redis")]
            Store::Redis(redis) => Some(redis.sign_out_everywhere(central_id).await),
        }
    }
}

/// The session id in this request's cookie (Redis store): 32 random bytes
/// in base64url, or nothing for any other value.
#[cfg(feature = "redis")]
fn session_id(jar: &CookieJar<'_>) -> Option<String> {
    session_id_ref(jar).map(str::to_string)
}

/// [`session_id`], borrowed from the jar (a page's read copies nothing).
#[cfg(feature = "redis")]
fn session_id_ref<'a>(jar: &'a CookieJar<'_>) -> Option<&'a str> {
    let value = jar.get(SESSION_COOKIE)?.value();
    super::redis::valid_session_id(value).then_some(value)
}
