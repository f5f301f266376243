//! Request bodies: compressed ones are decoded within the size limit, and slow ones are cut off
//! at their deadline, so that no anonymous request can make the server hold much memory or a
//! connection for long.

use std::io::{Read, Write};
use std::time::Duration;

use actix_web::test::TestRequest;
use masthead::auth::Role;

use crate::harness::{Backend, spawn, spawn_with};

backend_tests!(compressed_bodies_are_decoded_within_the_limit, slow_bodies_are_cut_off_at_their_deadline);

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut compressed = Vec::new();
    let mut encoder = brotli::CompressorWriter::new(&mut compressed, 4096, 1, 22);
    encoder.write_all(bytes).unwrap();
    drop(encoder);
    compressed
}

async fn compressed_bodies_are_decoded_within_the_limit(backend: Backend) {
    let app = spawn(backend).await;
    let user = app.user(Role::Author, "Ann").await;
    let login = |encoding: &'static str, body: Vec<u8>| {
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Content-Encoding", encoding))
            .set_payload(body)
    };
    let credentials = format!(r#"{{"email": "{}", "password": "{}"}}"#, user.email, user.password);
    app.send(login("gzip", gzip(credentials.as_bytes()))).await.assert_status(200);
    app.send(login("br", brotli(credentials.as_bytes()))).await.assert_status(200);

    // 32 MiB of spaces (the test limit is 64 KiB), as a body of a few kilobytes: refused as soon
    // as the decoder has produced more than the limit, not once it has inflated all of it.
    let spaces = vec![b' '; 32 * 1024 * 1024];
    for (encoding, bomb) in [("gzip", gzip(&spaces)), ("br", brotli(&spaces))] {
        assert!(bomb.len() < 64 * 1024, "{encoding}: {} bytes", bomb.len());
        let problem = app.send(login(encoding, bomb)).await.assert_problem(413);
        assert_eq!(problem["type"], "urn:masthead:problem:payload-too-large", "{encoding}");
    }
    let problem = app.send(login("gzip", b"{\"not\": \"gzip\"}".to_vec())).await.assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("gzip"), "{problem}");
    app.send(login("zstd", credentials.clone().into_bytes())).await.assert_problem(415);
    // A declared length over the limit is refused without reading the body.
    let declared = TestRequest::post()
        .uri("/api/v1/auth/login")
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("Content-Length", "1000000000"));
    app.send(declared).await.assert_problem(413);
}

async fn slow_bodies_are_cut_off_at_their_deadline(backend: Backend) {
    let app = spawn_with(backend, |config| config.body_timeout = Duration::from_millis(300)).await;
    let listener = app.listen();
    let addr = listener.addr;
    // Headers and part of the body, then nothing: the server answers 408 and closes; the client
    // waits for that answer with a deadline of its own.
    let answer = actix_web::web::block(move || {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok::<_, std::io::Error>(answer)
    })
    .await
    .unwrap()
    .expect("the server answers, then closes the connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json") && answer.contains("request-timeout"), "{answer}");
}
