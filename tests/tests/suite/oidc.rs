//! jijiao as an OpenID Connect provider for its training platforms (issue 6): the `openidconnect` crate
//! plays the platform (discovery, authorization code + PKCE, ID token verification, userinfo), and the
//! protocol's refusals are checked on the wire.

use jijiao::training::platforms::issue;
use jijiao_tests::{TestServer, both, json_of};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse,
};
use serde_json::Value;

const ISCHINESE_CB: &str = "http://hn.ischinese.cn/oidc/callback";
const WEBTRN_CB: &str = "https://hn.webtrn.cn/oidc/callback";

fn rp_http() -> reqwest::Client {
    // Never follow redirects from the provider (as openidconnect advises).
    jijiao_tests::client_builder().build().unwrap()
}

/// Follows the authorization URL with `browser` (a staff session) and returns the Location it is sent to.
async fn authorize(browser: &reqwest::Client, url: &str) -> (u16, Option<String>) {
    let res = browser.get(url).send().await.unwrap();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    (res.status().as_u16(), location)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A raw token request (client_secret_post), to see the error codes.
async fn exchange(s: &TestServer, client_id: &str, secret: &str, code: &str, verifier: &str, redirect_uri: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    json_of(s.client().post(s.url("hunan", "/oauth/token")).form(&form).send().await.unwrap()).await
}

async fn code_flow_with_openidconnect(s: TestServer) {
    let creds = issue(&s.db, "hunan", "ischinese", true, None).await.unwrap();
    let http = rp_http();
    let issuer = IssuerUrl::new(s.url("hunan", "")).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http).await.expect("discovery");
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new("ischinese".into()), Some(ClientSecret::new(creds.secret.clone())))
            .set_redirect_uri(RedirectUrl::new(ISCHINESE_CB.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("id_number".into()))
        .set_pkce_challenge(challenge)
        .url();

    // Not logged in: the login page, coming back here afterwards.
    let (status, location) = authorize(&s.client(), url.as_str()).await;
    assert_eq!(status, 303, "{location:?}");
    assert!(location.as_deref().unwrap().contains("/t/hunan/login?next="), "{location:?}");

    // A Henan staff session is no session in Hunan: also the login page, never a code.
    let henan = s.demo("henan", "staff", 101).await;
    let (_, location) = authorize(&henan, url.as_str()).await;
    assert!(!location.as_deref().unwrap_or_default().starts_with(ISCHINESE_CB), "{location:?}");

    let staff = s.demo("hunan", "staff", 101).await;
    // The portal shows the platforms as tiles (进入培训平台) linking to their sites.
    let home = staff.get(s.url("hunan", "/")).send().await.unwrap().text().await.unwrap();
    assert!(
        home.contains("进入培训平台") && home.contains("href=\"http:&#x2f;&#x2f;hn.ischinese.cn\"") && home.contains("4008434678"),
        "{home}"
    );
    let (status, location) = authorize(&staff, url.as_str()).await;
    assert!((300..400).contains(&status), "{status} {location:?}");
    let location = location.unwrap();
    assert!(location.starts_with(ISCHINESE_CB), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some(csrf.secret().as_str()));
    let code = query_param(&location, "code").expect("code");

    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = token.id_token().expect("id token");
    let claims = id_token.claims(&client.id_token_verifier(), &nonce).expect("a valid ID token");
    let sub = claims.subject().as_str().to_owned();
    assert!(!sub.is_empty());
    assert_eq!(
        claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()).as_deref(),
        Some(demo_name(&s, "hunan", &sub).await.as_str())
    );
    assert!(claims.auth_time().is_some());

    let info: CoreUserInfoClaims =
        client.user_info(token.access_token().clone(), None).unwrap().request_async(&http).await.expect("userinfo");
    assert_eq!(info.subject().as_str(), sub);
    let raw: Value =
        http.get(s.url("hunan", "/oauth/userinfo")).bearer_auth(token.access_token().secret()).send().await.unwrap().json().await.unwrap();
    assert_eq!(raw["id_number"], jijiao::demo::demo_id_number("hunan", 101), "{raw}");
    assert!(raw["unit"].as_str().is_some_and(|u| !u.is_empty()), "{raw}");

    // The code is used once.
    let (status, body) = exchange(&s, "ischinese", &creds.secret, &code, &"a".repeat(43), ISCHINESE_CB).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    // A fresh code with a wrong verifier, or with a wrong secret.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let code = query_param(&authorize(&staff, url.as_str()).await.1.unwrap(), "code").unwrap();
    let (status, body) = exchange(&s, "ischinese", "not-the-secret", &code, &"b".repeat(43), ISCHINESE_CB).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    let (status, body) = exchange(&s, "ischinese", &creds.secret, &code, &"b".repeat(43), ISCHINESE_CB).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let res = s
        .client()
        .post(s.url("hunan", "/oauth/token"))
        .basic_auth("ischinese", Some(&creds.secret))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")), "{body}");

    // An unregistered redirect URI: an error page, no redirect anywhere.
    let evil = url.as_str().replace(&urlencode(ISCHINESE_CB), &urlencode("https://evil.example/cb"));
    assert_ne!(evil, url.as_str());
    let (status, location) = authorize(&staff, &evil).await;
    assert_eq!((status, location), (400, None));

    // The userinfo of another tenant knows nothing of the token.
    let res = http.get(s.url("henan", "/oauth/userinfo")).bearer_auth(token.access_token().secret()).send().await.unwrap();
    assert_eq!(res.status(), 401);
    // The henan issuer has no such client.
    let res = staff.get(url.as_str().replace("/t/hunan/", "/t/henan/")).send().await.unwrap();
    assert_eq!(res.status(), 400);
}
both!(code_flow_with_openidconnect, code_flow_with_openidconnect);

