//! Runs DevWiki, the local imitation of MediaWiki + Extension:OAuth, until
//! Ctrl-C:
//!
//! ```text
//! cargo run --example devwiki
//! DEVWIKI_PORT=9090 DEVWIKI_HOST=localhost cargo run --example devwiki
//! ```
//!
//! Environment (all optional):
//! - `DEVWIKI_PORT` (default 8080; 0 = any free port), `DEVWIKI_HOST`
//!   (default 127.0.0.1; the host in the wiki's URLs, it always binds 127.0.0.1);
//! - `DEVWIKI_CALLBACK`: the default consumer's registered callback
//!   (default `http://127.0.0.1:8000/oauth-callback`);
//! - `DEVWIKI_CONSUMER_KEY` / `DEVWIKI_CONSUMER_SECRET`: the default
//!   consumer's credentials (fixed defaults, printed at start, so an app's
//!   configuration survives restarts; `DEVWIKI_RANDOM_CREDENTIALS=1` for
//!   random ones);
//! - `DEVWIKI_AUTO_APPROVE=Alice`: skip the authorize page;
//! - `DEVWIKI_VERBOSE=1`: log requests.

use devwiki::{DevWiki, DevWikiConfig};

/// Fixed development credentials of the default consumer (not secret: this
/// wiki only exists on your machine).
const DEV_KEY: &str = "d3e5a1c0ffee0ddba11d3e5a1c0ffee0";
const DEV_SECRET: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match env("DEVWIKI_PORT") {
        Some(p) => p
            .parse()
            .map_err(|_| format!("DEVWIKI_PORT is not a port: {p}"))?,
        None => 8080,
    };
    let random = env("DEVWIKI_RANDOM_CREDENTIALS").is_some_and(|v| v != "0");
    let defaults = DevWikiConfig::default();
    let config = DevWikiConfig {
        host: env("DEVWIKI_HOST").unwrap_or(defaults.host),
        port,
        auto_approve: env("DEVWIKI_AUTO_APPROVE"),
        callback: env("DEVWIKI_CALLBACK").unwrap_or(defaults.callback),
        default_consumer_key: env("DEVWIKI_CONSUMER_KEY")
            .or((!random).then(|| DEV_KEY.to_string())),
        default_consumer_secret: env("DEVWIKI_CONSUMER_SECRET")
            .or((!random).then(|| DEV_SECRET.to_string())),
        verbose: env("DEVWIKI_VERBOSE").is_some_and(|v| v != "0"),
        ..defaults
    };
    let wiki = DevWiki::start(config).await?;
    let consumer = wiki.default_consumer();
    let server = wiki.server();
    println!("DevWiki (imitation of MediaWiki + Extension:OAuth) is running.");
    println!();
    println!("  server ($wgServer, JWT iss): {server}");
    println!("  base URL (script path):      {}", wiki.base_url());
    println!("  index.php:                   {}", wiki.index_url());
    println!("  api.php:                     {}", wiki.api_url());
    println!(
        "  Special:OAuth/initiate:      {}?title=Special:OAuth/initiate",
        wiki.index_url()
    );
    println!();
    println!(
        "Default consumer \"{}\" (callback \"oob\"-style, registered callback {}):",
        consumer.name, consumer.callback
    );
    println!("  consumer key:    {}", consumer.key);
    println!("  consumer secret: {}", consumer.secret);
    println!("  grants:          {}", consumer.grants.join(", "));
    println!();
    println!("Users (pick one on the authorize page; no passwords):");
    for user in wiki.users() {
        println!("  - {user}");
    }
    println!();
    println!("Test controls (JSON):");
    for c in [
        "GET  /devwiki                 info",
        "GET  /devwiki/users",
        "GET  /devwiki/consumers",
        "POST /devwiki/consumers       {\"name\":\"App\",\"callback\":\"http://127.0.0.1:5000/cb\",\"callback_is_prefix\":true,\"grants\":[\"basic\",\"editpage\"]}",
        "POST /devwiki/revoke          {\"user\":\"Alice\",\"consumer_key\":\"...\"}",
        "POST /devwiki/grant           {\"user\":\"Alice\",\"consumer_key\":\"...\"}",
        "POST /devwiki/maxlag          {\"lag\":7,\"times\":1}   ({\"lag\":null} = off)",
        "POST /devwiki/down            {\"down\":true}",
        "POST /devwiki/clock           {\"offset\":601}",
        "POST /devwiki/auto-approve    {\"user\":\"Alice\"}   ({\"user\":null} = show the page)",
        "GET  /devwiki/page?title=Main%20Page",
    ] {
        println!("  {c}");
    }
    println!();
    println!("Press Ctrl-C to stop.");
    wait_for_stop().await?;
    println!("Stopping.");
    wiki.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_stop() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
