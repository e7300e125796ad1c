//! The supervisor: spawns, replaces, restarts and removes provider actors, and is the only way to
//! find one.
//!
//! Provider actors run under [`actix::Supervisor`], which restarts an actor that stops. Replacing a
//! provider (new key, models or address, same id) reconfigures the existing actor, so an address a
//! caller cached stays valid; removing one retires it, so a cached address gets a clear error
//! instead of reaching an upstream that is no longer configured.

use std::collections::BTreeMap;

use actix::prelude::*;

use crate::error::{ErrorKind, ProviderError};
use crate::provider::actor::{GetStatus, ProviderActor, ProviderStatus, Reconfigure, Retire};
use crate::provider::config::ProviderConfig;

/// Start a provider, or reconfigure it if one with this id runs already.
#[derive(Debug, Message)]
#[rtype(result = "Result<Addr<ProviderActor>, ProviderError>")]
pub struct Upsert(pub ProviderConfig);

/// Remove a provider. Answers whether one existed.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct Remove(pub String);

/// Find a provider's address.
#[derive(Debug, Message)]
#[rtype(result = "Option<Addr<ProviderActor>>")]
pub struct Lookup(pub String);

/// The ids of all running providers, sorted.
#[derive(Debug, Message)]
#[rtype(result = "Vec<String>")]
pub struct ListProviders;

/// The status of every running provider, sorted by id.
#[derive(Debug, Message)]
#[rtype(result = "Vec<ProviderStatus>")]
pub struct StatusAll;

/// The supervisor actor.
#[derive(Default)]
pub struct ProviderSupervisor {
    providers: BTreeMap<String, Addr<ProviderActor>>,
}

impl ProviderSupervisor {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Actor for ProviderSupervisor {
    type Context = Context<Self>;
}

impl Handler<Upsert> for ProviderSupervisor {
    type Result = ResponseActFuture<Self, Result<Addr<ProviderActor>, ProviderError>>;

    fn handle(&mut self, msg: Upsert, _: &mut Self::Context) -> Self::Result {
        let config = msg.0;
        let id = config.id.clone();
        if let Some(addr) = self.providers.get(&id).cloned() {
            let fut = async move {
                addr.send(Reconfigure(config))
                    .await
                    .map_err(|_| gone(&id))??;
                Ok(addr)
            };
            return Box::pin(fut.into_actor(self));
        }
        let result = ProviderActor::new(config).map(|actor| {
            // The first start uses the actor as built; restarts go through `Supervised`.
            let addr = actix::Supervisor::start(move |_| actor);
            self.providers.insert(id, addr.clone());
            addr
        });
        Box::pin(async move { result }.into_actor(self))
    }
}

impl Handler<Remove> for ProviderSupervisor {
    type Result = bool;

    fn handle(&mut self, msg: Remove, _: &mut Self::Context) -> bool {
        match self.providers.remove(&msg.0) {
            Some(addr) => {
                addr.do_send(Retire);
                true
            }
            None => false,
        }
    }
}

impl Handler<Lookup> for ProviderSupervisor {
    type Result = Option<Addr<ProviderActor>>;

    fn handle(&mut self, msg: Lookup, _: &mut Self::Context) -> Self::Result {
        self.providers.get(&msg.0).cloned()
    }
}

impl Handler<ListProviders> for ProviderSupervisor {
    type Result = Vec<String>;

    fn handle(&mut self, _: ListProviders, _: &mut Self::Context) -> Self::Result {
        self.providers.keys().cloned().collect()
    }
}

impl Handler<StatusAll> for ProviderSupervisor {
    type Result = ResponseFuture<Vec<ProviderStatus>>;

    fn handle(&mut self, _: StatusAll, _: &mut Self::Context) -> Self::Result {
        let addrs: Vec<_> = self.providers.values().cloned().collect();
        Box::pin(async move {
            let mut out = Vec::with_capacity(addrs.len());
            for addr in addrs {
                if let Ok(status) = addr.send(GetStatus).await {
                    out.push(status);
                }
            }
            out
        })
    }
}

fn gone(id: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Unavailable,
        format!("Provider '{id}' stopped while it was being reconfigured"),
    )
    .with_provider(id)
}
