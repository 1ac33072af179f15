//! The native admin API: users (admins only) and API tokens (one's own; admins: anyone's).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{ApiResult, Dialect, Errors, blocking, parse_json};
use crate::domain::ValidationError;
use crate::domain::auth::{Scope, Token, TokenStyle, User};
use crate::domain::iso8601;
use crate::domain::tsig::{TsigAlgorithm, TsigKey};
use crate::http::auth::Caller;
use crate::service::{NewToken, Service, UserChange};

/// `{id}` of a user's paths.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Only described: the handlers take the id as a plain path segment.
struct UserPath {
    /// The user id (usr_…).
    id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    id: String,
    username: String,
    admin: bool,
    disabled: bool,
    created_at: String,
    /// Only in the answer that created the user, when the password was generated.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

fn user_view(u: &User) -> UserView {
    UserView {
        id: u.id.clone(),
        username: u.username.clone(),
        admin: u.admin,
        disabled: u.disabled,
        created_at: iso8601(u.created_at),
        password: None,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    users: Vec<UserView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    id: String,
    name: String,
    /// The token's first characters, to recognise it by; never the secret.
    prefix: String,
    style: TokenStyle,
    user_id: String,
    scopes: Vec<Scope>,
    /// Domains the token is limited to; empty: all of the user's zones.
    zones: Vec<String>,
    /// Names whose records alone the token may change; empty: any.
    names: Vec<String>,
    created_at: String,
    last_used_at: Option<String>,
    revoked: bool,
    /// The token itself: only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

fn token_view(t: &Token) -> TokenView {
    TokenView {
        id: t.id.clone(),
        name: t.label.clone(),
        prefix: t.display_prefix(),
        style: t.style,
        user_id: t.user_id.clone(),
        scopes: t.scopes.clone(),
        zones: t.zones.clone(),
        names: t.names.clone(),
        created_at: iso8601(t.created_at),
        last_used_at: t.last_used_at.map(iso8601),
        revoked: t.revoked,
        token: None,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    tokens: Vec<TokenView>,
}

/// The caller as the API sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me<'a> {
    /// The user's id (usr_…), for changing one's own password.
    id: &'a str,
    username: &'a str,
    /// Whether this token may administer the server (an admin user's token with the admin
    /// scope and no zone limit).
    admin: bool,
    /// The token's id (tok_…).
    token: &'a str,
    /// Absent: every scope.
    scopes: &'a Option<Vec<Scope>>,
    zones: &'a [String],
}

/// Who the token belongs to and what it may do; answered from memory, so it also measures the
/// cost of the token check itself.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "Admin", summary = "Who the token belongs to and what it may do",
    responses((status = 200, description = "The caller", body = Me), Errors)
)]
pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        id: &caller.user_id,
        username: &caller.username,
        admin: caller.admin,
        token: &caller.via,
        scopes: &caller.scopes,
        zones: &caller.zones,
    })
}

#[utoipa::path(
    get, path = "/api/v1/users", tag = "Admin", summary = "Users (admins only)",
    responses((status = 200, description = "The users", body = UserList), Errors)
)]
pub async fn list_users(svc: web::Data<Service>, caller: Caller) -> ApiResult {
    let users = blocking(move || svc.list_users(&caller)).await?;
    Ok(HttpResponse::Ok().json(UserList { users: users.iter().map(user_view).collect() }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"username": "alice", "admin": false}))]
struct NewUser {
    /// 1–32 of a–z, 0–9, `.`, `_`, `-`.
    username: Option<String>,
    password: Option<String>,
    #[serde(default)]
    admin: bool,
}

