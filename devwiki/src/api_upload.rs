//! `action=upload` (multipart file uploads; upload by URL is refused as on
//! most wikis), the files it stores, `prop=imageinfo`, and the file URLs
//! under `/w/images/`.

use sha1::{Digest, Sha1};

use crate::api_base::{ApiError, Ctx, Session};
use crate::api_edit::{block_error, md5_hex};
use crate::http::Resp;
use crate::messages::escape_html;
use crate::pages::{parse_title, Title};
use crate::phpjson::J;
use crate::store::{iso8601, random_hex, FileRec, Shared, Stashed};
use crate::verify;

/// `$wgFileExtensions` (MediaWiki's default).
const FILE_EXTENSIONS: &[&str] = &["png", "gif", "jpg", "jpeg", "webp"];

/// Stashed uploads kept at most (the oldest goes first).
const MAX_STASHED: usize = 16;

/// The parameters of `prop=imageinfo`.
pub(crate) const IMAGEINFO_PARAMS: &[&str] = &[
    "iiprop",
    "iilimit",
    "iistart",
    "iiend",
    "iiurlwidth",
    "iiurlheight",
    "iimetadataversion",
    "iiextmetadatalanguage",
    "iiextmetadatamultilang",
    "iiextmetadatafilter",
    "iiurlparam",
    "iibadfilecontexttitle",
    "iicontinue",
    "iilocalonly",
];

/// The file name as a database key, from what a user typed: like
/// `UploadBase::getTitle` (`wfStripIllegalFilenameChars`, then a title in
/// the File namespace). `None` when no title can be made.
pub(crate) fn file_title(desired: &str) -> Option<Title> {
    let stripped = desired.strip_prefix("File:").unwrap_or(desired);
    file_title_of(stripped)
}

fn file_title_of(desired: &str) -> Option<Title> {
    let filtered: String = desired
        .chars()
        .map(|c| {
            if matches!(
                c,
                ':' | '/' | '\\' | '#' | '<' | '>' | '[' | ']' | '|' | '{' | '}'
            ) || c.is_control()
            {
                '-'
            } else {
                c
            }
        })
        .collect();
    let t = parse_title(&format!("File:{filtered}"))?;
    (t.ns == 6 && !t.text.is_empty()).then_some(t)
}

