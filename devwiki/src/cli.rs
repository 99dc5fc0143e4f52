//! The `devwiki` command: flags and environment, start, print, wait.
//!
//! `cargo run -p devwiki -- --help` lists the flags; the binary
//! (`src/main.rs`) and the root package's `cargo run --example devwiki` both
//! call [`main`].

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use crate::{DevWiki, DevWikiConfig};

/// Fixed development credentials of the default consumer, so that an app's
/// configuration survives restarts (not secret: this wiki only exists on
/// your machine).
pub const DEV_CONSUMER_KEY: &str = "d3e5a1c0ffee0ddba11d3e5a1c0ffee0";
/// See [`DEV_CONSUMER_KEY`].
pub const DEV_CONSUMER_SECRET: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";

/// The fixed development `client_id` of the default OAuth 2.0 client.
pub const DEV_OAUTH2_CLIENT_ID: &str = "0a2c11e0d0a2c11e0d0a2c11e0d0a2c1";

/// The fixed development client secret of the default OAuth 2.0 client.
pub const DEV_OAUTH2_CLIENT_SECRET: &str = "2c5ec2e72c5ec2e72c5ec2e72c5ec2e72c5ec2e7";

const DEFAULT_PORT: u16 = 8080;

const HELP: &str = "\
devwiki: a local imitation of MediaWiki 1.39 + Extension:OAuth (OAuth 1.0a and 2.0) and api.php

Usage: devwiki [OPTIONS]

Options (each has an environment variable; a flag wins over it):
  --host HOST            host in the wiki's URLs, $wgServer (DEVWIKI_HOST; default 127.0.0.1;
                         it always listens on 127.0.0.1)
  --port PORT            TCP port, 0 = any free port (DEVWIKI_PORT; default 8080)
  --script-path PATH     $wgScriptPath, \"\" for the root (DEVWIKI_SCRIPT_PATH; default /w)
  --user NAME            add an ordinary user; repeatable (DEVWIKI_USERS, comma-separated)
  --consumer-key KEY     the default consumer's key, 32 hex (DEVWIKI_CONSUMER_KEY)
  --consumer-secret S    its secret, 40 hex (DEVWIKI_CONSUMER_SECRET)
  --random-credentials   random key and secret instead of the fixed development ones
                         (DEVWIKI_RANDOM_CREDENTIALS=1)
  --callback URL         where the wiki sends users back: the registered callback of the
                         default OAuth 1.0a consumer and the redirect_uri of the default
                         OAuth 2.0 client (DEVWIKI_CALLBACK;
                         default http://127.0.0.1:8000/oauth-callback)
  --callback-is-prefix   register it with \"callback is prefix\": apps send their own callback,
                         which must extend URL; port 1 in URL means any port
                         (DEVWIKI_CALLBACK_IS_PREFIX=1)
  --oauth2-client-id ID  the default OAuth 2.0 client's client_id, 32 hex (DEVWIKI_OAUTH2_CLIENT_ID)
  --oauth2-client-secret S
                         its client secret, 40 hex (DEVWIKI_OAUTH2_CLIENT_SECRET)
  --oauth2-public        register it as a public client: PKCE required, no secret check when
                         redeeming a code (DEVWIKI_OAUTH2_PUBLIC=1)
  --oauth2-redirect-uri URL
                         its registered redirect_uri, when it must differ from --callback
                         (DEVWIKI_OAUTH2_REDIRECT_URI; default the --callback URL; any port
                         on 127.0.0.1 matches)
  --oauth2-token-lifetime SECS
                         expires_in of OAuth 2.0 access tokens (DEVWIKI_OAUTH2_TOKEN_LIFETIME;
                         default 3600)
  --profile-as FLAVOUR   rest.php/oauth2/resource/profile as mw139 (default), mw144 (adds
                         email_verified) or sub-as-number (DEVWIKI_PROFILE_AS)
  --mediawiki VERSION    the MediaWiki + Extension:OAuth release to imitate: 1.39 (default),
                         1.43 or 1.47 (DEVWIKI_MEDIAWIKI)
  --auto-approve USER    approve every authorization as USER, no page (DEVWIKI_AUTO_APPROVE)
  --verbose              log every request (DEVWIKI_VERBOSE=1)
  --oauth 1|2            the protocol of the [default.mwoauth] block printed for a Rocket app:
                         1 = OAuth 1.0a, 2 = OAuth 2.0 (DEVWIKI_OAUTH; default 2)
  --json                 print one JSON object (URLs, default consumer, OAuth 2.0 client,
                         users) on stdout once the port is bound, and nothing else
  -h, --help             this text
  -V, --version          the version

It runs until Ctrl-C or SIGTERM. Everything is in memory; the consumer secrets it prints are
development values for this local wiki only.
";

/// Which protocol's `[default.mwoauth]` block the text for people shows
/// (`--oauth 1|2`, `DEVWIKI_OAUTH`; default 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// OAuth 1.0a: the default consumer.
    OAuth1,
    /// OAuth 2.0: the default client (the default).
    #[default]
    OAuth2,
}

