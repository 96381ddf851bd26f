//! The router as hyper calls it, telling the connection's slot when a handler
//! starts and answers (the cap never displaces a connection mid-request, and
//! the idle timer starts at the answer), and handing the handler the body as a
//! [`Progress`], counted and with its own deadline.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::service::TowerToHyperService;

use super::progress::Progress;
use super::registry::Slot;

/// One connection's service.
#[derive(Clone)]
pub struct Counted {
    router: TowerToHyperService<Router>,
    slot: Arc<Slot>,
    body_timeout: Duration,
    /// The client's address, which handlers read as axum's `ConnectInfo`.
    peer: SocketAddr,
}

impl Counted {
    /// Serves `router` to `peer`, counting on `slot`; a body must arrive within
    /// `body_timeout`.
    pub fn new(router: Router, slot: Arc<Slot>, body_timeout: Duration, peer: SocketAddr) -> Self {
        Self {
            router: TowerToHyperService::new(router),
            slot,
            body_timeout,
            peer,
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for Counted {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.slot.request_started();
        let slot = self.slot.clone();
        let (slot_for_body, limit) = (slot.clone(), self.body_timeout);
        let mut request = request.map(|body| Body::new(Progress::new(body, slot_for_body, limit)));
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let answer = self.router.call(request);
        Box::pin(async move {
            let response = answer.await;
            slot.request_finished();
            response
        })
    }
}
