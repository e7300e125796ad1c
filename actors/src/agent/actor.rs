//! The agent actor: the persona, the admission of turns, and the order of each conversation.
//!
//! The actor's handlers only decide (is there room, which lock orders this conversation) and
//! hand back a [`TurnTicket`]; the turn's I/O runs where the caller polls it (see
//! [`super::turn`]). Turns of one conversation wait on that conversation's lock, which is fair
//! (first come, first served), so they run in the order they arrived; different conversations
//! have different locks and run at once. A semaphore bounds what an agent holds: running and
//! waiting turns together never exceed its limit, and one more is refused at once (`Busy`)
//! instead of queueing without bound.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::{Mutex, Semaphore};

use super::error::AgentError;
use super::history::ConversationStore;
use super::persona::Persona;
use super::turn::{ModelRouter, TurnRequest, TurnTicket};

/// One agent.
pub struct AgentActor {
    persona: Persona,
    store: Arc<dyn ConversationStore>,
    router: Arc<dyn ModelRouter>,
    queue: Arc<Semaphore>,
    queue_limit: usize,
    /// The lock that orders each conversation's turns. Entries nobody holds are dropped as turns
    /// come in, so the map stays as small as the number of busy conversations.
    conversations: HashMap<String, Arc<Mutex<()>>>,
}

impl AgentActor {
    /// An agent for `persona`, storing in `store`, routing with `router`, admitting at most
    /// `queue_limit` running or waiting turns (at least 1).
    pub fn new(
        persona: Persona,
        store: Arc<dyn ConversationStore>,
        router: Arc<dyn ModelRouter>,
        queue_limit: usize,
    ) -> Self {
        let queue_limit = queue_limit.max(1);
        AgentActor {
            persona,
            store,
            router,
            queue: Arc::new(Semaphore::new(queue_limit)),
            queue_limit,
            conversations: HashMap::new(),
        }
    }
}

impl Actor for AgentActor {
    type Context = Context<Self>;
}

/// Admits a turn: answers a ticket to run it with, or `Busy`.
#[derive(Debug, Message)]
#[rtype(result = "Result<TurnTicket, AgentError>")]
pub struct StartTurn(pub TurnRequest);

impl Handler<StartTurn> for AgentActor {
    type Result = Result<TurnTicket, AgentError>;

    fn handle(&mut self, StartTurn(request): StartTurn, _: &mut Context<Self>) -> Self::Result {
        let permit = Arc::clone(&self.queue)
            .try_acquire_owned()
            .map_err(|_| AgentError::Busy {
                agent: self.persona.name.clone(),
                limit: self.queue_limit,
            })?;
        let (conversation_id, start) = match &request.conversation_id {
            Some(id) => (id.clone(), false),
            None => (super::new_id("conv"), true),
        };
        self.conversations
            .retain(|_, lock| Arc::strong_count(lock) > 1);
        let lock = Arc::clone(
            self.conversations
                .entry(conversation_id.clone())
                .or_default(),
        );
        Ok(TurnTicket {
            persona: self.persona.clone(),
            conversation_id,
            start,
            request,
            lock,
            permit,
            store: Arc::clone(&self.store),
            router: Arc::clone(&self.router),
        })
    }
}

/// Replaces the persona; turns already admitted finish with the one they started with.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SetPersona(pub Persona);

impl Handler<SetPersona> for AgentActor {
    type Result = ();

    fn handle(&mut self, SetPersona(persona): SetPersona, _: &mut Context<Self>) {
        self.persona = persona;
    }
}

/// The current persona.
#[derive(Debug, Message)]
#[rtype(result = "Persona")]
pub struct GetPersona;

impl Handler<GetPersona> for AgentActor {
    type Result = MessageResult<GetPersona>;

    fn handle(&mut self, _: GetPersona, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.persona.clone())
    }
}
