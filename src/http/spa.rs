//! The web app (`frontend/`, built by Vite) served from a directory
//! (`HERALD_UI_DIR`, default `frontend/dist`).
//!
//! It is the router's fallback, so `/graphql`, `/graphql/ws`, `/healthz`,
//! `/readyz` and `/metrics` always win. A file that exists is served; a
//! client route (a path whose last segment has no extension) gets
//! `index.html`, so a reload on `/products/7` works. Vite's hashed files
//! under `/assets/` are cached for a year; everything else, `index.html`
//! first, is revalidated on every load so a new build is picked up at once.
//! Without a built app, `/` says how to build it.

use std::path::Path;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

const NOT_BUILT: &str = "Herald is running, but its web app is not built.\n\n\
Build it with:\n\n    cd frontend && npm ci && npm run build\n\n\
(./scripts/run does this for you), or point HERALD_UI_DIR at a built copy.\n\
The GraphQL API is at /graphql.\n";

/// The router's fallback: the app from `HERALD_UI_DIR`.
pub(super) async fn fallback(State(state): State<HttpState>, method: Method, uri: Uri) -> Response {
    serve(&state.app.config.ui_dir, &method, uri.path()).await
}

async fn serve(dir: &Path, method: &Method, path: &str) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(segments) = safe_segments(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Below the API's own paths nothing belongs to the app.
    if matches!(
        segments.first().map(String::as_str),
        Some("graphql" | "healthz" | "readyz" | "metrics")
    ) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !segments.is_empty() {
        let file = segments.iter().fold(dir.to_path_buf(), |p, s| p.join(s));
        if let Some(bytes) = read_file(&file).await {
            let hashed = segments.len() > 1 && segments[0] == "assets";
            return file_response(&file, bytes, if hashed { IMMUTABLE } else { REVALIDATE });
        }
        // A missing file (it has an extension) is not a client route.
        if segments.last().is_some_and(|s| s.contains('.')) {
            return StatusCode::NOT_FOUND.into_response();
        }
    }
    let index = dir.join("index.html");
    match read_file(&index).await {
        Some(bytes) => file_response(&index, bytes, REVALIDATE),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, REVALIDATE),
            ],
            NOT_BUILT,
        )
            .into_response(),
    }
}

/// The path's segments, or `None` when one of them could leave the
/// directory or name a hidden file. Percent escapes are not decoded, so
/// `%2e%2e` is a file name like any other (and does not exist).
fn safe_segments(path: &str) -> Option<Vec<String>> {
    let mut segments = Vec::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') || segment.contains('\\') || segment.contains('\0') || segment.contains(':') {
            return None;
        }
        segments.push(segment.to_owned());
    }
    Some(segments)
}

async fn read_file(path: &Path) -> Option<Vec<u8>> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    if !meta.is_file() {
        return None;
    }
    tokio::fs::read(path).await.ok()
}

fn file_response(path: &Path, bytes: Vec<u8>, cache: &'static str) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_that_could_escape_are_refused() {
        assert_eq!(safe_segments("/"), Some(vec![]));
        assert_eq!(safe_segments("/assets/app.js").unwrap(), vec!["assets", "app.js"]);
        assert!(safe_segments("/../etc/passwd").is_none());
        assert!(safe_segments("/assets/..").is_none());
        assert!(safe_segments("/.env").is_none());
        assert!(safe_segments("/a\\b").is_none());
        assert!(safe_segments("/c:/x").is_none());
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(Path::new("a/index.html")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("x.JS")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("x.bin")), "application/octet-stream");
    }
}
