//! Self-tests of the fault-injection support: the proxy against an echo server and, with
//! `postgres-tests`, the ephemeral PostgreSQL cluster.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use crate::proxy::Proxy;

const QUIET: Duration = Duration::from_millis(300);
const PROMPT: Duration = Duration::from_secs(1);

async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

async fn send(stream: &mut TcpStream, msg: &[u8]) {
    stream
        .write_all(msg)
        .await
        .expect("write through the proxy");
}

/// Reads exactly `len` bytes, or times out.
async fn recv(stream: &mut TcpStream, len: usize, wait: Duration) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    match timeout(wait, stream.read_exact(&mut buf)).await {
        Ok(read) => read.map(|_| buf),
        Err(_) => Err(ErrorKind::TimedOut.into()),
    }
}

async fn echoes(stream: &mut TcpStream, msg: &[u8]) {
    send(stream, msg).await;
    assert_eq!(recv(stream, msg.len(), PROMPT).await.unwrap(), msg);
}

/// The proxy reacts to mode switches asynchronously: poll instead of sleeping blindly.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: still not true after 1 s");
}

/// EOF or a reset within a second.
async fn assert_closed(stream: &mut TcpStream) {
    let mut byte = [0];
    match timeout(PROMPT, stream.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => {}
        Ok(Ok(_)) => panic!("expected the connection closed, read data"),
        Err(_) => panic!("connection still open after 1 s"),
    }
}

#[tokio::test]
async fn proxy_passes_both_ways_and_half_closes() {
    let proxy = Proxy::start(echo_server().await).await;
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    echoes(&mut client, b"hello").await;
    echoes(&mut client, &[7; 100_000]).await;
    eventually("one open connection", || proxy.connections() == 1).await;

    // The server answers after the client's EOF, then closes.
    send(&mut client, b"bye").await;
    client.shutdown().await.unwrap();
    let mut rest = Vec::new();
    timeout(PROMPT, client.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest, b"bye");
    eventually("no open connection", || proxy.connections() == 0).await;
}

#[tokio::test]
async fn proxy_blackhole_keeps_connections_silent_then_delivers_on_pass() {
    let proxy = Proxy::start(echo_server().await).await;
    let mut old = TcpStream::connect(proxy.addr()).await.unwrap();
    echoes(&mut old, b"before").await;

    proxy.blackhole().await;
    send(&mut old, b"held").await;
    let mut new = TcpStream::connect(proxy.addr()).await.unwrap();
    send(&mut new, b"new").await;
    let err = recv(&mut old, 4, QUIET).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let err = recv(&mut new, 3, QUIET).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(proxy.connections(), 2, "blackholed connections stay open");

    proxy.pass().await;
    assert_eq!(recv(&mut old, 4, PROMPT).await.unwrap(), b"held");
    assert_eq!(recv(&mut new, 3, PROMPT).await.unwrap(), b"new");
}

#[tokio::test]
async fn proxy_cut_closes_current_connections_then_passes_new_ones() {
    let proxy = Proxy::start(echo_server().await).await;
    let mut first = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut second = TcpStream::connect(proxy.addr()).await.unwrap();
    echoes(&mut first, b"one").await;
    proxy.blackhole().await;

    proxy.cut().await;
    assert_closed(&mut first).await;
    assert_closed(&mut second).await;
    eventually("no open connection", || proxy.connections() == 0).await;

    let mut third = TcpStream::connect(proxy.addr()).await.unwrap();
    echoes(&mut third, b"three").await;
}

#[tokio::test]
async fn proxy_refuse_closes_the_port_until_pass() {
    let proxy = Proxy::start(echo_server().await).await;
    let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
    echoes(&mut open, b"x").await;

    proxy.refuse().await;
    let err = TcpStream::connect(proxy.addr()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    echoes(&mut open, b"open connections still pass").await;

    proxy.pass().await;
    let mut again = TcpStream::connect(proxy.addr()).await.unwrap();
    echoes(&mut again, b"same port").await;
}

#[tokio::test]
async fn proxy_drop_closes_everything() {
    let proxy = Proxy::start(echo_server().await).await;
    let addr = proxy.addr();
    let mut client = TcpStream::connect(addr).await.unwrap();
    echoes(&mut client, b"x").await;
    let mut blackholed = TcpStream::connect(addr).await.unwrap();
    proxy.blackhole().await;

    drop(proxy);
    assert_closed(&mut client).await;
    assert_closed(&mut blackholed).await;
    for _ in 0..100 {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => return,
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    panic!("the proxy port still accepts connections after drop");
}

#[cfg(feature = "postgres-tests")]
mod ephemeral_pg {
    use sqlx::{Connection, PgConnection};

    use crate::cluster::EphemeralPg;
    use crate::proxy::Proxy;

    async fn select_one(url: &str) -> Result<i32, sqlx::Error> {
        let mut conn = PgConnection::connect(url).await?;
        sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await
    }

    /// Whether `pid` is a live process (zombies count as dead: nothing may reap them here).
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .map(str::trim_start)
                .is_some_and(|s| !s.starts_with('Z'))
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ephemeral_pg_restarts_stops_and_cleans_up() {
        let pg = EphemeralPg::new();
        let direct = pg.create_database("faults").await;
        let proxy = Proxy::start(pg.addr()).await;
        let via_proxy = format!("postgres://postgres@{}/faults", proxy.addr());

        let mut session = PgConnection::connect(&via_proxy).await.unwrap();
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut session)
            .await
            .unwrap();
        assert_eq!(one, 1);

        pg.restart("fast");
        assert!(
            sqlx::query_scalar::<_, i32>("SELECT 1")
                .fetch_one(&mut session)
                .await
                .is_err(),
            "a session must not survive a restart"
        );
        assert_eq!(select_one(&via_proxy).await.unwrap(), 1);

        pg.restart("immediate");
        assert_eq!(select_one(&via_proxy).await.unwrap(), 1);

        pg.stop();
        assert!(
            select_one(&direct).await.is_err(),
            "stopped server answered"
        );
        pg.start();
        assert_eq!(select_one(&direct).await.unwrap(), 1);

        let data_dir = pg.data_dir();
        let pid_file = std::fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
        let pid = pid_file.lines().next().unwrap().to_owned();
        assert!(alive(&pid), "postmaster {pid} is not running");
        drop(pg);
        assert!(!alive(&pid), "postmaster {pid} still running after drop");
        assert!(!data_dir.exists(), "{} not removed", data_dir.display());
        assert!(
            select_one(&direct).await.is_err(),
            "dropped server answered"
        );
    }
}
