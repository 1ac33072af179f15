//! The console over HTTP: CSRF, session cookies and expiry, sign-in brakes, isolation
//! between users, and the assets.

use std::collections::HashMap;
use std::time::Duration;

use nsbox::config::ServeConfig;

use crate::support::{ADMIN_PASSWORD, Server};

/// A cookie-keeping HTTP client that does not follow redirects.
pub struct Browser<'a> {
    server: &'a Server,
    agent: ureq::Agent,
    cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
}

impl Page {
    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        self.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_string()
    }
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a Server) -> Self {
        Browser { server, agent: ureq::AgentBuilder::new().redirects(0).build(), cookies: HashMap::new() }
    }

    fn send(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut req = self.agent.request(method, &format!("{}{}", self.server.base, path));
        let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !cookie.is_empty() {
            req = req.set("Cookie", &cookie.join("; "));
        }
        let result = match form {
            Some(fields) => req.send_form(fields),
            None => req.call(),
        };
        let response = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let set_cookies: Vec<String> = response.all("set-cookie").into_iter().map(String::from).collect();
        for c in &set_cookies {
            if let Some((name, rest)) = c.split_once('=') {
                let value = rest.split(';').next().unwrap_or_default();
                if value.is_empty() {
                    self.cookies.remove(name)
                } else {
                    self.cookies.insert(name.to_string(), value.to_string())
                };
            }
        }
        let status = response.status();
        let location = response.header("location").map(String::from);
        Page { status, location, set_cookies, body: response.into_string().unwrap_or_default() }
    }

    pub fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send("POST", path, Some(form))
    }

    pub fn login(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/login");
        let csrf = form.csrf();
        self.post("/login", &[("username", username), ("password", password), ("csrf", &csrf), ("next", "/")])
    }
}

/// A user created through the admin API, with a password.
pub fn user(s: &Server, name: &str) -> String {
    let password = format!("{name}-password-1");
    let r = s.post("/api/v1/users", &s.admin_token, serde_json::json!({"username": name, "password": password}));
    assert_eq!(r.status, 201, "{}", r.text);
    password
}

#[test]
fn sessions_are_httponly_strict_and_expire() {
    let s = Server::start_with(ServeConfig { session_idle: 1, ..ServeConfig::default() });
    let mut b = Browser::new(&s);
    let anonymous = b.get("/zones");
    assert_eq!((anonymous.status, anonymous.location.as_deref()), (303, Some("/login?next=/zones")));
    let signed_in = b.login("admin", ADMIN_PASSWORD);
    assert_eq!((signed_in.status, signed_in.location.as_deref()), (303, Some("/")));
    let cookie = signed_in.set_cookies.iter().find(|c| c.starts_with("nsbox_session=")).expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "{cookie}");
    assert_eq!(b.get("/").status, 200);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(b.get("/").status, 303, "an idle session expires");
}

#[test]
fn forms_without_the_csrf_token_are_rejected() {
    let s = Server::start();
    let mut b = Browser::new(&s);
    // The sign-in form itself is protected by its own cookie.
    let no_cookie =
        Browser::new(&s).post("/login", &[("username", "admin"), ("password", ADMIN_PASSWORD), ("csrf", "x")]);
    assert_eq!(no_cookie.status, 403);
    b.login("admin", ADMIN_PASSWORD);
    let page = b.get("/zones");
    let csrf = page.csrf();
    assert_eq!(csrf.len(), 32);
    for token in ["", "wrong", &csrf[..31]] {
        let r = b.post("/zones", &[("domain", "csrf.example"), ("csrf", token)]);
        assert_eq!(r.status, 403, "csrf {token:?}");
        assert!(r.body.contains("did not come from this site"), "a console-styled error page");
    }
    assert!(!b.get("/zones").body.contains("csrf.example"), "nothing was created");
    let ok = b.post("/zones", &[("domain", "csrf.example"), ("csrf", &csrf)]);
    assert_eq!(ok.status, 303);
    assert_eq!(b.post("/logout", &[("csrf", "nope")]).status, 403);
    assert_eq!(b.post("/logout", &[("csrf", &csrf)]).status, 303);
    assert_eq!(b.get("/zones").status, 303, "signed out");
}

