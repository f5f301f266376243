//! An upload as it arrives: a `multipart/form-data` body read within its own limits (a declared
//! length over the maximum is a 413 before a byte is read; the rest is counted as it comes), then
//! taken apart into the file and its text fields. Unknown or repeated fields are refused.

use actix_web::HttpRequest;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;

use crate::error::ApiError;
use crate::http::body;
use crate::http::state::{AppState, UPLOAD_FORM_OVERHEAD};

/// Longest file name kept for display, in characters.
const MAX_FILENAME_CHARS: usize = 200;
/// The text fields' limit inside the form (their own limits, in characters, are checked after).
const MAX_TEXT_FIELD_BYTES: u64 = 16 * 1024;

/// The form's fields.
pub struct UploadForm {
    pub file: Bytes,
    /// The file name as sent, without its path or control characters; `None` when it had none.
    pub filename: Option<String>,
    pub alt: Option<String>,
    pub caption: Option<String>,
    /// The body as read, holding its share of the uploads' memory budget until the file has been
    /// processed and dropped.
    pub body: body::Body,
}

/// Reads and parses the upload form of `req`.
pub async fn read_form(req: &HttpRequest, payload: &mut Payload, state: &AppState) -> Result<UploadForm, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let not_multipart = || {
        ApiError::UnsupportedMediaType(
            "send the image as multipart/form-data, with the file in a part named `file`".into(),
        )
    };
    if !content_type.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(not_multipart());
    }
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ApiError::BadRequest("the multipart/form-data Content-Type has no boundary".into()))?;
    let max_file = state.config.media.max_bytes;
    let too_large = || ApiError::PayloadTooLarge(format!("the file is larger than the {max_file} bytes allowed"));
    let limits = &state.media.upload_limits;
    let client = crate::http::extract::client_address(req, limits.trust_proxy);
    let body = body::read(req, payload, limits, &client).await.map_err(|error| match error {
        ApiError::PayloadTooLarge(_) => too_large(),
        other => other,
    })?;
    let constraints = multer::Constraints::new().allowed_fields(vec!["file", "alt", "caption"]).size_limit(
        multer::SizeLimit::new()
            .whole_stream((max_file + UPLOAD_FORM_OVERHEAD) as u64)
            .per_field(MAX_TEXT_FIELD_BYTES)
            .for_field("file", max_file as u64),
    );
    let bytes = body.bytes.clone();
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let (mut file, mut filename, mut alt, mut caption) = (None, None, None, None);
    while let Some(field) = multipart.next_field().await.map_err(|e| form_error(e, max_file))? {
        let name = field.name().unwrap_or_default().to_string();
        let sent_name = field.file_name().map(display_name);
        // A text field is text: a part typed as anything else (JSON, say) is not alt text.
        let typed_otherwise = field.content_type().is_some_and(|mime| mime.essence_str() != "text/plain");
        if name != "file" && typed_otherwise {
            return Err(ApiError::invalid(&name, "must be plain text (a part without a Content-Type, or text/plain)"));
        }
        let value = field.bytes().await.map_err(|e| form_error(e, max_file))?;
        let repeated = match name.as_str() {
            "file" => {
                filename = sent_name.flatten();
                file.replace(value).is_some()
            }
            "alt" => alt.replace(text(&name, value)?).is_some(),
            _ => caption.replace(text(&name, value)?).is_some(),
        };
        if repeated {
            return Err(ApiError::BadRequest(format!("the form has more than one `{name}` field")));
        }
    }
    let file = file.ok_or_else(|| ApiError::invalid("file", "is required: the image, as a part named `file`"))?;
    Ok(UploadForm { file, filename, alt, caption, body })
}

fn text(name: &str, value: Bytes) -> Result<String, ApiError> {
    String::from_utf8(value.to_vec()).map_err(|_| ApiError::invalid(name, "must be UTF-8 text"))
}

fn form_error(error: multer::Error, max_file: usize) -> ApiError {
    match error {
        multer::Error::UnknownField { field_name } => ApiError::BadRequest(format!(
            "unknown form field `{}`; the form takes `file`, `alt` and `caption`",
            field_name.unwrap_or_default()
        )),
        multer::Error::FieldSizeExceeded { field_name, .. } if field_name.as_deref() == Some("file") => {
            ApiError::PayloadTooLarge(format!("the file is larger than the {max_file} bytes allowed"))
        }
        multer::Error::FieldSizeExceeded { field_name, limit } => ApiError::BadRequest(format!(
            "the form field `{}` is longer than {limit} bytes",
            field_name.unwrap_or_default()
        )),
        multer::Error::StreamSizeExceeded { .. } => {
            ApiError::PayloadTooLarge(format!("the file is larger than the {max_file} bytes allowed"))
        }
        other => ApiError::BadRequest(format!("the multipart/form-data body is malformed: {other}")),
    }
}

/// A sent file name as a display name: the last part of any path (`../../etc/passwd.jpg` is
/// `passwd.jpg`), without control or bidirectional-override characters, at most 200 characters.
pub fn display_name(sent: &str) -> Option<String> {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .take(MAX_FILENAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn file_names_lose_their_paths_and_control_characters() {
        assert_eq!(display_name("../../etc/passwd.jpg").as_deref(), Some("passwd.jpg"));
        assert_eq!(display_name("C:\\Users\\me\\photo.png").as_deref(), Some("photo.png"));
        assert_eq!(display_name("a\u{0}b\r\nc\u{202e}gpj.exe").as_deref(), Some("abcgpj.exe"));
        assert_eq!(display_name(".."), None);
        assert_eq!(display_name("/"), None);
    }
}
