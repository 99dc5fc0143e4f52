//! What differs between the imitated MediaWiki versions, each checked over
//! HTTP on a wiki started at that version. 1.43 follows observed-1.43.md
//! ("Differences from 1.39"); 1.47 follows Extension:OAuth master's source
//! (see the README's "MediaWiki versions").

mod common;

use common::*;
use devwiki::{ConsumerSpec, DevWiki, DevWikiConfig, MediaWikiVersion, ProfileFlavour};

const REDIRECT: &str = "http://127.0.0.1:9989/oauth-callback";
const GRANTS: &[&str] = &["basic", "editpage", "createeditmovepage", "uploadfile"];

async fn refresh(wiki: &DevWiki, c: &devwiki::Consumer, rt: &str) -> Got {
    token(
        wiki,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await
}

async fn userinfo(wiki: &DevWiki, bearer: &str) -> Got {
    got(http()
        .get(format!(
            "{}?action=query&meta=userinfo&uiprop=groups%7Crights&format=json",
            wiki.api_url()
        ))
        .header("Authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap())
    .await
}

#[test]
fn names_and_defaults() {
    assert_eq!(MediaWikiVersion::default(), MediaWikiVersion::V1_39);
    assert_eq!(DevWikiConfig::default().mediawiki, MediaWikiVersion::V1_39);
    for v in MediaWikiVersion::ALL {
        assert_eq!(MediaWikiVersion::from_name(v.name()), Some(v));
    }
    assert_eq!(
        MediaWikiVersion::ALL.map(MediaWikiVersion::name),
        ["1.39", "1.43", "1.47"]
    );
    assert_eq!(MediaWikiVersion::from_name("1.42"), None);
}

#[tokio::test]
async fn the_version_is_shown_and_1_39_keeps_its_answers() {
    for v in MediaWikiVersion::ALL {
        let wiki = start(v).await;
        assert_eq!(wiki.mediawiki(), v);
        let info = got(http()
            .get(format!("{}/devwiki", wiki.server()))
            .send()
            .await
            .unwrap())
        .await
        .json();
        assert_eq!(info["mediawiki"], v.name());
        let expected_grace = if v == MediaWikiVersion::V1_47 { 600 } else { 0 };
        assert_eq!(
            info["switches"]["oauth2_refresh_grace_period"],
            expected_grace
        );
        wiki.shutdown().await;
    }
    // 1.39: the upstream bug (observed-1.39-more.md), no Vary, no cookie.
    let wiki = start(MediaWikiVersion::V1_39).await;
    let p = resource(&wiki, "profile", None).await;
    assert_eq!(p.status, 500);
    let c = client(&wiki, GRANTS, REDIRECT);
    let code = code(&wiki, &c, true, None).await;
    let t = redeem(&wiki, &c, &code, true, None).await;
    assert_eq!(t.status, 200);
    assert!(t.header("vary").is_none() && t.header("set-cookie").is_none());
}

/// observed-1.43.md, "Differences from 1.39" 2, 3 and 6.
#[tokio::test]
async fn mw143_rest_headers_and_profile_without_authorization() {
    let wiki = start(MediaWikiVersion::V1_43).await;
    let c = client(&wiki, GRANTS, REDIRECT);
    let code = code(&wiki, &c, true, None).await;
    let t = redeem(&wiki, &c, &code, true, None).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.header("vary").as_deref(), Some("x-restbase-compat"));
    let cookies = t.all("set-cookie");
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert!(
        cookies[0].starts_with("UseDC=master; expires=")
            && cookies[0].ends_with(" GMT; Max-Age=10; path=/; HttpOnly"),
        "{cookies:?}"
    );
    let access = t.json()["access_token"].as_str().unwrap().to_string();

    // The same code again: a REST error answer with Cache-Control.
    let again = redeem(&wiki, &c, &code, true, None).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.header("cache-control").as_deref(),
        Some("private,no-cache,s-maxage=0")
    );
    assert_eq!(again.header("vary").as_deref(), Some("x-restbase-compat"));

    for kind in ["profile", "scopes"] {
        let r = resource(&wiki, kind, Some(&access)).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(r.header("vary").as_deref(), Some("x-restbase-compat"));
    }
    let p = resource(&wiki, "profile", Some(&access)).await.json();
    assert_eq!(p["email_verified"], true);
    assert_eq!(p["sub"], "2");

    let none = resource(&wiki, "profile", None).await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.body,
        r#"{"error":"access_denied","error_description":"The resource owner or authorization server denied the request.","hint":"The JWT string must have two dots","message":"The resource owner or authorization server denied the request."}"#
    );
}