impl Protocol {
    fn from_name(name: &str) -> Option<Protocol> {
        match name.trim() {
            "1" | "1.0a" => Some(Protocol::OAuth1),
            "2" | "2.0" => Some(Protocol::OAuth2),
            _ => None,
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The wiki's configuration.
    pub config: DevWikiConfig,
    /// Users to add.
    pub users: Vec<String>,
    /// Print JSON instead of text.
    pub json: bool,
    /// The protocol of the `[default.mwoauth]` block printed for people.
    pub oauth: Protocol,
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Run a wiki.
    Run(Box<Options>),
    /// Print the help text.
    Help,
    /// Print the version.
    Version,
}

fn env_value(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
}

fn env_flag(env: &dyn Fn(&str) -> Option<String>, name: &str) -> bool {
    env_value(env, name).is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn parse_port(value: &str, from: &str) -> Result<u16, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{from} is not a port number (0 to 65535): {value:?}"))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The settings as read, before they are checked: the environment first,
/// then the flags over it. A value remembers where it came from (for the
/// error messages) where that differs between the two.
#[derive(Default)]
struct Raw {
    host: Option<String>,
    port: Option<u16>,
    script_path: Option<String>,
    users: Vec<String>,
    key: Option<String>,
    secret: Option<String>,
    random: bool,
    callback: Option<String>,
    prefix: bool,
    auto_approve: Option<String>,
    o2_id: Option<String>,
    o2_secret: Option<String>,
    o2_public: bool,
    o2_redirect: Option<String>,
    o2_lifetime: Option<String>,
    profile_as: Option<String>,
    mediawiki: Option<(String, &'static str)>,
    oauth: Option<(String, &'static str)>,
    verbose: bool,
    json: bool,
}

/// Reads the `DEVWIKI_*` environment variables.
fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Raw, String> {
    Ok(Raw {
        host: env_value(env, "DEVWIKI_HOST"),
        port: match env_value(env, "DEVWIKI_PORT") {
            Some(p) => Some(parse_port(&p, "DEVWIKI_PORT")?),
            None => None,
        },
        // An empty DEVWIKI_SCRIPT_PATH means the root, so read it unfiltered.
        script_path: env("DEVWIKI_SCRIPT_PATH"),
        users: env_value(env, "DEVWIKI_USERS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        key: env_value(env, "DEVWIKI_CONSUMER_KEY"),
        secret: env_value(env, "DEVWIKI_CONSUMER_SECRET"),
        random: env_flag(env, "DEVWIKI_RANDOM_CREDENTIALS"),
        callback: env_value(env, "DEVWIKI_CALLBACK"),
        prefix: env_flag(env, "DEVWIKI_CALLBACK_IS_PREFIX"),
        auto_approve: env_value(env, "DEVWIKI_AUTO_APPROVE"),
        o2_id: env_value(env, "DEVWIKI_OAUTH2_CLIENT_ID"),
        o2_secret: env_value(env, "DEVWIKI_OAUTH2_CLIENT_SECRET"),
        o2_public: env_flag(env, "DEVWIKI_OAUTH2_PUBLIC"),
        o2_redirect: env_value(env, "DEVWIKI_OAUTH2_REDIRECT_URI"),
        o2_lifetime: env_value(env, "DEVWIKI_OAUTH2_TOKEN_LIFETIME"),
        profile_as: env_value(env, "DEVWIKI_PROFILE_AS"),
        mediawiki: env_value(env, "DEVWIKI_MEDIAWIKI").map(|v| (v, "DEVWIKI_MEDIAWIKI")),
        oauth: env_value(env, "DEVWIKI_OAUTH").map(|v| (v, "DEVWIKI_OAUTH")),
        verbose: env_flag(env, "DEVWIKI_VERBOSE"),
        json: false,
    })
}

/// Reads the flags over `raw`; `Some` when the answer is a command of its
/// own (`--help`, `--version`).
fn apply_flags(
    raw: &mut Raw,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Option<Command>, String> {
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        let Long(flag) = arg else {
            return match arg {
                Short('h') => Ok(Some(Command::Help)),
                Short('V') => Ok(Some(Command::Version)),
                other => Err(other.unexpected().to_string()),
            };
        };
        let flag = flag.to_string();
        let mut value = || -> Result<String, String> {
            parser
                .value()
                .map_err(|e| e.to_string())?
                .into_string()
                .map_err(|_| format!("the value of --{flag} is not valid UTF-8"))
        };
        match flag.as_str() {
            "host" => raw.host = Some(value()?),
            "port" => raw.port = Some(parse_port(&value()?, "--port")?),
            "script-path" => raw.script_path = Some(value()?),
            "user" => raw.users.push(value()?),
            "consumer-key" => raw.key = Some(value()?),
            "consumer-secret" => raw.secret = Some(value()?),
            "random-credentials" => raw.random = true,
            "callback" => raw.callback = Some(value()?),
            "callback-is-prefix" => raw.prefix = true,
            "auto-approve" => raw.auto_approve = Some(value()?),
            "oauth2-client-id" => raw.o2_id = Some(value()?),
            "oauth2-client-secret" => raw.o2_secret = Some(value()?),
            "oauth2-public" => raw.o2_public = true,
            "oauth2-redirect-uri" => raw.o2_redirect = Some(value()?),
            "oauth2-token-lifetime" => raw.o2_lifetime = Some(value()?),
            "profile-as" => raw.profile_as = Some(value()?),
            "mediawiki" => raw.mediawiki = Some((value()?, "--mediawiki")),
            "oauth" => raw.oauth = Some((value()?, "--oauth")),
            "verbose" => raw.verbose = true,
            "json" => raw.json = true,
            "help" => return Ok(Some(Command::Help)),
            "version" => return Ok(Some(Command::Version)),
            _ => return Err(Long(&flag).unexpected().to_string()),
        }
    }
    Ok(None)
}

/// Checks the shapes of the credentials given.
fn check_credentials(raw: &Raw) -> Result<(), String> {
    if let Some(k) = raw.key.as_ref().filter(|k| !is_hex(k, 32)) {
        return Err(format!(
            "the consumer key must be 32 lowercase hex characters: {k:?}"
        ));
    }
    if raw.secret.as_ref().is_some_and(|s| !is_hex(s, 40)) {
        return Err("the consumer secret must be 40 lowercase hex characters".into());
    }
    if let Some(k) = raw.o2_id.as_ref().filter(|k| !is_hex(k, 32)) {
        return Err(format!(
            "the OAuth 2.0 client_id must be 32 lowercase hex characters: {k:?}"
        ));
    }
    if raw.o2_secret.as_ref().is_some_and(|s| !is_hex(s, 40)) {
        return Err("the OAuth 2.0 client secret must be 40 lowercase hex characters".into());
    }
    Ok(())
}

/// The registered URLs: the consumer's callback and the OAuth 2.0
/// client's `redirect_uri`. `--callback` sets both (an app uses one
/// protocol or the other, and comes back to the same route); an explicit
/// `--oauth2-redirect-uri` wins for OAuth 2.0. A prefix callback gives the
/// client the callback an app would send under it (on 127.0.0.1 any port
/// matches); `oob` leaves the client at its default.
fn callbacks(raw: &Raw, defaults: &DevWikiConfig) -> Result<(String, String), String> {
    let callback = raw.callback.clone().unwrap_or(defaults.callback.clone());
    if callback != "oob" && !(callback.starts_with("http://") || callback.starts_with("https://")) {
        return Err(format!(
            "the callback must be an http:// or https:// URL: {callback:?}"
        ));
    }
    let redirect = match (&raw.o2_redirect, &raw.callback) {
        (Some(uri), _) => uri.clone(),
        (None, Some(c)) if c != "oob" && raw.prefix => example_callback(c),
        (None, Some(c)) if c != "oob" => c.clone(),
        _ => defaults.oauth2_redirect_uri.clone(),
    };
    Ok((callback, redirect))
}

/// Turns the checked settings into the wiki's configuration and the
/// command's options.
fn options_from(raw: Raw) -> Result<Options, String> {
    let defaults = DevWikiConfig::default();
    check_credentials(&raw)?;
    let (callback, oauth2_redirect_uri) = callbacks(&raw, &defaults)?;
    let oauth2_access_token_lifetime = match &raw.o2_lifetime {
        Some(v) => v.trim().parse::<u64>().map_err(|_| {
            format!("the OAuth 2.0 token lifetime must be a number of seconds: {v:?}")
        })?,
        None => defaults.oauth2_access_token_lifetime,
    };
    let profile_as = match &raw.profile_as {
        Some(v) => crate::ProfileFlavour::from_name(v).ok_or_else(|| {
            format!("--profile-as: one of mw139, mw144, sub-as-number, not {v:?}")
        })?,
        None => defaults.profile_as,
    };
    let mediawiki = match &raw.mediawiki {
        Some((v, from)) => crate::MediaWikiVersion::from_name(v)
            .ok_or_else(|| format!("{from}: one of 1.39, 1.43, 1.47, not {v:?}"))?,
        None => defaults.mediawiki,
    };
    let oauth = match &raw.oauth {
        Some((v, from)) => Protocol::from_name(v)
            .ok_or_else(|| format!("{from}: 1 (OAuth 1.0a) or 2 (OAuth 2.0), not {v:?}"))?,
        None => Protocol::default(),
    };
    let fixed = |given: Option<String>, dev: &str| given.or((!raw.random).then(|| dev.to_string()));
    let config = DevWikiConfig {
        host: raw.host.unwrap_or(defaults.host.clone()),
        port: raw.port.unwrap_or(DEFAULT_PORT),
        script_path: raw.script_path.unwrap_or(defaults.script_path.clone()),
        auto_approve: raw.auto_approve,
        callback,
        callback_is_prefix: raw.prefix,
        default_consumer_key: fixed(raw.key, DEV_CONSUMER_KEY),
        default_consumer_secret: fixed(raw.secret, DEV_CONSUMER_SECRET),
        default_oauth2_client_id: fixed(raw.o2_id, DEV_OAUTH2_CLIENT_ID),
        default_oauth2_client_secret: fixed(raw.o2_secret, DEV_OAUTH2_CLIENT_SECRET),
        oauth2_public: raw.o2_public,
        oauth2_redirect_uri,
        oauth2_access_token_lifetime,
        profile_as,
        mediawiki,
        verbose: raw.verbose,
        ..defaults
    };
    if let Some(problem) = config.problem() {
        return Err(problem);
    }
    Ok(Options {
        config,
        users: raw.users,
        json: raw.json,
        oauth,
    })
}

/// Reads the arguments (without the program name) and the environment.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let mut raw = from_env(env)?;
    if let Some(command) = apply_flags(&mut raw, args)? {
        return Ok(command);
    }
    Ok(Command::Run(Box::new(options_from(raw)?)))
}

/// Runs the command with the process's arguments and environment; the
/// binary's `main`.
pub fn main() -> ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    let command = match parse(std::env::args_os().skip(1), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("devwiki: {e}\nTry `devwiki --help`.");
            return ExitCode::from(2);
        }
    };
    let options = match command {
        Command::Help => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("devwiki {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Run(options) => *options,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("devwiki: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(options))
}

/// Starts the wiki as `options` ask (users added, `--auto-approve`
/// checked) and returns it with what the command prints: the JSON line or
/// the text for people. The binary prints that text and waits; a test can
/// use the wiki and read the same text.
pub async fn start(options: &Options) -> Result<(DevWiki, String), String> {
    let port = options.config.port;
    let host = options.config.host.clone();
    let wiki = match DevWiki::start(options.config.clone()).await {
        Ok(w) => w,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let other = if port == 9090 { 9091 } else { 9090 };
            return Err(format!(
                "port {port} on 127.0.0.1 is in use; choose another with --port {other} or DEVWIKI_PORT={other} (0 picks a free one)"
            ));
        }
        Err(e) => return Err(format!("{e} (host {host})")),
    };
    if let Err(e) = add_users(&wiki, options) {
        wiki.shutdown().await;
        return Err(e);
    }
    let out = if options.json {
        format!("{}\n", crate::controls::info(&wiki.shared))
    } else {
        human_text(&wiki, options.oauth)
    };
    Ok((wiki, out))
}

/// Adds `--user`s and checks that the `--auto-approve` user exists.
fn add_users(wiki: &DevWiki, options: &Options) -> Result<(), String> {
    for user in &options.users {
        match crate::pages::normalize_user_name(user) {
            Some(name) if wiki.users().contains(&name) => {}
            Some(name) => {
                wiki.add_user(&name);
            }
            None => return Err(format!("{user:?} is not a valid MediaWiki user name")),
        }
    }
    if let Some(user) = &options.config.auto_approve {
        if !wiki.users().iter().any(|u| u == user) {
            return Err(format!(
                "--auto-approve {user:?}: no such user (the users are {}; add one with --user)",
                wiki.users().join(", ")
            ));
        }
    }
    Ok(())
}

/// Starts the wiki, prints what a client needs, waits for Ctrl-C or
/// SIGTERM.
pub async fn run(options: Options) -> ExitCode {
    let (wiki, out) = match start(&options).await {
        Ok(started) => started,
        Err(e) => {
            eprintln!("devwiki: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let printed = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    if printed.is_err() {
        // Nobody is reading (a closed pipe): stop rather than run unseen.
        wiki.shutdown().await;
        return ExitCode::FAILURE;
    }
    let stopped = wait_for_stop().await;
    if !options.json {
        println!("Stopping.");
    }
    wiki.shutdown().await;
    match stopped {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("devwiki: cannot wait for Ctrl-C: {e}");
            ExitCode::FAILURE
        }
    }
}

const USER_AGENT_LINE: &str =
    "user_agent = \"MyTool/0.1 (https://example.org/mytool; me@example.org)\"";

/// The text printed at start without `--json`.
fn human_text(wiki: &DevWiki, oauth: Protocol) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "DevWiki (a local imitation of MediaWiki + Extension:OAuth) is running.\n"
    );
    let _ = writeln!(
        s,
        "  MediaWiki imitated:          {}",
        wiki.mediawiki().name()
    );
    let _ = writeln!(s, "  server ($wgServer, JWT iss): {}", wiki.server());
    let _ = writeln!(s, "  base URL (script path):      {}", wiki.base_url());
    let _ = writeln!(s, "  index.php:                   {}", wiki.index_url());
    let _ = writeln!(s, "  api.php:                     {}", wiki.api_url());
    let _ = writeln!(
        s,
        "  test controls (JSON):        {}/devwiki\n",
        wiki.server()
    );
    s.push_str(&consumer_text(wiki));
    s.push_str(&oauth2_client_text(wiki));
    let (name, other) = match oauth {
        Protocol::OAuth1 => ("OAuth 1.0a", "--oauth 2 for OAuth 2.0"),
        Protocol::OAuth2 => ("OAuth 2.0", "--oauth 1 for OAuth 1.0a"),
    };
    let _ = writeln!(
        s,
        "For a Rocket app using rocket_mediawiki_oauth ({name}; {other}), paste into Rocket.toml:\n"
    );
    s.push_str(&rocket_toml_block(wiki, oauth));
    let _ = writeln!(s, "\nUsers (pick one on the authorize page; no passwords):");
    for user in wiki.users() {
        let _ = writeln!(s, "  - {user}");
    }
    let _ = writeln!(s, "\nPress Ctrl-C to stop.");
    s
}

/// The default OAuth 1.0a consumer, for people.
fn consumer_text(wiki: &DevWiki) -> String {
    use std::fmt::Write as _;
    let consumer = wiki.default_consumer();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Default OAuth 1.0a consumer \"{}\" (grants: {}):",
        consumer.name,
        consumer.grants.join(", ")
    );
    let _ = writeln!(s, "  consumer key:    {}", consumer.key);
    let _ = writeln!(s, "  consumer secret: {}", consumer.secret);
    if consumer.callback_is_prefix {
        let _ = writeln!(
            s,
            "  callback prefix: {} (the app sends its own callback, which must start with it)\n",
            consumer.callback
        );
    } else {
        let _ = writeln!(
            s,
            "  callback:        {} (the app sends \"oob\"; users come back here)\n",
            consumer.callback
        );
    }
    s
}

/// The default OAuth 2.0 client, for people, and how to move the app.
fn oauth2_client_text(wiki: &DevWiki) -> String {
    use std::fmt::Write as _;
    let client = wiki.default_oauth2_client();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Default OAuth 2.0 client \"{}\" ({}, grants: {}):",
        client.name,
        if client.confidential {
            "confidential"
        } else {
            "public: PKCE required"
        },
        client.grants.join(", ")
    );
    let _ = writeln!(s, "  client_id:     {}", client.key);
    let _ = writeln!(s, "  client_secret: {}", client.secret);
    let _ = writeln!(
        s,
        "  redirect_uri:  {} (matched exactly; any port on 127.0.0.1)",
        client.callback
    );
    let _ = writeln!(
        s,
        "  endpoints:     {}/oauth2/authorize, …/access_token, …/resource/profile\n",
        wiki.rest_url()
    );
    let _ = writeln!(
        s,
        "App elsewhere? Restart with --callback http://127.0.0.1:PORT/oauth-callback (both\nprotocols), or for OAuth 1.0a with --callback-is-prefix --callback http://127.0.0.1:1/\n(port 1 = any port) and set callback in the app.\n"
    );
    s
}

