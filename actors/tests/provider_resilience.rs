//! The provider actor under failure: retries and their spacing, the shared cool-down, no retry
//! after the first byte, cancellation, concurrency, limits, the circuit, and the documented errors.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use moxxy_actors::provider::{self, ProviderKind};
use moxxy_actors::ratelimit::RateLimitConfig;
use moxxy_actors::retry::CircuitConfig;
use moxxy_actors::{ErrorKind, StreamAccumulator, StreamEvent};
use moxxy_fake_upstream::{anthropic, ollama, openai, FakeUpstream, Reply};
use serde_json::json;

#[actix::test]
async fn retry_after_ms_is_honoured_between_attempts() {
    let fake = FakeUpstream::start().await.unwrap();
    let path = "/v1/chat/completions";
    fake.push_n(path, 2, openai::rate_limited(Duration::from_millis(300)));
    fake.push(
        path,
        openai::reply(openai::completion("finally", openai::Usage::new(1, 1))),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let (answer, _) = provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap();
    assert_eq!(answer.text(), "finally");
    let seen = fake.requests();
    assert_eq!(seen.len(), 3, "two retries after two 429s");
    for pair in seen.windows(2) {
        let gap = pair[1].received_at - pair[0].received_at;
        assert!(
            gap >= Duration::from_millis(290),
            "the retry waited as told: {gap:?}"
        );
    }
}

#[actix::test]
async fn spent_retries_on_429_give_rate_limit_exceeded_with_retry_after() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/messages", anthropic::rate_limited(1));
    let mut cfg = config(&fake, ProviderKind::Anthropic);
    cfg.retry.max_retries = 1;
    let addr = start(cfg).await;
    let err = provider::complete(&addr, ask("claude-sonnet-4-5", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.message, "Rate limit exceeded");
    assert_eq!(err.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(err.provider.as_deref(), Some("anthropic"));
    assert_eq!(fake.request_count("/v1/messages"), 2);
}

#[actix::test]
async fn overloaded_529_and_500_are_retried_then_succeed() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push("/v1/messages", anthropic::overloaded());
    fake.push("/v1/messages", anthropic::api_error());
    fake.push(
        "/v1/messages",
        anthropic::reply(anthropic::message("ok", anthropic::Usage::new(1, 1))),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;
    let (answer, _) = provider::complete(&addr, ask("claude-sonnet-4-5", "Hi"))
        .await
        .unwrap();
    assert_eq!(answer.text(), "ok");
    assert_eq!(fake.request_count("/v1/messages"), 3);
}

#[actix::test]
async fn an_error_before_the_first_real_event_is_retried() {
    let fake = FakeUpstream::start().await.unwrap();
    let failing = anthropic::StreamBuilder::new("claude-sonnet-4-5", anthropic::Usage::new(5, 0))
        .fail("overloaded_error", "Overloaded");
    fake.push("/v1/messages", Reply::sse(failing).reply());
    fake.push(
        "/v1/messages",
        Reply::sse(anthropic::stream_text("claude-sonnet-4-5", &["Hel", "lo"])).reply(),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;
    let events = stream_all(&addr, ask("claude-sonnet-4-5", "Hi")).await;
    let mut acc = StreamAccumulator::new();
    events.iter().for_each(|e| acc.push(e));
    assert_eq!(acc.finish().unwrap().text(), "Hello");
    assert_eq!(fake.request_count("/v1/messages"), 2);
}

#[actix::test]
async fn no_retry_after_the_first_byte_reached_the_caller() {
    let fake = FakeUpstream::start().await.unwrap();
    let chunks = openai::stream_text("gpt-4.1", &["one ", "two ", "three ", "four"], None);
    fake.push(
        "/v1/chat/completions",
        Reply::sse(chunks).cut_after(3).reply(),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let events = stream_all(&addr, ask("gpt-4.1", "Count")).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::TextDelta { .. })),
        "text arrived before the cut: {events:?}"
    );
    match events.last() {
        Some(StreamEvent::Error(e)) => {
            assert_eq!(e.kind, ErrorKind::Upstream);
            assert!(e.message.contains("cut off"), "{}", e.message);
        }
        other => panic!("the stream ends with an error event, got {other:?}"),
    }
    assert_eq!(
        fake.request_count("/v1/chat/completions"),
        1,
        "never retried once bytes went to the caller"
    );
}

#[actix::test]
async fn the_cool_down_holds_every_concurrent_caller() {
    let fake = FakeUpstream::start().await.unwrap();
    let path = "/v1/chat/completions";
    fake.push(path, openai::rate_limited(Duration::from_millis(800)));
    fake.set_default(
        path,
        openai::reply(openai::completion("ok", openai::Usage::new(1, 1))),
    );
    let mut cfg = config(&fake, ProviderKind::OpenAi);
    cfg.retry.max_retries = 0;
    let addr = start(cfg).await;
    let first = provider::complete(&addr, ask("gpt-4.1", "Hi")).await;
    assert_eq!(first.unwrap_err().kind, ErrorKind::RateLimited);
    let limited_at = fake.requests()[0].received_at;

    let callers = (0..5).map(|_| provider::complete(&addr, ask("gpt-4.1", "Hi")));
    let results = futures_util::future::join_all(callers).await;
    assert!(results.iter().all(Result::is_ok));
    let later = &fake.requests()[1..];
    assert_eq!(later.len(), 5);
    for request in later {
        let gap = request.received_at - limited_at;
        assert!(
            gap >= Duration::from_millis(780),
            "no caller reached the upstream during the cool-down: {gap:?}"
        );
    }
}

#[actix::test]
async fn dropping_a_stream_closes_the_upstream_connection() {
    let fake = FakeUpstream::start().await.unwrap();
    let pieces: Vec<String> = (0..200).map(|i| format!("w{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    fake.push(
        "/v1/messages",
        Reply::sse(anthropic::stream_text("claude-sonnet-4-5", &pieces))
            .pause(Duration::from_millis(20))
            .reply(),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;
    let (mut stream, _) = provider::stream(&addr, ask("claude-sonnet-4-5", "Talk"))
        .await
        .unwrap();
    let mut texts = 0;
    while texts < 2 {
        if let Some(StreamEvent::TextDelta { .. }) = stream.next().await {
            texts += 1;
        }
    }
    drop(stream);
    assert!(
        fake.wait_aborted(1, Duration::from_secs(5)).await,
        "the fake saw its client go away"
    );
}

#[actix::test]
async fn two_hundred_concurrent_streams_through_one_actor_all_complete() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default(
        "/v1/chat/completions",
        Reply::sse(openai::stream_text(
            "gpt-4.1",
            &["a", "b", "c"],
            Some(openai::Usage::new(3, 3)),
        ))
        .pause(Duration::from_millis(10))
        .reply(),
    );
    fake.set_recording(false);
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let runs = (0..200).map(|_| {
        let addr = addr.clone();
        async move {
            let events = stream_all(&addr, ask("gpt-4.1", "Hi")).await;
            let mut acc = StreamAccumulator::new();
            events.iter().for_each(|e| acc.push(e));
            acc.finish().map(|r| r.text())
        }
    });
    let texts = futures_util::future::join_all(runs).await;
    assert_eq!(texts.len(), 200);
    for text in texts {
        assert_eq!(text.unwrap(), "abc");
    }
    assert_eq!(fake.requests_served(), 200);
}

#[actix::test]
async fn the_limiter_refuses_past_its_requests_per_minute() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default(
        "/v1/chat/completions",
        openai::reply(openai::completion("ok", openai::Usage::new(1, 1))),
    );
    let mut cfg = config(&fake, ProviderKind::OpenAi);
    cfg.rate_limit = RateLimitConfig {
        requests_per_minute: Some(2),
        tokens_per_minute: None,
    };
    cfg.retry.max_total_wait = Duration::from_secs(1);
    let addr = start(cfg).await;
    for _ in 0..2 {
        provider::complete(&addr, ask("gpt-4.1", "Hi"))
            .await
            .unwrap();
    }
    let err = provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.message, "Rate limit exceeded");
    assert!(err.retry_after.is_some());
    assert_eq!(
        fake.request_count("/v1/chat/completions"),
        2,
        "the third never left"
    );
}