/// Creates a user; a generated password is returned once.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "Admin", summary = "Create a user (admins only)",
    description = "Without `password`, one is generated and returned in this answer only.", request_body = NewUser,
    responses((status = 201, description = "The new user", body = UserView), Errors)
)]
pub async fn create_user(svc: web::Data<Service>, caller: Caller, body: web::Bytes) -> ApiResult {
    let NewUser { username, password, admin } = parse_json(&body, Dialect::Vps)?;
    let username = username.ok_or_else(|| ValidationError::new("username", "The field 'username' is required"))?;
    let generated = password.is_none();
    let (user, password) = blocking(move || svc.create_user(&caller, &username, password, admin)).await?;
    let view = UserView { password: generated.then_some(password), ..user_view(&user) };
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "Admin", summary = "One user (admins only)",
    params(UserPath),
    responses((status = 200, description = "The user", body = UserView), Errors)
)]
pub async fn get_user(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let users = blocking(move || svc.list_users(&caller)).await?;
    let user = users.iter().find(|u| u.id == *path).ok_or(crate::service::Error::NotFound("User"))?;
    Ok(HttpResponse::Ok().json(user_view(user)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"disabled": true}))]
struct UserPatch {
    admin: Option<bool>,
    disabled: Option<bool>,
    password: Option<String>,
    /// Required with `password` when the user changes their own.
    current_password: Option<String>,
}

#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "Admin",
    summary = "Change a user (admins only; anyone may change their own password with `current_password`)",
    params(UserPath), request_body = UserPatch,
    responses((status = 200, description = "The user", body = UserView), Errors)
)]
pub async fn update_user(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let UserPatch { admin, disabled, password, current_password } = parse_json(&body, Dialect::Vps)?;
    let change = UserChange { admin, disabled, password, current_password };
    let user = blocking(move || svc.update_user(&caller, &path, change)).await?;
    Ok(HttpResponse::Ok().json(user_view(&user)))
}

#[utoipa::path(
    delete, path = "/api/v1/users/{id}", tag = "Admin", summary = "Delete a user, their zones and tokens (admins only)",
    params(UserPath),
    responses((status = 204, description = "Deleted"), Errors)
)]
pub async fn delete_user(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    blocking(move || svc.delete_user(&caller, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Admins: every user's tokens, not only their own.
    #[serde(default)]
    all: bool,
}

#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "Admin", summary = "API tokens (one's own; admins: `?all=true` for everyone's)",
    params(TokenQuery),
    responses((status = 200, description = "The tokens, never their secrets", body = TokenList), Errors)
)]
pub async fn list_tokens(svc: web::Data<Service>, caller: Caller, query: web::Query<TokenQuery>) -> ApiResult {
    let tokens = blocking(move || svc.list_tokens(&caller, query.all)).await?;
    Ok(HttpResponse::Ok().json(TokenList { tokens: tokens.iter().map(token_view).collect() }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "certbot", "scopes": ["dns:read", "dns:create", "dns:delete"], "zones": ["example.com"], "style": "vps"}))]
struct NewTokenBody {
    name: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    zones: Vec<String>,
    /// Names whose records alone the token may change (absolute, `*.` for any below): a
    /// dynamic-DNS token. Empty: any.
    #[serde(default)]
    names: Vec<String>,
    style: Option<String>,
    user_id: Option<String>,
}

/// Creates a token; the token string is in this answer and never again.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "Admin", summary = "Create an API token",
    description = "The token is in this answer and never again. No scopes: every `dns:*` scope. Admins may create one for another user with `user_id`.",
    request_body = NewTokenBody,
    responses((status = 201, description = "The new token, with its secret", body = TokenView), Errors)
)]
pub async fn create_token(svc: web::Data<Service>, caller: Caller, body: web::Bytes) -> ApiResult {
    let b: NewTokenBody = parse_json(&body, Dialect::Vps)?;
    let new = NewToken {
        label: b.name.unwrap_or_default(),
        style: b.style.as_deref().map(str::parse).transpose()?.unwrap_or(TokenStyle::Vps),
        scopes: b.scopes.iter().map(|s| s.parse::<Scope>()).collect::<Result<_, _>>()?,
        zones: b.zones,
        names: b.names,
        user_id: b.user_id,
    };
    let (token, secret) = blocking(move || svc.create_token(&caller, new)).await?;
    Ok(HttpResponse::Created().json(TokenView { token: Some(secret), ..token_view(&token) }))
}

