//! The spec as served, at `/openapi.json`, in Swagger UI at `/docs`, by `medconnect
//! openapi`, and to the tests: poem-openapi's document, with one thing poem-openapi cannot
//! express added. Request objects refuse unknown fields (`deny_unknown_fields`), so their
//! schemas say `additionalProperties: false`; clients and fuzzers then know an extra field
//! is an error rather than something to try.

use serde_json::Value;

use crate::AllApis;

/// The served spec (JSON text).
pub fn served(api: &poem_openapi::OpenApiService<AllApis, ()>) -> std::io::Result<String> {
    let mut spec: Value = serde_json::from_str(&api.spec())
        .map_err(|e| std::io::Error::other(format!("the OpenAPI spec does not parse as JSON: {e}")))?;
    close_request_objects(&mut spec);
    serde_json::to_string(&spec).map_err(std::io::Error::other)
}

/// Swagger UI's page with the served spec embedded (poem-openapi embeds its own).
pub fn swagger_ui(api: &poem_openapi::OpenApiService<AllApis, ()>, served: &str) -> std::io::Result<String> {
    let original = api.spec();
    let page = api.swagger_ui_html();
    if !page.contains(&original) {
        return Err(std::io::Error::other("Swagger UI does not embed the spec where expected"));
    }
    Ok(page.replacen(&original, served, 1))
}

fn close_request_objects(spec: &mut Value) {
    let mut names = Vec::new();
    for item in spec["paths"].as_object().into_iter().flat_map(|p| p.values()) {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            for (content_type, media) in op["requestBody"]["content"].as_object().into_iter().flatten() {
                if content_type.starts_with("application/json") {
                    collect_refs(spec, &media["schema"], &mut names);
                }
            }
        }
    }
    for name in names {
        let schema = &mut spec["components"]["schemas"][&name];
        if schema["type"] == "object"
            && schema["properties"].is_object()
            && schema.get("additionalProperties").is_none()
        {
            schema["additionalProperties"] = Value::Bool(false);
        }
    }
}

/// Every component schema a schema refers to, directly or through properties, items,
/// compositions and discriminator mappings.
fn collect_refs(spec: &Value, schema: &Value, names: &mut Vec<String>) {
    let mut refs = Vec::new();
    gather(schema, &mut refs);
    for name in refs {
        if !names.contains(&name) {
            names.push(name.clone());
            collect_refs(spec, &spec["components"]["schemas"][&name], names);
        }
    }
}

fn gather(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/components/schemas/") {
                            refs.push(name.to_owned());
                        }
                    }
                    ("mapping", Value::Object(m)) => {
                        for target in m.values().filter_map(Value::as_str) {
                            if let Some(name) = target.strip_prefix("#/components/schemas/") {
                                refs.push(name.to_owned());
                            }
                        }
                    }
                    ("example", _) => {}
                    _ => gather(v, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| gather(v, refs)),
        _ => {}
    }
}
