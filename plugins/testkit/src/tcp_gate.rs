//! [`TcpGate`]: a TCP forwarder on 127.0.0.1 that a test can shut, to make a real
//! server (PostgreSQL) unreachable to herald without stopping it for other tests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards every connection to `target` while open. Shut, it cuts the connections it
/// carries and takes new ones without ever answering, as a host gone from the network
/// (a firewall dropping packets) would look to a client.
pub struct TcpGate {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    carried: Arc<Mutex<Vec<JoinHandle<()>>>>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    accept: JoinHandle<()>,
}

impl TcpGate {
    /// A gate to `target`, open.
    ///
    /// # Panics
    /// When no port on 127.0.0.1 can be bound.
    pub async fn start(target: SocketAddr) -> TcpGate {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let open = Arc::new(AtomicBool::new(true));
        let carried = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn({
            let (open, carried, held) = (open.clone(), carried.clone(), held.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        held.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(inbound);
                        continue;
                    }
                    let forward = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    carried
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(forward);
                }
            }
        });
        TcpGate {
            addr,
            open,
            carried,
            held,
            accept,
        }
    }

    /// Where to connect instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every carried connection; new ones hang unanswered until [`TcpGate::open`].
    pub fn shut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for forward in self
            .carried
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            forward.abort();
        }
    }

    /// Forwards again; the connections that hung while shut are closed.
    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Drop for TcpGate {
    fn drop(&mut self) {
        self.accept.abort();
        self.shut();
    }
}
