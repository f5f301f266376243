//! `masthead export`, `masthead import masthead` and `masthead import wordpress`: the archive
//! written to or read from a file, with the media files copied to or from a directory when
//! asked; another system's export read from a file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::archive::export::{ExportOptions, export};
use crate::archive::format::{Media, Record};
use crate::archive::restore::{Restored, restore};
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::imports::media::Fetcher;
use crate::settings::DbSettings;
use crate::storage::Objects;

/// The object name of a media record's file, in the store and in a media directory (a restore
/// has checked its format already).
fn original(file: &Media) -> String {
    let format =
        crate::media::formats::Format::from_extension(&file.format).unwrap_or(crate::media::formats::Format::Jpeg);
    crate::media::model::original_object(&file.storage_key, format)
}

fn media_store(config: &Config) -> Result<(Objects, tokio::runtime::Runtime), String> {
    let objects = Objects::open(&config.media.store, 0)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the media store's runtime: {e}"))?;
    Ok((objects, runtime))
}

/// Writes the export to `path` (`-`: standard output), with the media files into `media_dir`
/// when given; returns how many records it holds.
pub fn export_to_file(
    config: &Config,
    path: &Path,
    options: ExportOptions,
    media_dir: Option<&Path>,
) -> Result<u64, String> {
    let db = Db::open(&config.database_url, DbSettings::for_command_line()).map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let mut out: Box<dyn Write> = if path == Path::new("-") {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?))
    };
    let store = media_dir.map(|dir| media_store(config).map(|store| (dir, store))).transpose()?;
    let mut emit = |record: &Record| {
        serde_json::to_writer(&mut out, record)
            .map_err(|e| ApiError::Internal(format!("cannot write the export: {e}")))?;
        out.write_all(b"\n").map_err(|e| ApiError::Internal(format!("cannot write the export: {e}")))
    };
    let mut missing = 0;
    let mut on_media = |file: &Media| {
        let Some((dir, (objects, runtime))) = &store else { return Ok(()) };
        let name = original(file);
        match runtime.block_on(objects.get(&name, None))? {
            Some(object) => write_file(&dir.join(&name), &object.bytes),
            None => {
                missing += 1;
                tracing::warn!(file = %name, "a media record's file is not in the store");
                Ok(())
            }
        }
    };
    let records =
        export(&mut conn, options, crate::db::now(), &mut emit, &mut on_media).map_err(ApiError::for_terminal)?;
    out.flush().map_err(|e| format!("cannot write the export: {e}"))?;
    if missing > 0 {
        return Err(format!("{missing} media files were not in the store (their records are in the export)"));
    }
    Ok(records)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ApiError> {
    let fail = |e: std::io::Error| ApiError::Internal(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, bytes).map_err(fail)
}

/// Restores the export in `path` into the (empty) database, copying each media record's file from
/// `media_dir` into the media store when given; `progress` gets the bytes read and the file's size.
pub fn import_from_file(
    config: &Config,
    path: &Path,
    media_dir: Option<&Path>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Restored, String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let db = Db::open(&config.database_url, DbSettings::for_command_line()).map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let store = media_dir.map(|dir| media_store(config).map(|store| (dir.to_path_buf(), store))).transpose()?;
    let mut on_media = |file: &Media| {
        let Some((dir, (objects, runtime))) = &store else { return Ok(()) };
        let name = original(file);
        let source: PathBuf = dir.join(&name);
        let bytes = std::fs::read(&source)
            .map_err(|e| ApiError::BadRequest(format!("the media file {} cannot be read: {e}", source.display())))?;
        runtime.block_on(objects.put(&name, bytes))
    };
    restore(&mut conn, BufReader::with_capacity(1 << 20, file), &mut on_media, &mut |read| progress(read, size))
        .map_err(ApiError::for_terminal)
}