/// observed-1.43.md, "Differences from 1.39" 4 (OE5, OE7, O7x, OE6 None).
#[tokio::test]
async fn mw143_authorize_error_pages_have_4xx_statuses() {
    for (v, unknown, public, cancel) in [
        (MediaWikiVersion::V1_39, 200, 200, 200),
        (MediaWikiVersion::V1_43, 401, 400, 400),
        (MediaWikiVersion::V1_47, 401, 400, 400),
    ] {
        let wiki = DevWiki::start(DevWikiConfig {
            mediawiki: v,
            ..DevWikiConfig::default()
        })
        .await
        .unwrap();
        let c = client(&wiki, GRANTS, REDIRECT);
        let r = authorize(
            &wiki,
            &[
                ("response_type", "code"),
                ("client_id", "00000000000000000000000000000000"),
            ],
        )
        .await;
        assert_eq!(r.status, unknown, "{}", v.name());
        assert!(r.body.contains("Client authentication failed"));
        let r = authorize(
            &wiki,
            &[
                ("response_type", "code"),
                ("client_id", &c.key),
                ("redirect_uri", "http://evil.example/cb"),
            ],
        )
        .await;
        assert_eq!(r.status, unknown, "{}", v.name());
        let public_client = wiki.register_consumer(ConsumerSpec {
            callback: REDIRECT.into(),
            oauth2: true,
            confidential: false,
            ..ConsumerSpec::default()
        });
        let r = authorize(
            &wiki,
            &[("response_type", "code"), ("client_id", &public_client.key)],
        )
        .await;
        assert_eq!(r.status, public, "{}", v.name());
        let r = authorize(
            &wiki,
            &[
                ("response_type", "code"),
                ("client_id", &c.key),
                ("approval_cancel", "1"),
            ],
        )
        .await;
        assert_eq!(r.status, cancel, "{}", v.name());
        assert!(r
            .body
            .contains("The client is not authorized to request an authorization code"));
        wiki.shutdown().await;
    }
}

