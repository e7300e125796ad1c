//! Upstream streams → unified events.

use moxxy_actors::provider::openai::Dialect;
use moxxy_actors::{ErrorKind, StopReason, StreamEvent, ThinkingDelta, Usage};
use serde_json::json;

use crate::{accumulate, decode_all, decode_in_pieces, fixture, without_ids};

fn tool_delta(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta {
        index,
        id: id.map(str::to_string),
        name: name.map(str::to_string),
        arguments: arguments.to_string(),
        extra: Default::default(),
    }
}

#[test]
fn the_spec_example_decodes_exactly() {
    let events = decode_all(Dialect::OpenAi, &fixture("spec_example.sse"));
    let expected = vec![
        StreamEvent::Start {
            id: "chatcmpl-9x".into(),
            model: "gpt-4.1".into(),
        },
        StreamEvent::TextDelta {
            index: 0,
            text: "Checking.".into(),
        },
        tool_delta(1, Some("call_7Yq"), Some("get_weather"), ""),
        tool_delta(1, None, None, "{\"ci"),
        tool_delta(1, None, None, "ty\":\"Paris\"}"),
        StreamEvent::Stop {
            reason: StopReason::ToolUse,
            stop_sequence: None,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 82,
            output_tokens: 21,
            ..Usage::default()
        }),
    ];
    assert_eq!(events, expected);

    let answer = accumulate(&events);
    assert_eq!(answer.text(), "Checking.");
    let calls: Vec<_> = answer.tool_calls().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "call_7Yq");
    assert_eq!(calls[0].1, "get_weather");
    assert_eq!(*calls[0].2, json!({"city": "Paris"}));
    assert_eq!(answer.stop_reason, StopReason::ToolUse);
}

#[test]
fn feeding_one_byte_at_a_time_gives_the_same_events() {
    for name in [
        "spec_example.sse",
        "parallel_tools.sse",
        "deepseek_reasoning.sse",
        "gemini_no_index.sse",
    ] {
        let body = fixture(name);
        let whole = without_ids(&decode_all(Dialect::Generic, &body));
        for size in [1, 2, 7] {
            let pieces = without_ids(&decode_in_pieces(Dialect::Generic, &body, size));
            assert_eq!(pieces, whole, "{name} in pieces of {size}");
        }
    }
}

#[test]
fn parallel_tool_calls_are_assembled_by_index() {
    let events = decode_all(Dialect::OpenAi, &fixture("parallel_tools.sse"));
    let answer = accumulate(&events);
    let calls: Vec<_> = answer.tool_calls().collect();
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].0, calls[0].1), ("call_A", "get_weather"));
    assert_eq!(*calls[0].2, json!({"city": "Paris"}));
    assert_eq!((calls[1].0, calls[1].1), ("call_B", "get_time"));
    assert_eq!(*calls[1].2, json!({"zone": "CET"}));
    assert_eq!(answer.stop_reason, StopReason::ToolUse);
}

#[test]
fn gemini_calls_without_index_stay_separate_and_stop_means_tool_use() {
    let events = decode_all(Dialect::Gemini, &fixture("gemini_no_index.sse"));
    let answer = accumulate(&events);
    let calls: Vec<_> = answer.tool_calls().collect();
    assert_eq!(calls.len(), 2, "{events:?}");
    assert_eq!(calls[0].0, "function-call-1");
    assert_eq!(*calls[0].2, json!({"city": "Paris"}));
    assert!(calls[1].0.starts_with("call_"), "an empty id is generated");
    assert_eq!(*calls[1].2, json!({"city": "Rome"}));
    assert_eq!(answer.stop_reason, StopReason::ToolUse);
    // The thought signature rides along on the first call.
    let extra = answer.content.iter().find_map(|p| match p {
        moxxy_actors::ContentPart::ToolCall { extra, .. } if !extra.is_empty() => Some(extra),
        _ => None,
    });
    assert_eq!(
        extra.unwrap()["extra_content"]["google"]["thought_signature"],
        "c2lnLW9uZQ=="
    );
    // Usage on the last content chunk counts too.
    assert_eq!(answer.usage.unwrap().input_tokens, 40);
}

