//! One turn of a conversation, run where the caller polls it.
//!
//! [`start_turn`] admits the turn with the agent, waits for the conversation's earlier turns,
//! reads the history, routes the persona's model and sends the request. It resolves once the
//! upstream has answered — the first streamed event, or the whole answer — and the user message
//! is stored (for a stream, written while the upstream works, so the flush costs the first token
//! nothing): an error before that leaves the conversation as it was. The [`TurnStream`] then
//! relays the reply; when it is complete the assistant message is stored and `Done` follows.
//! Dropping the stream cancels the turn and closes the upstream request; the user message stays,
//! without a reply (an incomplete turn).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;

use actix::Addr;
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit};

use super::actor::{AgentActor, StartTurn};
use super::error::AgentError;
use super::history::{ConversationStore, HistoryError, StoredMessage};
use super::persona::Persona;
use crate::error::ProviderError;
use crate::messages::{
    ChatRequest, ChatResponse, ContentPart, Message, Role, StopReason, StreamAccumulator,
    StreamEvent, ThinkingDelta, Tool, Usage,
};
use crate::provider::{self, EventStream, ProviderActor};

/// Where a model name goes: implemented by the host, which knows the providers and aliases.
pub trait ModelRouter: Send + Sync + 'static {
    /// The provider and upstream model for `model` as a persona names it. The error says what is
    /// wrong in the user's terms (`Model 'x' not found`).
    fn route(&self, model: &str) -> Result<Route, ProviderError>;
}

/// A routed model.
#[derive(Debug, Clone)]
pub struct Route {
    /// The provider's id.
    pub provider: String,
    /// The model id the upstream knows.
    pub model: String,
    pub addr: Addr<ProviderActor>,
}

/// What the caller asks of a turn.
#[derive(Debug, Clone)]
pub struct TurnRequest {
    /// The conversation to continue; a new one is started when `None`.
    pub conversation_id: Option<String>,
    /// The user message: text, images, tool results.
    pub content: Vec<ContentPart>,
    /// Tools for this turn; `None` uses the persona's.
    pub tools: Option<Vec<Tool>>,
    /// Stream the reply as it is generated (otherwise it arrives whole).
    pub stream: bool,
}

/// A turn the agent admitted: what it needs to run where the caller polls it. Holding it holds a
/// place in the agent's queue.
pub struct TurnTicket {
    pub(super) persona: Persona,
    pub(super) conversation_id: String,
    /// The conversation is created by this turn.
    pub(super) start: bool,
    pub(super) request: TurnRequest,
    pub(super) lock: Arc<Mutex<()>>,
    pub(super) permit: OwnedSemaphorePermit,
    pub(super) store: Arc<dyn ConversationStore>,
    pub(super) router: Arc<dyn ModelRouter>,
}

impl std::fmt::Debug for TurnTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnTicket")
            .field("agent", &self.persona.name)
            .field("conversation_id", &self.conversation_id)
            .finish_non_exhaustive()
    }
}

/// A turn that has started: the upstream answered and the user message is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub conversation_id: String,
    /// The stored user message's id.
    pub user_message_id: String,
    /// The provider the turn went to.
    pub provider: String,
    /// The upstream model id.
    pub model: String,
}

/// What a started turn reports, in order: text and thinking as they arrive, then the tool calls,
/// the usage and `Done` once the assistant message is stored — or `Error`, after which nothing
/// follows.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnEvent {
    Text(String),
    Thinking(String),
    ToolCall {
        id: String,
        name: String,
        arguments: Value,
    },
    Usage(Usage),
    /// The assistant message, stored.
    Done(StoredMessage),
    Error(AgentError),
}

/// The rest of a started turn.
pub type TurnStream = Pin<Box<dyn Stream<Item = TurnEvent> + Send>>;

/// Runs one turn of the agent at `agent`; see the module documentation for what is stored when.
pub async fn start_turn(
    agent: &Addr<AgentActor>,
    request: TurnRequest,
) -> Result<(Started, TurnStream), AgentError> {
    let ticket = agent
        .send(StartTurn(request))
        .await
        .map_err(|_| AgentError::Stopped)??;
    ticket.run().await
}

