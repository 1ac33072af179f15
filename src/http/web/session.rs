//! Console sessions: an opaque id in an HttpOnly, SameSite=Strict cookie, a CSRF token per
//! session, idle expiry, and an end when the user's password changes. (Failed sign-ins are
//! limited by the service, which runs them.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

use crate::domain::auth::{User, credential_fingerprint};
use crate::domain::random_string;

pub const COOKIE: &str = "nsbox_session";
/// Before sign-in there is no session: the login form's CSRF token lives in its own cookie.
pub const LOGIN_COOKIE: &str = "nsbox_login";

#[derive(Clone)]
pub struct Session {
    pub user_id: String,
    pub csrf: String,
    /// The user's password hash as it was at sign-in (`credential_fingerprint`): the session
    /// ends when the password changes, whoever changed it and however.
    pub credential: [u8; 16],
    last_seen: Instant,
}

pub struct Sessions {
    idle: Duration,
    sessions: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(idle: Duration) -> Self {
        Self { idle, sessions: Mutex::default() }
    }

    /// Starts a session; returns its id.
    pub fn create(&self, user: &User) -> String {
        let id = random_string(40);
        let session = Session {
            user_id: user.id.clone(),
            csrf: random_string(32),
            credential: credential_fingerprint(&user.password_hash),
            last_seen: Instant::now(),
        };
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

    /// Keeps the request's session alive across its own user's password change.
    pub fn rebind(&self, req: &HttpRequest, user: &User) {
        if let Some(cookie) = req.cookie(COOKIE)
            && let Some(session) = self.sessions.lock().unwrap_or_else(|p| p.into_inner()).get_mut(cookie.value())
        {
            session.credential = credential_fingerprint(&user.password_hash);
        }
    }

    /// Ends every session of a user (disabled, deleted, password changed by an admin).
    pub fn end_user(&self, user_id: &str) {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, s| s.user_id != user_id);
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
