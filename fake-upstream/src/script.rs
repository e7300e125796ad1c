//! The script: per path, a FIFO of one-shot replies and a default reply.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use crate::reply::Reply;

/// Replies by path (query excluded). A `std` mutex is right here: it is held only to pop or peek,
/// never across an await.
#[derive(Default)]
pub(crate) struct Script {
    routes: Mutex<HashMap<String, Route>>,
}

#[derive(Default)]
struct Route {
    queue: VecDeque<Reply>,
    /// Shared so that serving a default clones a pointer, not the reply.
    default: Option<Arc<Reply>>,
}

/// The reply chosen for one request.
pub(crate) enum Picked {
    Once(Reply),
    Default(Arc<Reply>),
    /// Nothing scripted for the path.
    Missing,
}

impl Script {
    pub(crate) fn push(&self, path: &str, reply: Reply, times: usize) {
        let mut routes = self.lock();
        let route = routes.entry(path.to_owned()).or_default();
        route.queue.extend(std::iter::repeat_n(reply, times));
    }

    pub(crate) fn set_default(&self, path: &str, reply: Reply) {
        self.lock().entry(path.to_owned()).or_default().default = Some(Arc::new(reply));
    }

    /// Drops every queued reply and default.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// How many one-shot replies are still queued for `path`.
    pub(crate) fn queued(&self, path: &str) -> usize {
        self.lock().get(path).map_or(0, |route| route.queue.len())
    }

    /// The next queued reply for `path`, else its default.
    pub(crate) fn next(&self, path: &str) -> Picked {
        let mut routes = self.lock();
        let Some(route) = routes.get_mut(path) else {
            return Picked::Missing;
        };
        if let Some(reply) = route.queue.pop_front() {
            return Picked::Once(reply);
        }
        match &route.default {
            Some(reply) => Picked::Default(Arc::clone(reply)),
            None => Picked::Missing,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Route>> {
        // A panic elsewhere while holding the lock leaves the map consistent: keep serving.
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
