//! The flask-mwoauth demo, in Rocket: a short tour of the crate.
//!
//! ```text
//! cargo run --example demo
//! ROCKET_PORT=8001 cargo run --example demo   # when port 8000 is taken
//! DEVWIKI_VERBOSE=1 cargo run --example demo  # also log the local wiki's requests
//! DEMO_OAUTH=2 cargo run --example demo        # sign in with OAuth 2.0 instead of 1.0a
//! ```
//!
//! With no consumer configured it starts the embedded local wiki on loopback
//! and uses it: open the printed address and click "log in". With a consumer
//! configured (the `[default.mwoauth]` table of Rocket.toml, or
//! `ROCKET_MWOAUTH_BASE_URL`, `ROCKET_MWOAUTH_CONSUMER_KEY`,
//! `ROCKET_MWOAUTH_CONSUMER_SECRET`) it talks to that wiki instead, e.g.
//! `https://meta.wikimedia.org/w`.

mod app;

use std::cell::Cell;
use std::io::Write;
use std::process::ExitCode;

use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use rocket::figment::providers::Env;
use rocket::figment::Figment;

thread_local! {
    /// Set on the thread that runs the local wiki: its log lines are dropped.
    static QUIET_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Rocket's log lines, in Rocket's layout, minus those of the local wiki
/// (Rocket's own logger is global: the app's log level would let the wiki's
/// requests through).
struct DemoLogger;

impl log::Log for DemoLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let launch = metadata.target().contains("rocket::launch");
        (metadata.level() <= log::max_level() || launch) && !QUIET_THREAD.with(Cell::get)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let noisy = ["hyper", "rustls", "reqwest", "h2"]
            .iter()
            .any(|m| record.module_path().is_some_and(|p| p.starts_with(m)));
        if noisy && log::max_level() < log::LevelFilter::Debug {
            return;
        }
        let indented = record.target().ends_with('_');
        let prefix = match record.level() {
            _ if indented => "   >> ",
            _ if record.target().contains("rocket::launch") => "",
            log::Level::Error => "Error: ",
            log::Level::Warn => "Warning: ",
            _ => "",
        };
        let _ = writeln!(std::io::stdout(), "{prefix}{}", record.args());
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

/// Starts the local wiki on a thread of its own (so that its log lines can
/// be told apart) and points the figment at it.
fn start_local_wiki(figment: Figment, port: u16) -> std::io::Result<Figment> {
    let (tx, rx) = std::sync::mpsc::channel();
    let verbose = app::local_wiki_config(port).verbose;
    std::thread::spawn(move || {
        QUIET_THREAD.with(|q| q.set(!verbose));
        // Its blocking threads are quiet too (and named as Rocket's own).
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("rocket-worker-devwiki")
            .on_thread_start(move || QUIET_THREAD.with(|q| q.set(!verbose)))
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        runtime.block_on(async move {
            match app::with_local_wiki(figment, port).await {
                Ok((figment, wiki)) => {
                    println!(
                        "\n  No consumer is configured: using the embedded local wiki at {}",
                        wiki.base_url()
                    );
                    println!("  Its users: {}", wiki.users().join(", "));
                    if !verbose {
                        println!("  (DEVWIKI_VERBOSE=1 logs its requests too)");
                    }
                    let _ = tx.send(Ok(figment));
                    // The wiki runs for as long as the app.
                    std::future::pending::<()>().await;
                    drop(wiki);
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    rx.recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the local wiki's thread ended")))
}

#[rocket::main]
async fn main() -> ExitCode {
    let _ = log::set_logger(&DemoLogger);
    let figment = rocket::Config::figment();
    let level: LogLevel = figment
        .extract_inner("log_level")
        .unwrap_or(LogLevel::Normal);
    log::set_max_level(level.into());

    let env_consumer = Env::prefixed("ROCKET_MWOAUTH_")
        .iter()
        .any(|(k, _)| matches!(k.as_str(), "consumer_key" | "client_id"));
    let configured = figment.find_value("mwoauth.consumer_key").is_ok()
        || figment.find_value("mwoauth.client_id").is_ok()
        || env_consumer;
    let port: u16 = figment.extract_inner("port").unwrap_or(8000);

    let figment = if configured {
        figment
    } else {
        match start_local_wiki(figment, port) {
            Ok(figment) => figment,
            Err(e) => {
                eprintln!("The local wiki could not start: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let rocket = app::rocket(figment).attach(AdHoc::on_liftoff("where to click", |rocket| {
        Box::pin(async move {
            let c = rocket.config();
            println!(
                "\n  ==> The demo is up: open http://{}:{}/ and click \"log in\"\n",
                c.address, c.port
            );
        })
    }));
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", app::launch_failure(&e, port));
            ExitCode::FAILURE
        }
    }
}
