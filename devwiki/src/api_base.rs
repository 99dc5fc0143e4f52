//! The shared types of `api.php`: the request context every module gets
//! ([`Ctx`]), who is calling ([`Session`]) and the error a module returns
//! ([`ApiError`]). The entry point (`api`) and the modules (`api_query`,
//! `api_edit`, `api_upload`) depend on this; it depends on none of them.

use crate::http::Req;
use crate::phpjson::J;
use crate::store::{Shared, Store};
use crate::users::{self, UserRec};
use crate::verify::Params;

/// An API error (`ApiUsageException`).
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    pub code: String,
    pub info: String,
    pub data: Vec<(String, J)>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    /// An error with a code and an info text (HTTP 200).
    pub(crate) fn new(code: &str, info: impl Into<String>) -> ApiError {
        ApiError {
            code: code.to_string(),
            info: info.into(),
            data: Vec::new(),
            status: 200,
            headers: Vec::new(),
        }
    }

    /// Adds a data field to the error object.
    pub(crate) fn with(mut self, key: &str, value: J) -> ApiError {
        self.data.push((key.to_string(), value));
        self
    }
}

/// `ApiErrorFormatter::stripMarkup`: semantic tags become quotes, other tags go.
pub(crate) fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        match after.find('>') {
            Some(end) => {
                let tag = after[1..end].trim_start_matches('/').to_ascii_lowercase();
                if matches!(tag.as_str(), "var" | "kbd" | "samp" | "code") {
                    out.push('"');
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&amp;", "&")
}

/// Who the request runs as.
#[derive(Clone, Debug)]
pub(crate) enum Session {
    Anon,
    OAuth {
        user: Box<UserRec>,
        consumer: String,
        rights: Vec<String>,
    },
}

impl Session {
    /// The user name (an IP for anonymous users).
    pub(crate) fn name(&self) -> String {
        match self {
            Session::Anon => "127.0.0.1".into(),
            Session::OAuth { user, .. } => user.name.clone(),
        }
    }

    /// The user id (0 for anonymous).
    pub(crate) fn user_id(&self) -> u32 {
        match self {
            Session::Anon => 0,
            Session::OAuth { user, .. } => user.id,
        }
    }

    /// Whether a registered user.
    pub(crate) fn is_registered(&self) -> bool {
        matches!(self, Session::OAuth { .. })
    }

    /// The session's rights (user rights ∩ grant rights).
    pub(crate) fn rights(&self) -> Vec<String> {
        match self {
            Session::Anon => users::ANON_RIGHTS.iter().map(|s| s.to_string()).collect(),
            Session::OAuth { rights, .. } => rights.clone(),
        }
    }

    /// Whether the session has a right.
    pub(crate) fn allowed(&self, right: &str) -> bool {
        match self {
            Session::Anon => users::ANON_RIGHTS.contains(&right),
            Session::OAuth { rights, .. } => rights.iter().any(|r| r == right),
        }
    }

    /// The token of a type (`csrf`, `watch`, ...) for this session.
    pub(crate) fn token(&self, st: &Store, kind: &str) -> String {
        match self {
            Session::Anon => "+\\".into(),
            Session::OAuth { user, consumer, .. } => st.session_token(&user.name, consumer, kind),
        }
    }
}

/// Per-request API state.
pub(crate) struct Ctx<'a> {
    pub sh: &'a Shared,
    pub req: &'a Req,
    pub fv2: bool,
    pub values: Params,
    pub used: Vec<String>,
    pub result: J,
    pub session: Session,
}

impl Ctx<'_> {
    /// A parameter value (marks it used).
    pub(crate) fn param(&mut self, name: &str) -> Option<String> {
        self.mark(name);
        self.values.get_str(name)
    }

    /// A boolean parameter: true when present, whatever its value.
    pub(crate) fn flag(&mut self, name: &str) -> bool {
        self.mark(name);
        self.values.get(name).is_some()
    }

    /// Marks a parameter as used.
    pub(crate) fn mark(&mut self, name: &str) {
        if !self.used.iter().any(|u| u == name) {
            self.used.push(name.to_string());
        }
    }

    /// A multi-value parameter, split on `|` (or U+001F when it starts with it).
    pub(crate) fn multi(&mut self, name: &str) -> Vec<String> {
        match self.param(name) {
            None => Vec::new(),
            Some(v) if v.is_empty() => Vec::new(),
            Some(v) => match v.strip_prefix('\u{1f}') {
                Some(rest) => rest.split('\u{1f}').map(str::to_string).collect(),
                None => v.split('|').map(str::to_string).collect(),
            },
        }
    }

    /// An integer parameter (`badinteger` when not one).
    pub(crate) fn int_param(&mut self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.param(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                ApiError::new(
                    "badinteger",
                    format!("Invalid value \"{v}\" for integer parameter \"{name}\"."),
                )
            }),
        }
    }

    /// A limit parameter: default, `max`, clamping with the real warnings.
    pub(crate) fn limit_param(
        &mut self,
        module: &str,
        name: &str,
        default: i64,
        max1: i64,
        max2: i64,
    ) -> Result<i64, ApiError> {
        let max = if self.session.allowed("apihighlimits") {
            max2
        } else {
            max1
        };
        match self.param(name) {
            None => Ok(default),
            Some(v) if v == "max" => {
                let mut limits = self
                    .result
                    .get_mut("limits")
                    .cloned()
                    .unwrap_or_else(J::obj);
                limits.set(module, J::Int(max));
                self.result.set("limits", limits);
                Ok(max)
            }
            Some(v) => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    ApiError::new(
                        "badinteger",
                        format!("Invalid value \"{v}\" for integer parameter \"{name}\"."),
                    )
                })?;
                if n > max {
                    let who = if max == max2 {
                        "bots or sysops"
                    } else {
                        "users"
                    };
                    self.warn(
                        module,
                        &format!("\"{name}\" may not be over {max} (set to {n}) for {who}."),
                    );
                    Ok(max)
                } else if n < 1 {
                    self.warn(
                        module,
                        &format!("\"{name}\" may not be less than 1 (set to {n})."),
                    );
                    Ok(1)
                } else {
                    Ok(n)
                }
            }
        }
    }

    /// Adds a warning for a module (joined with newlines per module).
    pub(crate) fn warn(&mut self, module: &str, text: &str) {
        let key = if self.fv2 { "warnings" } else { "*" };
        let mut warnings = self
            .result
            .get_mut("warnings")
            .cloned()
            .unwrap_or_else(J::obj);
        let merged = match warnings
            .get_mut(module)
            .and_then(|m| m.get_mut(key))
            .cloned()
        {
            Some(J::Str(old)) => format!("{old}\n{text}"),
            _ => text.to_string(),
        };
        warnings.set(module, J::obj().with(key, J::s(merged)));
        self.result.set_on_top("warnings", warnings);
    }

    /// `""`-presence in formatversion 1, a real boolean in 2; `None` omits.
    pub(crate) fn bool_value(&self, b: bool) -> Option<J> {
        if self.fv2 {
            Some(J::Bool(b))
        } else if b {
            Some(J::s(""))
        } else {
            None
        }
    }

    /// The key of content nodes: `*` (fv1) or `content` (fv2).
    pub(crate) fn content_key(&self) -> &'static str {
        if self.fv2 {
            "content"
        } else {
            "*"
        }
    }
}