fn extension(name: &str) -> Option<String> {
    let (base, ext) = name.rsplit_once('.')?;
    (!base.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

fn mime_of(ext: &str) -> &'static str {
    match ext {
        "png" => "image/png",
        "gif" => "image/gif",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

/// Width, height and bit depth from the header of a PNG, GIF or JPEG
/// (zeros when unknown).
fn dimensions(b: &[u8]) -> (u32, u32, u32) {
    let be32 =
        |i: usize| -> Option<u32> { Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?)) };
    let be16 = |i: usize| -> Option<u32> {
        Some(u32::from(u16::from_be_bytes(
            b.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    let le16 = |i: usize| -> Option<u32> {
        Some(u32::from(u16::from_le_bytes(
            b.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.get(12..16) == Some(b"IHDR") {
        if let (Some(w), Some(h), Some(d)) = (be32(16), be32(20), b.get(24)) {
            return (w, h, u32::from(*d));
        }
    }
    if b.starts_with(b"GIF8") {
        if let (Some(w), Some(h)) = (le16(6), le16(8)) {
            return (w, h, 8);
        }
    }
    if b.starts_with(&[0xFF, 0xD8]) {
        let mut i = 2;
        while let (Some(0xFF), Some(&marker)) = (b.get(i), b.get(i + 1)) {
            let Some(len) = be16(i + 2) else { break };
            if matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
                if let (Some(&d), Some(h), Some(w)) = (b.get(i + 4), be16(i + 5), be16(i + 7)) {
                    return (w, h, u32::from(d));
                }
                break;
            }
            i += 2 + len as usize;
        }
    }
    (0, 0, 0)
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `wfUrlencode`: `rawurlencode` with `;:@$!*(),/~` left alone.
fn wf_urlencode(s: &str) -> String {
    let mut out = verify::rawurlencode(s.as_bytes());
    for (enc, c) in [
        ("%3B", ";"),
        ("%40", "@"),
        ("%24", "$"),
        ("%21", "!"),
        ("%2A", "*"),
        ("%28", "("),
        ("%29", ")"),
        ("%2C", ","),
        ("%2F", "/"),
        ("%3A", ":"),
    ] {
        out = out.replace(enc, c);
    }
    out
}

/// The file's URL: `$wgUploadPath` with hashed directories, like
/// `/w/images/a/ab/Name.png` (`script` is the server plus script path).
pub(crate) fn file_url(script: &str, name: &str) -> String {
    let h = md5_hex(name.as_bytes());
    format!(
        "{script}/images/{}/{}/{}",
        &h[..1],
        &h[..2],
        wf_urlencode(name)
    )
}

/// `iiprop` values known here.
const IIPROPS: &[&str] = &[
    "timestamp",
    "user",
    "userid",
    "comment",
    "parsedcomment",
    "canonicaltitle",
    "url",
    "size",
    "dimensions",
    "sha1",
    "mime",
    "thumbmime",
    "mediatype",
    "metadata",
    "commonmetadata",
    "extmetadata",
    "archivename",
    "bitdepth",
    "uploadwarning",
    "badfile",
];

/// `ApiQueryImageInfo::getInfo` for the properties asked for.
pub(crate) fn image_info(
    (server, script): (&str, &str),
    file: &FileRec,
    pageid: Option<u64>,
    props: &[&str],
) -> J {
    let has = |p: &str| props.contains(&p);
    let mut o = J::obj();
    if has("timestamp") {
        o.set("timestamp", J::s(iso8601(file.timestamp)));
    }
    if has("user") {
        o.set("user", J::s(file.user.clone()));
    }
    if has("userid") {
        o.set("userid", J::Int(i64::from(file.userid)));
    }
    if has("size") || has("dimensions") {
        o.set("size", J::Int(file.bytes.len() as i64));
        o.set("width", J::Int(i64::from(file.width)));
        o.set("height", J::Int(i64::from(file.height)));
    }
    if has("parsedcomment") {
        o.set("parsedcomment", J::s(escape_html(&file.comment)));
    }
    if has("comment") {
        o.set("comment", J::s(file.comment.clone()));
    }
    if has("canonicaltitle") {
        o.set(
            "canonicaltitle",
            J::s(format!("File:{}", file.name.replace('_', " "))),
        );
    }
    if has("url") {
        o.set("url", J::s(file_url(script, &file.name)));
        o.set(
            "descriptionurl",
            J::s(format!("{server}/wiki/File:{}", wf_urlencode(&file.name))),
        );
        if let Some(id) = pageid {
            o.set(
                "descriptionshorturl",
                J::s(format!("{script}/index.php?curid={id}")),
            );
        }
    }
    if has("sha1") {
        o.set("sha1", J::s(file.sha1.clone()));
    }
    if has("metadata") {
        o.set("metadata", J::Arr(Vec::new()));
    }
    if has("commonmetadata") {
        o.set("commonmetadata", J::Arr(Vec::new()));
    }
    if has("mime") {
        o.set("mime", J::s(file.mime));
    }
    if has("mediatype") {
        let kind = if file.mime.starts_with("image/") {
            "BITMAP"
        } else {
            "UNKNOWN"
        };
        o.set("mediatype", J::s(kind));
    }
    if has("bitdepth") {
        o.set("bitdepth", J::Int(i64::from(file.bitdepth)));
    }
    o
}

/// `prop=imageinfo` on the pages of a query: `imagerepository` and
/// `imageinfo` (the latest version only).
pub(crate) fn imageinfo_prop(ctx: &mut Ctx<'_>, pages: &mut [(Option<Title>, &mut J)]) {
    // Accepted (not "unrecognized"); `iiprop` is read below.
    for p in IMAGEINFO_PARAMS.iter().copied().filter(|p| *p != "iiprop") {
        ctx.mark(p);
    }
    let asked = match ctx.param("iiprop") {
        Some(_) => ctx.multi("iiprop"),
        None => vec!["timestamp".into(), "user".into()],
    };
    let mut props: Vec<String> = Vec::new();
    for p in asked {
        if IIPROPS.contains(&p.as_str()) {
            props.push(p);
        } else {
            ctx.warn(
                "imageinfo",
                &format!("Unrecognized value for parameter \"iiprop\": {p}."),
            );
        }
    }
    let props: Vec<&str> = props.iter().map(String::as_str).collect();
    let (server, script) = (ctx.sh.server(), ctx.sh.script_url());
    let st = ctx.sh.lock();
    for (title, obj) in pages.iter_mut() {
        let Some(t) = title else { continue };
        if t.ns != 6 {
            continue;
        }
        match st.files.get(&t.dbkey()) {
            Some(f) => {
                let pageid = st.wiki.page(t).map(|p| p.id);
                obj.set("imagerepository", J::s("local"));
                obj.set(
                    "imageinfo",
                    J::Arr(vec![image_info((&server, &script), f, pageid, &props)]),
                );
            }
            None => obj.set("imagerepository", J::s("")),
        }
    }
}

/// Serves `/w/images/...` (`a/ab/Name.png`, or just `Name.png`).
pub(crate) fn serve(sh: &Shared, rest: &str) -> Resp {
    let last = rest.rsplit('/').next().unwrap_or("");
    let name = String::from_utf8_lossy(&verify::urldecode(last.replace('+', "%2B").as_bytes()))
        .replace(' ', "_");
    let st = sh.lock();
    match st.files.get(&name) {
        Some(f) => Resp::new(200, f.mime, f.bytes.clone())
            .header("Cache-Control", "max-age=31536000")
            .header("ETag", format!("\"{}\"", f.sha1)),
        None => Resp::page(
            404,
            "Not Found",
            "<p>The requested URL was not found on this server.</p>",
        ),
    }
}

fn params_mix() -> ApiError {
    ApiError::new(
        "invalidparammix",
        "The parameters \"filekey\", \"file\" and \"url\" can not be used together.",
    )
}

/// `action=upload`.
pub(crate) fn upload(ctx: &mut Ctx<'_>) -> Result<(), ApiError> {
    for p in [
        "tags",
        "watch",
        "watchlist",
        "watchlistexpiry",
        "filesize",
        "offset",
        "chunk",
        "async",
        "checkstatus",
        "token",
        "file",
    ] {
        ctx.mark(p);
    }
    let filename = ctx.param("filename");
    let comment = ctx.param("comment").unwrap_or_default();
    let text = ctx.param("text").unwrap_or_else(|| comment.clone());
    let ignorewarnings = ctx.flag("ignorewarnings");
    let stash = ctx.flag("stash");
    let url = ctx.param("url");
    let filekey = ctx.param("filekey").or_else(|| ctx.param("sessionkey"));
    // `$request->getFileName('file')`: a part with a file name.
    let file = ctx
        .req
        .multipart()
        .into_iter()
        .find(|p| p.name == "file" && p.filename.is_some())
        .map(|p| p.data);

    // selectUploadModule
    let given = [filekey.is_some(), file.is_some(), url.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if given == 0 {
        return Err(ApiError::new(
            "missingparam",
            "At least one of the parameters \"filekey\", \"file\" and \"url\" is required.",
        ));
    }
    if given > 1 {
        return Err(params_mix());
    }
    let Some(filename) = filename.filter(|_| !stash) else {
        if stash {
            return Err(ApiError::new(
                "stashfailed",
                "DevWiki does not imitate stash-only uploads (stash=1).",
            ));
        }
        return Err(ApiError::new(
            "missingparam",
            "The \"filename\" parameter must be set.",
        ));
    };
    if url.is_some() {
        return Err(ApiError::new(
            "copyuploaddisabled",
            "Upload by URL is disabled on this wiki.",
        ));
    }
    let me = ctx.session.name();
    let bytes = match (file, filekey) {
        (Some(b), _) => b,
        (None, Some(key)) => {
            let mut st = ctx.sh.lock();
            match st.stash.get(&key) {
                Some(s) if s.user == me => {
                    let bytes = s.bytes.clone();
                    st.stash.remove(&key);
                    bytes
                }
                _ => {
                    return Err(ApiError::new(
                        "stashfilenotfound",
                        format!(
                        "Could not find the file in the stash: Key \"{key}\" not found in stash."
                    ),
                    ))
                }
            }
        }
        (None, None) => return Err(params_mix()),
    };

    // checkPermissions
    if !ctx.session.is_registered() {
        return Err(ApiError::new(
            "mustbeloggedin",
            "You must be logged in to upload this file.",
        ));
    }
    for right in ["upload", "edit"] {
        if !ctx.session.allowed(right) {
            let text = if right == "upload" {
                "The action you have requested is limited to users in the group: [[DevWiki:Users|Users]]."
            } else {
                "The action you have requested is limited to users in one of the groups: [[DevWiki:Users|Users]], [[DevWiki:Autoconfirmed users|Autoconfirmed users]]."
            };
            return Err(ApiError::new("permissiondenied", text));
        }
    }
    if let Some(e) = block_error(ctx) {
        return Err(e);
    }

    // verifyUpload
    if bytes.is_empty() {
        return Err(ApiError::new(
            "empty-file",
            "The file you submitted was empty.",
        ));
    }
    let Some(title) = file_title_of(&filename) else {
        return Err(
            ApiError::new("illegal-filename", "The filename is not allowed.")
                .with("filename", J::s(filename.clone())),
        );
    };
    let name = title.dbkey();
    let Some(ext) = extension(&name) else {
        return Err(ApiError::new(
            "filetype-missing",
            "The file is missing an extension (like \".jpg\").",
        ));
    };
    if !FILE_EXTENSIONS.contains(&ext.as_str()) {
        return Err(ApiError::new(
            "filetype-banned",
            format!(
                "\"{ext}\" is not a permitted file type. Permitted file types are {}.",
                FILE_EXTENSIONS.join(", ")
            ),
        )
        .with("filetype", J::s(ext.clone()))
        .with(
            "allowed",
            J::Arr(FILE_EXTENSIONS.iter().map(|e| J::s(*e)).collect()),
        ));
    }

    let (server, script) = (ctx.sh.server(), ctx.sh.script_url());
    let sha1 = sha1_hex(&bytes);
    let mut st = ctx.sh.lock();
    let now = st.now();
    let existing = st.files.get(&name).cloned();

    // verifyTitlePermissions: overwriting needs reupload (or reupload-own).
    if let Some(f) = &existing {
        let own = f.user == me;
        if !(ctx.session.allowed("reupload") || own && ctx.session.allowed("reupload-own")) {
            return Err(ApiError::new(
                "fileexists-forbidden",
                format!("A file with this name already exists, and cannot be overwritten. If you still want to upload your file, please go back and use a new name. [[File:{name}]]"),
            ));
        }
    }

    // Warnings
    let mut warnings = J::obj();
    let comparable = filename.replace(' ', "_");
    let comparable = parse_title(&format!("File:{comparable}"))
        .map(|t| t.dbkey())
        .unwrap_or_default();
    if comparable != name {
        warnings.set("badfilename", J::s(name.clone()));
    }
    if let Some(f) = &existing {
        warnings.set("exists", J::s(name.clone()));
        if f.sha1 == sha1 {
            warnings.set(
                "nochange",
                J::obj().with("timestamp", J::s(iso8601(f.timestamp))),
            );
        }
    }
    let mut dups: Vec<String> = st
        .files
        .values()
        .filter(|f| f.sha1 == sha1 && f.name != name)
        .map(|f| f.name.clone())
        .collect();
    dups.sort();
    if !dups.is_empty() {
        warnings.set("duplicate", J::Arr(dups.into_iter().map(J::s).collect()));
    }
    let has_warnings = matches!(&warnings, J::Obj(w) if !w.is_empty());
    if has_warnings && !ignorewarnings {
        if st.stash.len() >= MAX_STASHED {
            if let Some(oldest) = st
                .stash
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone())
            {
                st.stash.remove(&oldest);
            }
        }
        let key = format!("{}.{}.1.{ext}", &random_hex(12), &random_hex(6));
        st.stash.insert(
            key.clone(),
            Stashed {
                user: me.clone(),
                bytes,
                created: now,
            },
        );
        drop(st);
        let r = J::obj()
            .with("result", J::s("Warning"))
            .with("warnings", warnings)
            .with("filekey", J::s(key.clone()))
            .with("sessionkey", J::s(key));
        ctx.result.set("upload", r);
        return Ok(());
    }

    // performUpload
    let (width, height, bitdepth) = dimensions(&bytes);
    let userid = ctx.session.user_id();
    let file = FileRec {
        name: name.clone(),
        bytes,
        sha1,
        timestamp: now,
        user: me.clone(),
        userid,
        comment: comment.clone(),
        mime: mime_of(&ext),
        width,
        height,
        bitdepth,
    };
    if st.wiki.page(&title).is_none() {
        st.wiki.save(
            &title,
            (&me, userid),
            text.trim_end().to_string(),
            comment,
            false,
            now,
        );
        if let Session::OAuth { user, .. } = &ctx.session {
            if let Some(u) = st.users.iter_mut().find(|u| u.name == user.name) {
                u.editcount += 1;
            }
        }
    }
    let pageid = st.wiki.page(&title).map(|p| p.id);
    st.files.insert(name.clone(), file.clone());
    drop(st);
    let all: Vec<&str> = IIPROPS
        .iter()
        .copied()
        .filter(|p| {
            !matches!(
                *p,
                "extmetadata" | "archivename" | "uploadwarning" | "badfile" | "thumbmime"
            )
        })
        .collect();
    let mut r = J::obj()
        .with("result", J::s("Success"))
        .with("filename", J::s(name));
    if has_warnings {
        r.set("warnings", warnings);
    }
    r.set(
        "imageinfo",
        image_info((&server, &script), &file, pageid, &all),
    );
    ctx.result.set("upload", r);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            file_title("my chart.png").map(|t| t.dbkey()).as_deref(),
            Some("My_chart.png")
        );
        assert_eq!(
            file_title("File:A.png").map(|t| t.dbkey()).as_deref(),
            Some("A.png")
        );
        assert_eq!(
            file_title_of("a/b:c.png").map(|t| t.dbkey()).as_deref(),
            Some("A-b-c.png")
        );
        assert_eq!(extension("A.PNG").as_deref(), Some("png"));
        assert_eq!(extension("A"), None);
        assert_eq!(extension(".png"), None);
    }

    #[test]
    fn header_dimensions() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&3u32.to_be_bytes());
        png.extend_from_slice(&2u32.to_be_bytes());
        png.push(8);
        assert_eq!(dimensions(&png), (3, 2, 8));
        assert_eq!(dimensions(b"GIF89a\x05\x00\x07\x00"), (5, 7, 8));
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 9, 0, 10,
        ];
        assert_eq!(dimensions(&jpeg), (10, 9, 8));
        // Truncated or hostile headers never panic.
        assert_eq!(dimensions(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF]), (0, 0, 0));
        assert_eq!(dimensions(&png[..20]), (0, 0, 0));
        assert_eq!(dimensions(&[0xFF, 0xD8, 0xFF, 0x01, 0xFF, 0xFF]), (0, 0, 0));
    }

    #[test]
    fn urls() {
        let u = file_url("http://h/w", "A_b(1).png");
        assert!(u.starts_with("http://h/w/images/"), "{u}");
        assert!(u.ends_with("/A_b(1).png"), "{u}");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
