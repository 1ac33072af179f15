//! The console in a real headless Chromium (Debian's chromium + chromium-driver) driven over
//! WebDriver: the whole round a person makes, a screenshot of every page in
//! `test-output/console/`, and no JavaScript errors in the browser's console.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::dig::dig;
use crate::support::{ADMIN_PASSWORD, Server};

struct Driver {
    process: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn start_driver() -> Driver {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
    let process = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (bash .ci/run installs chromium-driver)");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { process, port, _profile: tempfile::tempdir().unwrap() }
}

struct Session {
    client: Client,
    driver_port: u16,
    base: String,
    shots: PathBuf,
    count: usize,
}

impl Session {
    async fn open(driver: &Driver, base: &str) -> Session {
        let caps = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--disable-quic", "--window-size=1280,1100",
                         format!("--user-data-dir={}", driver._profile.path().display())]
            }
        });
        let caps = caps.as_object().cloned().unwrap();
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a Chromium session");
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-output/console");
        std::fs::create_dir_all(&shots).unwrap();
        Session { client, driver_port: driver.port, base: base.to_string(), shots, count: 0 }
    }

    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("field {css}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("element {css}")).click().await.unwrap();
    }

    /// Clicks something that loads a new page, and waits until the old page is gone.
    async fn submit(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.click(css).await;
        self.wait_for_new_page(old).await;
    }

    async fn wait_for_new_page(&self, old: fantoccini::elements::Element) {
        let start = Instant::now();
        while old.tag_name().await.is_ok() {
            assert!(start.elapsed() < Duration::from_secs(15), "the page did not change");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.client.wait().at_most(Duration::from_secs(15)).for_element(Locator::Css("main")).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        let found = self.client.wait().at_most(Duration::from_secs(5)).for_element(Locator::Css(css)).await;
        found.unwrap_or_else(|_| panic!("element {css}")).text().await.unwrap()
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    /// Saves a screenshot of the page and checks the browser logged no error on it.
    async fn check(&mut self, name: &str) {
        self.count += 1;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.count)), png).unwrap();
        let session = self.client.session_id().await.unwrap().unwrap();
        let logs: serde_json::Value =
            ureq::post(&format!("http://127.0.0.1:{}/session/{session}/se/log", self.driver_port))
                .send_json(json!({"type": "browser"}))
                .unwrap()
                .into_json()
                .unwrap();
        // Pages answered 400 or 404 on purpose show up as "network" entries; scripts, styles
        // and icons that fail to load, and every JavaScript error, count.
        let errors: Vec<&serde_json::Value> = logs["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .filter(|e| e["source"] != "network" || e["message"].as_str().is_some_and(|m| m.contains("/static/")))
            .collect();
        assert!(errors.is_empty(), "JavaScript console errors on {name}: {errors:?}");
    }
}

