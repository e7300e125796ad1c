//! `POST /v1/agents/{name}/messages`: one turn.
//!
//! The turn is admitted and run by the engine (`moxxy_actors::agent`); this route turns its
//! outcome into HTTP. Anything that fails before the turn started (a full queue, an unknown
//! conversation, the upstream refusing) is a plain JSON error and leaves the conversation as it
//! was. A started turn answers as JSON once the reply is stored, or as SSE events as they come:
//! `start`, `text`, `thinking`, `tool_call`, `usage`, `done` — or `error`, which ends the stream.

use std::convert::Infallible;

use actix_web::{web, HttpResponse};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use moxxy_actors::agent::turn::stop_reason_name;
use moxxy_actors::agent::{self, AgentError, HistoryError, TurnEvent, TurnRequest};
use moxxy_actors::{ErrorKind, ProviderError};
use serde_json::{json, Value};

use super::input::{self, TurnInput};
use super::{conversation_not_found, find, views};
use crate::api::completion::{sse_response, Recorder};
use crate::api::error::current_request_id;
use crate::api::{body, ApiError, AppState};
use crate::auth::token::Scope;
use crate::auth::Caller;
use crate::shutdown::{cut_off, SHUTTING_DOWN};
use crate::store::NoRoom;

/// `POST /v1/agents/{name}/messages`. A streamed turn still going when the server's shutdown
/// grace period ends gets the `error` event `The server is shutting down - retry the request` and
/// stays an incomplete turn (its user message, no reply).
pub async fn post(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Chat)?;
    let entry = find(&state, &name)?;
    let turn: TurnInput = body::json(payload, state.config.server.body_limit_bytes).await?;
    if let Some(id) = &turn.conversation_id {
        if !input::is_conversation_id(id) {
            return Err(conversation_not_found(&name, id));
        }
    }
    let request = TurnRequest {
        conversation_id: turn.conversation_id,
        content: input::content_parts(turn.content)?,
        tools: turn
            .tools
            .map(|tools| input::tools(tools, "tools"))
            .transpose()?,
        stream: turn.stream,
    };
    let (started, events) = agent::start_turn(&entry.addr, request)
        .await
        .map_err(api_error)?;
    let recorder = Recorder::new(state.metrics.clone(), &started.provider, &started.model);
    let conversation_id = started.conversation_id.clone();
    if turn.stream {
        let start = sse_event(
            "start",
            &json!({"conversation_id": conversation_id, "agent": name.as_str()}),
        );
        let events: agent::TurnStream = Box::pin(cut_off(events, state.shutdown.cut(), || {
            let error = ProviderError::new(ErrorKind::Unavailable, SHUTTING_DOWN);
            TurnEvent::Error(AgentError::Provider(error))
        }));
        let body = sse_body(start, events, conversation_id, recorder);
        return Ok(sse_response().streaming(body));
    }
    let mut events = events;
    while let Some(event) = events.next().await {
        match event {
            TurnEvent::Done(assistant) => {
                recorder.finish(assistant.usage.as_ref(), None);
                return Ok(
                    HttpResponse::Ok().json(views::turn_answer(&conversation_id, &assistant))
                );
            }
            TurnEvent::Error(error) => {
                let error = api_error(error);
                recorder.finish(None, None);
                return Err(error);
            }
            _ => {}
        }
    }
    Err(ApiError::internal(&"the turn ended without a reply"))
}

/// A turn's failure as the API reports it.
pub fn api_error(error: AgentError) -> ApiError {
    match error {
        AgentError::Busy { .. } => {
            let mut api = ApiError::unavailable(error.to_string()).with_code("agent_busy");
            api.retry_after = Some(std::time::Duration::from_secs(1));
            api
        }
        AgentError::History(HistoryError::NotFound { .. }) => {
            ApiError::not_found(error.to_string()).with_code("conversation_not_found")
        }
        AgentError::History(HistoryError::StorageFull { restart }) => {
            ApiError::storage_full(if restart {
                NoRoom::FreeSpaceAndRestart
            } else {
                NoRoom::FreeSpace
            })
        }
        AgentError::History(HistoryError::Failed(_)) => {
            tracing::error!(error = %error, "a turn could not be stored");
            ApiError::new(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                error.to_string(),
            )
            .with_code("storage_error")
        }
        AgentError::Provider(e) => e.into(),
        AgentError::Stopped => ApiError::unavailable(error.to_string()),
    }
}

/// One SSE event: `event: NAME` and one `data:` line of JSON.
fn sse_event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// The SSE body of a started turn: `start`, then one event per turn event as it arrives.
fn sse_body(
    start: Bytes,
    events: agent::TurnStream,
    conversation_id: String,
    recorder: Recorder,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    // The request id of the turn, for error events written after the handler returned.
    let request_id = current_request_id();
    let rest = events.map(move |event| {
        let bytes = match event {
            TurnEvent::Text(text) => sse_event("text", &json!({"text": text})),
            TurnEvent::Thinking(text) => sse_event("thinking", &json!({"text": text})),
            TurnEvent::ToolCall {
                id,
                name,
                arguments,
            } => sse_event(
                "tool_call",
                &json!({"id": id, "name": name, "arguments": arguments}),
            ),
            TurnEvent::Usage(usage) => sse_event("usage", &views::usage_view(usage)),
            TurnEvent::Done(assistant) => {
                recorder.finish(assistant.usage.as_ref(), None);
                let stop_reason = assistant.stop_reason.as_ref().map(stop_reason_name);
                sse_event(
                    "done",
                    &json!({
                        "conversation_id": conversation_id,
                        "message_id": assistant.id,
                        "stop_reason": stop_reason,
                    }),
                )
            }
            TurnEvent::Error(error) => {
                let kind = match &error {
                    AgentError::Provider(e) => Some(e.kind.clone()),
                    _ => None,
                };
                recorder.finish(None, kind.as_ref());
                let mut body = api_error(error).body();
                body["error"]["request_id"] = json!(request_id);
                sse_event("error", &body)
            }
        };
        Ok(bytes)
    });
    futures_util::stream::once(async move { Ok(start) }).chain(rest)
}
