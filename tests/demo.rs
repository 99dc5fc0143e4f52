//! The demo app without a browser: what `cargo run --example demo` says
//! when its port is taken.

mod common;
#[allow(dead_code)]
#[path = "../examples/demo/app.rs"]
mod demo_app;

use common::*;

#[rocket::async_test]
async fn a_taken_port_is_reported_with_the_rocket_port_to_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = taken.local_addr().expect("its address").port();
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY));
    let (figment, wiki) = demo_app::with_local_wiki(figment, port)
        .await
        .expect("the local wiki starts");
    let error = match demo_app::rocket(figment).launch().await {
        Ok(_) => panic!("the demo launched on a taken port"),
        Err(e) => e,
    };
    let message = demo_app::launch_failure(&error, port);
    assert!(
        message.contains(&format!("Port {port} is taken")),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "ROCKET_PORT={} cargo run --example demo",
            port + 1
        )),
        "{message}"
    );
    drop(taken);
    wiki.shutdown().await;
}