impl TurnTicket {
    async fn run(self) -> Result<(Started, TurnStream), AgentError> {
        let TurnTicket {
            persona,
            conversation_id,
            start,
            request,
            lock,
            permit,
            store,
            router,
        } = self;
        let agent = persona.name.clone();
        let guard = lock.lock_owned().await;

        let history = {
            let (store, agent, conversation) =
                (Arc::clone(&store), agent.clone(), conversation_id.clone());
            blocking(move || store.history(&agent, &conversation)).await?
        };
        let history = match (history, start) {
            (Some(history), false) => history,
            (None, true) => Vec::new(),
            (None, false) => {
                return Err(HistoryError::NotFound {
                    agent,
                    conversation: conversation_id,
                }
                .into())
            }
            (Some(_), true) => {
                return Err(HistoryError::Failed(format!(
                    "a new conversation's id '{conversation_id}' is already taken - try again"
                ))
                .into())
            }
        };
        let route = router.route(&persona.model)?;
        let user = StoredMessage {
            id: super::new_id("msg"),
            role: Role::User,
            content: with_tool_names(request.content, &history),
            usage: None,
            stop_reason: None,
        };
        let tools = request.tools.unwrap_or_else(|| persona.tools.clone());
        let chat = chat_request(&persona, &history, &user, tools, &route, request.stream);
        let started = Started {
            conversation_id: conversation_id.clone(),
            user_message_id: user.id.clone(),
            provider: route.provider.clone(),
            model: route.model.clone(),
        };
        let saver = Saver {
            store,
            agent,
            conversation_id,
            start,
            _guard: guard,
            _permit: permit,
        };
        if request.stream {
            // The user message is written while the upstream thinks, so its flush costs the
            // first token nothing; if the upstream refuses, it is taken back.
            let user_id = user.id.clone();
            let (saved, answered) =
                tokio::join!(saver.save_user(user), provider::stream(&route.addr, chat));
            match (saved, answered) {
                (Ok(saved), Ok((events, _))) => Ok((started, relay(events, saved))),
                (Ok(saved), Err(error)) => {
                    saved.take_back(user_id).await;
                    Err(error.into())
                }
                (Err(error), _) => Err(error),
            }
        } else {
            let (answer, _) = provider::complete(&route.addr, chat).await?;
            let assistant = assistant_message(answer);
            saver.save_exchange(user, assistant.clone()).await?;
            let mut events = answer_events(&assistant);
            events.push_back(TurnEvent::Done(assistant));
            Ok((started, Box::pin(futures_util::stream::iter(events))))
        }
    }
}

/// Stores a turn's messages while holding the conversation's lock and the queue place, so the
/// next turn of the conversation reads a history that holds them.
struct Saver {
    store: Arc<dyn ConversationStore>,
    agent: String,
    conversation_id: String,
    /// The conversation is created with the first message stored.
    start: bool,
    /// Held, not read: the conversation is ours while the saver lives.
    _guard: OwnedMutexGuard<()>,
    _permit: OwnedSemaphorePermit,
}

impl Saver {
    /// Runs `write` on the blocking pool. The saver — the conversation's lock with it — moves
    /// into the write and back, so the lock is held until the write is durable even if the
    /// caller goes away meanwhile.
    async fn write<T: Send + 'static>(
        self,
        write: impl FnOnce(&dyn ConversationStore, &str, &str, bool) -> Result<T, HistoryError>
            + Send
            + 'static,
    ) -> Result<(Saver, T), AgentError> {
        blocking(move || {
            let out = write(
                self.store.as_ref(),
                &self.agent,
                &self.conversation_id,
                self.start,
            )?;
            Ok((self, out))
        })
        .await
    }

    /// Stores the user message (creating the conversation on its first turn).
    async fn save_user(self, user: StoredMessage) -> Result<UserSaved, AgentError> {
        let (saver, ()) = self
            .write(move |store, agent, conversation, start| {
                store.append(agent, conversation, std::slice::from_ref(&user), start)
            })
            .await?;
        Ok(UserSaved {
            created: saver.start,
            saver: Saver {
                start: false,
                ..saver
            },
        })
    }

    /// Stores the user message and the reply at once (a non-streamed turn).
    async fn save_exchange(
        self,
        user: StoredMessage,
        assistant: StoredMessage,
    ) -> Result<(), AgentError> {
        self.write(move |store, agent, conversation, start| {
            store.append(agent, conversation, &[user, assistant], start)
        })
        .await
        .map(|_| ())
    }
}

