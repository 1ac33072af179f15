//! Console sessions: an opaque id in an HttpOnly, SameSite=Strict cookie, a CSRF token per
//! session, idle expiry, and a brake on repeated failed sign-ins.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

use crate::domain::random_string;

pub const COOKIE: &str = "nsbox_session";
/// Before sign-in there is no session: the login form's CSRF token lives in its own cookie.
pub const LOGIN_COOKIE: &str = "nsbox_login";

#[derive(Clone)]
pub struct Session {
    pub user_id: String,
    pub csrf: String,
    last_seen: Instant,
}

pub struct Sessions {
    idle: Duration,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// Failed sign-ins from one address within this window count together.
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// After this many, the address is refused until the window passes.
const MAX_FAILURES: u32 = 10;

impl Sessions {
    pub fn new(idle: Duration) -> Self {
        Self { idle, sessions: Mutex::default(), failures: Mutex::default() }
    }

    /// Starts a session; returns its id.
    pub fn create(&self, user_id: &str) -> String {
        let id = random_string(40);
        let session = Session { user_id: user_id.to_string(), csrf: random_string(32), last_seen: Instant::now() };
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| s.last_seen.elapsed() < self.idle);
        sessions.insert(id.clone(), session);
        id
    }

    /// The live session of a request, touched; expired ones are forgotten.
    pub fn find(&self, req: &HttpRequest) -> Option<Session> {
        let id = req.cookie(COOKIE)?.value().to_string();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        match sessions.get_mut(&id) {
            Some(s) if s.last_seen.elapsed() < self.idle => {
                s.last_seen = Instant::now();
                Some(s.clone())
            }
            Some(_) => {
                sessions.remove(&id);
                None
            }
            None => None,
        }
    }

    pub fn end(&self, req: &HttpRequest) {
        if let Some(cookie) = req.cookie(COOKIE) {
            self.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(cookie.value());
        }
    }

    /// Ends every session of a user (disabled, deleted, password changed by an admin).
    pub fn end_user(&self, user_id: &str) {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, s| s.user_id != user_id);
    }

    /// How long to hold a sign-in attempt from `ip` back, or None if it is refused outright.
    pub fn sign_in_delay(&self, ip: IpAddr) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.get(&ip) {
            Some((since, count)) if since.elapsed() < FAILURE_WINDOW => {
                if *count >= MAX_FAILURES {
                    None
                } else {
                    Some(Duration::from_millis(250 * u64::from(*count)))
                }
            }
            _ => Some(Duration::ZERO),
        }
    }

    pub fn sign_in_failed(&self, ip: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = failures.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= FAILURE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }

    pub fn sign_in_succeeded(&self, ip: IpAddr) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&ip);
    }
}

/// Whether the browser reached us over HTTPS (directly or through a proxy that says so).
fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// A cookie as the console sets them: HttpOnly, SameSite=Strict, Secure over HTTPS.
pub fn cookie(req: &HttpRequest, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value).path("/").http_only(true).same_site(SameSite::Strict).secure(is_https(req)).finish()
}

pub fn removal(req: &HttpRequest, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(req, name, String::new());
    c.make_removal();
    c
}
