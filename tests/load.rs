//! Load and scale: 500 simulated users sign in at once through the local wiki
//! and then call the API; every one succeeds and none sees another's
//! identity. Two app instances sharing `secret_key` serve the same users.

mod common;

use std::sync::Arc;

use common::*;

const USERS: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_users_sign_in_at_once_and_stay_themselves() {
    let wiki = start_wiki().await;
    let port_a = free_port();
    let consumer = consumer_for(&wiki, port_a).await;
    let app_a = launch(app_rocket(app_figment(&wiki, &consumer, port_a))).await;
    // A twin instance: same secret_key, same consumer.
    let app_b = launch(app_rocket(app_figment(&wiki, &consumer, free_port()))).await;

    let names: Vec<String> = (0..USERS).map(|i| format!("Load user {i:03}")).collect();
    for n in &names {
        assert!(wiki.add_user(n));
    }
    let app_a = Arc::new(app_a);
    let app_b = Arc::new(app_b);
    let mut tasks = Vec::new();
    // The wiki's authorize page says who approves: each simulated user posts
    // the form as themselves, all at once.
    for name in names.clone() {
        let (a, b) = (app_a.clone(), app_b.clone());
        let wiki_index = wiki.index_url();
        tasks.push(tokio::spawn(async move {
            let jar = Arc::new(reqwest::cookie::Jar::default());
            let step = stepping_browser(jar.clone());
            let r = step
                .get(a.at("/login?next=%2Fme"))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let authorize = r
                .headers()
                .get("location")
                .ok_or("no redirect to the wiki")?
                .to_str()
                .unwrap()
                .to_string();
            let url = reqwest::Url::parse(&authorize).unwrap();
            let token = url
                .query_pairs()
                .find(|(k, _)| k == "oauth_token")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let consumer = url
                .query_pairs()
                .find(|(k, _)| k == "oauth_consumer_key")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let r = step
                .post(&wiki_index)
                .form(&[
                    ("title", "Special:OAuth/authorize"),
                    ("user", name.as_str()),
                    ("consumerKey", consumer.as_str()),
                    ("requestToken", token.as_str()),
                    ("oauth_version", "1"),
                    ("wpaction", "accept"),
                    ("accept", "Allow"),
                ])
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let callback = r
                .headers()
                .get("location")
                .ok_or_else(|| format!("the wiki did not call back: {}", r.status()))?
                .to_str()
                .unwrap()
                .to_string();
            let r = step
                .get(&callback)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if r.status() != 303 {
                return Err(format!(
                    "callback: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ));
            }
            // Each user sees themselves, on either instance, through the cookie and the API.
            for app in [&a, &b] {
                let me: serde_json::Value = step
                    .get(app.at("/me"))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                if me["name"] != name.as_str() {
                    return Err(format!("{name} sees {me}"));
                }
                let info: serde_json::Value = step
                    .get(app.at("/userinfo"))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                if info["query"]["userinfo"]["name"] != name.as_str() {
                    return Err(format!("{name} is {info} on the wiki"));
                }
            }
            Ok::<_, String>(())
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {USERS} failed, first: {:?}",
        failures.len(),
        failures.first()
    );
    wiki.shutdown().await;
}
