//! The web app served from `HERALD_UI_DIR`: files, the index.html fallback
//! for client routes, cache headers, the API paths it must not shadow, and
//! the page shown when the app is not built.

mod common;

use std::path::{Path, PathBuf};

use common::{Engine, TestApp};
use serde_json::json;

const INDEX: &str = "<!doctype html><title>Herald</title><div id=\"root\"></div>";
const SCRIPT: &str = "console.log('app');";

/// A directory of its own under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        use rand::Rng;
        let n: u64 = rand::rng().random();
        let dir = std::env::temp_dir().join(format!("herald-spa-{n:016x}"));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A built app like Vite's: index.html and hashed files under assets/.
fn built_app(root: &Path) -> PathBuf {
    let dist = root.join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("index.html"), INDEX).unwrap();
    std::fs::write(dist.join("assets/index-Bx9f3kQ1.js"), SCRIPT).unwrap();
    std::fs::write(dist.join("assets/index-C2a8d7.css"), "body{}").unwrap();
    std::fs::write(dist.join("robots.txt"), "User-agent: *\n").unwrap();
    // Next to the app, not in it: must never be served.
    std::fs::write(root.join("secret.txt"), "not for the web").unwrap();
    dist
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http.get(format!("{}{path}", app.base)).send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_app_with_fallback_and_cache_headers() {
    let root = TempDir::new();
    let dist = built_app(root.path());
    let app = TestApp::spawn_with(Engine::Sqlite, |c| c.ui_dir = dist.clone()).await;

    // The entry page: HTML, revalidated on every load, with the security headers.
    let index = get(&app, "/").await;
    assert_eq!(index.status(), 200);
    assert_eq!(header(&index, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&index, "cache-control"), "no-cache");
    assert!(header(&index, "content-security-policy").contains("default-src 'self'"));
    assert_eq!(index.text().await.unwrap(), INDEX);

    // Client routes get index.html, so a reload on them works.
    for route in ["/products/7", "/notifications/42", "/admin/settings", "/login"] {
        let page = get(&app, route).await;
        assert_eq!(page.status(), 200, "{route}");
        assert_eq!(header(&page, "cache-control"), "no-cache", "{route}");
        assert_eq!(page.text().await.unwrap(), INDEX, "{route}");
    }
    let with_query = get(&app, "/?type=TASK&unviewed=0").await;
    assert_eq!(with_query.text().await.unwrap(), INDEX);

    // Hashed assets: long-cached, with their type.
    let script = get(&app, "/assets/index-Bx9f3kQ1.js").await;
    assert_eq!(script.status(), 200);
    assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&script, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(script.text().await.unwrap(), SCRIPT);
    let style = get(&app, "/assets/index-C2a8d7.css").await;
    assert_eq!(header(&style, "content-type"), "text/css; charset=utf-8");

    // Other files are served but revalidated.
    let robots = get(&app, "/robots.txt").await;
    assert_eq!(robots.status(), 200);
    assert_eq!(header(&robots, "cache-control"), "no-cache");

    // A missing file is a 404, not the app.
    assert_eq!(get(&app, "/assets/index-gone.js").await.status(), 404);
    assert_eq!(get(&app, "/favicon.ico").await.status(), 404);
    // Nothing outside the directory, nothing hidden.
    assert_eq!(get(&app, "/%2e%2e/secret.txt").await.status(), 404);
    assert_eq!(get(&app, "/..%2fsecret.txt").await.status(), 404);
    assert_eq!(get(&app, "/.env").await.status(), 404);
    // Only GET and HEAD.
    let post = app.http.post(format!("{}/products", app.base)).send().await.unwrap();
    assert_eq!(post.status(), 404);
    let head = app.http.head(format!("{}/products/7", app.base)).send().await.unwrap();
    assert_eq!(head.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_paths_are_not_shadowed() {
    let root = TempDir::new();
    let dist = built_app(root.path());
    let app = TestApp::spawn_with(Engine::Sqlite, |c| c.ui_dir = dist.clone()).await;

    let data = app.ok(&app.admin_token, "{ me { username } }", json!({})).await;
    assert_eq!(data["me"]["username"], "admin");

    let graphiql = get(&app, "/graphql").await;
    assert_eq!(graphiql.status(), 200);
    assert!(graphiql.text().await.unwrap().contains("GraphiQL"));

    let healthz = get(&app, "/healthz").await;
    assert_eq!(healthz.status(), 200);
    assert_ne!(healthz.text().await.unwrap(), INDEX);
    let readyz = get(&app, "/readyz").await;
    assert_eq!(readyz.status(), 200);
    assert_ne!(readyz.text().await.unwrap(), INDEX);
    let metrics = get(&app, "/metrics").await;
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("# TYPE"));

    // A plain GET on the websocket path is the websocket handler's (no
    // upgrade: an error), never the app.
    let ws = get(&app, "/graphql/ws").await;
    assert_ne!(ws.status(), 200);
    assert_ne!(ws.text().await.unwrap(), INDEX);

    // Below the API's paths there is no app either.
    for path in ["/graphql/other", "/healthz/x", "/metrics/x"] {
        let response = get(&app, path).await;
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_built_app_the_root_says_how_to_build_it() {
    let root = TempDir::new();
    let missing = root.path().join("no-dist-here");
    let app = TestApp::spawn_with(Engine::Sqlite, |c| c.ui_dir = missing.clone()).await;

    for path in ["/", "/products/3"] {
        let page = get(&app, path).await;
        assert_eq!(page.status(), 503, "{path}");
        assert_eq!(header(&page, "content-type"), "text/plain; charset=utf-8");
        let text = page.text().await.unwrap();
        assert!(text.contains("not built"), "{text}");
        assert!(text.contains("npm run build"), "{text}");
    }
    // The API is unaffected.
    assert_eq!(get(&app, "/healthz").await.status(), 200);
    let data = app.ok(&app.admin_token, "{ me { username } }", json!({})).await;
    assert_eq!(data["me"]["username"], "admin");
}
