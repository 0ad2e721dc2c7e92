//! Names the field at fault in a malformed request. poem-openapi's parse errors say
//! which *type* failed but not which field ("expected number, found null"), so before
//! an operation runs, its JSON body, path and query parameters are checked against the
//! operation's own OpenAPI schema (the one served at `/openapi.json`), and the first
//! mismatch becomes a 400 whose `field` is the dotted path, such as `entry.value`.
//! A request this check passes is parsed by poem-openapi as usual.

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
}

/// The parts of the spec needed to check requests, indexed once at start-up.
pub struct RequestSchemas {
    spec: Value,
    /// (method, path segments) → operation object.
    operations: Vec<(String, Vec<String>, Value)>,
}

impl RequestSchemas {
    pub fn new(spec: Value) -> Self {
        let mut operations = Vec::new();
        if let Some(paths) = spec["paths"].as_object() {
            for (path, item) in paths {
                let segments: Vec<String> = path.trim_matches('/').split('/').map(str::to_owned).collect();
                for (method, op) in item.as_object().into_iter().flatten() {
                    operations.push((method.to_ascii_uppercase(), segments.clone(), op.clone()));
                }
            }
        }
        Self { spec, operations }
    }

    fn operation(&self, method: &str, path: &str) -> Option<(&Value, HashMap<String, String>)> {
        let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.operations.iter().filter(|(m, segs, _)| m == method && segs.len() == actual.len()).find_map(
            |(_, segs, op)| {
                let mut params = HashMap::new();
                for (template, value) in segs.iter().zip(&actual) {
                    match template.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                        Some(name) => {
                            params.insert(name.to_owned(), (*value).to_owned());
                        }
                        None if template == value => {}
                        None => return None,
                    }
                }
                Some((op, params))
            },
        )
    }

    /// Checks path and query parameters and, for JSON, the body. `None` when nothing is
    /// found wrong (or the route is unknown: routing answers that).
    pub fn check(&self, method: &str, path: &str, query: &str, json_body: Option<&[u8]>) -> Option<Fault> {
        let (op, path_params) = self.operation(method, path)?;
        let query: Vec<(String, String)> = form_pairs(query);
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default();
            let schema = &param["schema"];
            let values: Vec<&str> = match param["in"].as_str() {
                Some("path") => path_params.get(name).map(String::as_str).into_iter().collect(),
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
        self.check_value(schema, &value, "").err()
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name) => &self.spec["components"]["schemas"][name],
            None => schema,
        }
    }

    fn check_value(&self, schema: &Value, value: &Value, at: &str) -> Result<(), Fault> {
        let schema = self.resolve(schema);
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.check_value(part, value, at)?;
        }
        if let Some(discriminator) = schema["discriminator"]["propertyName"].as_str() {
            let field = join(at, discriminator);
            let tag =
                value.get(discriminator).and_then(Value::as_str).ok_or_else(|| Fault::new(&field, "is required"))?;
            let target = schema["discriminator"]["mapping"][tag].as_str().ok_or_else(|| {
                let known: Vec<&str> = schema["discriminator"]["mapping"]
                    .as_object()
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                Fault::new(&field, format!("must be one of: {}", known.join(", ")))
            })?;
            return self.check_value(&serde_json::json!({ "$ref": target }), value, at);
        }
        let expected = schema["type"].as_str();
        match (expected, value) {
            (_, Value::Null) if expected.is_some() => Err(Fault::new(at, "must not be null")),
            (Some("object"), Value::Object(obj)) => self.check_object(schema, obj, at),
            (Some("object"), _) => Err(Fault::new(at, "must be an object")),
            (Some("array"), Value::Array(items)) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| self.check_value(&schema["items"], v, &format!("{at}[{i}]"))),
            (Some("array"), _) => Err(Fault::new(at, "must be an array")),
            (Some("string"), Value::String(s)) => self.check_scalar_text(schema, s).map_err(|r| Fault::new(at, r)),
            (Some("string"), _) => Err(Fault::new(at, "must be a string")),
            (Some("number"), Value::Number(_)) => Ok(()),
            (Some("number"), _) => Err(Fault::new(at, "must be a number")),
            (Some("integer"), Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
            (Some("integer"), _) => Err(Fault::new(at, "must be a whole number")),
            (Some("boolean"), Value::Bool(_)) => Ok(()),
            (Some("boolean"), _) => Err(Fault::new(at, "must be true or false")),
            _ => Ok(()),
        }
    }

    fn check_object(&self, schema: &Value, obj: &Map<String, Value>, at: &str) -> Result<(), Fault> {
        for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if obj.get(name).is_none_or(Value::is_null) {
                return Err(Fault::new(&join(at, name), "is required"));
            }
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            match obj.get(name) {
                None | Some(Value::Null) => {}
                Some(v) => self.check_value(property, v, &join(at, name))?,
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
            _ => Ok(()),
        }
    }
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() { name.to_owned() } else { format!("{at}.{name}") }
}

/// Decodes `a=1&b=x%20y` pairs (form encoding), as poem does.
fn form_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}
