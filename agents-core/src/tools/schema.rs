//! JSON schemas for tool arguments, derived from Rust types with schemars.
//!
//! Two forms are produced: a *relaxed* schema (plain JSON Schema 2020-12, for providers without a
//! strict mode) and a *strict* one that OpenAI accepts with `strict: true`. Strict mode only takes
//! a subset of JSON Schema: every object is closed and lists all its properties as required
//! (optional ones become nullable), there is no `oneOf`/`allOf`, no maps, no tuples and no
//! recursion. [`make_strict`] rewrites what it can and reports what it cannot.

use serde_json::{Map, Value};

/// `format` values OpenAI strict mode understands; others (schemars' `int32`, `double`, ...) are
/// dropped.
const ALLOWED_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Keys dropped everywhere: annotations strict mode rejects, and `$defs` (refs are inlined).
/// `uniqueItems` (from sets) is not supported either; a set dedups on deserialization anyway.
const STRIPPED_KEYS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "definitions",
    "title",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "uniqueItems",
];

/// Keywords with no strict-mode equivalent: a schema using them cannot be made strict.
const UNSUPPORTED_KEYS: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "prefixItems",
    "additionalItems",
    "patternProperties",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "$dynamicRef",
    "$recursiveRef",
];

/// Most object properties a strict schema may have, counted over all objects.
const MAX_PROPERTIES: usize = 100;
/// Most levels of nested objects in a strict schema (the root object is level 1).
const MAX_OBJECT_DEPTH: usize = 5;

/// Why a schema cannot be used in strict mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// Strict mode needs the arguments to be an object.
    #[error("strict mode needs the root schema to be `\"type\": \"object\"`, found {found}")]
    RootNotObject {
        /// What the root was instead.
        found: String,
    },
    /// A keyword with no strict-mode equivalent, such as `allOf`, `not` or `prefixItems` (tuples).
    #[error("`{keyword}` is not supported in strict mode (at {})", at(.path))]
    Unsupported {
        /// The keyword.
        keyword: String,
        /// JSON pointer to the schema using it.
        path: String,
    },
    /// An object with free-form keys (`additionalProperties`), as for `HashMap<String, T>`.
    #[error("maps (objects with `additionalProperties`) are not supported in strict mode (at {})", at(.path))]
    Map {
        /// JSON pointer to the map schema.
        path: String,
    },
    /// A `$ref` that refers back to a schema it is part of.
    #[error("recursive `$ref` `{reference}` is not supported in strict mode (at {})", at(.path))]
    Recursive {
        /// The `$ref` value.
        reference: String,
        /// JSON pointer to the schema holding the `$ref`.
        path: String,
    },
    /// A `$ref` that is not a local JSON pointer into the schema, or points at nothing.
    #[error("`$ref` `{reference}` cannot be resolved (at {})", at(.path))]
    UnresolvedRef {
        /// The `$ref` value.
        reference: String,
        /// JSON pointer to the schema holding the `$ref`.
        path: String,
    },
    /// A schema that accepts any value (`true`, `{}`, e.g. `serde_json::Value`); strict mode
    /// needs a `type`.
    #[error("a schema accepting any value is not supported in strict mode; it needs a `type` (at {})", at(.path))]
    Untyped {
        /// JSON pointer to the schema.
        path: String,
    },
    /// Merging a `$ref`, single-element `allOf` or single-variant `anyOf` into its parent would
    /// give a keyword two different values.
    #[error("conflicting values for `{keyword}` when merging subschemas (at {})", at(.path))]
    Conflict {
        /// The keyword with two values.
        keyword: String,
        /// JSON pointer to the merged schema.
        path: String,
    },
    /// Not a valid JSON schema.
    #[error("invalid schema: {reason} (at {})", at(.path))]
    Invalid {
        /// What is wrong.
        reason: String,
        /// JSON pointer to the offending schema.
        path: String,
    },
    /// Too many object properties in total.
    #[error("the schema has {count} object properties; strict mode allows at most {limit}")]
    TooManyProperties {
        /// Properties counted over all objects.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Objects nested too deeply.
    #[error("objects are nested {depth} levels deep; strict mode allows at most {limit} (at {})", at(.path))]
    TooDeep {
        /// Nesting level of the object at `path` (the root object is level 1).
        depth: usize,
        /// The limit.
        limit: usize,
        /// JSON pointer to the too-deep object.
        path: String,
    },
}