#[test]
fn failed_sign_ins_are_refused_after_ten() {
    let s = Server::start();
    let mut b = Browser::new(&s);
    for _ in 0..10 {
        assert_eq!(b.login("admin", "wrong password").status, 401);
    }
    assert_eq!(b.login("admin", ADMIN_PASSWORD).status, 429, "even the right password is refused for a while");
}

#[test]
fn one_user_never_sees_another_users_zones() {
    let s = Server::start();
    let (alice_pw, bob_pw) = (user(&s, "alice"), user(&s, "bob"));
    let mut alice = Browser::new(&s);
    alice.login("alice", &alice_pw);
    let csrf = alice.get("/zones").csrf();
    let created = alice.post("/zones", &[("domain", "secret-alice.example"), ("csrf", &csrf)]);
    let zone_path = created.location.expect("redirect to the zone");
    alice.post(
        &format!("{zone_path}/records"),
        &[("type", "TXT"), ("name", "hidden"), ("content", "alice-only"), ("ttl", "300"), ("csrf", &csrf)],
    );
    let record_id =
        alice.get(&zone_path).body.split("/records/").nth(1).and_then(|r| r.split('/').next()).unwrap().to_string();

    let mut bob = Browser::new(&s);
    bob.login("bob", &bob_pw);
    let bob_csrf = bob.get("/zones").csrf();
    for page in ["/", "/zones", "/zones?q=secret", "/history", "/account/developers"] {
        let p = bob.get(page);
        assert_eq!(p.status, 200, "{page}");
        assert!(!p.body.contains("secret-alice") && !p.body.contains("alice-only"), "{page} shows nothing of alice's");
    }
    let unknown = bob.get("/zones/dom_doesnotexist00");
    for path in ["", "/history", "/delete", &format!("/records/{record_id}/edit")] {
        let p = bob.get(&format!("{zone_path}{path}"));
        assert_eq!(p.status, 404, "{path}");
        assert_eq!(p.body, unknown.body, "the same page as for a zone that does not exist");
    }
    for (path, form) in [
        ("/records", vec![("type", "A"), ("name", "x"), ("content", "192.0.2.1")]),
        ("/delete", vec![("confirm", "secret-alice.example")]),
        (&format!("/records/{record_id}/delete")[..], vec![]),
        (&format!("/records/{record_id}/edit")[..], vec![("type", "TXT"), ("name", "hidden"), ("content", "bob")]),
        ("/template", vec![("template_id", "tpl_website_basic"), ("var.ip_address", "192.0.2.1"), ("apply", "1")]),
    ] {
        let mut form = form;
        form.push(("csrf", &bob_csrf));
        assert_eq!(bob.post(&format!("{zone_path}{path}"), &form).status, 404, "{path}");
    }
    assert!(alice.get(&zone_path).body.contains("alice-only"), "alice's zone is untouched");
    // Non-admins do not get the user admin.
    assert_eq!(bob.get("/admin/users").status, 403);
}

#[test]
fn assets_are_small_and_cached() {
    let s = Server::start();
    let mut b = Browser::new(&s);
    let mut total = 0;
    for file in ["app.css", "app.js", "icon.svg"] {
        let r = ureq::get(&format!("{}/static/{file}", s.base)).call().unwrap();
        let etag = r.header("etag").unwrap().to_string();
        assert!(r.header("cache-control").unwrap().contains("max-age"));
        total += r.into_string().unwrap().len();
        let again = ureq::get(&format!("{}/static/{file}", s.base)).set("If-None-Match", &etag).call().unwrap();
        assert_eq!(again.status(), 304);
    }
    assert!(total < 50 * 1024, "CSS+JS+icon {total} bytes");
    let missing = b.get("/no/such/page");
    assert!(missing.status == 404 && missing.body.contains("There is no page here"));
}