/// observed-1.43.md "The same as 1.39": refresh tokens are single-use on
/// 1.43 (O6x); 1.47 accepts a used one again for 600 s
/// (`$wgOAuth2RefreshTokenGracePeriod`, Extension:OAuth master
/// RefreshTokenRepository) with a new pair each time, then answers league
/// 9's 400 `invalid_grant` without `message`.
#[tokio::test]
async fn refresh_reuse_single_use_on_1_43_grace_on_1_47() {
    let wiki = start(MediaWikiVersion::V1_43).await;
    let c = client(&wiki, GRANTS, REDIRECT);
    let (_, rt) = sign_in(&wiki, &c).await;
    assert_eq!(refresh(&wiki, &c, &rt).await.status, 200);
    let second = refresh(&wiki, &c, &rt).await;
    assert_eq!(second.status, 401);
    assert_eq!(
        second.body,
        r#"{"error":"invalid_request","error_description":"The refresh token is invalid.","hint":"Token has been revoked","message":"The refresh token is invalid."}"#
    );
    wiki.shutdown().await;

    let wiki = start(MediaWikiVersion::V1_47).await;
    let c = client(&wiki, GRANTS, REDIRECT);
    let (old_access, rt) = sign_in(&wiki, &c).await;
    let first = refresh(&wiki, &c, &rt).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = refresh(&wiki, &c, &rt).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let (a1, a2) = (first.json(), second.json());
    assert_ne!(a1["access_token"], a2["access_token"]);
    assert_ne!(a1["refresh_token"], a2["refresh_token"]);
    // Both new pairs work; the old access token died at the first refresh.
    for a in [&a1, &a2] {
        let r = resource(&wiki, "profile", a["access_token"].as_str()).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = resource(&wiki, "profile", Some(&old_access)).await;
    assert_eq!(r.status, 401);
    // After the grace period.
    wiki.set_clock_offset(601);
    let late = refresh(&wiki, &c, &rt).await;
    assert_eq!(late.status, 400);
    assert_eq!(
        late.body,
        r#"{"error":"invalid_grant","error_description":"The refresh token is invalid.","hint":"Token has been revoked"}"#
    );
    // An explicit switch wins over the version's default.
    wiki.set_clock_offset(0);
    wiki.set_oauth2_refresh_grace_period(0);
    let rt2 = a1["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&wiki, &c, rt2).await.status, 200);
    assert_eq!(refresh(&wiki, &c, rt2).await.status, 400);
}

/// 1.47 access tokens: `sub` as `mw:CentralAuth::<id>` and a `grant_type`
/// claim (Extension:OAuth master AccessTokenEntity::getUserIdentifierForJwt,
/// ClaimStore::getClaims); owner-only tokens keep the plain id. The profile
/// keeps `sub` a plain string.
#[tokio::test]
async fn mw147_access_token_claims() {
    let wiki = start(MediaWikiVersion::V1_47).await;
    let c = client(&wiki, GRANTS, REDIRECT);
    let (access, rt) = sign_in(&wiki, &c).await;
    let (_, payload, _) = jwt_texts(&access);
    let claims: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(claims["sub"], "mw:CentralAuth::2");
    assert_eq!(claims["grant_type"], "authorization_code");
    let refreshed = refresh(&wiki, &c, &rt).await.json();
    let (_, payload, _) = jwt_texts(refreshed["access_token"].as_str().unwrap());
    let claims: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(claims["grant_type"], "refresh_token");
    let p = resource(&wiki, "profile", refreshed["access_token"].as_str()).await;
    assert_eq!(p.json()["sub"], "2");
    // api.php accepts the token too, and lists no writeapi/purge.
    let u = userinfo(&wiki, refreshed["access_token"].as_str().unwrap()).await;
    let rights = u.json()["query"]["userinfo"]["rights"].clone();
    assert!(rights
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r != "writeapi" && r != "purge"));

    let owner = wiki.register_consumer(ConsumerSpec {
        grants: vec!["basic".into()],
        owner_only: Some("Admin".into()),
        oauth2: true,
        ..ConsumerSpec::default()
    });
    let (_, payload, _) = jwt_texts(owner.oauth2_access_token.as_deref().unwrap());
    let claims: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(claims["sub"], "1");
    assert!(claims.get("grant_type").is_none());

    // No Authorization header: league 9.4.1's answer, without `message`.
    let none = resource(&wiki, "profile", None).await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.body,
        r#"{"error":"access_denied","error_description":"The resource owner or authorization server denied the request.","hint":"Missing \"Authorization\" header"}"#
    );
    // A reused code: league 9's invalid_grant.
    let code = code(&wiki, &c, true, None).await;
    assert_eq!(redeem(&wiki, &c, &code, true, None).await.status, 200);
    let again = redeem(&wiki, &c, &code, true, None).await.json();
    assert_eq!(again["error"], "invalid_grant");
    assert_eq!(again["hint"], "Authorization code has been revoked");
    assert!(again.get("message").is_none());
}

/// 1.47 (Extension:OAuth master Authorize::getUselangFromUiLocales): the
/// first known tag of `ui_locales` becomes the dialog's `uselang`.
#[tokio::test]
async fn mw147_ui_locales_become_uselang() {
    for (v, lang) in [
        (MediaWikiVersion::V1_43, "en"),
        (MediaWikiVersion::V1_47, "de"),
    ] {
        let wiki = DevWiki::start(DevWikiConfig {
            mediawiki: v,
            ..DevWikiConfig::default()
        })
        .await
        .unwrap();
        let c = client(&wiki, GRANTS, REDIRECT);
        let r = authorize(
            &wiki,
            &[
                ("response_type", "code"),
                ("client_id", &c.key),
                ("ui_locales", "fake de-AT en"),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let expected = if lang == "de" { "de-at" } else { "en" };
        assert!(
            r.body
                .contains(&format!("<html class=\"client-nojs\" lang=\"{expected}\"")),
            "{}: {}",
            v.name(),
            &r.body[..200]
        );
        assert_eq!(
            r.body.contains("name=\"uselang\" value=\"de-at\""),
            v == MediaWikiVersion::V1_47
        );
        wiki.shutdown().await;
    }
}

/// An explicitly chosen profile flavour wins over the version's.
#[tokio::test]
async fn explicit_profile_flavour_wins() {
    let wiki = DevWiki::start(DevWikiConfig {
        auto_approve: Some("Alice".into()),
        mediawiki: MediaWikiVersion::V1_43,
        profile_as: ProfileFlavour::SubAsNumber,
        ..DevWikiConfig::default()
    })
    .await
    .unwrap();
    let c = client(&wiki, GRANTS, REDIRECT);
    let (access, _) = sign_in(&wiki, &c).await;
    assert_eq!(
        resource(&wiki, "profile", Some(&access)).await.json()["sub"],
        2
    );
}