/// Renders a JSON pointer for messages; the empty pointer is the root.
fn at(path: &str) -> &str {
    if path.is_empty() {
        "the root"
    } else {
        path
    }
}

/// Relaxed schema for T: schemars draft 2020-12 with subschemas inlined, no `$schema` meta key,
/// root `title` removed (it is the Rust type name, meaningless to the model). Recursive types
/// still keep `$defs`/`$ref`.
pub fn relaxed_schema_for<T: schemars::JsonSchema>() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Some(root) = schema.as_object_mut() {
        root.remove("$schema");
        root.remove("title");
    }
    schema
}

/// Rewrites a schema (e.g. from [`relaxed_schema_for`]) into OpenAI strict form, or says why it
/// cannot be.
///
/// Objects get `additionalProperties: false` and list every property as required; properties
/// that were optional become nullable. `oneOf` becomes `anyOf`, `$ref`s are inlined, and keys
/// strict mode rejects (`default`, `title`, unknown `format`s, ...) are dropped.
pub fn make_strict(schema: Value) -> Result<Value, SchemaError> {
    let mut root = match schema {
        Value::Object(root) => root,
        other => {
            return Err(SchemaError::RootNotObject {
                found: format!("`{other}`"),
            })
        }
    };
    // The tool's own name and description say what the arguments are for.
    for key in ["$schema", "title", "description"] {
        root.remove(key);
    }
    check_root_type(&root)?;
    let original = Value::Object(root.clone());
    let mut strictifier = Strictifier {
        original: &original,
        expanding: Vec::new(),
        properties: 0,
    };
    let mut strict = strictifier.walk(Value::Object(root), "", 0)?;
    // An inlined root `$ref` may have brought these back.
    strict.remove("description");
    check_root_type(&strict)?;
    if !strict.contains_key("type") {
        return Err(SchemaError::RootNotObject {
            found: "a schema without `type`".into(),
        });
    }
    if strictifier.properties > MAX_PROPERTIES {
        return Err(SchemaError::TooManyProperties {
            count: strictifier.properties,
            limit: MAX_PROPERTIES,
        });
    }
    Ok(Value::Object(strict))
}

/// [`relaxed_schema_for`] then [`make_strict`].
pub fn strict_schema_for<T: schemars::JsonSchema>() -> Result<Value, SchemaError> {
    make_strict(relaxed_schema_for::<T>())
}

/// Errors if the root has a `type` other than exactly `"object"` (strict mode rejects even
/// `["object", "null"]` there).
fn check_root_type(root: &Map<String, Value>) -> Result<(), SchemaError> {
    match root.get("type") {
        None => Ok(()),
        Some(t) if t == "object" => Ok(()),
        Some(t) => Err(SchemaError::RootNotObject {
            found: format!("`\"type\": {t}`"),
        }),
    }
}

/// The recursive walker behind [`make_strict`].
struct Strictifier<'a> {
    /// The input schema, to resolve `$ref`s against (its `$defs` live there).
    original: &'a Value,
    /// `$ref`s being inlined, innermost last; meeting one of them again means recursion.
    expanding: Vec<String>,
    /// Object properties seen so far, for the size limit.
    properties: usize,
}

