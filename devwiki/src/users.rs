//! Seed users, their groups and rights, and MediaWiki's grants
//! (`$wgGrantPermissions`, `$wgGrantPermissionGroups`, the grant messages).

/// Rights of the anonymous user (group `*`), as captured on MediaWiki 1.39.
pub(crate) const ANON_RIGHTS: &[&str] = &[
    "createaccount",
    "read",
    "edit",
    "createpage",
    "createtalk",
    "writeapi",
    "viewmywatchlist",
    "editmywatchlist",
    "viewmyprivateinfo",
    "editmyprivateinfo",
    "editmyoptions",
];

/// Rights added by group `user`.
const USER_RIGHTS: &[&str] = &[
    "move",
    "move-subpages",
    "move-rootuserpages",
    "move-categorypages",
    "movefile",
    "upload",
    "reupload",
    "reupload-shared",
    "minoredit",
    "editmyusercss",
    "editmyuserjson",
    "editmyuserjs",
    "editmyuserjsredirect",
    "purge",
    "sendemail",
    "applychangetags",
    "changetags",
    "editcontentmodel",
    "mwoauthmanagemygrants",
];

/// Rights added by group `autoconfirmed`.
const AUTOCONFIRMED_RIGHTS: &[&str] = &["autoconfirmed", "editsemiprotected"];

/// Rights of groups sysop, bureaucrat and interface-admin on a wiki with the
/// usual extensions (AbuseFilter, CheckUser, OAuth, Nuke, ...).
const ADMIN_RIGHTS: &[&str] = &[
    // sysop (core)
    "block",
    "blockemail",
    "delete",
    "bigdelete",
    "deletedhistory",
    "deletedtext",
    "deletelogentry",
    "deleterevision",
    "undelete",
    "browsearchive",
    "editinterface",
    "editsitejson",
    "edituserjson",
    "import",
    "importupload",
    "patrol",
    "autopatrol",
    "patrolmarks",
    "protect",
    "editprotected",
    "rollback",
    "unwatchedpages",
    "ipblock-exempt",
    "markbotedits",
    "apihighlimits",
    "noratelimit",
    "unblockself",
    "suppressredirect",
    "mergehistory",
    "managechangetags",
    "deletechangetags",
    "nominornewtalk",
    "override-export-depth",
    "upload_by_url",
    "reupload-own",
    "delete-redirect",
    "autocreateaccount",
    "createaccount-unrestricted",
    "viewmyprivateinfo",
    "editmyprivateinfo",
    "viewsuppressed",
    "suppressionlog",
    "suppressrevision",
    "hideuser",
    "pagelang",
    "changetags",
    "siteadmin",
    "editusercss",
    "edituserjs",
    "editsitecss",
    "editsitejs",
    // bureaucrat
    "userrights",
    "userrights-interwiki",
    "renameuser",
    "bot",
    // OAuth
    "mwoauthproposeconsumer",
    "mwoauthupdateownconsumer",
    "mwoauthmanageconsumer",
    "mwoauthsuppress",
    "mwoauthviewsuppressed",
    "mwoauthviewprivate",
    // AbuseFilter
    "abusefilter-modify",
    "abusefilter-log-detail",
    "abusefilter-view",
    "abusefilter-log",
    "abusefilter-privatedetails",
    "abusefilter-privatedetails-log",
    "abusefilter-modify-restricted",
    "abusefilter-modify-global",
    "abusefilter-revert",
    "abusefilter-view-private",
    "abusefilter-log-private",
    "abusefilter-hidden-log",
    "abusefilter-hide-log",
    "abusefilter-access-protected-vars",
    // CheckUser
    "checkuser",
    "checkuser-log",
    "investigate",
    "checkuser-temporary-account",
    "checkuser-temporary-account-log",
    // Other extensions commonly installed on Wikimedia wikis
    "nuke",
    "replacetext",
    "massmessage",
    "tboverride",
    "tboverride-account",
    "titleblacklistlog",
    "skipcaptcha",
    "sboverride",
    "globalblock",
    "globalblock-whitelist",
    "globalblock-exempt",
    "securepoll-create-poll",
    "securepoll-view-voter-pii",
    "flow-create-board",
    "flow-delete",
    "flow-hide",
    "flow-edit-post",
    "flow-lock",
    "flow-suppress",
    "gadgets-edit",
    "gadgets-definition-edit",
    "templateeditor",
    "editautopatrolprotected",
    "editextendedsemiprotected",
    "extendedconfirmed",
    "editeditorprotected",
    "review",
    "autoreview",
    "unreviewedpages",
    "validate",
    "stablesettings",
    "movestable",
    "ipinfo",
    "ipinfo-view-basic",
    "ipinfo-view-full",
    "ipinfo-view-log",
    "echo-create",
    "collectionsaveascommunitypage",
    "collectionsaveasuserpage",
    "oathauth-enable",
    "oathauth-api-all",
    "oathauth-verify-user",
    "oathauth-disable-for-user",
    "oathauth-view-log",
    "torunblocked",
    "urlshortener-create-url",
    "urlshortener-manage-url",
    "urlshortener-view-log",
    "newsletter-create",
    "newsletter-delete",
    "newsletter-manage",
    "newsletter-restore",
    "translate",
    "translate-manage",
    "translate-import",
    "translate-messagereview",
    "pagetranslation",
    "pagetriage-copyvio",
    "centralauth-lock",
    "centralauth-suppress",
    "centralauth-rename",
    "centralauth-unmerge",
    "globalgrouppermissions",
    "globalgroupmembership",
    "spamblacklistlog",
    "interwiki",
    "editcontentmodel",
    "upload",
    "reupload",
    "move",
    "movefile",
    "lookupuser",
    "renameuser-global",
    "tor-exempt",
    "mwoauthmanagemygrants",
    "purge",
    "writeapi",
    "viewmywatchlist",
    "editmywatchlist",
    "applychangetags",
    "minoredit",
    "sendemail",
    "hideuser-log",
    "deletedcontent",
    "editinterface-protected",
    "read",
];