#[test]
fn zone_settings_and_tsig_keys_from_the_console() {
    let s = Server::start();
    let mut b = Browser::new(&s);
    b.login("admin", ADMIN_PASSWORD);
    let csrf = b.get("/zones").csrf();
    let zone = b.post("/zones", &[("domain", "settings.example"), ("csrf", &csrf)]).location.unwrap();
    let form = |minimum: &'static str, notify: &'static str| {
        vec![
            ("refresh", "7200"),
            ("retry", "900"),
            ("expire", "1209600"),
            ("minimum", minimum),
            ("allow_transfer", "127.0.0.1, 192.0.2.0/24"),
            ("notify", notify),
        ]
    };
    let mut fields = form("120", "192.0.2.53");
    fields.push(("csrf", &csrf));
    let saved = b.post(&format!("{zone}/settings"), &fields);
    assert!(saved.status == 200 && saved.body.contains("Zone settings saved"), "{}", saved.body);
    let soa = crate::dig::dig(s.dns, &["settings.example", "SOA"]);
    assert!(soa.answer[0].3.ends_with(" 7200 900 1209600 120"), "{}", soa.raw);
    assert!(saved.body.contains("192.0.2.53:53") && saved.body.contains("192.0.2.0/24"));
    let mut bad = form("soon", "not an address");
    bad.push(("csrf", &csrf));
    let refused = b.post(&format!("{zone}/settings"), &bad);
    assert!(refused.status == 400 && refused.body.contains("is not a number of seconds"));

    let created = b.post(
        "/admin/tsig",
        &[("name", "xfr.example.net"), ("algorithm", "hmac-sha512"), ("zones", ""), ("csrf", &csrf)],
    );
    assert!(
        created.body.contains("key &quot;xfr.example.net&quot;") && created.body.contains("algorithm hmac-sha512;"),
        "{}",
        created.body
    );
    let secret = created.body.split("secret &quot;").nth(1).and_then(|r| r.split("&quot;").next()).unwrap().to_string();
    assert!(!b.get("/admin/tsig").body.contains(&secret), "the secret is shown once");
    let listed = s.get("/api/v1/tsig-keys", &s.admin_token);
    assert_eq!(listed.body["tsig_keys"][0]["name"], "xfr.example.net");

    let password = user(&s, "carol");
    let mut carol = Browser::new(&s);
    carol.login("carol", &password);
    assert_eq!(carol.get("/admin/tsig").status, 403);
}

#[test]
fn zone_files_from_the_console() {
    let s = Server::start();
    let mut b = Browser::new(&s);
    b.login("admin", ADMIN_PASSWORD);
    let csrf = b.get("/zones").csrf();
    let zone = b.post("/zones", &[("domain", "console.example"), ("csrf", &csrf)]).location.unwrap();
    let text = "$ORIGIN console.example.\nwww 300 IN A 198.51.100.77\nmail IN MX 10 mx.example.net.\nold IN NSEC next.console.example. A\n";
    let preview = b.post(&format!("{zone}/import"), &[("text", text), ("mode", "merge"), ("csrf", &csrf)]);
    assert!(
        preview.body.contains("What the import will do")
            && preview.body.contains("2 to add")
            && preview.body.contains("line 4"),
        "{}",
        preview.body
    );
    assert!(!b.get(&zone).body.contains("198.51.100.77"), "a preview writes nothing");
    let applied =
        b.post(&format!("{zone}/import"), &[("text", text), ("mode", "merge"), ("apply", "1"), ("csrf", &csrf)]);
    assert!(applied.body.contains("Imported"), "{}", applied.body);
    assert_eq!(crate::dig::dig(s.dns, &["www.console.example", "A"]).data("A"), ["198.51.100.77"]);
    let exported = b.get(&format!("{zone}/export"));
    assert!(exported.status == 200 && exported.body.contains("www\t300\tIN\tA\t198.51.100.77"), "{}", exported.body);
    assert_eq!(b.post(&format!("{zone}/import"), &[("text", text), ("mode", "merge")]).status, 403, "CSRF");
}