impl Strictifier<'_> {
    /// Rewrites the schema at `path`, which sits inside `depth` levels of objects.
    fn walk(
        &mut self,
        schema: Value,
        path: &str,
        depth: usize,
    ) -> Result<Map<String, Value>, SchemaError> {
        let mut map = match schema {
            Value::Object(map) => map,
            Value::Bool(true) => return Err(SchemaError::Untyped { path: path.into() }),
            other => return Err(invalid(path, format!("expected a schema, found `{other}`"))),
        };

        // Subschemas that just add to this one are merged in, then the result is walked again.
        if let Some(reference) = map.remove("$ref") {
            return self.inline_ref(map, reference, path, depth);
        }
        if let Some(all_of) = map.remove("allOf") {
            let only = single(all_of).ok_or_else(|| unsupported("allOf", path))?;
            merge(&mut map, only, path)?;
            return self.walk(Value::Object(map), path, depth);
        }
        if let Some(one_of) = map.remove("oneOf") {
            // Without overlap, as for enums, `anyOf` means the same; strict mode only has that.
            if map.contains_key("anyOf") {
                return Err(unsupported("oneOf", path));
            }
            map.insert("anyOf".into(), one_of);
        }
        let lone_variant = match map.get_mut("anyOf") {
            Some(Value::Array(variants)) if variants.len() == 1 => variants.pop(),
            _ => None,
        };
        if let Some(only) = lone_variant {
            map.remove("anyOf");
            merge(&mut map, only, path)?;
            return self.walk(Value::Object(map), path, depth);
        }

        map.retain(|key, value| match key.as_str() {
            "format" => value.as_str().is_some_and(|f| ALLOWED_FORMATS.contains(&f)),
            key => !STRIPPED_KEYS.contains(&key),
        });
        if let Some(keyword) = UNSUPPORTED_KEYS.iter().find(|k| map.contains_key(**k)) {
            return Err(unsupported(keyword, path));
        }

        if let Some(any_of) = map.get_mut("anyOf") {
            let Value::Array(variants) = any_of else {
                return Err(invalid(path, "`anyOf` must be an array"));
            };
            if variants.is_empty() {
                return Err(invalid(path, "`anyOf` must not be empty"));
            }
            for (i, variant) in variants.iter_mut().enumerate() {
                *variant = self
                    .walk(variant.take(), &format!("{path}/anyOf/{i}"), depth)?
                    .into();
            }
        }
        if let Some(items) = map.get_mut("items") {
            if items.is_array() {
                // Draft-07 tuple form.
                return Err(unsupported("items", path));
            }
            *items = self
                .walk(items.take(), &format!("{path}/items"), depth)?
                .into();
        }

        if has_type(&map, "object") || map.contains_key("properties") {
            if map.contains_key("anyOf") {
                // E.g. a flattened enum: closing both the object and its variants would leave
                // nothing valid.
                return Err(unsupported("anyOf", path));
            }
            self.close_object(&mut map, path, depth + 1)?;
        } else if !["type", "enum", "const", "anyOf"]
            .iter()
            .any(|k| map.contains_key(*k))
        {
            return Err(SchemaError::Untyped { path: path.into() });
        }
        Ok(map)
    }

    /// Replaces a `$ref` with what it points to, merged with its sibling keys (whose
    /// `description` wins: it is the field's doc comment).
    fn inline_ref(
        &mut self,
        mut map: Map<String, Value>,
        reference: Value,
        path: &str,
        depth: usize,
    ) -> Result<Map<String, Value>, SchemaError> {
        let Value::String(reference) = reference else {
            return Err(invalid(path, "`$ref` must be a string"));
        };
        // `#` is the root, which always encloses the `$ref`.
        if reference == "#" || self.expanding.contains(&reference) {
            return Err(SchemaError::Recursive {
                reference,
                path: path.into(),
            });
        }
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| self.original.pointer(pointer))
            .ok_or_else(|| SchemaError::UnresolvedRef {
                reference: reference.clone(),
                path: path.into(),
            })?;
        merge(&mut map, target.clone(), path)?;
        self.expanding.push(reference);
        let result = self.walk(Value::Object(map), path, depth);
        self.expanding.pop();
        result
    }

    /// Makes an object schema strict: closed, every property required, the formerly optional
    /// ones nullable. `level` is its nesting level (the root object is 1).
    fn close_object(
        &mut self,
        map: &mut Map<String, Value>,
        path: &str,
        level: usize,
    ) -> Result<(), SchemaError> {
        if level > MAX_OBJECT_DEPTH {
            return Err(SchemaError::TooDeep {
                depth: level,
                limit: MAX_OBJECT_DEPTH,
                path: path.into(),
            });
        }
        let properties = match map.remove("properties") {
            None => Map::new(),
            Some(Value::Object(properties)) => properties,
            Some(_) => return Err(invalid(path, "`properties` must be an object")),
        };
        match map.get("additionalProperties") {
            None | Some(Value::Bool(false)) => {}
            // An open object with known fields: closing it only drops the extras.
            Some(Value::Bool(true)) if !properties.is_empty() => {}
            Some(_) => return Err(SchemaError::Map { path: path.into() }),
        }
        let required: Vec<Value> = match map.remove("required") {
            None => Vec::new(),
            Some(Value::Array(required)) => required,
            Some(_) => return Err(invalid(path, "`required` must be an array")),
        };

        let mut strict = Map::new();
        for (name, schema) in properties {
            let sub_path = format!("{path}/properties/{}", escape_pointer(&name));
            let mut schema = self.walk(schema, &sub_path, level)?.into();
            if !required.iter().any(|r| r.as_str() == Some(name.as_str())) {
                schema = nullable(schema);
            }
            strict.insert(name, schema);
        }
        self.properties += strict.len();

        if !map.contains_key("type") {
            map.insert("type".into(), "object".into());
        }
        let names = strict
            .keys()
            .map(|name| Value::from(name.as_str()))
            .collect();
        map.insert("properties".into(), Value::Object(strict));
        map.insert("required".into(), Value::Array(names));
        map.insert("additionalProperties".into(), false.into());
        Ok(())
    }
}