#[test]
fn a_person_manages_dns_in_chromium() {
    let s = Server::start();
    let driver = start_driver();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut b = Session::open(&driver, &s.base).await;

        // Sign in.
        b.goto("/").await;
        b.check("login").await;
        b.fill("#username", "admin").await;
        b.fill("#password", ADMIN_PASSWORD).await;
        b.submit("button[type=submit]").await;
        assert!(b.text("h1").await.contains("Dashboard"));
        b.check("dashboard").await;

        // Create a zone.
        b.goto("/zones").await;
        b.fill("#f-domain", "browser.example").await;
        b.submit("form.row button.primary").await;
        assert_eq!(b.text("h1").await, "browser.example");
        let zone_url = b.client.current_url().await.unwrap().path().to_string();

        // Add A, MX and TXT records.
        for (rtype, name, content, priority) in [
            ("A", "www", "192.0.2.10", ""),
            ("MX", "@", "mail.browser.example", "10"),
            ("TXT", "@", "v=spf1 mx -all", ""),
        ] {
            b.click(&format!("#f-type option[value='{rtype}']")).await;
            b.fill("#f-name", name).await;
            b.fill("#f-content", content).await;
            b.fill("#f-priority", priority).await;
            b.submit("#add button.primary").await;
            assert!(b.text(".notice.good").await.starts_with("Added"), "{rtype}: {}", b.body().await);
        }
        b.check("zone-with-records").await;
        assert_eq!(dig(s.dns, &["www.browser.example", "A"]).data("A"), ["192.0.2.10"], "live on the wire");

        // A bad IPv4 address: the message stands next to the content field.
        b.click("#f-type option[value='A']").await;
        b.fill("#f-name", "bad").await;
        b.fill("#f-content", "300.1.2.3").await;
        b.fill("#f-priority", "").await;
        b.submit("#add button.primary").await;
        assert_eq!(b.text("#f-content-error").await, "'300.1.2.3' is not a valid IPv4 address");
        b.check("field-error").await;

        // Edit the A record.
        b.goto(&zone_url).await;
        let old = b.client.find(Locator::Css("html")).await.unwrap();
        b.client.find(Locator::XPath("//tr[td[1]='www']//a[text()='Edit']")).await.unwrap().click().await.unwrap();
        b.wait_for_new_page(old).await;
        b.check("edit-record").await;
        b.fill("#f-content", "192.0.2.11").await;
        b.submit("button.primary").await;
        assert!(b.body().await.contains("192.0.2.11"));
        assert_eq!(dig(s.dns, &["www.browser.example", "A"]).data("A"), ["192.0.2.11"]);

        // Delete the TXT record (the confirm dialog is accepted).
        let old = b.client.find(Locator::Css("html")).await.unwrap();
        b.client
            .find(Locator::XPath("//tr[td[2]/span='TXT']//button[text()='Delete']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.client.accept_alert().await.unwrap();
        b.wait_for_new_page(old).await;
        assert!(!b.body().await.contains("v=spf1 mx -all"));

        // Apply a template: preview first, then apply.
        let tpl = b.client.find(Locator::XPath("//details[summary/strong='Fastmail']")).await.unwrap();
        tpl.find(Locator::Css("summary")).await.unwrap().click().await.unwrap();
        tpl.find(Locator::Css("input[name='var.domain']")).await.unwrap().send_keys("browser.example").await.unwrap();
        let old = b.client.find(Locator::Css("html")).await.unwrap();
        tpl.find(Locator::Css("button")).await.unwrap().click().await.unwrap();
        b.wait_for_new_page(old).await;
        assert!(b.text(".preview").await.contains("in1-smtp.messagingengine.com"));
        b.check("template-preview").await;
        b.submit(".preview button.primary").await;
        assert!(b.text(".notice.good").await.contains("Template applied: 8 records added"));
        b.check("template-applied").await;

        // Sign the zone: the DS to give the registrar is the API's, the key is on the wire.
        b.click("#dnssec-algorithm option[value='ed25519']").await;
        b.submit("#dnssec form button").await;
        assert!(b.text(".notice.good").await.contains("The zone is signed"), "{}", b.body().await);
        b.check("dnssec-signed").await;
        let zone_id = zone_url.trim_start_matches("/zones/");
        let api = s.get(&format!("/api/v1/dns-zones/{zone_id}/dnssec"), &s.admin_token);
        assert_eq!(b.text("#dnssec code.ds").await, api.body["ds"][0].as_str().unwrap_or_default());
        let dnskey = dig(s.dns, &["browser.example", "DNSKEY"]);
        assert!(dnskey.data("DNSKEY").iter().any(|k| k.starts_with("257 3 15 ")), "{}", dnskey.raw);
        // The safe way out first: the parent is asked to drop its DS; still signed.
        assert!(b.text("#dnssec p.warning").await.contains("Remove the DS record at your registrar"));
        b.submit("#dnssec form[action$='disable'] button").await;
        assert_eq!(dig(s.dns, &["browser.example", "CDS"]).data("CDS"), ["0 0 0 00"]);
        b.check("dnssec-unsigning").await;

        // A token: shown once, works against the API, then revoked and refused.
        b.goto("/account/developers").await;
        b.fill("#f-name", "browser test").await;
        b.submit("form button.primary").await;
        let token = b.text("#new-token").await;
        b.check("token-created").await;
        let zones = s.get("/api/v1/dns-zones/", &token);
        assert_eq!((zones.status, zones.body[0]["domain"].as_str()), (200, Some("browser.example")));
        b.goto("/account/developers").await;
        assert!(!b.body().await.contains(&token), "shown only once");
        let old = b.client.find(Locator::Css("html")).await.unwrap();
        b.client
            .find(Locator::XPath("//tr[td[1]='browser test']//button[text()='Revoke']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.client.accept_alert().await.unwrap();
        b.wait_for_new_page(old).await;
        assert!(b.text("tr.revoked").await.contains("browser test"));
        b.check("token-revoked").await;
        s.get("/api/v1/dns-zones/", &token).error(401, "unauthorized");

        // The other pages render without errors.
        for (path, name) in [
            ("/history", "history"),
            (&format!("{zone_url}/history")[..], "zone-history"),
            ("/admin/users", "users"),
            ("/account", "account"),
            ("/api-reference", "api-reference"),
            ("/nowhere", "not-found"),
        ] {
            b.goto(path).await;
            b.check(name).await;
        }
        b.goto(&format!("{zone_url}/delete")).await;
        b.check("delete-zone").await;

        // Sign out.
        b.goto("/").await;
        b.submit(".who button").await;
        assert!(b.text("h1").await.contains("Sign in"));
        b.check("signed-out").await;
        b.client.close().await.unwrap();
    });
}