/// The `[default.mwoauth]` table of a Rocket app signing in with this
/// wiki by `oauth`, as printed for people: pasted as is into `Rocket.toml`,
/// it works.
pub fn rocket_toml_block(wiki: &DevWiki, oauth: Protocol) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "[default.mwoauth]");
    let _ = writeln!(s, "base_url = \"{}\"", wiki.base_url());
    match oauth {
        Protocol::OAuth1 => {
            let consumer = wiki.default_consumer();
            let _ = writeln!(s, "consumer_key = \"{}\"", consumer.key);
            let _ = writeln!(
                s,
                "consumer_secret = \"{}\"  # a development value of this local wiki",
                consumer.secret
            );
            if consumer.callback_is_prefix {
                let example = example_callback(&consumer.callback);
                let _ = writeln!(s, "callback = \"{example}\"  # your app's own callback URL");
            }
        }
        Protocol::OAuth2 => {
            let client = wiki.default_oauth2_client();
            let _ = writeln!(s, "client_id = \"{}\"", client.key);
            let _ = writeln!(
                s,
                "client_secret = \"{}\"  # a development value of this local wiki",
                client.secret
            );
            if !client.confidential {
                let _ = writeln!(s, "public_client = true");
            }
            let _ = writeln!(s, "callback = \"{}\"", client.callback);
        }
    }
    let _ = writeln!(s, "{USER_AGENT_LINE}");
    s
}

