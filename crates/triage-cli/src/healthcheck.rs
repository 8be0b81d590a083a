//! `triage healthcheck`: asks the local service's `/readyz`, for container health checks
//! (the runtime image has no curl).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

pub(crate) fn run(port: u16, path: &str) -> anyhow::Result<ExitCode> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let ok = status_line.split_whitespace().nth(1) == Some("200");
    if ok {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{path} answered: {}", status_line.lines().next().unwrap_or(""));
        Ok(ExitCode::FAILURE)
    }
}
