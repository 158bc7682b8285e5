//! Golden tests of the tool definitions `#[function_tools]` generates: exact JSON in OpenAI
//! strict form, descriptions from rustdoc.

use agents_core::prelude::*;
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
enum Method {
    Car,
    Subway,
}

/// A postal address.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Address {
    /// Street and number
    street: String,
    /// Apartment or unit, if any
    unit: Option<String>,
}

/// Test agent.
#[agent]
struct Schemas;

#[function_tools]
impl Schemas {
    /// Primitives.
    ///
    /// Only the first paragraph is the description.
    ///
    /// # Arguments
    /// * `text` - Some text
    /// * `count` - How many
    /// * `ratio` - A ratio
    /// * `flag` - A flag
    #[function_tool]
    async fn primitives(&mut self, text: String, count: u32, ratio: f64, flag: bool) {
        let _ = (text, count, ratio, flag);
    }

    /// Optional and enum parameters.
    #[function_tool]
    async fn optional_enum(
        &mut self,
        /// Maybe a note
        note: Option<String>,
        /// How they travel
        method: Method,
    ) {
        let _ = (note, method);
    }

    /// Nested struct and lists.
    #[function_tool]
    async fn nested(&mut self, address: Address, tags: Vec<String>, stops: Vec<Address>) {
        let _ = (address, tags, stops);
    }

    /// No parameters.
    #[function_tool(name = "no-params", ignore_on_enter)]
    async fn no_params(&mut self) {}
}

fn tool(name: &str) -> std::sync::Arc<agents_core::tools::ToolDefinition> {
    Schemas
        .tools()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

#[test]
fn primitives() {
    let t = tool("primitives");
    assert_eq!(t.description, "Primitives.");
    assert!(t.strict);
    assert_eq!(
        t.parameters,
        json!({
            "type": "object",
            "properties": {
                "text": {"type": "string", "description": "Some text"},
                "count": {"type": "integer", "minimum": 0, "description": "How many"},
                "ratio": {"type": "number", "description": "A ratio"},
                "flag": {"type": "boolean", "description": "A flag"}
            },
            "required": ["text", "count", "ratio", "flag"],
            "additionalProperties": false
        })
    );
}

#[test]
fn option_and_enum() {
    let t = tool("optional_enum");
    assert_eq!(
        t.parameters,
        json!({
            "type": "object",
            "properties": {
                "note": {"type": ["string", "null"], "description": "Maybe a note"},
                "method": {"type": "string", "enum": ["Car", "Subway"], "description": "How they travel"}
            },
            "required": ["note", "method"],
            "additionalProperties": false
        })
    );
    // The relaxed form keeps optional fields optional.
    assert_eq!(t.relaxed_parameters["required"], json!(["method"]));
}

#[test]
fn nested_struct_and_vec() {
    let address = json!({
        "type": "object",
        "description": "A postal address.",
        "properties": {
            "street": {"type": "string", "description": "Street and number"},
            "unit": {"type": ["string", "null"], "description": "Apartment or unit, if any"}
        },
        "required": ["street", "unit"],
        "additionalProperties": false
    });
    assert_eq!(
        tool("nested").parameters,
        json!({
            "type": "object",
            "properties": {
                "address": address,
                "tags": {"type": "array", "items": {"type": "string"}},
                "stops": {"type": "array", "items": address}
            },
            "required": ["address", "tags", "stops"],
            "additionalProperties": false
        })
    );
}

#[test]
fn no_parameters_and_flags() {
    let t = tool("no-params");
    assert!(t.ignore_on_enter);
    assert_eq!(
        t.parameters,
        json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false})
    );
}

#[test]
fn the_table_is_built_once() {
    let a = Schemas.tools();
    let b = Schemas.tools();
    assert!(std::sync::Arc::ptr_eq(&a[0], &b[0]));
    assert_eq!(
        a.iter().map(|t| t.name.as_ref()).collect::<Vec<_>>(),
        ["primitives", "optional_enum", "nested", "no-params"]
    );
}
