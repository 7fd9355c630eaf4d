//! nginx on a free loopback port, with a configuration of the test's own,
//! stopped when dropped: in front of the static export, or of several
//! servers as their load balancer.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Nginx {
    child: Child,
    pub port: u16,
    prefix: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> PathBuf {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "nginx is not installed; scripts/test installs it, or run: apt-get install nginx-light libnginx-mod-http-brotli-static"
    );
}

impl Nginx {
    /// Starts nginx with `main` at the top of its configuration (modules),
    /// `http` inside `http {}` (an upstream) and `server` inside the one
    /// `server {}` after its `listen`, and waits until it listens.
    pub fn start(main: &str, http: &str, server: &str) -> Self {
        let prefix = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let p = prefix.path().display();
        let config = format!(
            "{main}
worker_processes 1;
daemon off;
error_log {p}/error.log;
pid {p}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {p}/body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    {http}
    server {{
        listen 127.0.0.1:{port};
        {server}
    }}
}}
"
        );
        std::fs::write(prefix.path().join("nginx.conf"), config).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(prefix.path().join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let nginx = Self {
            child,
            port,
            prefix,
        };
        let listening =
            super::eventually(Duration::from_secs(10), Duration::from_millis(50), || {
                TcpStream::connect(("127.0.0.1", port)).ok()
            });
        assert!(
            listening.is_some(),
            "nginx did not start: {}",
            std::fs::read_to_string(nginx.prefix.path().join("error.log")).unwrap_or_default()
        );
        nginx
    }
}