/// A callback an app could send to a prefix consumer registered with
/// `prefix` (port `1` becomes Rocket's default port).
fn example_callback(prefix: &str) -> String {
    let with_port = prefix.replacen(":1/", ":8000/", 1);
    let with_port = if with_port.ends_with(":1") {
        format!("{}8000", &with_port[..with_port.len() - 1])
    } else {
        with_port
    };
    if with_port.ends_with('/') {
        format!("{with_port}oauth-callback")
    } else if with_port.ends_with("/oauth-callback") {
        with_port
    } else {
        format!("{with_port}/oauth-callback")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run_parse(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        parse(args.iter().map(OsString::from), &lookup)
    }

    fn options(args: &[&str], env: &[(&str, &str)]) -> Options {
        match run_parse(args, env) {
            Ok(Command::Run(o)) => *o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mediawiki_version_from_flag_or_env() {
        assert_eq!(
            options(&[], &[]).config.mediawiki,
            crate::MediaWikiVersion::V1_39
        );
        assert_eq!(
            options(&["--mediawiki", "1.43"], &[]).config.mediawiki,
            crate::MediaWikiVersion::V1_43
        );
        assert_eq!(
            options(&[], &[("DEVWIKI_MEDIAWIKI", "1.47")])
                .config
                .mediawiki,
            crate::MediaWikiVersion::V1_47
        );
        // The flag wins over the environment.
        assert_eq!(
            options(&["--mediawiki", "1.39"], &[("DEVWIKI_MEDIAWIKI", "1.47")])
                .config
                .mediawiki,
            crate::MediaWikiVersion::V1_39
        );
        let e = run_parse(&["--mediawiki", "1.40"], &[]).unwrap_err();
        assert!(
            e.contains("--mediawiki") && e.contains("1.39, 1.43, 1.47"),
            "{e}"
        );
        let e = run_parse(&[], &[("DEVWIKI_MEDIAWIKI", "latest")]).unwrap_err();
        assert!(
            e.contains("DEVWIKI_MEDIAWIKI") && e.contains("\"latest\""),
            "{e}"
        );
    }

    #[test]
    fn defaults() {
        let o = options(&[], &[]);
        assert_eq!(o.config.port, 8080);
        assert_eq!(o.config.host, "127.0.0.1");
        assert_eq!(o.config.script_path, "/w");
        assert_eq!(
            o.config.default_consumer_key.as_deref(),
            Some(DEV_CONSUMER_KEY)
        );
        assert_eq!(o.config.callback, "http://127.0.0.1:8000/oauth-callback");
        assert!(!o.config.callback_is_prefix && !o.json && o.users.is_empty());
    }

    #[test]
    fn flags_win_over_the_environment() {
        let o = options(
            &[
                "--port",
                "0",
                "--host=localhost",
                "--script-path",
                "",
                "--user",
                "Bob",
                "--user",
                "Carol",
                "--auto-approve",
                "Bob",
                "--callback",
                "http://127.0.0.1:1/",
                "--callback-is-prefix",
                "--json",
                "--random-credentials",
                "--verbose",
            ],
            &[("DEVWIKI_PORT", "9999"), ("DEVWIKI_USERS", "Dave, Eve")],
        );
        assert_eq!(o.config.port, 0);
        assert_eq!(o.config.host, "localhost");
        assert_eq!(o.config.script_path, "");
        assert_eq!(o.users, ["Dave", "Eve", "Bob", "Carol"]);
        assert_eq!(o.config.auto_approve.as_deref(), Some("Bob"));
        assert!(o.config.callback_is_prefix && o.json && o.config.verbose);
        assert_eq!(o.config.default_consumer_key, None);
        let o = options(&[], &[("DEVWIKI_PORT", "9999"), ("DEVWIKI_VERBOSE", "0")]);
        assert_eq!(o.config.port, 9999);
        assert!(!o.config.verbose);
    }

    #[test]
    fn mistakes_are_sentences() {
        for (args, env, needle) in [
            (
                &["--port", "http"][..],
                &[][..],
                "--port is not a port number",
            ),
            (
                &[],
                &[("DEVWIKI_PORT", "70000")][..],
                "DEVWIKI_PORT is not a port",
            ),
            (&["--bogus"], &[], "--bogus"),
            (&["--port"], &[], "--port"),
            (&["--consumer-key", "XYZ"], &[], "32 lowercase hex"),
            (&["--consumer-secret", "abc"], &[], "40 lowercase hex"),
            (&["--script-path", "w/"], &[], "script path"),
            (&["--callback", "javascript:x"], &[], "http:// or https://"),
            (&["--host", "a b"], &[], "host"),
        ] {
            let err = run_parse(args, env).expect_err(needle);
            assert!(err.contains(needle), "{args:?}: {err}");
            assert!(!err.contains("Custom {"), "{err}");
        }
        assert_eq!(run_parse(&["--help"], &[]), Ok(Command::Help));
        assert_eq!(run_parse(&["-V"], &[]), Ok(Command::Version));
    }

    #[test]
    fn callback_registers_the_url_for_both_protocols() {
        let app = "http://127.0.0.1:8001/oauth-callback";
        let o = options(&["--callback", app], &[]);
        assert_eq!(o.config.callback, app);
        assert_eq!(o.config.oauth2_redirect_uri, app);
        let o = options(&[], &[("DEVWIKI_CALLBACK", app)]);
        assert_eq!(o.config.oauth2_redirect_uri, app);
        // A separate redirect_uri, when asked for, wins for OAuth 2.0 only.
        let other = "http://localhost:9000/cb";
        let o = options(&["--callback", app, "--oauth2-redirect-uri", other], &[]);
        assert_eq!(
            (
                o.config.callback.as_str(),
                o.config.oauth2_redirect_uri.as_str()
            ),
            (app, other)
        );
        // A prefix gives the client the callback an app would send under it.
        let o = options(
            &["--callback-is-prefix", "--callback", "http://127.0.0.1:1/"],
            &[],
        );
        assert_eq!(o.config.callback, "http://127.0.0.1:1/");
        assert_eq!(
            o.config.oauth2_redirect_uri,
            "http://127.0.0.1:8000/oauth-callback"
        );
        // oob is no redirect_uri: the client keeps its default.
        let o = options(&["--callback", "oob"], &[]);
        assert_eq!(
            o.config.oauth2_redirect_uri,
            "http://127.0.0.1:8000/oauth-callback"
        );
    }

    #[test]
    fn oauth_chooses_the_printed_block() {
        assert_eq!(options(&[], &[]).oauth, Protocol::OAuth2);
        assert_eq!(options(&["--oauth", "1"], &[]).oauth, Protocol::OAuth1);
        assert_eq!(
            options(&["--oauth=2"], &[("DEVWIKI_OAUTH", "1")]).oauth,
            Protocol::OAuth2
        );
        assert_eq!(
            options(&[], &[("DEVWIKI_OAUTH", "1")]).oauth,
            Protocol::OAuth1
        );
        let e = run_parse(&["--oauth", "3"], &[]).unwrap_err();
        assert!(
            e.contains("--oauth: 1 (OAuth 1.0a) or 2 (OAuth 2.0)"),
            "{e}"
        );
        let e = run_parse(&[], &[("DEVWIKI_OAUTH", "two")]).unwrap_err();
        assert!(
            e.contains("DEVWIKI_OAUTH: ") && e.contains("\"two\""),
            "{e}"
        );
    }

    #[test]
    fn help_keeps_sentences_whole() {
        assert!(HELP.contains("on stdout once the port is bound, and nothing else"));
        assert!(HELP.contains("--oauth 1|2"));
        for line in HELP.lines() {
            assert!(line.chars().count() <= 100, "{line}");
        }
        let flags = HELP.lines().filter(|l| l.starts_with("  -")).count();
        assert!(flags > 20, "{flags}");
    }

    #[test]
    fn example_callbacks_for_prefixes() {
        assert_eq!(
            example_callback("http://127.0.0.1:1/"),
            "http://127.0.0.1:8000/oauth-callback"
        );
        assert_eq!(
            example_callback("http://127.0.0.1:1"),
            "http://127.0.0.1:8000/oauth-callback"
        );
        assert_eq!(
            example_callback("http://localhost:5000/oauth-callback"),
            "http://localhost:5000/oauth-callback"
        );
    }
}
