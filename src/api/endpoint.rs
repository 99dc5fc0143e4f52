//! An `api.php` URL, parsed once per client rather than once per request.

use crate::protocol::BaseUri;

/// The `api.php` URL of a client: its text (what the app gave, what is
/// signed over and shown) and, when it parses as a URL with neither query nor
/// fragment, the parsed form each request starts from. Parsing a URL costs
/// about as much as the rest of an unsigned API request's client side, so
/// it is done here once, and a request only appends its query.
#[derive(Debug)]
pub(crate) struct ApiUrl {
    text: String,
    /// The URL as OAuth 1.0a signs over it.
    base_uri: BaseUri,
    /// `None` for text that is not such a URL: requests then hand the text to
    /// reqwest as before, which reports what is wrong with it.
    parsed: Option<reqwest::Url>,
    /// A URL with a query or a fragment: MediaWiki would check a signature
    /// over that query too, which the requests' own parameters replace, so
    /// such a URL is refused, with this message, instead of signed wrongly.
    problem: Option<String>,
}

impl ApiUrl {
    pub(crate) fn new(text: &str) -> ApiUrl {
        let url = reqwest::Url::parse(text).ok();
        let problem = url
            .as_ref()
            .filter(|u| u.query().is_some() || u.fragment().is_some())
            .map(|u| {
                let mut bare = u.clone();
                bare.set_query(None);
                bare.set_fragment(None);
                format!(
                    "the api.php URL has a query or a fragment; give it bare, as {bare}, and \
                     the parameters with each request"
                )
            });
        let parsed =
            url.filter(|u| u.query().is_none() && u.fragment().is_none() && !u.cannot_be_a_base());
        ApiUrl {
            text: text.to_string(),
            base_uri: BaseUri::new(text),
            parsed,
            problem,
        }
    }

    /// Why requests cannot be sent to this URL, if they cannot.
    pub(crate) fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// The URL as given.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL as OAuth 1.0a signs over it.
    pub(crate) fn base_uri(&self) -> &BaseUri {
        &self.base_uri
    }

    /// A POST to this URL.
    pub(crate) fn post(&self, http: &reqwest::Client) -> reqwest::RequestBuilder {
        match &self.parsed {
            Some(url) => http.post(url.clone()),
            None => http.post(&self.text),
        }
    }

    /// A GET of this URL with `query` (already encoded, as
    /// [`wire::encode_pairs`](crate::wire::encode_pairs) makes it).
    pub(crate) fn get(&self, http: &reqwest::Client, query: &str) -> reqwest::RequestBuilder {
        match &self.parsed {
            Some(url) => {
                let mut url = url.clone();
                url.set_query(Some(query));
                http.get(url)
            }
            None => http.get(format!("{}?{query}", self.text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_a_query_is_refused_with_the_bare_one_shown() {
        let api = ApiUrl::new("https://meta.wikimedia.org/w/api.php?x=1");
        let problem = api.problem().expect("refused");
        assert!(
            problem.contains("as https://meta.wikimedia.org/w/api.php,"),
            "{problem}"
        );
        assert!(ApiUrl::new("https://meta.wikimedia.org/w/api.php#top")
            .problem()
            .is_some());
        assert!(ApiUrl::new("https://meta.wikimedia.org/w/api.php")
            .problem()
            .is_none());
    }

    /// A GET goes to the URL the text and the query make together, whether
    /// the URL was parsed beforehand or not.
    #[test]
    fn a_get_goes_where_the_text_says() {
        let http = reqwest::Client::new();
        let query = "action=query&meta=userinfo&titles=A%20B%7CC&format=json";
        for text in [
            "https://meta.wikimedia.org/w/api.php",
            "http://127.0.0.1:8080/w/api.php",
            "HTTPS://Meta.Wikimedia.ORG:443/w/api.php",
        ] {
            let api = ApiUrl::new(text);
            assert!(api.parsed.is_some(), "{text}");
            assert_eq!(api.as_str(), text);
            let got = api.get(&http, query).build().unwrap();
            let want = http.get(format!("{text}?{query}")).build().unwrap();
            assert_eq!(got.url(), want.url());
            assert_eq!(
                api.post(&http).build().unwrap().url(),
                http.post(text).build().unwrap().url()
            );
        }
        // Not parsed beforehand: reqwest sees the same text as it always did.
        for text in ["not a url", "https://x.org/w/api.php?x=1", "mailto:a@b"] {
            let api = ApiUrl::new(text);
            assert!(api.parsed.is_none(), "{text}");
            let got = api.get(&http, query).build().map(|r| r.url().clone());
            let want = http
                .get(format!("{text}?{query}"))
                .build()
                .map(|r| r.url().clone());
            assert_eq!(got.ok(), want.ok(), "{text}");
        }
    }
}
