//! Uploads: type sniffing, size limits and the `blobs` row for each stored file; multipart forms
//! carrying files; and downloads.

use chrono::{Datelike, Utc};
use sha2::Digest;

use super::{ATTACHMENT_TYPES, BlobStore};
use crate::db::{Tx, q};
use crate::error::AppError;

/// Sniffs, stores and records an upload; returns the blob id. The row is written in `tx`, the bytes
/// before it: if the transaction rolls back, an unreferenced file is left for cleanup, never a row
/// without its file.
pub async fn store_upload(
    blobs: &dyn BlobStore,
    tx: &mut Tx,
    tenant: &str,
    filename: &str,
    bytes: Vec<u8>,
    allowed: &[(&str, &str)],
    limit_mb: u64,
) -> Result<i64, AppError> {
    if bytes.is_empty() {
        return Err(AppError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "empty_file", "上传的文件是空的"));
    }
    if bytes.len() as u64 > limit_mb * 1024 * 1024 {
        return Err(AppError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("文件不能超过 {limit_mb} MB")));
    }
    let content_type = infer::get(&bytes).map(|t| t.mime_type()).unwrap_or("application/octet-stream");
    if !allowed.iter().any(|(mime, _)| *mime == content_type) {
        let names: Vec<&str> = allowed.iter().map(|(_, name)| *name).collect();
        return Err(AppError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "bad_file_type",
            format!("文件类型不受支持，请上传 {} 文件", names.join("、")),
        ));
    }
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let now = Utc::now();
    let (token, _) = crate::auth::password::new_token();
    let key = format!("{tenant}/{}/{:02}/{token}", now.year(), now.month());
    let size = bytes.len() as i64;
    blobs.put(&key, bytes, content_type).await?;
    let name: String = filename.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(200).collect();
    let id = tx
        .scalar(
            q("INSERT INTO blobs (tenant_id, storage_key, filename, content_type, size, sha256, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(tenant)
            .bind(key)
            .bind(if name.is_empty() { "file".to_owned() } else { name })
            .bind(content_type)
            .bind(size)
            .bind(sha)
            .bind(now),
        )
        .await?;
    Ok(id)
}

/// One uploaded file from a multipart form: the `file` part, an optional `field` (which form field it
/// belongs to) and, from pages, the CSRF token (checked by the caller).
pub struct FormUpload {
    pub field: Option<String>,
    pub filename: String,
    pub bytes: Vec<u8>,
    pub csrf: Option<String>,
}

/// A file part of a multipart form: its name (`default` when the browser sent none) and bytes; a body
/// over the server's limit is 413.
pub async fn read_file_part(part: axum::extract::multipart::Field<'_>, default: &str) -> Result<(String, Vec<u8>), AppError> {
    let name = part.file_name().unwrap_or(default).to_owned();
    let bytes = part.bytes().await.map_err(|e| {
        if e.body_text().contains("length limit") {
            AppError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "too_large", "文件过大")
        } else {
            AppError::bad_request("bad_form", "上传内容无法读取")
        }
    })?;
    Ok((name, bytes.to_vec()))
}

/// A file as uploaded: its name and bytes.
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A multipart form of text fields and one optional file: the fields by name (as JSON strings), the
/// file sent under `file_field` (an empty one counts as none), and the CSRF token if any.
pub struct MultipartForm {
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub file: Option<Upload>,
    pub csrf: Option<String>,
}

impl MultipartForm {
    /// A text field as sent, or empty when it is missing.
    pub fn text(&self, key: &str) -> String {
        self.fields.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned()
    }
}

pub async fn read_multipart_form(mut multipart: axum::extract::Multipart, file_field: &str) -> Result<MultipartForm, AppError> {
    let bad = |_| AppError::bad_request("bad_form", "表单内容无法读取");
    let mut form = MultipartForm { fields: serde_json::Map::new(), file: None, csrf: None };
    while let Some(part) = multipart.next_field().await.map_err(bad)? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == file_field {
            let (filename, bytes) = read_file_part(part, file_field).await?;
            if !bytes.is_empty() {
                form.file = Some(Upload { filename, bytes });
            }
            continue;
        }
        let text = part.text().await.map_err(bad)?;
        if name == crate::auth::csrf::FIELD {
            form.csrf = Some(text);
        } else {
            form.fields.insert(name, serde_json::Value::String(text));
        }
    }
    Ok(form)
}

/// Reads a [`FormUpload`]; a missing file is a field error, a body over the server's limit is 413.
pub async fn read_form_upload(mut multipart: axum::extract::Multipart) -> Result<FormUpload, AppError> {
    let bad = |_| AppError::bad_request("bad_form", "上传内容无法读取");
    let (mut field, mut file, mut csrf) = (None, None, None);
    while let Some(part) = multipart.next_field().await.map_err(bad)? {
        match part.name().unwrap_or_default() {
            "file" => file = Some(read_file_part(part, "file").await?),
            "field" => field = Some(part.text().await.map_err(bad)?),
            crate::auth::csrf::FIELD => csrf = Some(part.text().await.map_err(bad)?),
            _ => {}
        }
    }
    let Some((filename, bytes)) = file else {
        return Err(AppError::invalid([("file".to_owned(), "请选择要上传的文件".to_owned())].into()));
    };
    Ok(FormUpload { field, filename, bytes, csrf })
}

/// Stores a proof attachment (documents and images, the configured size limit) in `tx`; returns the blob id.
pub async fn store_attachment(
    state: &crate::state::AppState,
    tx: &mut Tx,
    tenant: &str,
    filename: &str,
    bytes: Vec<u8>,
) -> Result<i64, AppError> {
    store_upload(&*state.blobs, tx, tenant, filename, bytes, ATTACHMENT_TYPES, state.config.upload_limit_mb).await
}

/// A stored blob as a download (`Content-Disposition: attachment`, the original file name). The caller
/// has checked that the requester may see it.
pub async fn download(state: &crate::state::AppState, tenant: &str, blob_id: i64) -> Result<axum::response::Response, AppError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let blob: Option<(String, String, String)> = state
        .db
        .opt(q("SELECT storage_key, filename, content_type FROM blobs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(blob_id))
        .await?;
    let Some((key, filename, content_type)) = blob else { return Err(AppError::not_found()) };
    let bytes = state.blobs.get(&key).await?;
    let disposition = format!("attachment; filename*=UTF-8''{}", urlencoding::encode(&filename));
    Ok(([(header::CONTENT_TYPE, content_type), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}