/// A seeded wiki user.
#[derive(Clone, Debug)]
pub(crate) struct UserRec {
    pub id: u32,
    pub name: String,
    pub explicit_groups: Vec<String>,
    pub implicit_groups: Vec<String>,
    pub rights: Vec<String>,
    /// TS_MW, `YYYYMMDDHHMMSS`.
    pub registered: String,
    pub editcount: i64,
    pub email: String,
    pub email_authenticated: Option<String>,
    pub realname: String,
    pub block: Option<BlockRec>,
    /// Hidden (suppressed) from public view: the OAuth 2.0 profile is then
    /// only `sub` and `blocked: true`.
    pub hidden: bool,
}

/// A sitewide block.
#[derive(Clone, Debug)]
pub(crate) struct BlockRec {
    pub id: u32,
    pub by: String,
    pub by_id: u32,
    pub reason: String,
    pub timestamp: String,
    pub expiry: String,
}

impl UserRec {
    /// Effective groups: explicit first, then `*`, `user`, `autoconfirmed`.
    pub(crate) fn groups(&self) -> Vec<String> {
        let mut g = self.explicit_groups.clone();
        g.extend(self.implicit_groups.iter().cloned());
        g
    }
}

fn unique(lists: &[&[&str]]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for list in lists {
        for r in *list {
            if !out.iter().any(|x| x == r) {
                out.push((*r).to_string());
            }
        }
    }
    out
}

/// The name of the seeded user with a non-ASCII name.
pub(crate) const ZOE: &str = "Zoë Ünicode-Ŝtrange";