#[test]
fn deepseek_reasoning_comes_before_text_and_keep_alives_are_skipped() {
    let events = decode_all(Dialect::DeepSeek, &fixture("deepseek_reasoning.sse"));
    assert!(events.iter().all(|e| !matches!(e, StreamEvent::Error(_))));
    assert!(matches!(
        &events[1],
        StreamEvent::ThinkingDelta { index: 0, delta: ThinkingDelta::Text(t) } if t == "The user greets; "
    ));
    let answer = accumulate(&events);
    assert!(matches!(
        &answer.content[0],
        moxxy_actors::ContentPart::Thinking { text, signature: None } if text == "The user greets; answer briefly."
    ));
    assert_eq!(answer.text(), "Hello!");
    assert_eq!(answer.stop_reason, StopReason::EndTurn);
    let usage = answer.usage.unwrap();
    assert_eq!(
        usage.input_tokens, 100,
        "prompt_tokens includes the cache hits"
    );
    assert_eq!(usage.cache_read_tokens, 64);
    assert_eq!(usage.reasoning_tokens, 20);
}

#[test]
fn the_usage_only_chunk_maps_cached_tokens() {
    let body = concat!(
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":2000,\"completion_tokens\":50,",
        "\"prompt_tokens_details\":{\"cached_tokens\":1536},\"completion_tokens_details\":{\"reasoning_tokens\":32}}}\n\n",
        "data: [DONE]\n\n"
    );
    let events = decode_all(Dialect::OpenAi, body.as_bytes());
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Usage(Usage {
            input_tokens: 2000,
            output_tokens: 50,
            cache_read_tokens: 1536,
            cache_write_tokens: 0,
            reasoning_tokens: 32,
        }))
    );
}

#[test]
fn no_usage_is_none_not_zero() {
    let body = "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    let events = decode_all(Dialect::OpenAi, body.as_bytes());
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Usage(_))));
    assert_eq!(accumulate(&events).usage, None);
}

#[test]
fn a_mid_stream_error_ends_the_stream() {
    let body = concat!(
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\n",
        "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tial\"},\"finish_reason\":null}]}\n\n",
    );
    let events = decode_all(Dialect::OpenAi, body.as_bytes());
    let StreamEvent::Error(error) = events.last().unwrap() else {
        panic!("expected an error last: {events:?}");
    };
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert_eq!(error.message, "The server had an error");
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Error(_)))
            .count(),
        1
    );
    assert!(!events
        .iter()
        .any(|e| matches!(e, StreamEvent::TextDelta { text, .. } if text == "tial")));
}

#[test]
fn a_truncated_stream_is_an_error_but_a_finish_reason_without_done_is_complete() {
    let cut = "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hal\"},\"finish_reason\":null}]}\n\n";
    let events = decode_all(Dialect::OpenAi, cut.as_bytes());
    let StreamEvent::Error(error) = events.last().unwrap() else {
        panic!("expected an error: {events:?}");
    };
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert_eq!(
        error.message,
        "the stream from the upstream ended before it finished"
    );

    let finished = "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"done\"},\"finish_reason\":\"length\"}]}\n\n";
    let events = decode_all(Dialect::OpenAi, finished.as_bytes());
    assert!(
        !events.iter().any(|e| matches!(e, StreamEvent::Error(_))),
        "{events:?}"
    );
    assert_eq!(accumulate(&events).stop_reason, StopReason::MaxTokens);
}

#[test]
fn done_with_spaces_and_keepalive_data_are_understood() {
    let body = concat!(
        "data: : keep-alive\n\n",
        "data:\n\n",
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":null}]}\n\n",
        "data:   [DONE]  \n\n",
    );
    let events = decode_all(Dialect::Generic, body.as_bytes());
    assert!(
        !events.iter().any(|e| matches!(e, StreamEvent::Error(_))),
        "{events:?}"
    );
    let answer = accumulate(&events);
    assert_eq!(answer.text(), "ok");
    assert_eq!(answer.stop_reason, StopReason::EndTurn);
}

#[test]
fn ollama_reasoning_field_and_capacity_cut_are_handled() {
    let body = "data: {\"id\":\"c\",\"model\":\"qwen3\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"hmm\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c\",\"model\":\"qwen3\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"insufficient_system_resource\"}]}\n\n";
    let events = decode_all(Dialect::Generic, body.as_bytes());
    assert!(
        matches!(&events[1], StreamEvent::ThinkingDelta { delta: ThinkingDelta::Text(t), .. } if t == "hmm")
    );
    let StreamEvent::Error(error) = events.last().unwrap() else {
        panic!("expected an error: {events:?}");
    };
    assert_eq!(error.kind, ErrorKind::Overloaded);
    assert!(error.is_retryable());
}
