//! A TCP proxy between the code under test and a server, to inject network faults:
//! a silent peer (blackhole), dropped connections (cut) and a closed port (refuse).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

/// What every connection task watches. Closing the channel (dropping the proxy) ends them all.
#[derive(Clone, Copy)]
struct Link {
    blackholed: bool,
    /// Bumped by `cut()`: a connection dies when this differs from its value at accept time.
    cuts: u64,
}

pub struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    link: watch::Sender<Link>,
    open: Arc<AtomicUsize>,
    /// The task owning the listener; `None` while refusing.
    acceptor: Mutex<Option<JoinHandle<()>>>,
}

impl Proxy {
    /// Starts passing traffic from a new port on 127.0.0.1 to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("proxy: local address");
        let proxy = Proxy {
            addr,
            upstream,
            link: watch::Sender::new(Link {
                blackholed: false,
                cuts: 0,
            }),
            open: Arc::default(),
            acceptor: Mutex::new(None),
        };
        *proxy.acceptor.lock().await = Some(proxy.accept(listener));
        proxy
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Client connections currently held open by the proxy.
    pub fn connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Forwards both ways again, re-listening on the same port after `refuse()`. Data held
    /// back by a blackhole is delivered.
    pub async fn pass(&self) {
        let mut acceptor = self.acceptor.lock().await;
        if acceptor.is_none() {
            let listener = TcpListener::bind(self.addr)
                .await
                .unwrap_or_else(|e| panic!("proxy: re-bind {} after refuse(): {e}", self.addr));
            *acceptor = Some(self.accept(listener));
        }
        self.link.send_modify(|l| l.blackholed = false);
    }

    /// Stops reading from either side of every connection, old and new, keeping them open:
    /// the peer looks alive but never answers, as behind a network partition.
    pub async fn blackhole(&self) {
        self.link.send_modify(|l| l.blackholed = true);
    }

    /// Closes every current connection on both sides, then passes new ones.
    /// Does not re-listen after `refuse()`.
    pub async fn cut(&self) {
        self.link.send_modify(|l| {
            l.blackholed = false;
            l.cuts += 1;
        });
    }

    /// Closes the listening socket so that new connects get ECONNREFUSED; open connections
    /// are left as they are. Returns once the port is closed.
    pub async fn refuse(&self) {
        if let Some(acceptor) = self.acceptor.lock().await.take() {
            acceptor.abort();
            // Resolves only after the task, and with it the listener, has been dropped.
            let _ = acceptor.await;
        }
    }

    fn accept(&self, listener: TcpListener) -> JoinHandle<()> {
        let (upstream, link, open) = (self.upstream, self.link.subscribe(), self.open.clone());
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((client, _)) => {
                        let cuts = link.borrow().cuts;
                        let guard = OpenGuard::new(&open);
                        tokio::spawn(serve(client, upstream, link.clone(), cuts, guard));
                    }
                    // Such errors (EMFILE...) repeat at once: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(acceptor) = self.acceptor.get_mut().take() {
            acceptor.abort();
        }
        // Dropping `link` next closes the channel, which ends every connection task.
    }
}

struct OpenGuard(Arc<AtomicUsize>);

impl OpenGuard {
    fn new(open: &Arc<AtomicUsize>) -> OpenGuard {
        open.fetch_add(1, Ordering::SeqCst);
        OpenGuard(open.clone())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs one client connection until both directions end, it is cut, or the proxy is dropped.
/// Returning drops both sockets, which closes them.
async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    link: watch::Receiver<Link>,
    cuts: u64,
    _open: OpenGuard,
) {
    let mut cut = link.clone();
    let forward = async move {
        let mut link = link;
        // A connection accepted during a blackhole dials upstream only once it may pass.
        gate(&mut link).await.ok()?;
        let server = TcpStream::connect(upstream).await.ok()?;
        // Protocols under test exchange small messages: do not let Nagle delay them.
        let _ = (client.set_nodelay(true), server.set_nodelay(true));
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        tokio::join!(
            pump(client_read, server_write, link.clone()),
            pump(server_read, client_write, link),
        );
        Some(())
    };
    tokio::select! {
        _ = forward => {}
        // Also resolves (with an error) when the proxy is dropped.
        _ = cut.wait_for(|l| l.cuts != cuts) => {}
    }
}

/// Copies one direction until EOF or error, holding still while blackholed.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut link: watch::Receiver<Link>) {
    let mut buf = vec![0; 16 * 1024];
    loop {
        if gate(&mut link).await.is_err() {
            return;
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
            // A blackhole must stop the reading too, so that the sender stalls on a full window.
            changed = link.changed() => match changed {
                Ok(()) => continue,
                Err(_) => return,
            },
        };
        // Bytes read just before a blackhole are held, not lost, as on a partitioned TCP link.
        if gate(&mut link).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
    // Pass the half-close on: the other side may still answer after an EOF.
    let _ = to.shutdown().await;
}

/// Waits while the link is blackholed; fails once the proxy is dropped.
async fn gate(link: &mut watch::Receiver<Link>) -> Result<(), watch::error::RecvError> {
    link.wait_for(|l| !l.blackholed).await.map(|_| ())
}