#[actix::test]
async fn authentication_failure_is_not_retried_and_says_so_word_for_word() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/chat/completions", openai::invalid_api_key());
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let err = provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Authentication);
    assert_eq!(err.message, "Authentication failed - check your API key");
    assert_eq!(fake.request_count("/v1/chat/completions"), 1);
}

#[actix::test]
async fn unknown_models_are_refused_locally_and_upstream_404s_name_the_model() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut cfg = config(&fake, ProviderKind::OpenAiCompatible);
    cfg.id = "xai".into();
    cfg.models = vec!["grok-3".into()];
    let addr = start(cfg).await;
    let err = provider::complete(&addr, ask("grok-9", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Model 'grok-9' not found");
    assert_eq!(err.kind, ErrorKind::ModelNotFound);
    assert!(fake.requests().is_empty(), "refused before any request");

    fake.push("/v1/chat/completions", openai::model_not_found("grok-3"));
    let err = provider::complete(&addr, ask("grok-3", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Model 'grok-3' not found");

    fake.push("/api/chat", ollama::model_not_found("mistral"));
    let ollama = start(config(&fake, ProviderKind::Ollama)).await;
    let err = provider::complete(&ollama, ask("mistral", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ModelNotFound);
}

#[actix::test]
async fn a_provider_without_a_key_says_which_variable_to_set() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut cfg = config(&fake, ProviderKind::Anthropic);
    cfg.credentials = Credentials::None;
    cfg.key_env_hint = Some("ANTHROPIC_API_KEY".into());
    let addr = start(cfg).await;
    let err = provider::complete(&addr, ask("claude-sonnet-4-5", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoCredentials);
    assert_eq!(
        err.message,
        "No API key set for provider 'anthropic' - set ANTHROPIC_API_KEY or register one"
    );
    assert!(fake.requests().is_empty());
}

#[actix::test]
async fn ollama_down_fails_promptly_naming_the_address() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut cfg =
        moxxy_actors::provider::ProviderConfig::new("ollama", ProviderKind::Ollama, base.clone());
    cfg.retry.max_retries = 0;
    let addr = start(cfg).await;
    let started = Instant::now();
    let err = provider::complete(&addr, ask("llama3", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        format!("Ollama connection failed: could not reach {base}")
    );
    assert_eq!(err.kind, ErrorKind::Unreachable);
    assert!(started.elapsed() < Duration::from_secs(5), "no long hang");
}

#[actix::test]
async fn the_circuit_opens_after_repeated_failures_and_refuses_without_calling() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.set_default("/v1/chat/completions", openai::server_error());
    let mut cfg = config(&fake, ProviderKind::OpenAi);
    cfg.retry.max_retries = 0;
    cfg.circuit = CircuitConfig {
        failure_threshold: 3,
        open_for: Duration::from_millis(300),
    };
    let addr = start(cfg).await;
    for _ in 0..3 {
        let err = provider::complete(&addr, ask("gpt-4.1", "Hi"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Upstream);
    }
    let err = provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::CircuitOpen);
    assert_eq!(fake.request_count("/v1/chat/completions"), 3);

    // After the open period one probe goes through; its success closes the circuit.
    fake.set_default(
        "/v1/chat/completions",
        openai::reply(openai::completion("back", openai::Usage::new(1, 1))),
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (answer, _) = provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap();
    assert_eq!(answer.text(), "back");
    provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap();
}

#[actix::test]
async fn an_upstream_message_that_echoes_the_key_is_redacted() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        openai::error(
            400,
            "invalid_request_error",
            None,
            &format!("Bad request for key {TEST_KEY}, prefix {}", &TEST_KEY[..12]),
        ),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let err = provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(!err.message.contains(TEST_KEY), "{}", err.message);
    assert!(!err.message.contains(&TEST_KEY[..12]), "{}", err.message);
    assert!(!format!("{err:?}").contains(&TEST_KEY[..12]));
}

#[actix::test]
async fn redirects_are_never_followed_so_the_key_stays_home() {
    let fake = FakeUpstream::start().await.unwrap();
    let elsewhere = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        Reply::json(307, json!({})).header("location", &format!("{}/v1/messages", elsewhere.url())),
    );
    let mut cfg = config(&fake, ProviderKind::Anthropic);
    cfg.retry.max_retries = 0;
    let addr = start(cfg).await;
    let result = provider::complete(&addr, ask("claude-sonnet-4-5", "Hi")).await;
    assert!(result.is_err());
    assert!(
        elsewhere.requests().is_empty(),
        "the other host never saw the key"
    );
}

#[actix::test]
async fn an_unsupported_parameter_is_dropped_and_sent_again_once() {
    let fake = FakeUpstream::start().await.unwrap();
    let path = "/v1/chat/completions";
    fake.push(
        path,
        Reply::json(
            400,
            json!({"error": {
                "message": "Unsupported parameter: 'top_p' is not supported with this model.",
                "type": "invalid_request_error",
                "param": "top_p",
                "code": "unsupported_parameter"
            }}),
        ),
    );
    fake.push(
        path,
        openai::reply(openai::completion("ok", openai::Usage::new(1, 1))),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let mut req = ask("gpt-4.1", "Hi");
    req.top_p = Some(0.5);
    let (answer, _) = provider::complete(&addr, req).await.unwrap();
    assert_eq!(answer.text(), "ok");
    let seen = fake.requests();
    assert_eq!(seen[0].json()["top_p"], 0.5);
    assert!(seen[1].json().get("top_p").is_none());
}

#[actix::test]
async fn a_stalled_stream_ends_with_an_error_event_not_a_hang() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        Reply::sse(openai::stream_text("gpt-4.1", &["a", "b", "c"], None))
            .stall_after(2)
            .reply(),
    );
    let mut cfg = config(&fake, ProviderKind::OpenAi);
    cfg.timeouts.stream_idle = Duration::from_millis(300);
    let addr = start(cfg).await;
    let events = stream_all(&addr, ask("gpt-4.1", "Hi")).await;
    match events.last() {
        Some(StreamEvent::Error(e)) => assert_eq!(e.kind, ErrorKind::Timeout),
        other => panic!("an idle timeout error, got {other:?}"),
    }
}

#[actix::test]
async fn a_huge_answer_is_refused_with_a_clear_error() {
    let fake = FakeUpstream::start().await.unwrap();
    let huge = vec![b' '; 65 * 1024 * 1024];
    fake.push(
        "/v1/chat/completions",
        Reply::bytes(200, "application/json", huge),
    );
    let mut cfg = config(&fake, ProviderKind::OpenAi);
    cfg.retry.max_retries = 0;
    let addr = start(cfg).await;
    let err = provider::complete(&addr, ask("gpt-4.1", "Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(
        err.message.contains("larger than 64 MiB"),
        "{}",
        err.message
    );
}

#[actix::test]
async fn a_json_error_given_to_a_streamed_request_is_the_upstreams_error() {
    let fake = FakeUpstream::start().await.unwrap();
    let path = "/v1/chat/completions";
    let body = openai::error_body("invalid_request_error", None, "Unknown parameter: 'foo'");
    fake.push(path, Reply::json(200, body));
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let mut req = ask("gpt-4.1", "Hi");
    req.stream = true;
    let err = match provider::stream(&addr, req).await {
        Err(err) => err,
        Ok(_) => panic!("a JSON error body must not open a stream"),
    };
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(err.message, "Unknown parameter: 'foo'");
    assert_eq!(
        fake.request_count(path),
        1,
        "an invalid request is not retried"
    );
}

#[actix::test]
async fn a_whole_answer_given_to_a_streamed_request_streams_its_content() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/messages",
        anthropic::reply(anthropic::tool_use_message(
            "Checking.",
            "toolu_1",
            "get_weather",
            json!({"city": "Paris"}),
            anthropic::Usage::new(5, 7),
        )),
    );
    let addr = start(config(&fake, ProviderKind::Anthropic)).await;
    let events = stream_all(&addr, ask("claude-sonnet-4-5", "Hi")).await;
    let mut acc = StreamAccumulator::new();
    for event in &events {
        acc.push(event);
    }
    let answer = acc.finish().unwrap();
    assert_eq!(answer.text(), "Checking.");
    let calls: Vec<_> = answer.tool_calls().collect();
    assert_eq!(
        calls,
        [("toolu_1", "get_weather", &json!({"city": "Paris"}))]
    );
    assert_eq!(answer.usage.map(|u| u.output_tokens), Some(7));
}

