//! The edge's side of execute-api and function URL hosts: `gateway`'s front door serves
//! them, with the authentication this crate owns (the key table, open mode's callers) and
//! AWS's answers for what it refuses or what nothing serves.

use std::future::Future;
use std::pin::Pin;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::{ApiState, RequestId};

/// Serves execute-api and function URL requests through the data plane; passes every
/// other request on.
pub(crate) async fn front_door(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let plane = s.plane.clone();
    gateway::ingress::front_door(plane, &Edge(s), req, next).await
}

struct Edge(ApiState);

impl gateway::ingress::Edge for Edge {
    fn authenticated(&self) -> bool {
        self.0.callers.auth.is_some()
    }

    fn signer(&self, parts: &axum::http::request::Parts, body: &[u8], service: &str) -> Result<String, Box<Response>> {
        match &self.0.callers.auth {
            Some(auth) => auth.check(parts, body, Some(service)).map(|who| who.account).map_err(|refusal| {
                let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
                Box::new(crate::auth::refused(parts, &refusal, &request_id))
            }),
            None => Ok(self.0.callers.caller(parts).account),
        }
    }

    fn request_id(&self, req: &Request) -> String {
        req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default()
    }

    fn unserved(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + 'static>> {
        Box::pin(crate::ingress::unserved(req))
    }
}