/// Imports a WordPress export from `path`, fetching featured images into the media library when
/// `fetch_media`; `progress` gets the bytes read and the file's size.
pub fn import_wordpress(
    config: &Config,
    path: &Path,
    options: crate::imports::wordpress::Options,
    fetch_media: bool,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<crate::imports::Report, String> {
    let (input, size) = open_import(path)?;
    let (db, mut fetcher) = import_target(config, fetch_media)?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let fetcher = fetcher.as_mut().map(|f| f as &mut dyn Fetcher);
    Ok(crate::imports::wordpress::import(&mut conn, input, options, fetcher, &mut |read| progress(read, size)))
}

/// Imports a Ghost export from `path` (read twice: `progress` gets twice its size), fetching
/// feature images into the media library when `fetch_media`.
pub fn import_ghost(
    config: &Config,
    path: &Path,
    options: crate::imports::ghost::Options,
    fetch_media: bool,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<crate::imports::Report, String> {
    let (mut input, size) = open_import(path)?;
    // Read twice through one handle: a file swapped between the passes, or a pipe, cannot be.
    if !input.get_ref().metadata().is_ok_and(|m| m.is_file()) {
        return Err(format!("{} is not a regular file (a Ghost export is read twice)", path.display()));
    }
    let (db, mut fetcher) = import_target(config, fetch_media)?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let fetcher = fetcher.as_mut().map(|f| f as &mut dyn Fetcher);
    crate::imports::ghost::import(&mut conn, &mut input, options, fetcher, &mut |read| progress(read, 2 * size))
}

/// Where an import writes: the database, and with `fetch_media` what brings images in.
fn import_target(config: &Config, fetch_media: bool) -> Result<(Db, Option<MediaFetcher>), String> {
    let db = Db::open(&config.database_url, DbSettings::for_command_line()).map_err(|e| e.to_string())?;
    let fetcher = if fetch_media { Some(MediaFetcher::new(config)?) } else { None };
    Ok((db, fetcher))
}

/// A file to import, buffered, and its size.
fn open_import(path: &Path) -> Result<(BufReader<File>, u64), String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((BufReader::with_capacity(1 << 20, file), size))
}

/// How long one image may take to download.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Downloads through the SSRF guard of every outgoing request (`MASTHEAD_WEBHOOK_ALLOW_PRIVATE`
/// opens it to internal addresses), at most `MASTHEAD_MEDIA_MAX_BYTES` each, into the media store.
struct MediaFetcher {
    client: reqwest::Client,
    objects: Objects,
    runtime: tokio::runtime::Runtime,
    allow_private: bool,
    max_bytes: usize,
    max_pixels: u64,
}

impl MediaFetcher {
    fn new(config: &Config) -> Result<Self, String> {
        let (objects, runtime) = media_store(config)?;
        let allow_private = config.webhooks.allow_private;
        let client = crate::outbound::guarded_client(allow_private, FETCH_TIMEOUT, "Masthead-Import/1")?;
        Ok(Self {
            client,
            objects,
            runtime,
            allow_private,
            max_bytes: config.media.max_bytes,
            max_pixels: config.media.max_pixels,
        })
    }
}

impl Fetcher for MediaFetcher {
    fn download(&mut self, url: &str) -> Result<Vec<u8>, String> {
        let url = crate::outbound::check_url(url, self.allow_private)?;
        let max = self.max_bytes;
        self.runtime.block_on(async {
            let mut response = self.client.get(url).send().await.map_err(|e| e.to_string())?;
            if !response.status().is_success() {
                return Err(format!("the server answered {}", response.status()));
            }
            if response.content_length().is_some_and(|length| length > max as u64) {
                return Err(format!("larger than MASTHEAD_MEDIA_MAX_BYTES ({max} bytes)"));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
                if bytes.len() + chunk.len() > max {
                    return Err(format!("larger than MASTHEAD_MEDIA_MAX_BYTES ({max} bytes)"));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(bytes)
        })
    }

    fn store(&mut self, object: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.runtime.block_on(self.objects.put(object, bytes)).map_err(|e| e.to_string())
    }

    fn delete(&mut self, object: &str) -> Result<(), String> {
        self.runtime.block_on(self.objects.delete(object)).map_err(|e| e.to_string())
    }

    fn max_pixels(&self) -> u64 {
        self.max_pixels
    }
}