/// A turn whose user message is stored; only the reply is left to store.
struct UserSaved {
    saver: Saver,
    /// The conversation was created with the user message.
    created: bool,
}

impl UserSaved {
    /// Takes the user message back after the upstream refused the turn, so the refusal leaves
    /// the conversation as it was. Should that fail, the message stays as an incomplete turn.
    async fn take_back(self, message_id: String) {
        let created = self.created;
        let undone = self
            .saver
            .write(move |store, agent, conversation, _| {
                store.remove(agent, conversation, &message_id, created)
            })
            .await;
        if let Err(error) = undone {
            tracing::warn!(%error, "a refused turn's user message could not be taken back; it stays as an incomplete turn");
        }
    }

    async fn save_reply(self, assistant: StoredMessage) -> Result<(), AgentError> {
        self.saver
            .write(move |store, agent, conversation, _| {
                store.append(agent, conversation, &[assistant], false)
            })
            .await
            .map(|_| ())
    }
}

/// Runs a blocking store call on the blocking pool.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, HistoryError> + Send + 'static,
) -> Result<T, AgentError> {
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result.map_err(AgentError::from),
        Err(_) => Err(HistoryError::Failed("the storage task stopped".into()).into()),
    }
}

/// The request a turn sends: the system prompt, the history, the new message, the persona's
/// settings.
fn chat_request(
    persona: &Persona,
    history: &[StoredMessage],
    user: &StoredMessage,
    tools: Vec<Tool>,
    route: &Route,
    stream: bool,
) -> ChatRequest {
    let mut messages = Vec::with_capacity(history.len() + 2);
    if let Some(system) = persona.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(Message::text(Role::System, system));
    }
    messages.extend(history.iter().map(StoredMessage::to_message));
    messages.push(user.to_message());
    ChatRequest {
        model: route.model.clone(),
        messages,
        max_tokens: persona.max_tokens,
        temperature: persona.temperature,
        stop: persona.stop.clone(),
        tools,
        stream,
        include_usage: stream,
        ..ChatRequest::default()
    }
}

/// Tool results name their tool where the history has the call (Ollama needs the name; the
/// caller need only send the call's id).
fn with_tool_names(mut content: Vec<ContentPart>, history: &[StoredMessage]) -> Vec<ContentPart> {
    for part in &mut content {
        if let ContentPart::ToolResult {
            tool_call_id, name, ..
        } = part
        {
            if name.is_none() {
                *name = history
                    .iter()
                    .rev()
                    .flat_map(|m| &m.content)
                    .find_map(|p| match p {
                        ContentPart::ToolCall { id, name, .. } if id == tool_call_id => {
                            Some(name.clone())
                        }
                        _ => None,
                    });
            }
        }
    }
    content
}

/// The assistant message of a complete answer: every part kept (thinking with its signature,
/// tool calls with their vendor fields), so the next turn replays it as the upstream wants.
fn assistant_message(answer: ChatResponse) -> StoredMessage {
    StoredMessage {
        id: super::new_id("msg"),
        role: Role::Assistant,
        content: answer.content,
        usage: answer.usage,
        stop_reason: Some(answer.stop_reason),
    }
}

