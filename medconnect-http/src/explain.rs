//! Names the field at fault in a malformed request. poem-openapi's parse errors say
//! which *type* failed but not which field ("expected number, found null"), so before
//! an operation runs, its JSON body, path and query parameters are checked against the
//! operation's own OpenAPI schema (the one served at `/openapi.json`), and the first
//! mismatch becomes a 400 whose `field` is the dotted path, such as `entry.value`.
//! A request this check passes is parsed by poem-openapi as usual.
//!
//! The same schemas check responses, strictly (no `null` where the spec does not allow
//! one, no property the spec does not list): the integration tests run every response
//! they receive through [`SpecSchemas::check_response`], so the served spec is a contract.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// A field and what is wrong with it.
#[derive(Debug, PartialEq, Eq)]
pub struct Fault {
    pub field: String,
    pub reason: String,
}

impl Fault {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        Self { field: field.to_owned(), reason: reason.into() }
    }

    fn at(at: &At<'_>, reason: impl Into<String>) -> Self {
        Self { field: at.to_string(), reason: reason.into() }
    }
}

/// Where in a JSON value the walk is, written out (`entry.values[2]`) only for a fault:
/// building the text at every step cost an allocation per field and per array item.
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Field(&'a At<'a>, &'a str),
    Item(&'a At<'a>, usize),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root => Ok(()),
            At::Field(At::Root, name) => f.write_str(name),
            At::Field(parent, name) => write!(f, "{parent}.{name}"),
            At::Item(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// What checking a request against the spec found.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// Nothing in the request contradicts its operation (a body that is not JSON at all is
    /// left to poem, whose message says where).
    Passed,
    Fault(Fault),
    /// The spec has no operation for this method and path: routing answers (404, or 405
    /// with the methods the path has).
    NoOperation,
}

/// The served spec, indexed once at start-up, to check requests and responses against.
pub struct SpecSchemas {
    /// `components/schemas` by name, hashed: `$ref`s are resolved at every step of a walk.
    components: HashMap<String, Value>,
    /// (method, path segments) → operation object.
    operations: Vec<(String, Vec<String>, Value)>,
}

impl SpecSchemas {
    pub fn new(spec: Value) -> Self {
        let components = spec["components"]["schemas"]
            .as_object()
            .map(|schemas| schemas.iter().map(|(name, schema)| (name.clone(), schema.clone())).collect())
            .unwrap_or_default();
        let mut operations = Vec::new();
        if let Some(paths) = spec["paths"].as_object() {
            for (path, item) in paths {
                let segments: Vec<String> = path.trim_matches('/').split('/').map(str::to_owned).collect();
                for (method, op) in item.as_object().into_iter().flatten() {
                    operations.push((method.to_ascii_uppercase(), segments.clone(), op.clone()));
                }
            }
        }
        Self { components, operations }
    }

    /// The operation for a method and path, with the path's parameters by name.
    fn operation<'a, 'p>(&'a self, method: &str, path: &'p str) -> Option<(&'a Value, PathParams<'a, 'p>)> {
        let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.operations
            .iter()
            .filter(|(m, _, _)| m == method)
            .find_map(|(_, template, op)| Some((op, path_params(template, &actual)?)))
    }

    /// The methods the spec has for a path, when the path is one of the spec's (`None`
    /// otherwise: routing answers 404). A parameter must not be empty here.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<&str>> {
        let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
        let methods: Vec<&str> = self
            .operations
            .iter()
            .filter(|(_, template, _)| {
                path_params(template, &actual).is_some_and(|params| params.iter().all(|(_, v)| !v.is_empty()))
            })
            .map(|(m, _, _)| m.as_str())
            .collect();
        (!methods.is_empty()).then_some(methods)
    }

    /// Checks path and query parameters and, for JSON, the body. One lookup of the
    /// operation serves both this check and, only when there is none, the 405's methods.
    pub fn check(&self, method: &str, path: &str, query: &str, json_body: Option<&[u8]>) -> Checked {
        let Some((op, path_params)) = self.operation(method, path) else {
            return Checked::NoOperation;
        };
        match self.check_request(op, &path_params, query, json_body) {
            Some(fault) => Checked::Fault(fault),
            None => Checked::Passed,
        }
    }

    fn check_request(
        &self,
        op: &Value,
        path_params: &PathParams<'_, '_>,
        query: &str,
        json_body: Option<&[u8]>,
    ) -> Option<Fault> {
        let query: Vec<(String, String)> = form_pairs(query);
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default();
            let schema = &param["schema"];
            let values: Vec<&str> = match param["in"].as_str() {
                Some("path") => path_params.iter().filter(|(n, _)| *n == name).map(|(_, v)| *v).collect(),
                Some("query") => query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect(),
                _ => continue,
            };
            let item_schema = if schema["type"] == "array" { &schema["items"] } else { schema };
            for value in values {
                if let Err(reason) = self.check_scalar_text(item_schema, value) {
                    return Some(Fault::new(name, reason));
                }
            }
        }
        let body = json_body?;
        let schema = op["requestBody"]["content"]
            .as_object()?
            .iter()
            .find(|(ct, _)| ct.starts_with("application/json"))
            .map(|(_, media)| &media["schema"])?;
        let value: Value = serde_json::from_slice(body).ok()?; // syntax errors: poem's message says where
        self.check_value(schema, &value, &At::Root, false).err()
    }

    /// Checks a response against the operation's documented response for its status (or
    /// the `default` response), strictly. Statuses the operation does not document, and
    /// JSON bodies under a content type it does not list, are faults too.
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), Fault> {
        let Some((op, _)) = self.operation(method, path) else {
            return Ok(()); // not an operation of the spec (Swagger UI, the spec itself, unknown routes)
        };
        let responses = &op["responses"];
        let response = match &responses[status.to_string()] {
            Value::Null => &responses["default"],
            documented => documented,
        };
        if response.is_null() {
            return Err(Fault::new("status", format!("{status} is not documented for {method} {path}")));
        }
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        let Some(content) = response["content"].as_object() else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(Fault::new("body", format!("{status} is documented without a body")))
            };
        };
        let Some((_, media)) =
            content.iter().find(|(ct, _)| ct.split(';').next().unwrap_or_default().trim() == media_type)
        else {
            return Err(Fault::new("content-type", format!("{media_type} is not documented for {status}")));
        };
        if !media_type.ends_with("json") {
            return Ok(());
        }
        let value: Value =
            serde_json::from_slice(body).map_err(|_| Fault::new("body", "is not the JSON the content type says"))?;
        self.check_value(&media["schema"], &value, &At::Root, true)
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        const NULL: Value = Value::Null;
        match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name) => self.components.get(name).unwrap_or(&NULL),
            None => schema,
        }
    }

    /// Checks a value against a schema. `strict` (responses): `null` only where the spec
    /// says `nullable`, and no property the spec does not list.
    fn check_value(&self, schema: &Value, value: &Value, at: &At<'_>, strict: bool) -> Result<(), Fault> {
        self.check_part(schema, value, at, strict, false)
    }

    /// `part_of_all`: the schema is one part of an `allOf`, whose other parts list the other
    /// properties, so unknown properties are judged by the whole (see `check_composition`).
    fn check_part(
        &self,
        schema: &Value,
        value: &Value,
        at: &At<'_>,
        strict: bool,
        part_of_all: bool,
    ) -> Result<(), Fault> {
        let schema = self.resolve(schema);
        if let Some(parts) = schema["allOf"].as_array() {
            return self.check_composition(schema, parts, value, at, strict);
        }
        if let Some(discriminator) = schema["discriminator"]["propertyName"].as_str() {
            let field = At::Field(at, discriminator);
            let tag =
                value.get(discriminator).and_then(Value::as_str).ok_or_else(|| Fault::at(&field, "is required"))?;
            let target = schema["discriminator"]["mapping"][tag].as_str().ok_or_else(|| {
                let known: Vec<&str> = schema["discriminator"]["mapping"]
                    .as_object()
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                Fault::at(&field, format!("must be one of: {}", known.join(", ")))
            })?;
            return self.check_part(&serde_json::json!({ "$ref": target }), value, at, strict, part_of_all);
        }
        let expected = schema["type"].as_str();
        match (expected, value) {
            (_, Value::Null) if schema["nullable"] == true => Ok(()),
            (_, Value::Null) => Err(Fault::at(at, "must not be null: leave the field out instead")),
            (Some("object"), Value::Object(obj)) => self.check_object(schema, obj, at, strict, part_of_all),
            (Some("object"), _) => Err(Fault::at(at, "must be an object")),
            (Some("array"), Value::Array(items)) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| self.check_value(&schema["items"], v, &At::Item(at, i), strict)),
            (Some("array"), _) => Err(Fault::at(at, "must be an array")),
            (Some("string"), Value::String(s)) => self.check_scalar_text(schema, s).map_err(|r| Fault::at(at, r)),
            (Some("string"), _) => Err(Fault::at(at, "must be a string")),
            (Some("number"), Value::Number(_)) => Ok(()),
            (Some("number"), _) => Err(Fault::at(at, "must be a number")),
            (Some("integer"), Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
            (Some("integer"), _) => Err(Fault::at(at, "must be a whole number")),
            (Some("boolean"), Value::Bool(_)) => Ok(()),
            (Some("boolean"), _) => Err(Fault::at(at, "must be true or false")),
            _ => Ok(()),
        }
    }

    /// An `allOf`: every part holds, and (strictly) every property is listed by some part.
    fn check_composition(
        &self,
        schema: &Value,
        parts: &[Value],
        value: &Value,
        at: &At<'_>,
        strict: bool,
    ) -> Result<(), Fault> {
        for part in parts {
            self.check_part(part, value, at, strict, true)?;
        }
        let own = schema.as_object().map(|o| {
            o.iter().filter(|(k, _)| *k != "allOf").map(|(k, v)| (k.clone(), v.clone())).collect::<Map<String, Value>>()
        });
        if own.as_ref().is_some_and(|o| o.contains_key("properties")) {
            self.check_part(&Value::Object(own.unwrap_or_default()), value, at, strict, true)?;
        }
        if let (true, Value::Object(obj)) = (strict, value) {
            let listed = |name: &str| {
                std::iter::once(schema)
                    .chain(parts.iter().map(|p| self.resolve(p)))
                    .any(|s| s["properties"].get(name).is_some() || s["additionalProperties"].is_object())
            };
            if let Some(extra) = obj.keys().find(|k| !listed(k)) {
                return Err(Fault::at(&At::Field(at, extra), "is not in the spec"));
            }
        }
        Ok(())
    }

    fn check_object(
        &self,
        schema: &Value,
        obj: &Map<String, Value>,
        at: &At<'_>,
        strict: bool,
        part_of_all: bool,
    ) -> Result<(), Fault> {
        for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if obj.get(name).is_none_or(Value::is_null) {
                return Err(Fault::at(&At::Field(at, name), "is required"));
            }
        }
        let properties = schema["properties"].as_object();
        for (name, property) in properties.into_iter().flatten() {
            // One rule on both sides: an absent field is left out, never sent as `null`
            // (unless the spec says `nullable`).
            if let Some(v) = obj.get(name) {
                self.check_value(property, v, &At::Field(at, name), strict)?;
            }
        }
        let unlisted = obj.iter().filter(|(k, _)| properties.is_none_or(|p| !p.contains_key(*k)));
        if schema["additionalProperties"].is_object() {
            for (name, v) in unlisted {
                self.check_value(&schema["additionalProperties"], v, &At::Field(at, name), strict)?;
            }
        } else if strict && !part_of_all && schema["additionalProperties"] != true {
            if let Some((extra, _)) = unlisted.into_iter().next() {
                return Err(Fault::at(&At::Field(at, extra), "is not in the spec"));
            }
        }
        Ok(())
    }

    /// Strings (and parameters, which arrive as text) against enum and format.
    fn check_scalar_text(&self, schema: &Value, text: &str) -> Result<(), String> {
        let schema = self.resolve(schema);
        if let Some(options) = schema["enum"].as_array() {
            if !options.iter().any(|o| o.as_str() == Some(text)) {
                let names: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
                return Err(format!("must be one of: {}", names.join(", ")));
            }
        }
        match (schema["type"].as_str(), schema["format"].as_str()) {
            (_, Some("uuid")) if uuid::Uuid::parse_str(text).is_err() => Err("must be a UUID".into()),
            (_, Some("date")) if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() => {
                Err("must be a valid date as YYYY-MM-DD".into())
            }
            (_, Some("date-time")) if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
                Err("must be an RFC 3339 date-time such as 2024-05-01T08:30:00Z".into())
            }
            (Some("integer"), _) if text.parse::<i64>().is_err() => Err("must be a whole number".into()),
            (Some("number"), _) if text.parse::<f64>().is_err() => Err("must be a number".into()),
            (Some("integer" | "number"), _) => within_bounds(schema, text.parse::<f64>().unwrap_or_default()),
            _ => Ok(()),
        }
    }
}

