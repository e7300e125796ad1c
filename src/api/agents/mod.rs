//! `/v1/agents`: agents, their conversations, and turns (API.md, *Agents*).
//!
//! - this module: list, create, show, change and remove agents; list, show and delete
//!   conversations;
//! - [`turn`]: `POST /v1/agents/{name}/messages`, one turn, as JSON or SSE;
//! - [`input`]: the bodies and their checks; [`views`]: the JSON the routes answer with.
//!
//! Agents from config.toml are read-only here (409 saying to edit the file). An API agent's
//! record is written (flushed) before its actor starts, and removed before it stops, so what the
//! API acknowledged is what a restart brings back.

pub mod input;
pub mod turn;
pub mod views;

use actix_web::{web, HttpResponse};
use moxxy_actors::agent::ModelRouter;
use moxxy_actors::agent::{GetPersona, Persona, SetPersona};
use serde_json::json;

use self::input::{AgentChange, NewAgent};
use super::{body, ApiError, AppState};
use crate::agents::{self, AgentEntry, AgentSource, Router};
use crate::auth::token::Scope;
use crate::auth::Caller;
use crate::store::{AgentRecord, StoreError, SCHEMA};

/// `GET /v1/agents`.
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let mut data = Vec::new();
    for (name, entry) in state.agents.list() {
        data.push(agent_view(&state, &name, &entry).await?);
    }
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}

/// `POST /v1/agents`: 201 with the agent; 409 when the name is taken.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let new: NewAgent = body::json(payload, state.config.server.body_limit_bytes).await?;
    let persona = new.into_persona()?;
    check_model(&state, &persona)?;
    if state.agents.get(&persona.name).is_some() {
        return Err(exists(&persona.name));
    }
    let now = crate::time::now_rfc3339();
    let record = AgentRecord {
        schema: SCHEMA,
        persona: persona.clone(),
        created_at: now.clone(),
        updated_at: now,
    };
    state.store.agents().create(&record).map_err(|e| match e {
        StoreError::Conflict { .. } => exists(&persona.name),
        other => ApiError::write_failed(&other),
    })?;
    let entry = AgentEntry {
        addr: agents::spawn(&state, persona.clone()),
        source: AgentSource::Api,
    };
    if !state.agents.insert_new(&persona.name, entry.clone()) {
        return Err(exists(&persona.name));
    }
    tracing::info!(agent = %persona.name, model = %persona.model, "agent created");
    Ok(HttpResponse::Created().json(agent_view(&state, &persona.name, &entry).await?))
}

/// `GET /v1/agents/{name}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let entry = find(&state, &name)?;
    Ok(HttpResponse::Ok().json(agent_view(&state, &name, &entry).await?))
}

/// `PATCH /v1/agents/{name}`: the next turn uses the change; turns running finish with the old
/// persona.
pub async fn patch(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let entry = find(&state, &name)?;
    if entry.source == AgentSource::Config {
        return Err(read_only(&name));
    }
    let change: AgentChange = body::json(payload, state.config.server.body_limit_bytes).await?;
    let persona = change.apply(persona_of(&entry).await?)?;
    check_model(&state, &persona)?;
    let mut record = state
        .store
        .agents()
        .get(&name)
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| not_found(&name))?;
    record.persona = persona.clone();
    record.updated_at = crate::time::now_rfc3339();
    state.store.agents().replace(&record).map_err(|e| match e {
        StoreError::NotFound { .. } => not_found(&name),
        other => ApiError::write_failed(&other),
    })?;
    entry
        .addr
        .send(SetPersona(persona))
        .await
        .map_err(|_| stopped(&name))?;
    Ok(HttpResponse::Ok().json(agent_view(&state, &name, &entry).await?))
}

/// `DELETE /v1/agents/{name}`: 204; the agent and its conversations are gone.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let entry = find(&state, &name)?;
    if entry.source == AgentSource::Config {
        return Err(read_only(&name));
    }
    state
        .store
        .agents()
        .delete(&name)
        .map_err(|e| ApiError::write_failed(&e))?;
    state.agents.remove(&name);
    // The record went with its conversations in one transaction; this sweeps up what a turn
    // still running wrote after it.
    state
        .store
        .conversations()
        .delete_agent(&name)
        .map_err(|e| ApiError::write_failed(&e))?;
    tracing::info!(agent = %name.as_str(), "agent deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/agents/{name}/conversations`: most recently updated first.
pub async fn list_conversations(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    find(&state, &name)?;
    let records = state
        .store
        .conversations()
        .list(&name)
        .map_err(|e| ApiError::internal(&e))?;
    let data: Vec<_> = records.iter().map(views::conversation_summary).collect();
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}

/// `GET /v1/agents/{name}/conversations/{id}`: the conversation with its messages.
pub async fn get_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let (name, id) = path.into_inner();
    find(&state, &name)?;
    let conversations = state.store.conversations();
    let missing = || conversation_not_found(&name, &id);
    if !input::is_conversation_id(&id) {
        return Err(missing());
    }
    let record = conversations
        .get(&name, &id)
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(missing)?;
    let messages = conversations
        .messages(&name, &id)
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(missing)?;
    Ok(HttpResponse::Ok().json(views::conversation(&record, &messages)))
}

/// `DELETE /v1/agents/{name}/conversations/{id}`: 204.
pub async fn delete_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Chat)?;
    let (name, id) = path.into_inner();
    find(&state, &name)?;
    if !input::is_conversation_id(&id)
        || !state
            .store
            .conversations()
            .delete(&name, &id)
            .map_err(|e| ApiError::write_failed(&e))?
    {
        return Err(conversation_not_found(&name, &id));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The running agent `name`, or 404.
pub(crate) fn find(state: &AppState, name: &str) -> Result<AgentEntry, ApiError> {
    state.agents.get(name).ok_or_else(|| not_found(name))
}

async fn persona_of(entry: &AgentEntry) -> Result<Persona, ApiError> {
    entry
        .addr
        .send(GetPersona)
        .await
        .map_err(|_| ApiError::unavailable("The agent stopped - try again"))
}

async fn agent_view(
    state: &AppState,
    name: &str,
    entry: &AgentEntry,
) -> Result<serde_json::Value, ApiError> {
    let persona = persona_of(entry).await?;
    let record = match entry.source {
        AgentSource::Api => state
            .store
            .agents()
            .get(name)
            .map_err(|e| ApiError::internal(&e))?,
        AgentSource::Config => None,
    };
    let conversations = state.store.conversations().count(name);
    Ok(views::agent(
        &persona,
        entry.source,
        record.as_ref(),
        conversations,
    ))
}

/// A persona's model must route now: a typo is refused when it is made, not at the first turn.
fn check_model(state: &AppState, persona: &Persona) -> Result<(), ApiError> {
    Router::new(state).route(&persona.model).map(|_| ()).map_err(|e| {
        ApiError::bad_request(format!(
            "model: {} - name a model a running provider offers (PROVIDER/MODEL, a model id or an alias)",
            e.message
        ))
        .with_param("model")
    })
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Agent '{name}' not found"))
}

fn exists(name: &str) -> ApiError {
    ApiError::conflict(format!("Agent '{name}' already exists"))
}

fn read_only(name: &str) -> ApiError {
    ApiError::conflict(format!(
        "Agent '{name}' is defined in config.toml - change it there and restart moxxy"
    ))
}

fn stopped(name: &str) -> ApiError {
    ApiError::unavailable(format!("Agent '{name}' stopped - try again"))
}

pub(crate) fn conversation_not_found(agent: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("Conversation '{id}' not found for agent '{agent}'"))
}