/// The events that tell a complete answer: its text, thinking, tool calls and usage.
fn answer_events(message: &StoredMessage) -> VecDeque<TurnEvent> {
    let mut events = VecDeque::new();
    for part in &message.content {
        match part {
            ContentPart::Text { text, .. } if !text.is_empty() => {
                events.push_back(TurnEvent::Text(text.clone()))
            }
            ContentPart::Thinking { text, .. } if !text.is_empty() => {
                events.push_back(TurnEvent::Thinking(text.clone()))
            }
            _ => {}
        }
    }
    events.extend(tool_call_events(message));
    if let Some(usage) = message.usage {
        events.push_back(TurnEvent::Usage(usage));
    }
    events
}

fn tool_call_events(message: &StoredMessage) -> impl Iterator<Item = TurnEvent> + '_ {
    message.content.iter().filter_map(|part| match part {
        ContentPart::ToolCall {
            id,
            name,
            arguments,
            ..
        } => Some(TurnEvent::ToolCall {
            id: id.clone(),
            name: name.clone(),
            arguments: arguments.clone(),
        }),
        _ => None,
    })
}

/// The relay's state.
struct Relay {
    events: EventStream,
    accumulator: StreamAccumulator,
    saver: Option<UserSaved>,
    pending: VecDeque<TurnEvent>,
    finished: bool,
}

/// Relays a started stream: text and thinking as they come; at the end the assistant message is
/// stored, then its tool calls, usage and `Done`.
fn relay(events: EventStream, saver: UserSaved) -> TurnStream {
    let state = Relay {
        events,
        accumulator: StreamAccumulator::new(),
        saver: Some(saver),
        pending: VecDeque::new(),
        finished: false,
    };
    Box::pin(futures_util::stream::unfold(
        state,
        |mut state| async move {
            loop {
                if let Some(event) = state.pending.pop_front() {
                    return Some((event, state));
                }
                if state.finished {
                    return None;
                }
                match state.events.next().await {
                    Some(event) => {
                        state.accumulator.push(&event);
                        match event {
                            StreamEvent::TextDelta { text, .. } if !text.is_empty() => {
                                return Some((TurnEvent::Text(text), state))
                            }
                            StreamEvent::ThinkingDelta {
                                delta: ThinkingDelta::Text(text),
                                ..
                            } if !text.is_empty() => {
                                return Some((TurnEvent::Thinking(text), state))
                            }
                            StreamEvent::Error(error) => {
                                state.finished = true;
                                return Some((TurnEvent::Error(error.into()), state));
                            }
                            _ => {}
                        }
                    }
                    None => {
                        state.finished = true;
                        let accumulator = std::mem::take(&mut state.accumulator);
                        let outcome = match accumulator.finish() {
                            Ok(answer) => Ok(assistant_message(answer)),
                            Err(error) => Err(AgentError::from(error)),
                        };
                        let saved = match (outcome, state.saver.take()) {
                            (Ok(assistant), Some(saver)) => saver
                                .save_reply(assistant.clone())
                                .await
                                .map(|()| assistant),
                            (Ok(_), None) => {
                                Err(HistoryError::Failed("the reply was already stored".into())
                                    .into())
                            }
                            (Err(error), _) => Err(error),
                        };
                        match saved {
                            Ok(assistant) => {
                                state.pending.extend(tool_call_events(&assistant));
                                if let Some(usage) = assistant.usage {
                                    state.pending.push_back(TurnEvent::Usage(usage));
                                }
                                state.pending.push_back(TurnEvent::Done(assistant));
                            }
                            Err(error) => state.pending.push_back(TurnEvent::Error(error)),
                        }
                    }
                }
            }
        },
    ))
}

/// Why a stored assistant message stopped, for callers that show it.
pub fn stop_reason_name(reason: &StopReason) -> &str {
    match reason {
        StopReason::EndTurn => "end_turn",
        StopReason::StopSequence => "stop_sequence",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::ContentFilter => "content_filter",
        StopReason::Paused => "pause_turn",
        StopReason::Other(other) => other,
    }
}