/// The seeded users. Edit counts are filled in from the seeded pages.
pub(crate) fn seed_users() -> Vec<UserRec> {
    let implicit_auto = vec![
        "*".to_string(),
        "user".to_string(),
        "autoconfirmed".to_string(),
    ];
    vec![
        UserRec {
            id: 1,
            name: "Admin".into(),
            explicit_groups: vec![
                "bureaucrat".into(),
                "interface-admin".into(),
                "sysop".into(),
            ],
            implicit_groups: implicit_auto.clone(),
            rights: unique(&[ANON_RIGHTS, USER_RIGHTS, AUTOCONFIRMED_RIGHTS, ADMIN_RIGHTS]),
            registered: "20221101000000".into(),
            editcount: 0,
            email: "admin@devwiki.test".into(),
            email_authenticated: Some("20221101000500".into()),
            realname: "Ada Admin".into(),
            block: None,
            hidden: false,
        },
        UserRec {
            id: 2,
            name: "Alice".into(),
            explicit_groups: vec![],
            implicit_groups: implicit_auto.clone(),
            rights: unique(&[ANON_RIGHTS, USER_RIGHTS, AUTOCONFIRMED_RIGHTS]),
            registered: "20221115120000".into(),
            editcount: 0,
            email: "alice@example.org".into(),
            email_authenticated: Some("20221115121500".into()),
            realname: "Alice Example".into(),
            block: None,
            hidden: false,
        },
        UserRec {
            id: 3,
            name: "Blocked".into(),
            explicit_groups: vec![],
            implicit_groups: implicit_auto,
            rights: unique(&[ANON_RIGHTS, USER_RIGHTS, AUTOCONFIRMED_RIGHTS]),
            registered: "20221120080000".into(),
            editcount: 0,
            email: "blocked@example.org".into(),
            email_authenticated: None,
            realname: String::new(),
            block: Some(BlockRec {
                id: 1,
                by: "Admin".into(),
                by_id: 1,
                reason: "Vandalism".into(),
                timestamp: "2023-06-01T00:00:00Z".into(),
                expiry: "infinite".into(),
            }),
            hidden: false,
        },
        UserRec {
            id: 4,
            name: ZOE.into(),
            explicit_groups: vec![],
            implicit_groups: vec!["*".into(), "user".into()],
            rights: unique(&[ANON_RIGHTS, USER_RIGHTS]),
            registered: "20221125163000".into(),
            editcount: 0,
            email: "zoe@example.org".into(),
            email_authenticated: Some("20221125164000".into()),
            realname: "Zoë Ünicode-Ŝtrange".into(),
            block: None,
            hidden: false,
        },
    ]
}

/// A new ordinary (autoconfirmed) user, for owner-only consumers whose
/// owner is not a seeded user.
pub(crate) fn ordinary_user(id: u32, name: &str) -> UserRec {
    UserRec {
        id,
        name: name.to_string(),
        explicit_groups: vec![],
        implicit_groups: vec!["*".into(), "user".into(), "autoconfirmed".into()],
        rights: unique(&[ANON_RIGHTS, USER_RIGHTS, AUTOCONFIRMED_RIGHTS]),
        registered: "20230101000000".into(),
        editcount: 0,
        email: String::new(),
        email_authenticated: None,
        realname: String::new(),
        block: None,
        hidden: false,
    }
}

/// `$wgGrantPermissions`, in its definition order: grant, rights.
pub(crate) const GRANTS: &[(&str, &[&str])] = &[
    (
        "basic",
        &[
            "autocreateaccount",
            "autoconfirmed",
            "autopatrol",
            "editsemiprotected",
            "ipblock-exempt",
            "nominornewtalk",
            "patrolmarks",
            "purge",
            "read",
            "unwatchedpages",
            "writeapi",
            "skipcaptcha",
            "abusefilter-view",
            "abusefilter-log",
        ],
    ),
    (
        "highvolume",
        &["bot", "apihighlimits", "noratelimit", "markbotedits"],
    ),
    ("import", &["import", "importupload"]),
    (
        "editpage",
        &[
            "edit",
            "minoredit",
            "applychangetags",
            "changetags",
            "editcontentmodel",
        ],
    ),
    (
        "editprotected",
        &[
            "edit",
            "minoredit",
            "applychangetags",
            "changetags",
            "editcontentmodel",
            "editprotected",
        ],
    ),
    (
        "editmycssjs",
        &[
            "edit",
            "minoredit",
            "applychangetags",
            "changetags",
            "editcontentmodel",
            "editmyusercss",
            "editmyuserjson",
            "editmyuserjs",
        ],
    ),
    ("editmyoptions", &["editmyoptions", "editmyuserjson"]),
    (
        "editinterface",
        &[
            "edit",
            "minoredit",
            "applychangetags",
            "changetags",
            "editcontentmodel",
            "editinterface",
            "edituserjson",
            "editsitejson",
        ],
    ),
    (
        "editsiteconfig",
        &[
            "edit",
            "minoredit",
            "applychangetags",
            "changetags",
            "editcontentmodel",
            "editinterface",
            "edituserjson",
            "editsitejson",
            "editusercss",
            "edituserjs",
            "editsitecss",
            "editsitejs",
        ],
    ),
    (
        "createeditmovepage",
        &[
            "edit",
            "minoredit",
            "applychangetags",
            "changetags",
            "editcontentmodel",
            "createpage",
            "createtalk",
            "delete-redirect",
            "move",
            "move-rootuserpages",
            "move-subpages",
            "move-categorypages",
            "suppressredirect",
        ],
    ),
    ("uploadfile", &["upload", "reupload-own"]),
    (
        "uploadeditmovefile",
        &[
            "upload",
            "reupload-own",
            "reupload",
            "reupload-shared",
            "upload_by_url",
            "movefile",
            "suppressredirect",
        ],
    ),
    ("patrol", &["patrol"]),
    ("rollback", &["rollback"]),
    ("blockusers", &["block", "blockemail"]),
    (
        "viewdeleted",
        &["browsearchive", "deletedhistory", "deletedtext"],
    ),
    ("viewrestrictedlogs", &["suppressionlog"]),
    (
        "delete",
        &[
            "edit",
            "minoredit",
            "applychangetags",
            "changetags",
            "editcontentmodel",
            "browsearchive",
            "deletedhistory",
            "deletedtext",
            "delete",
            "bigdelete",
            "deletelogentry",
            "deleterevision",
            "undelete",
        ],
    ),
    ("oversight", &["suppressrevision", "viewsuppressed"]),
    (
        "protect",
        &[
            "edit",
            "minoredit",
            "applychangetags",
            "changetags",
            "editcontentmodel",
            "editprotected",
            "protect",
        ],
    ),
    ("viewmywatchlist", &["viewmywatchlist"]),
    ("editmywatchlist", &["editmywatchlist"]),
    ("sendemail", &["sendemail"]),
    ("createaccount", &["createaccount"]),
    ("privateinfo", &["viewmyprivateinfo"]),
    ("mergehistory", &["mergehistory"]),
    ("mwoauth-authonly", &[]),
    ("mwoauth-authonlyprivate", &[]),
];

