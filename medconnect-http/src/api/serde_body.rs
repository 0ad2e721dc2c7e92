//! A JSON answer serialised by serde straight into bytes, documented in the spec by its
//! poem-openapi type. `Json<T>` first builds a `serde_json::Value` tree of the whole answer
//! (a map allocation per object, a copy of every string) and then serialises the tree:
//! for large answers (an interaction report is ~12 KB) that was half of the server's work.
//! The body `B` is either the documented type itself (deriving both `Object` and
//! `Serialize`) or a type written to give the same JSON; either way a test checks that the
//! JSON is the one poem-openapi would give.

use std::marker::PhantomData;

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

/// `200 OK` with `B` as JSON, serialised by serde, documented in the spec as `T`.
pub struct SerdeJson<T, B = T> {
    body: B,
    documented_as: PhantomData<fn() -> T>,
}

impl<T, B> SerdeJson<T, B> {
    pub fn new(body: B) -> Self {
        Self { body, documented_as: PhantomData }
    }
}

const CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T: Type, B: Send> Payload for SerdeJson<T, B> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Room the body starts with: an interaction report is ~12 KB, and growing a vector from
/// serde_json's default 128 bytes copies it seven times.
const BODY_CAPACITY: usize = 16 * 1024;

impl<T, B: Serialize + Send> IntoResponse for SerdeJson<T, B> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(BODY_CAPACITY);
        match serde_json::to_writer(&mut body, &self.body) {
            Ok(()) => Response::builder().content_type(CONTENT_TYPE).body(body),
            // Only a map with non-string keys can fail, and no answer has one.
            Err(_) => Response::builder().status(poem::http::StatusCode::INTERNAL_SERVER_ERROR).finish(),
        }
    }
}

impl<T: Type, B: Serialize + Send> ApiResponse for SerdeJson<T, B> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType { content_type: CONTENT_TYPE, schema: T::schema_ref() }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}
