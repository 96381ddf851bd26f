//! The router as hyper calls it, telling the connection's slot when a handler
//! starts and answers (the cap never displaces a connection mid-request, and
//! the idle timer starts at the answer).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::service::TowerToHyperService;

use super::registry::Slot;

/// One connection's service.
#[derive(Clone)]
pub struct Counted {
    router: TowerToHyperService<Router>,
    slot: Arc<Slot>,
}

impl Counted {
    /// Serves `router`, counting on `slot`.
    pub fn new(router: Router, slot: Arc<Slot>) -> Self {
        Self {
            router: TowerToHyperService::new(router),
            slot,
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
        let answer = self.router.call(request);
        Box::pin(async move {
            let response = answer.await;
            slot.request_finished();
            response
        })
    }
}
