//! `ROCKET_MWOAUTH_*` environment variables override Rocket.toml (its own
//! test binary: it changes the process environment).

use rocket::figment::providers::{Format, Toml};
use rocket::figment::Figment;
use rocket_mediawiki_oauth::Config;

#[test]
fn env_overrides_the_toml_table() {
    let toml = Figment::from(Toml::string(
        "[mwoauth]\nbase_url = 'https://meta.wikimedia.org/w'\nconsumer_key = 'from-toml'\nconsumer_secret = 's'\n",
    ));
    assert_eq!(
        Config::from_figment(&toml).unwrap().consumer_key,
        "from-toml"
    );
    std::env::set_var("ROCKET_MWOAUTH_CONSUMER_KEY", "from-env");
    std::env::set_var("ROCKET_MWOAUTH_TIMEOUT", "7");
    let c = Config::from_figment(&toml).unwrap();
    assert_eq!(c.consumer_key, "from-env");
    assert_eq!(c.timeout.as_secs(), 7);
    std::env::set_var("ROCKET_MWOAUTH_BASE_URL", "gopher://x");
    assert_eq!(
        Config::from_figment(&toml).unwrap_err().key,
        "mwoauth.base_url"
    );
    // Everything from the environment alone.
    std::env::set_var("ROCKET_MWOAUTH_BASE_URL", "https://en.wikipedia.org/w");
    std::env::set_var("ROCKET_MWOAUTH_CONSUMER_SECRET", "env-secret");
    let c = Config::from_figment(&Figment::new()).unwrap();
    assert_eq!(c.base_url, "https://en.wikipedia.org/w");
    for k in ["CONSUMER_KEY", "TIMEOUT", "BASE_URL", "CONSUMER_SECRET"] {
        std::env::remove_var(format!("ROCKET_MWOAUTH_{k}"));
    }
}
