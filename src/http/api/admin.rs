//! The native admin API: users (admins only) and API tokens (one's own; admins: anyone's).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiResult, Dialect, blocking, parse_json};
use crate::domain::ValidationError;
use crate::domain::auth::{Scope, Token, TokenStyle, User};
use crate::domain::iso8601;
use crate::domain::tsig::{TsigAlgorithm, TsigKey};
use crate::http::auth::Caller;
use crate::service::{NewToken, Service, UserChange};

fn user_view(u: &User) -> Value {
    json!({"id": u.id, "username": u.username, "admin": u.admin, "disabled": u.disabled, "created_at": iso8601(u.created_at)})
}

fn token_view(t: &Token) -> Value {
    json!({
        "id": t.id,
        "name": t.label,
        "prefix": t.display_prefix(),
        "style": t.style,
        "user_id": t.user_id,
        "scopes": t.scopes,
        "zones": t.zones,
        "created_at": iso8601(t.created_at),
        "last_used_at": t.last_used_at.map(iso8601),
        "revoked": t.revoked,
    })
}

/// Who the token belongs to and what it may do; answered from memory, so it also measures the
/// cost of the token check itself.
pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "username": caller.username,
        "admin": caller.admin,
        "token": caller.via,
        "scopes": caller.scopes,
        "zones": caller.zones,
    }))
}

pub async fn list_users(svc: web::Data<Service>, caller: Caller) -> ApiResult {
    let users = blocking(move || svc.list_users(&caller)).await?;
    Ok(HttpResponse::Ok().json(json!({"users": users.iter().map(user_view).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
struct NewUser {
    username: Option<String>,
    password: Option<String>,
    #[serde(default)]
    admin: bool,
}

/// Creates a user; a generated password is returned once.
pub async fn create_user(svc: web::Data<Service>, caller: Caller, body: web::Bytes) -> ApiResult {
    let NewUser { username, password, admin } = parse_json(&body, Dialect::Vps)?;
    let username = username.ok_or_else(|| ValidationError::new("username", "The field 'username' is required"))?;
    let generated = password.is_none();
    let (user, password) = blocking(move || svc.create_user(&caller, &username, password, admin)).await?;
    let mut view = user_view(&user);
    if generated {
        view["password"] = json!(password);
    }
    Ok(HttpResponse::Created().json(view))
}

pub async fn get_user(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let users = blocking(move || svc.list_users(&caller)).await?;
    let user = users.iter().find(|u| u.id == *path).ok_or(crate::service::Error::NotFound("User"))?;
    Ok(HttpResponse::Ok().json(user_view(user)))
}

#[derive(Deserialize)]
struct UserPatch {
    admin: Option<bool>,
    disabled: Option<bool>,
    password: Option<String>,
}

pub async fn update_user(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let UserPatch { admin, disabled, password } = parse_json(&body, Dialect::Vps)?;
    let change = UserChange { admin, disabled, password };
    let user = blocking(move || svc.update_user(&caller, &path, change)).await?;
    Ok(HttpResponse::Ok().json(user_view(&user)))
}

pub async fn delete_user(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    blocking(move || svc.delete_user(&caller, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    all: bool,
}

pub async fn list_tokens(svc: web::Data<Service>, caller: Caller, query: web::Query<TokenQuery>) -> ApiResult {
    let tokens = blocking(move || svc.list_tokens(&caller, query.all)).await?;
    Ok(HttpResponse::Ok().json(json!({"tokens": tokens.iter().map(token_view).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
struct NewTokenBody {
    name: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    zones: Vec<String>,
    style: Option<String>,
    user_id: Option<String>,
}

/// Creates a token; the token string is in this answer and never again.
pub async fn create_token(svc: web::Data<Service>, caller: Caller, body: web::Bytes) -> ApiResult {
    let b: NewTokenBody = parse_json(&body, Dialect::Vps)?;
    let new = NewToken {
        label: b.name.unwrap_or_default(),
        style: b.style.as_deref().map(str::parse).transpose()?.unwrap_or(TokenStyle::Vps),
        scopes: b.scopes.iter().map(|s| s.parse::<Scope>()).collect::<Result<_, _>>()?,
        zones: b.zones,
        user_id: b.user_id,
    };
    let (token, secret) = blocking(move || svc.create_token(&caller, new)).await?;
    let mut view = token_view(&token);
    view["token"] = json!(secret);
    Ok(HttpResponse::Created().json(view))
}

pub async fn revoke_token(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    blocking(move || svc.revoke_token(&caller, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn tsig_view(k: &TsigKey) -> Value {
    json!({"name": k.name, "algorithm": k.algorithm, "zones": k.zones, "names": k.names, "types": k.types, "created_at": iso8601(k.created_at)})
}

pub async fn list_tsig_keys(svc: web::Data<Service>, caller: Caller) -> ApiResult {
    let keys = blocking(move || svc.list_tsig_keys(&caller)).await?;
    Ok(HttpResponse::Ok().json(json!({"tsig_keys": keys.iter().map(tsig_view).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
struct NewTsigKey {
    name: Option<String>,
    algorithm: Option<String>,
    #[serde(default)]
    zones: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    types: Vec<String>,
}

/// Creates a TSIG key; the secret is in this answer (base64, as BIND writes it).
pub async fn create_tsig_key(svc: web::Data<Service>, caller: Caller, body: web::Bytes) -> ApiResult {
    let b: NewTsigKey = parse_json(&body, Dialect::Vps)?;
    let name = b.name.ok_or_else(|| ValidationError::new("name", "The field 'name' is required"))?;
    let algorithm = b.algorithm.as_deref().unwrap_or("hmac-sha256").parse::<TsigAlgorithm>()?;
    let key =
        blocking(move || svc.create_tsig_key_with_policy(&caller, &name, algorithm, &b.zones, &b.names, &b.types))
            .await?;
    let mut view = tsig_view(&key);
    view["secret"] = json!(key.secret);
    Ok(HttpResponse::Created().json(view))
}

pub async fn delete_tsig_key(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    blocking(move || svc.delete_tsig_key(&caller, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A consistent copy of the data file, taken while the server runs (admins only).
pub async fn backup(svc: web::Data<Service>, caller: Caller) -> ApiResult {
    let bytes = blocking(move || {
        let out = std::env::temp_dir().join(format!("nsbox-backup-{}.redb", crate::domain::random_string(12)));
        let result = svc.backup(&caller, &out).and_then(|()| {
            std::fs::read(&out)
                .map_err(|e| crate::service::Error::Storage(crate::store::StoreError::Corrupt(e.to_string())))
        });
        let _ = std::fs::remove_file(&out);
        result
    })
    .await?;
    let name = format!("nsbox-{}.redb", iso8601(crate::domain::now()).replace(':', ""));
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}
