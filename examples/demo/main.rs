//! The flask-mwoauth demo, in Rocket.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! With no consumer configured it starts the embedded local wiki on loopback
//! and uses it: open the printed address and click "log in". With a consumer
//! configured (the `[default.mwoauth]` table of Rocket.toml, or
//! `ROCKET_MWOAUTH_BASE_URL`, `ROCKET_MWOAUTH_CONSUMER_KEY`,
//! `ROCKET_MWOAUTH_CONSUMER_SECRET`) it talks to that wiki instead, e.g.
//! `https://meta.wikimedia.org/w`.

mod app;

use rocket::figment::providers::Env;
use rocket::launch;

#[launch]
async fn rocket() -> _ {
    let figment = rocket::Config::figment();
    let env_consumer = Env::prefixed("ROCKET_MWOAUTH_")
        .iter()
        .any(|(k, _)| k.as_str() == "consumer_key");
    let configured = figment.find_value("mwoauth.consumer_key").is_ok() || env_consumer;
    let port: u16 = figment.extract_inner("port").unwrap_or(8000);
    let address: String = figment
        .extract_inner("address")
        .unwrap_or_else(|_| "127.0.0.1".into());

    let figment = if configured {
        println!("\n  ==> Open http://{address}:{port}/ and click \"log in\"\n");
        figment
    } else {
        let (figment, wiki) = app::with_local_wiki(figment, port).await;
        println!(
            "\n  No consumer is configured: using the embedded local wiki at {}",
            wiki.base_url()
        );
        println!("  Its users: {}", wiki.users().join(", "));
        println!("\n  ==> Open http://127.0.0.1:{port}/ and click \"log in\"\n");
        // The wiki runs in the background for as long as the app.
        std::mem::forget(wiki);
        figment
    };
    app::rocket(figment).attach(rocket::fairing::AdHoc::on_liftoff(
        "where to click",
        |rocket| {
            Box::pin(async move {
                let c = rocket.config();
                println!(
                    "\n  ==> The demo is up: open http://{}:{}/ and click \"log in\"\n",
                    c.address, c.port
                );
            })
        },
    ))
}
