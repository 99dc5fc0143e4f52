//! Micro-benchmarks of the hot paths: `cargo bench --bench micro`.
//!
//! - signing an api.php request (OAuth 1.0a HMAC-SHA1 `Authorization` header);
//! - verifying the identity JWT (an admin's, with a long rights list);
//! - opening the session cookie (AES-GCM decryption as Rocket's private
//!   cookies do, then parsing the record).

use cookie::{Cookie, CookieJar, Key};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rocket_mediawiki_oauth::identity::{self, Expected};
use rocket_mediawiki_oauth::protocol::{self, Credentials, TokenPair};
use rocket_mediawiki_oauth::session;

fn sign(c: &mut Criterion) {
    let consumer = TokenPair {
        key: "bee2067d6273fa479f7c7ec744cc1b49".into(),
        secret: "78f334db94e07b61b8d5cd14fb4d0b99f988a1bd".into(),
    };
    let creds = Credentials::OAuth1(TokenPair {
        key: "8efb54617594c7cd3a70703660799948".into(),
        secret: "e1125fdb4e24e12afcfab46333c48c52c13f4f41".into(),
    });
    let params = [
        ("action", "query"),
        ("meta", "userinfo"),
        ("format", "json"),
        ("formatversion", "2"),
        ("assert", "user"),
    ];
    c.bench_function("sign api.php request", |b| {
        b.iter(|| {
            protocol::authorize_request(
                &consumer,
                &creds,
                "GET",
                black_box("https://meta.wikimedia.org/w/api.php"),
                params,
            )
            .unwrap()
        })
    });
}

fn verify_jwt(c: &mut Criterion) {
    let secret = "78f334db94e07b61b8d5cd14fb4d0b99f988a1bd";
    let rights: Vec<String> = (0..250).map(|i| format!("some-right-{i}")).collect();
    let now = 1_795_830_981;
    let claims = serde_json::json!({"iss":"https://meta.wikimedia.org","aud":"bee2067d6273fa479f7c7ec744cc1b49",
        "exp":now + 100,"iat":now,"sub":"12345","username":"Admin","editcount":123456,"confirmed_email":true,
        "email_verified":true,"blocked":false,"registered":"20100101000000",
        "groups":["*","user","autoconfirmed","sysop","bureaucrat","interface-admin"],"rights":rights,
        "grants":{"0":"basic","2":"editpage","3":"highvolume"},"nonce":"0123456789abcdef0123456789abcdef"});
    let jwt = identity::encode_hs256(
        &serde_json::json!({"typ":"JWT","alg":"HS256"}),
        &claims,
        secret,
    );
    let expected = Expected {
        consumer_key: "bee2067d6273fa479f7c7ec744cc1b49",
        consumer_secret: secret,
        issuer_origin: "https://meta.wikimedia.org",
        nonce: "0123456789abcdef0123456789abcdef",
        now,
        leeway: 120,
    };
    c.bench_function("verify identity JWT (admin, 250 rights)", |b| {
        b.iter(|| identity::verify(black_box(&jwt), &expected).unwrap())
    });
}

fn open_cookie(c: &mut Criterion) {
    let key = Key::derive_from(&[7u8; 32]);
    let record = r#"{"v":1,"cr":{"p":"o1","k":"8efb54617594c7cd3a70703660799948","s":"e1125fdb4e24e12afcfab46333c48c52c13f4f41"},"u":{"n":"Admin","i":12345,"e":123456,"b":false,"c":true,"r":"20100101000000","g":["*","user","autoconfirmed","sysop","bureaucrat","interface-admin"],"gr":["basic","editpage","highvolume"]},"at":1795830981}"#;
    let mut jar = CookieJar::new();
    jar.private_mut(&key)
        .add(Cookie::new(session::SESSION_COOKIE, record));
    let encrypted = jar
        .get(session::SESSION_COOKIE)
        .unwrap()
        .value()
        .to_string();
    c.bench_function("open session cookie (decrypt + parse)", |b| {
        b.iter(|| {
            let mut jar = CookieJar::new();
            jar.add_original(Cookie::new(
                session::SESSION_COOKIE,
                black_box(encrypted.clone()),
            ));
            let plain = jar.private(&key).get(session::SESSION_COOKIE).unwrap();
            session::decode_session(plain.value()).unwrap()
        })
    });
}

fn parse_only(c: &mut Criterion) {
    let record = r#"{"v":1,"cr":{"p":"o1","k":"8efb54617594c7cd3a70703660799948","s":"e1125fdb4e24e12afcfab46333c48c52c13f4f41"},"u":{"n":"Admin","i":12345,"e":123456,"b":false,"c":true,"r":"20100101000000","g":["*","user","autoconfirmed","sysop","bureaucrat","interface-admin"],"gr":["basic","editpage","highvolume"]},"at":1795830981}"#;
    c.bench_function("parse session record (no decryption)", |b| {
        b.iter(|| session::decode_session(black_box(record)).unwrap())
    });
}

criterion_group!(benches, sign, verify_jwt, open_cookie, parse_only);
criterion_main!(benches);
