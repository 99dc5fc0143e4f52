use rocket::response::content::RawHtml;
use rocket::{get, launch, routes};
use rocket_mediawiki_oauth::{Error, LoginRequired, MwApi, MwOAuth, MwUser};

/// User names may hold `<`, `&` or quotes: escape them in HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[get("/")]
fn index(user: Option<MwUser>) -> RawHtml<String> {
    RawHtml(match user {
        Some(user) => format!(
            "Hello, {}! <a href=\"/private\">private</a> <a href=\"/edit\">edit</a> \
             <a href=\"/logout\">log out</a>",
            escape(&user.name)
        ),
        None => "Hello, stranger! <a href=\"/login\">log in</a>".into(),
    })
}

#[get("/private")]
fn private(user: LoginRequired) -> RawHtml<String> {
    RawHtml(format!("Only {} sees this", escape(&user.name)))
}

// A GET to keep the example short; a real tool edits from a POST form.
#[get("/edit")]
async fn edit(api: LoginRequired<MwApi>) -> Result<String, Error> {
    let params = [
        ("action", "edit"),
        ("title", "Sandbox"),
        ("appendtext", "\nHi"),
    ];
    let answer = api.post_with_token("csrf", &params).await?;
    // `as_str()`: "Success" without the JSON quotes of `to_string()`.
    Ok(answer["edit"]["result"].as_str().unwrap_or("?").to_string())
}

// `pub` so that a test in tests/ can reach it (see "Testing your app offline").
#[launch]
pub fn rocket() -> _ {
    rocket::build()
        .attach(MwOAuth::fairing())
        .mount("/", routes![index, private, edit])
}