#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "Admin", summary = "Revoke an API token",
    params(("id" = String, Path, description = "The token id (tok_…)")),
    responses((status = 204, description = "Revoked"), Errors)
)]
pub async fn revoke_token(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    blocking(move || svc.revoke_token(&caller, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TsigKeyView {
    name: String,
    algorithm: TsigAlgorithm,
    zones: Vec<String>,
    names: Vec<String>,
    #[schema(value_type = Vec<String>)]
    types: Vec<crate::domain::record::RecordType>,
    created_at: String,
    /// Base64, as BIND writes it: only in the answer that created the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn tsig_view(k: &TsigKey) -> TsigKeyView {
    TsigKeyView {
        name: k.name.clone(),
        algorithm: k.algorithm,
        zones: k.zones.clone(),
        names: k.names.clone(),
        types: k.types.clone(),
        created_at: iso8601(k.created_at),
        secret: None,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TsigKeyList {
    tsig_keys: Vec<TsigKeyView>,
}

#[utoipa::path(
    get, path = "/api/v1/tsig-keys", tag = "Admin", summary = "TSIG keys for transfers and dynamic updates (admins only)",
    responses((status = 200, description = "The keys, without secrets", body = TsigKeyList), Errors)
)]
pub async fn list_tsig_keys(svc: web::Data<Service>, caller: Caller) -> ApiResult {
    let keys = blocking(move || svc.list_tsig_keys(&caller)).await?;
    Ok(HttpResponse::Ok().json(TsigKeyList { tsig_keys: keys.iter().map(tsig_view).collect() }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "acme.example.com", "algorithm": "hmac-sha256", "zones": ["example.com"], "names": ["_acme-challenge.example.com"], "types": ["TXT"]}))]
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
#[utoipa::path(
    post, path = "/api/v1/tsig-keys", tag = "Admin", summary = "Create a TSIG key (admins only)",
    description = "`zones`, `names` and `types` limit what the key may transfer and update; empty lists allow all.",
    request_body = NewTsigKey,
    responses((status = 201, description = "The new key, with its secret", body = TsigKeyView), Errors)
)]
pub async fn create_tsig_key(svc: web::Data<Service>, caller: Caller, body: web::Bytes) -> ApiResult {
    let b: NewTsigKey = parse_json(&body, Dialect::Vps)?;
    let name = b.name.ok_or_else(|| ValidationError::new("name", "The field 'name' is required"))?;
    let algorithm = b.algorithm.as_deref().unwrap_or("hmac-sha256").parse::<TsigAlgorithm>()?;
    let key =
        blocking(move || svc.create_tsig_key_with_policy(&caller, &name, algorithm, &b.zones, &b.names, &b.types))
            .await?;
    Ok(HttpResponse::Created().json(TsigKeyView { secret: Some(key.secret.clone()), ..tsig_view(&key) }))
}

#[utoipa::path(
    delete, path = "/api/v1/tsig-keys/{name}", tag = "Admin", summary = "Delete a TSIG key (admins only)",
    params(("name" = String, Path, description = "The key's name")),
    responses((status = 204, description = "Deleted"), Errors)
)]
pub async fn delete_tsig_key(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    blocking(move || svc.delete_tsig_key(&caller, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A consistent copy of the data file, taken while the server runs (admins only).
#[utoipa::path(
    get, path = "/api/v1/backup", tag = "Admin", summary = "A consistent copy of the data file (admins only)",
    responses((status = 200, description = "The redb file", body = Vec<u8>, content_type = "application/octet-stream"), Errors)
)]
pub async fn backup(svc: web::Data<Service>, caller: Caller) -> ApiResult {
    let bytes = blocking(move || svc.backup(&caller)).await?;
    Ok(backup_download(bytes))
}

/// A backup as a file download named after the moment it was taken (API and console).
pub fn backup_download(bytes: Vec<u8>) -> HttpResponse {
    let name = format!("nsbox-{}.redb", iso8601(crate::domain::now()).replace(':', ""));
    HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .body(bytes)
}