#[test]
fn cookies_are_secure_behind_an_https_proxy() {
    let s = Server::start();
    let plain = ureq::get(&format!("{}/login", s.base)).call().unwrap();
    assert!(!plain.header("set-cookie").unwrap_or_default().contains("Secure"));
    let proxied = ureq::get(&format!("{}/login", s.base)).set("X-Forwarded-Proto", "https").call().unwrap();
    let cookie = proxied.header("set-cookie").unwrap_or_default().to_string();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
}

#[test]
fn https_from_certificate_files() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{made:?}");
    let s = Server::start_with(ServeConfig { tls_cert: Some(cert), tls_key: Some(key), ..ServeConfig::default() });
    let url = s.base.replace("http://", "https://");
    let script = "import ssl, sys, urllib.request\n\
        r = urllib.request.urlopen(sys.argv[1] + '/login', context=ssl._create_unverified_context())\n\
        print(r.status, r.headers.get('Set-Cookie'))";
    let out = std::process::Command::new("python3").args(["-c", script, &url]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.starts_with("200 ") && text.contains("Secure") && text.contains("HttpOnly"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = ureq::get(&format!("{}/healthz", s.base)).call();
    assert!(plain.is_err(), "plain HTTP is not spoken on the HTTPS port");
}

#[test]
fn the_history_says_who_changed_what_newest_first() {
    let s = Server::start();
    let password = user(&s, "dana");
    let token = s.user_token("dana", &[], &[]);
    let zone = s.post("/api/v1/dns-zones/", &token, serde_json::json!({"domain": "history.example"}));
    let zone_id = zone.body["uuid"].as_str().unwrap().to_string();
    let created = s.post(
        &format!("/api/v1/domains/{zone_id}/dns"),
        &token,
        serde_json::json!({"type": "A", "name": "www", "content": "192.0.2.10"}),
    );
    let record_id = created.body["id"].as_str().unwrap().to_string();
    let renamed =
        s.send("PATCH", &format!("/api/v1/dns-records/{record_id}/"), &token, serde_json::json!({"name": "web"}));
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(s.get(&format!("/api/v1/dns-records/{record_id}/"), &token).body["name"], "web");
    // A CNAME may stand alone only: the renamed record left its old name and holds its new one.
    let cname = |name: &str| {
        let body = serde_json::json!({"type": "CNAME", "name": name, "content": "example.net."});
        s.post(&format!("/api/v1/domains/{zone_id}/dns"), &token, body).status
    };
    assert_eq!((cname("www"), cname("web")), (201, 409));
    assert_eq!(s.delete(&format!("/api/v1/dns-records/{record_id}/"), &token).status, 204);
    assert_eq!(cname("web"), 201, "a deleted record leaves its name");

    let (mut dana, mut admin) = (Browser::new(&s), Browser::new(&s));
    dana.login("dana", &password);
    admin.login("admin", ADMIN_PASSWORD);
    let pages = [dana.get(&format!("/zones/{zone_id}/history")), dana.get("/history"), admin.get("/history")];
    for (page, body) in pages.iter().map(|p| &p.body).enumerate() {
        let actions: Vec<&str> = body.split("<code>").skip(1).filter_map(|rest| rest.split("</code>").next()).collect();
        let expected = ["record.create", "record.delete", "record.create", "record.update", "record.create"];
        assert_eq!(actions[..5], expected, "{page}: newest first");
        assert!(actions.contains(&"zone.create"), "{page}");
        assert!(body.contains("dana") && body.contains("192.0.2.10"), "{page}: who, and the values");
    }
    // Who changed a deleted zone's records stays on record.
    assert_eq!(s.delete(&format!("/api/v1/dns-zones/{zone_id}/"), &token).status, 204);
    let body = admin.get("/history").body;
    let actions: Vec<&str> = body.split("<code>").skip(1).filter_map(|rest| rest.split("</code>").next()).collect();
    let expected = ["zone.delete", "record.create", "record.delete", "record.create", "record.update", "record.create"];
    assert_eq!(actions[..6], expected, "after the zone's deletion");
}