/// Lets a (strict) schema also accept `null`, so a formerly optional property can be required.
fn nullable(schema: Value) -> Value {
    if is_nullable(&schema) {
        return schema;
    }
    let Value::Object(mut map) = schema else {
        return schema;
    };
    let plain = !map.contains_key("const") && !map.contains_key("anyOf");
    if plain && (map.contains_key("type") || map.contains_key("enum")) {
        match map.get_mut("type") {
            Some(Value::String(t)) => {
                let t = Value::from(t.as_str());
                map.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
                types.push("null".into());
            }
            _ => {}
        }
        if let Some(Value::Array(values)) = map.get_mut("enum") {
            if !values.contains(&Value::Null) {
                values.push(Value::Null);
            }
        }
        return Value::Object(map);
    }
    // A bare union takes one more variant.
    if map.keys().all(|k| k == "anyOf" || k == "description") {
        if let Some(Value::Array(variants)) = map.get_mut("anyOf") {
            variants.push(serde_json::json!({ "type": "null" }));
            return Value::Object(map);
        }
    }
    let mut outer = Map::new();
    if let Some(description) = map.remove("description") {
        outer.insert("description".into(), description);
    }
    outer.insert(
        "anyOf".into(),
        serde_json::json!([Value::Object(map), { "type": "null" }]),
    );
    Value::Object(outer)
}

/// Whether the schema accepts `null`: every constraint it has (`const`, `type`, `enum`,
/// `anyOf`) does.
fn is_nullable(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    if let Some(value) = map.get("const") {
        return value.is_null();
    }
    let checks = [
        map.get("type").map(|t| match t {
            Value::String(t) => t == "null",
            Value::Array(types) => types.iter().any(|t| t == "null"),
            _ => false,
        }),
        map.get("enum").map(|e| {
            e.as_array()
                .is_some_and(|values| values.contains(&Value::Null))
        }),
        map.get("anyOf").map(|a| {
            a.as_array()
                .is_some_and(|variants| variants.iter().any(is_nullable))
        }),
    ];
    checks.iter().any(Option::is_some) && checks.iter().flatten().all(|ok| *ok)
}

/// Whether `type` is `name` or an array containing it.
fn has_type(map: &Map<String, Value>, name: &str) -> bool {
    match map.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(types)) => types.iter().any(|t| t == name),
        _ => false,
    }
}

/// Adds the keys of `sub` that `map` lacks. Equal values are fine, and `map`'s annotations win;
/// any other clash would change the meaning, so it is an error.
fn merge(map: &mut Map<String, Value>, sub: Value, path: &str) -> Result<(), SchemaError> {
    let sub = match sub {
        Value::Object(sub) => sub,
        // `true` adds no constraint.
        Value::Bool(true) => return Ok(()),
        other => return Err(invalid(path, format!("expected a schema, found `{other}`"))),
    };
    for (key, value) in sub {
        match map.get(&key) {
            None => {
                map.insert(key, value);
            }
            Some(existing) if *existing == value => {}
            Some(_) if key == "description" || STRIPPED_KEYS.contains(&key.as_str()) => {}
            Some(_) => {
                return Err(SchemaError::Conflict {
                    keyword: key,
                    path: path.into(),
                })
            }
        }
    }
    Ok(())
}