/// The rights a set of grants allows.
pub(crate) fn grant_rights(grants: &[String]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (grant, rights) in GRANTS {
        if grants.iter().any(|g| g == grant) {
            for r in *rights {
                if !out.contains(r) {
                    out.push(r);
                }
            }
        }
    }
    out
}

/// A rights list as a release shows it. MediaWiki 1.43 core no longer has
/// the `writeapi` and `purge` rights (observed-1.43.md, "Differences from
/// 1.39" 8; devwiki still checks `writeapi` internally), lists the
/// watchlist rights later, and the captured 1.43 wiki gave group `user`
/// Extension:OAuth's `mwoauthproposeconsumer` and `mwoauthupdateownconsumer`
/// too: a user's list is then the captured one (observed-1.43.md, 5.).
pub(crate) fn listed_rights(rights: Vec<String>, newer: bool) -> Vec<String> {
    if !newer {
        return rights;
    }
    const LATER: [&str; 4] = [
        "viewmywatchlist",
        "editmywatchlist",
        "mwoauthproposeconsumer",
        "mwoauthupdateownconsumer",
    ];
    let mut out: Vec<String> = Vec::with_capacity(rights.len() + 2);
    for r in rights.iter() {
        if r == "writeapi" || r == "purge" || LATER.contains(&r.as_str()) {
            continue;
        }
        if r == "mwoauthmanagemygrants" {
            out.extend(LATER.iter().map(|l| l.to_string()));
        }
        out.push(r.clone());
    }
    if !rights.iter().any(|r| r == "mwoauthmanagemygrants") {
        // Not a user's whole list (an OAuth session's): keep what it had.
        for l in ["viewmywatchlist", "editmywatchlist"] {
            if rights.iter().any(|r| r == l) {
                out.push(l.to_string());
            }
        }
    }
    out
}

/// The user's rights restricted to what the grants allow (an OAuth session).
pub(crate) fn session_rights(user_rights: &[String], grants: &[String]) -> Vec<String> {
    let allowed = grant_rights(grants);
    user_rights
        .iter()
        .filter(|r| allowed.contains(&r.as_str()))
        .cloned()
        .collect()
}

/// `$wgGrantPermissionGroups`.
fn grant_group(grant: &str) -> &'static str {
    match grant {
        "basic" | "mwoauth-authonly" | "mwoauth-authonlyprivate" => "hidden",
        "highvolume" => "high-volume",
        "editpage" | "editprotected" | "createeditmovepage" | "patrol" | "rollback" | "import"
        | "mergehistory" => "page-interaction",
        "uploadfile" | "uploadeditmovefile" => "file-interaction",
        "viewmywatchlist" | "editmywatchlist" => "watchlist-interaction",
        "editmycssjs" | "editmyoptions" => "customization",
        "editinterface" | "editsiteconfig" | "blockusers" | "delete" | "protect"
        | "viewdeleted" | "viewrestrictedlogs" | "oversight" => "administration",
        "sendemail" => "email",
        "privateinfo" => "private-information",
        "createaccount" => "administration",
        _ => "other",
    }
}