/// A path's parameters: (name in the template, value in the path).
type PathParams<'a, 'p> = Vec<(&'a str, &'p str)>;

/// Matches a path's segments against a template's (`{name}` matches any segment); the
/// parameters when it matches.
fn path_params<'a, 'p>(template: &'a [String], actual: &[&'p str]) -> Option<PathParams<'a, 'p>> {
    if template.len() != actual.len() {
        return None;
    }
    let mut params = Vec::new();
    for (segment, value) in template.iter().zip(actual) {
        match segment.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) => params.push((name, *value)),
            None if segment == value => {}
            None => return None,
        }
    }
    Some(params)
}

/// `minimum` and `maximum` (inclusive, as the spec states them).
fn within_bounds(schema: &Value, n: f64) -> Result<(), String> {
    if let Some(min) = schema["minimum"].as_f64().filter(|min| n < *min) {
        return Err(format!("must be at least {min}"));
    }
    if let Some(max) = schema["maximum"].as_f64().filter(|max| n > *max) {
        return Err(format!("must be at most {max}"));
    }
    Ok(())
}

/// Decodes `a=1&b=x%20y` pairs (form encoding), as poem does.
fn form_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> SpecSchemas {
        SpecSchemas::new(serde_json::from_str(&crate::spec::served(&crate::openapi("/")).expect("spec")).expect("spec"))
    }

    fn account(extra: Value) -> Vec<u8> {
        let mut body = serde_json::json!({
            "id": "0b5e8d3a-6c61-4c59-9f0e-0c2a7e9b2d11", "email": "ada@example.org", "role": "patient",
            "active": true, "created_at": "2026-11-28T10:00:00Z", "updated_at": "2026-11-28T10:00:00Z"
        });
        for (k, v) in extra.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        serde_json::to_vec(&body).expect("json")
    }

    const JSON: &str = "application/json; charset=utf-8";

    #[test]
    fn responses_are_checked_strictly_against_the_spec() {
        let spec = served();
        assert!(spec.check_response("GET", "/me", 200, JSON, &account(serde_json::json!({}))).is_ok());
        let null = spec.check_response("GET", "/me", 200, JSON, &account(serde_json::json!({ "patient_id": null })));
        assert_eq!(null.map_err(|f| f.field), Err("patient_id".to_owned()), "null where the spec has no null");
        let extra = spec.check_response("GET", "/me", 200, JSON, &account(serde_json::json!({ "secret": 1 })));
        assert_eq!(extra.map_err(|f| f.field), Err("secret".to_owned()), "a property the spec does not list");
        let wrong = spec.check_response("GET", "/me", 200, JSON, &account(serde_json::json!({ "role": "pharmacist" })));
        assert!(wrong.is_err(), "a value outside the enum");
        assert!(spec.check_response("GET", "/me", 409, "application/problem+json", b"{}").is_err(), "undocumented");
    }

    #[test]
    fn a_fault_names_the_field_by_its_path_in_the_body() {
        let spec = served();
        let check = |path: &str, body: &[u8]| match spec.check("POST", path, "", Some(body)) {
            Checked::Fault(fault) => Some((fault.field, fault.reason)),
            _ => None,
        };
        let item = check("/interactions/check", br#"{"drugs":["warfarin",1]}"#);
        assert_eq!(item, Some(("drugs[1]".to_owned(), "must be a string".to_owned())));
        let nested = br#"{"patient_id":"0b5e8d3a-6c61-4c59-9f0e-0c2a7e9b2d11","entry":{"kind":"observation","code":"8480-6","value":null,"unit":"mm[Hg]"}}"#;
        assert_eq!(check("/medical_data", nested).map(|(field, _)| field), Some("entry.value".to_owned()));
        let top = check("/interactions/check", br#"{"drugs":"warfarin"}"#);
        assert_eq!(top, Some(("drugs".to_owned(), "must be an array".to_owned())));
        assert_eq!(check("/interactions/check", br#"{"drugs":["warfarin","aspirin"]}"#), None);
    }

    #[test]
    fn problems_and_discriminated_outputs_are_checked_through_their_compositions() {
        let spec = served();
        let problem = br#"{"type":"/problems/unauthenticated","title":"Unauthorized","status":401,"detail":"no"}"#;
        assert!(spec.check_response("GET", "/me", 401, "application/problem+json", problem).is_ok());
        let unlisted = br#"{"type":"/x","title":"t","status":401,"detail":"d","stack":"..."}"#;
        assert!(spec.check_response("GET", "/me", 401, "application/problem+json", unlisted).is_err());
        let schema = serde_json::json!({ "$ref": "#/components/schemas/OutputView" });
        let risk = serde_json::json!({ "kind": "diabetes_risk", "probability": 0.2, "band": "low",
            "top_factors": [], "explanation_method": "m", "missing": [], "warnings": [] });
        assert!(spec.check_value(&schema, &risk, &At::Root, true).is_ok());
        let mut mislabelled = risk.clone();
        mislabelled["kind"] = serde_json::json!("treatment_options");
        assert!(spec.check_value(&schema, &mislabelled, &At::Root, true).is_err(), "checked against the tagged kind");
    }
}