/// The only element of a one-element array.
fn single(value: Value) -> Option<Value> {
    match value {
        Value::Array(mut values) if values.len() == 1 => values.pop(),
        _ => None,
    }
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unsupported(keyword: &str, path: &str) -> SchemaError {
    SchemaError::Unsupported {
        keyword: keyword.into(),
        path: path.into(),
    }
}

fn invalid(path: &str, reason: impl Into<String>) -> SchemaError {
    SchemaError::Invalid {
        reason: reason.into(),
        path: path.into(),
    }
}

#[cfg(test)]
mod tests {
    // The types below exist for their schemas; their fields are never read.
    #![allow(dead_code)]
    // Field names are declared in alphabetical order so the expected `required` order holds
    // whether or not serde_json's `preserve_order` feature is on.
    use super::*;
    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::{HashMap, HashSet};

    #[derive(JsonSchema, Deserialize)]
    struct Primitives {
        count: i32,
        flag: bool,
        ratio: f64,
        small: u8,
        text: String,
    }

    /// A place.
    #[derive(JsonSchema, Deserialize, Default)]
    struct Place {
        city: String,
        zip: Option<String>,
    }

    #[derive(JsonSchema, Deserialize)]
    struct Options {
        note: Option<String>,
        place: Option<Place>,
        travel: Option<Travel>,
    }

    #[derive(JsonSchema, Deserialize, Default)]
    enum Method {
        #[default]
        Car,
        Subway,
    }

    /// How to travel.
    #[derive(JsonSchema, Deserialize, Default)]
    enum Travel {
        /// By car.
        #[default]
        Car,
        /// By subway.
        Subway,
    }

    #[derive(JsonSchema, Deserialize)]
    struct Trip {
        method: Method,
        travel: Travel,
    }

    #[derive(JsonSchema, Deserialize)]
    struct Order {
        address: Place,
        id: u32,
    }

    #[derive(JsonSchema, Deserialize)]
    struct Lists {
        labels: HashSet<String>,
        places: Vec<Place>,
        tags: Vec<String>,
    }

    /// Searches the catalogue.
    #[derive(JsonSchema, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Search {
        /// Most results to return.
        max_results: u32,
        /// Words to look for.
        query_text: String,
    }

    #[derive(JsonSchema, Deserialize)]
    struct Defaults {
        #[serde(default)]
        count: u32,
        #[serde(default)]
        method: Method,
        #[serde(default)]
        place: Place,
        #[serde(default)]
        travel: Travel,
    }

    #[derive(JsonSchema, Deserialize)]
    struct Empty {}

    /// The property names `title` and `default` are data, not keywords.
    #[derive(JsonSchema, Deserialize)]
    struct Keywords {
        default: String,
        title: String,
    }

    #[derive(JsonSchema, Deserialize)]
    struct WithMap {
        scores: HashMap<String, i32>,
    }

    #[derive(JsonSchema, Deserialize)]
    struct WithTuple {
        pair: (i32, String),
    }

    #[derive(JsonSchema, Deserialize)]
    struct Tree {
        children: Vec<Tree>,
        name: String,
    }

    #[derive(JsonSchema, Deserialize)]
    struct Node {
        name: String,
        next: Option<Box<Node>>,
    }

    #[derive(JsonSchema, Deserialize)]
    struct Holder {
        node: Node,
    }

    #[derive(JsonSchema, Deserialize)]
    struct WithAny {
        value: serde_json::Value,
    }

    #[derive(JsonSchema, Deserialize)]
    #[serde(tag = "kind")]
    enum Shape {
        Circle { radius: f64 },
        Square { side: f64 },
    }

    #[derive(JsonSchema, Deserialize)]
    struct Flattened {
        name: String,
        #[serde(flatten)]
        shape: Shape,
    }

    fn place_schema(nullable: bool) -> Value {
        json!({
            "description": "A place.",
            "type": if nullable { json!(["object", "null"]) } else { json!("object") },
            "properties": {
                "city": { "type": "string" },
                "zip": { "type": ["string", "null"] }
            },
            "required": ["city", "zip"],
            "additionalProperties": false
        })
    }

    /// Asserts that the strict schema of `T` is a closed object with these properties, all
    /// required.
    #[track_caller]
    fn assert_closed_object<T: JsonSchema>(properties: Value, required: &[&str]) {
        assert_eq!(
            strict_schema_for::<T>().unwrap(),
            json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false
            })
        );
    }

    fn travel_variants() -> Value {
        json!([
            { "description": "By car.", "type": "string", "const": "Car" },
            { "description": "By subway.", "type": "string", "const": "Subway" }
        ])
    }

    #[test]
    fn primitives() {
        assert_closed_object::<Primitives>(
            json!({
                "count": { "type": "integer" },
                "flag": { "type": "boolean" },
                "ratio": { "type": "number" },
                "small": { "type": "integer", "minimum": 0, "maximum": 255 },
                "text": { "type": "string" }
            }),
            &["count", "flag", "ratio", "small", "text"],
        );
    }

    #[test]
    fn options_are_nullable_and_required() {
        assert_closed_object::<Options>(
            json!({
                "note": { "type": ["string", "null"] },
                "place": place_schema(true),
                // schemars nests the enum's own union; valid as is.
                "travel": {
                    "anyOf": [
                        { "description": "How to travel.", "anyOf": travel_variants() },
                        { "type": "null" }
                    ]
                }
            }),
            &["note", "place", "travel"],
        );
    }

    #[test]
    fn unit_enums() {
        assert_closed_object::<Trip>(
            json!({
                "method": { "type": "string", "enum": ["Car", "Subway"] },
                "travel": { "description": "How to travel.", "anyOf": travel_variants() }
            }),
            &["method", "travel"],
        );
    }

    #[test]
    fn nested_struct_is_inlined_and_closed() {
        assert_closed_object::<Order>(
            json!({
                "address": place_schema(false),
                "id": { "type": "integer", "minimum": 0 }
            }),
            &["address", "id"],
        );
    }

    #[test]
    fn vectors() {
        assert_closed_object::<Lists>(
            json!({
                // `uniqueItems` dropped.
                "labels": { "type": "array", "items": { "type": "string" } },
                "places": { "type": "array", "items": place_schema(false) },
                "tags": { "type": "array", "items": { "type": "string" } }
            }),
            &["labels", "places", "tags"],
        );
    }

    #[test]
    fn doc_comments_and_renames() {
        assert_closed_object::<Search>(
            json!({
                "maxResults": {
                    "description": "Most results to return.",
                    "type": "integer",
                    "minimum": 0
                },
                "queryText": { "description": "Words to look for.", "type": "string" }
            }),
            &["maxResults", "queryText"],
        );
    }

    #[test]
    fn defaulted_fields_become_nullable() {
        let mut travel_variants = travel_variants();
        travel_variants
            .as_array_mut()
            .unwrap()
            .push(json!({ "type": "null" }));
        assert_closed_object::<Defaults>(
            json!({
                "count": { "type": ["integer", "null"], "minimum": 0 },
                "method": { "type": ["string", "null"], "enum": ["Car", "Subway", null] },
                "place": place_schema(true),
                "travel": { "description": "How to travel.", "anyOf": travel_variants }
            }),
            &["count", "method", "place", "travel"],
        );
    }

    #[test]
    fn empty_struct() {
        assert_closed_object::<Empty>(json!({}), &[]);
    }

    #[test]
    fn keyword_named_properties_are_kept() {
        assert_closed_object::<Keywords>(
            json!({ "default": { "type": "string" }, "title": { "type": "string" } }),
            &["default", "title"],
        );
    }

    #[test]
    fn relaxed_keeps_schemars_output_minus_meta() {
        assert_eq!(
            relaxed_schema_for::<Search>(),
            json!({
                "description": "Searches the catalogue.",
                "type": "object",
                "properties": {
                    "maxResults": {
                        "description": "Most results to return.",
                        "type": "integer",
                        "format": "uint32",
                        "minimum": 0
                    },
                    "queryText": { "description": "Words to look for.", "type": "string" }
                },
                "required": ["maxResults", "queryText"]
            })
        );
        // Recursion stays expressible in the relaxed form.
        assert_eq!(
            relaxed_schema_for::<Tree>()["properties"]["children"]["items"],
            json!({ "$ref": "#" })
        );
    }

    #[test]
    fn hand_written_schemas() {
        // `$ref` inlined (the sibling description wins), `$defs` dropped, single `allOf`
        // merged, `const` and bare `enum` made nullable, formats filtered.
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Args",
            "description": "Arguments.",
            "type": "object",
            "properties": {
                "at": { "type": "string", "format": "date-time" },
                "id": { "type": "string", "format": "uuid" },
                "kind": { "description": "Always x.", "const": "x" },
                "level": { "enum": [1, 2] },
                "size": { "type": "number", "format": "double", "default": 1.0 },
                "spot": { "$ref": "#/$defs/Spot", "description": "Where." },
                "tag": { "allOf": [{ "$ref": "#/definitions/Tag" }] }
            },
            "required": ["at", "id", "size", "spot", "tag"],
            "$defs": {
                "Spot": { "title": "Spot", "description": "A spot.", "type": "object", "properties": { "x": { "type": "integer" } } }
            },
            "definitions": { "Tag": { "type": "string", "examples": ["a"] } }
        });
        assert_eq!(
            make_strict(schema).unwrap(),
            json!({
                "type": "object",
                "properties": {
                    "at": { "type": "string", "format": "date-time" },
                    "id": { "type": "string", "format": "uuid" },
                    "kind": { "description": "Always x.", "anyOf": [{ "const": "x" }, { "type": "null" }] },
                    "level": { "enum": [1, 2, null] },
                    "size": { "type": "number" },
                    "spot": {
                        "description": "Where.",
                        "type": "object",
                        "properties": { "x": { "type": ["integer", "null"] } },
                        "required": ["x"],
                        "additionalProperties": false
                    },
                    "tag": { "type": "string" }
                },
                "required": ["at", "id", "kind", "level", "size", "spot", "tag"],
                "additionalProperties": false
            })
        );
    }

    fn nested_objects(levels: usize) -> Value {
        (1..levels).fold(json!({ "type": "object", "properties": {} }), |inner, _| {
            json!({ "type": "object", "properties": { "inner": inner }, "required": ["inner"] })
        })
    }

    #[test]
    fn limits() {
        assert!(make_strict(nested_objects(MAX_OBJECT_DEPTH)).is_ok());
        // Arrays and unions do not add levels.
        let through_array = json!({
            "type": "object",
            "properties": { "list": { "type": "array", "items": nested_objects(MAX_OBJECT_DEPTH - 1) } }
        });
        assert!(make_strict(through_array).is_ok());
        assert_eq!(
            make_strict(nested_objects(MAX_OBJECT_DEPTH + 1)),
            Err(SchemaError::TooDeep {
                depth: 6,
                limit: 5,
                path: "/properties/inner/properties/inner/properties/inner/properties/inner/properties/inner".into()
            })
        );

        let many = |n: usize| {
            let properties: Map<String, Value> = (0..n)
                .map(|i| (format!("p{i}"), json!({ "type": "string" })))
                .collect();
            json!({ "type": "object", "properties": properties })
        };
        assert!(make_strict(many(MAX_PROPERTIES)).is_ok());
        assert_eq!(
            make_strict(many(MAX_PROPERTIES + 1)),
            Err(SchemaError::TooManyProperties {
                count: 101,
                limit: 100
            })
        );
    }

    #[test]
    fn unsupported_types_are_errors() {
        let err = strict_schema_for::<WithMap>().unwrap_err();
        assert_eq!(
            err,
            SchemaError::Map {
                path: "/properties/scores".into()
            }
        );
        assert!(err.to_string().contains("/properties/scores"), "{err}");
        assert_eq!(
            strict_schema_for::<WithTuple>(),
            Err(unsupported("prefixItems", "/properties/pair"))
        );
        assert_eq!(
            strict_schema_for::<Tree>(),
            Err(SchemaError::Recursive {
                reference: "#".into(),
                path: "/properties/children/items".into()
            })
        );
        assert_eq!(
            strict_schema_for::<Holder>(),
            Err(SchemaError::Recursive {
                reference: "#/$defs/Node".into(),
                path: "/properties/node/properties/next/anyOf/0/properties/next/anyOf/0".into()
            })
        );
        assert_eq!(
            strict_schema_for::<WithAny>(),
            Err(SchemaError::Untyped {
                path: "/properties/value".into()
            })
        );
        assert_eq!(
            strict_schema_for::<Flattened>(),
            Err(unsupported("anyOf", ""))
        );
    }

    #[test]
    fn non_object_roots_are_errors() {
        let err = make_strict(json!({ "type": "string" })).unwrap_err();
        assert!(matches!(err, SchemaError::RootNotObject { .. }), "{err}");
        assert!(matches!(
            strict_schema_for::<String>(),
            Err(SchemaError::RootNotObject { .. })
        ));
        assert!(matches!(
            strict_schema_for::<Option<Place>>(),
            Err(SchemaError::RootNotObject { .. })
        ));
        assert!(matches!(
            strict_schema_for::<Shape>(),
            Err(SchemaError::RootNotObject { .. })
        ));
        assert!(matches!(
            make_strict(json!(true)),
            Err(SchemaError::RootNotObject { .. })
        ));
    }

    #[test]
    fn unsupported_keywords_are_errors() {
        let in_property = |property: Value| {
            make_strict(json!({ "type": "object", "properties": { "a": property } }))
        };
        let two = json!([{ "type": "string" }, { "minLength": 1 }]);
        assert_eq!(
            in_property(json!({ "allOf": two })),
            Err(unsupported("allOf", "/properties/a"))
        );
        assert_eq!(
            in_property(json!({ "type": "string", "not": { "const": "" } })),
            Err(unsupported("not", "/properties/a"))
        );
        assert_eq!(
            in_property(json!({ "type": "object", "additionalProperties": true })),
            Err(SchemaError::Map {
                path: "/properties/a".into()
            })
        );
        assert_eq!(
            in_property(json!({ "$ref": "https://example.com/s.json" })),
            Err(SchemaError::UnresolvedRef {
                reference: "https://example.com/s.json".into(),
                path: "/properties/a".into()
            })
        );
        assert_eq!(
            in_property(json!({ "type": "string", "allOf": [{ "type": "integer" }] })),
            Err(SchemaError::Conflict {
                keyword: "type".into(),
                path: "/properties/a".into()
            })
        );
        assert_eq!(
            in_property(json!({ "description": "anything" })),
            Err(SchemaError::Untyped {
                path: "/properties/a".into()
            })
        );
    }

    /// Panics unless `schema` (at `path`) follows the strict-mode rules.
    fn check_strict(schema: &Value, path: &str) {
        let map = schema
            .as_object()
            .unwrap_or_else(|| panic!("{path}: not an object"));
        for key in [
            "default", "title", "oneOf", "allOf", "$ref", "$defs", "$schema",
        ] {
            assert!(!map.contains_key(key), "{path}: has `{key}`");
        }
        if let Some(format) = map.get("format") {
            let format = format.as_str().unwrap();
            assert!(ALLOWED_FORMATS.contains(&format), "{path}: format {format}");
        }
        if has_type(map, "object") || map.contains_key("properties") {
            let properties = map["properties"].as_object().unwrap();
            let names: Vec<Value> = properties.keys().map(|k| json!(k)).collect();
            assert_eq!(map["required"], Value::Array(names), "{path}: required");
            assert_eq!(map["additionalProperties"], json!(false), "{path}");
            for (name, property) in properties {
                check_strict(property, &format!("{path}/properties/{name}"));
            }
        }
        if let Some(items) = map.get("items") {
            check_strict(items, &format!("{path}/items"));
        }
        if let Some(variants) = map.get("anyOf") {
            for (i, variant) in variants.as_array().unwrap().iter().enumerate() {
                check_strict(variant, &format!("{path}/anyOf/{i}"));
            }
        }
    }

    #[test]
    fn strict_outputs_satisfy_invariants() {
        let schemas = [
            strict_schema_for::<Primitives>(),
            strict_schema_for::<Options>(),
            strict_schema_for::<Trip>(),
            strict_schema_for::<Order>(),
            strict_schema_for::<Lists>(),
            strict_schema_for::<Search>(),
            strict_schema_for::<Defaults>(),
            strict_schema_for::<Empty>(),
            strict_schema_for::<Keywords>(),
            make_strict(nested_objects(MAX_OBJECT_DEPTH)),
        ];
        for schema in schemas {
            let schema = schema.unwrap();
            assert_eq!(schema["type"], json!("object"));
            check_strict(&schema, "");
        }
    }
}