fn group_label(group: &str) -> &'static str {
    match group {
        "page-interaction" => "Interact with pages",
        "file-interaction" => "Interact with media",
        "watchlist-interaction" => "Interact with your watchlist",
        "email" => "Send email",
        "high-volume" => "Perform high volume activity",
        "customization" => "Customization and preferences",
        "administration" => "Perform administrative actions",
        "private-information" => "Access private data about you",
        _ => "Miscellaneous activity",
    }
}

/// The English description of a grant (`grant-<name>`).
pub(crate) fn grant_label(grant: &str) -> String {
    let s = match grant {
        "basic" => "Basic rights",
        "highvolume" => "High-volume editing",
        "import" => "Import revisions",
        "editpage" => "Edit existing pages",
        "editprotected" => "Edit protected pages",
        "editmycssjs" => "Edit your user CSS/JSON/JavaScript",
        "editmyoptions" => "Edit your user preferences and JSON configuration",
        "editinterface" => "Edit the MediaWiki namespace and sitewide/user JSON",
        "editsiteconfig" => "Edit sitewide and user CSS/JS",
        "createeditmovepage" => "Create, edit, and move pages",
        "uploadfile" => "Upload new files",
        "uploadeditmovefile" => "Upload, replace, and move files",
        "patrol" => "Patrol changes to pages",
        "rollback" => "Rollback changes to pages",
        "blockusers" => "Block and unblock users",
        "viewdeleted" => "View deleted files and pages",
        "viewrestrictedlogs" => "View restricted log entries",
        "delete" => "Delete pages, revisions, and log entries",
        "oversight" => "Hide users and suppress revisions",
        "protect" => "Protect and unprotect pages",
        "viewmywatchlist" => "View your watchlist",
        "editmywatchlist" => "Edit your watchlist",
        "sendemail" => "Send email to other users",
        "createaccount" => "Create accounts",
        "privateinfo" => "Access private information",
        "mergehistory" => "Merge page histories",
        "mwoauth-authonly" => {
            "User identity verification only, no ability to read pages or act on a user's behalf."
        }
        "mwoauth-authonlyprivate" => {
            "User identity verification only with access to real name and email address, no ability to read pages or act on a user's behalf."
        }
        other => return other.to_string(),
    };
    s.to_string()
}

/// `MWGrants::getGrantsWikiText` as a structure: (group label, grant labels),
/// groups ordered by the first of their grants in `$wgGrantPermissions`,
/// the hidden group left out.
pub(crate) fn grant_groups_for_display(grants: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let known: Vec<&str> = GRANTS.iter().map(|(g, _)| *g).collect();
    let mut ordered: Vec<&str> = known
        .iter()
        .copied()
        .filter(|g| grants.iter().any(|x| x == g))
        .collect();
    for g in grants {
        if !known.contains(&g.as_str()) && !ordered.contains(&g.as_str()) {
            ordered.push(g);
        }
    }
    for g in ordered {
        let group = grant_group(g);
        if group == "hidden" {
            continue;
        }
        let label = group_label(group).to_string();
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, list)) => list.push(grant_label(g)),
            None => out.push((label, vec![grant_label(g)])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_has_a_long_unique_rights_list() {
        let users = seed_users();
        let admin = &users[0];
        assert!(admin.rights.len() >= 150, "{}", admin.rights.len());
        let mut sorted = admin.rights.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), admin.rights.len());
    }

    #[test]
    fn captured_session_rights() {
        let users = seed_users();
        let alice = &users[1];
        assert_eq!(alice.rights.len(), 32);
        let grants: Vec<String> = ["basic", "editpage", "highvolume"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            session_rights(&alice.rights, &grants),
            [
                "read",
                "edit",
                "writeapi",
                "minoredit",
                "purge",
                "applychangetags",
                "changetags",
                "editcontentmodel",
                "autoconfirmed",
                "editsemiprotected"
            ]
        );
        let shown = grant_groups_for_display(&grants);
        assert_eq!(
            shown,
            vec![
                (
                    "Perform high volume activity".to_string(),
                    vec!["High-volume editing".to_string()]
                ),
                (
                    "Interact with pages".to_string(),
                    vec!["Edit existing pages".to_string()]
                ),
            ]
        );
    }
}
