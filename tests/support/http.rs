#![allow(dead_code)]

//! The in-memory API server on a real local HTTP port, so the built binary can reach it through
//! a kubeconfig (HTTP/1.1 with keep-alive, Content-Length bodies: what the kube client sends).

use super::apiserver::ApiServer;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Serve `api` on 127.0.0.1 (a free port, on background threads); returns the base URL.
pub fn serve(api: ApiServer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let api = api.clone();
            std::thread::spawn(move || connection(api, conn));
        }
    });
    url
}

fn connection(api: ApiServer, conn: TcpStream) {
    let mut out = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, target) = (method.to_string(), target.to_string());
        let mut length = 0;
        let mut content_type = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-type")
            {
                content_type = Some(v.trim().to_string());
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, value) = api.respond_with(&method, &target, content_type.as_deref(), &body);
        let bytes = super::apiserver::body_bytes(&value);
        let head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            bytes.len()
        );
        if out
            .write_all(head.as_bytes())
            .and_then(|_| out.write_all(&bytes))
            .is_err()
        {
            return;
        }
    }
}