async fn demo_name(s: &TestServer, tenant: &str, sub: &str) -> String {
    let (name,): (String,) = s
        .db
        .one(jijiao::db::q("SELECT name FROM accounts WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(sub.parse::<i64>().unwrap()))
        .await
        .unwrap();
    name
}

fn urlencode(s: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("v", s)]).unwrap().query().unwrap()[2..].to_owned()
}

async fn id_number_only_when_granted(s: TestServer) {
    let creds = issue(&s.db, "hunan", "webtrn", true, None).await.unwrap();
    let http = rp_http();
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(s.url("hunan", "")).unwrap(), &http).await.unwrap();
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new("webtrn".into()), Some(ClientSecret::new(creds.secret.clone())))
            .set_redirect_uri(RedirectUrl::new(WEBTRN_CB.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("id_number".into()))
        .set_pkce_challenge(challenge)
        .url();
    let staff = s.demo("hunan", "staff", 102).await;
    let code = query_param(&authorize(&staff, url.as_str()).await.1.unwrap(), "code").unwrap();
    let token = client.exchange_code(AuthorizationCode::new(code)).unwrap().set_pkce_verifier(verifier).request_async(&http).await.unwrap();
    token.id_token().unwrap().claims(&client.id_token_verifier(), &nonce).unwrap();
    assert_eq!(
        token.scopes().map(|s| s.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>()),
        Some(vec!["openid".into(), "profile".into()])
    );
    let raw: Value =
        http.get(s.url("hunan", "/oauth/userinfo")).bearer_auth(token.access_token().secret()).send().await.unwrap().json().await.unwrap();
    assert!(raw.get("id_number").is_none(), "{raw}");
    assert!(raw["name"].is_string(), "{raw}");

    // The JWK set publishes the RS256 key; after a rotation both keys.
    let jwks: Value = http.get(s.url("hunan", "/oauth/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "{jwks}");
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
    jijiao::keys::rsa::rotate(&s.db, "hunan", jijiao::keys::rsa::OIDC).await.unwrap();
    let jwks: Value = http.get(s.url("hunan", "/oauth/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    let henan: Value = http.get(s.url("henan", "/oauth/jwks")).send().await.unwrap().json().await.unwrap();
    assert!(henan["keys"].as_array().unwrap().iter().all(|k| !jwks["keys"].as_array().unwrap().contains(k)));
}
both!(id_number_only_when_granted, id_number_only_when_granted);