#[actix::test]
async fn a_line_that_never_ends_is_abandoned_at_64_mib_not_buffered_whole() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut chunks = openai::stream_text("gpt-4.1", &["a", "b"], None);
    chunks.truncate(2);
    let mut line = b"data: ".to_vec();
    line.resize(65 * 1024 * 1024, b'x');
    chunks.push(line.into());
    // After the huge line the stream stalls: only the limit can end it before the idle timeout.
    fake.push(
        "/v1/chat/completions",
        Reply::sse(chunks).stall_after(3).reply(),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let events = tokio::time::timeout(
        Duration::from_secs(60),
        stream_all(&addr, ask("gpt-4.1", "Hi")),
    )
    .await
    .expect("the limit ends the stream, not the 120 s idle timeout");
    match events.last() {
        Some(StreamEvent::Error(e)) => {
            assert_eq!(e.kind, ErrorKind::Upstream);
            assert!(
                e.message
                    .contains("more than 64 MiB without completing an event"),
                "{}",
                e.message
            );
        }
        other => panic!("a size error, got {other:?}"),
    }
}

#[actix::test]
async fn an_event_stream_labelled_json_is_still_read_as_a_stream() {
    let fake = FakeUpstream::start().await.unwrap();
    fake.push(
        "/v1/chat/completions",
        Reply::sse(openai::stream_text("gpt-4.1", &["Hel", "lo"], None))
            .header("content-type", "application/json")
            .reply(),
    );
    let addr = start(config(&fake, ProviderKind::OpenAi)).await;
    let events = stream_all(&addr, ask("gpt-4.1", "Hi")).await;
    let mut acc = StreamAccumulator::new();
    for event in &events {
        acc.push(event);
    }
    assert_eq!(acc.finish().unwrap().text(), "Hello");
}
