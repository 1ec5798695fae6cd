//! The JSON API's requests, answers and errors.
//!
//! `POST /predict` takes `{"texts": ["…", …]}` (each text is the whole input,
//! as `kerros predict --text`) or `{"rows": [{"benefitsReview": "…", …}, …]}`
//! (one value per text column of the spec, joined as the data readers and
//! `kerros predict --input` join them) and answers
//! `{"model", "variant", "predictions": [{"label", "probabilities"} | {"label", "value"}]}`.

use super::model::TextFields;
use crate::pipeline::predict::TextPrediction;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// An error answer: a status and a message saying what was wrong and what
/// would be valid, sent as `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What was wrong.
    pub message: String,
}

impl ApiError {
    /// A 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// One prediction of the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiPrediction {
    /// The predicted class, or for regression the rounded value (`"7"`).
    pub label: String,
    /// Class → probability (classification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<Map<String, Value>>,
    /// The model's raw output (regression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

impl ApiPrediction {
    /// The API form of a prediction, probabilities keyed by `classes`.
    pub fn new(classes: &[String], p: TextPrediction) -> ApiPrediction {
        match p.raw {
            Some(raw) => ApiPrediction {
                label: p.predicted,
                probabilities: None,
                value: Some(raw),
            },
            None => ApiPrediction {
                label: p.predicted,
                probabilities: Some(
                    classes
                        .iter()
                        .zip(&p.probabilities)
                        .map(|(c, &v)| (c.clone(), json!(v)))
                        .collect(),
                ),
                value: None,
            },
        }
    }
}

/// The answer of `POST /predict`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictResponse {
    /// The experiment's name.
    pub model: String,
    /// The served variant of a sweep, else `null`.
    pub variant: Option<String>,
    /// One per text, in request order.
    pub predictions: Vec<ApiPrediction>,
}

/// The texts of a `POST /predict` body, each ready for the model; errors
/// name the field that is wrong. More than `max_rows` texts is a 413.
pub fn parse_predict_body(
    body: &[u8],
    fields: &TextFields,
    max_rows: usize,
) -> Result<Vec<String>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not valid JSON ({e}); send {}",
            shape(fields)
        ))
    })?;
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request(format!(
            "the body must be a JSON object: {}",
            shape(fields)
        )));
    };
    if let Some(key) = object.keys().find(|k| *k != "texts" && *k != "rows") {
        return Err(ApiError::bad_request(format!(
            "unknown field `{key}`; send {}",
            shape(fields)
        )));
    }
    let (key, items) = match (object.get("texts"), object.get("rows")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give either `texts` or `rows`, not both",
            ))
        }
        // Whole texts have no fields to tag the words of.
        (Some(_), None) if fields.tags && fields.fields.len() > 1 => {
            return Err(ApiError::bad_request(format!(
                "this model reads each word tagged with its text field (`data.field_tags`): send `rows` with the fields {}",
                field_list(fields)
            )))
        }
        (Some(v), None) => ("texts", v),
        (None, Some(v)) => ("rows", v),
        (None, None) => {
            return Err(ApiError::bad_request(format!(
                "missing field `texts` (or `rows`); send {}",
                shape(fields)
            )))
        }
    };
    let Value::Array(items) = items else {
        return Err(ApiError::bad_request(format!("`{key}` must be a list")));
    };
    if items.is_empty() {
        return Err(ApiError::bad_request(format!(
            "`{key}` is empty; give at least one"
        )));
    }
    if items.len() > max_rows {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "{} {key} in one request, more than the limit of {max_rows} \
                 (split the request, or start the server with --max-rows)",
                items.len()
            ),
        });
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match key {
            "texts" => item.as_str().map(str::to_string).ok_or_else(|| {
                ApiError::bad_request(format!("`texts[{i}]` must be a string, not {}", kind(item)))
            }),
            _ => row_text(item, i, fields),
        })
        .collect()
}

/// The model's text for `rows[i]`: its text fields joined.
fn row_text(item: &Value, i: usize, fields: &TextFields) -> Result<String, ApiError> {
    let Value::Object(row) = item else {
        return Err(ApiError::bad_request(format!(
            "`rows[{i}]` must be an object with {}, not {}",
            field_list(fields),
            kind(item)
        )));
    };
    let mut values: Vec<Option<&str>> = vec![None; fields.fields.len()];
    for (name, v) in row {
        // Other columns of a data file (ids, ratings) may come along; only
        // the text columns are read.
        let Some(k) = fields.index(name) else {
            continue;
        };
        let text = match v {
            Value::String(s) => s.as_str(),
            Value::Null => "",
            other => {
                return Err(ApiError::bad_request(format!(
                    "`rows[{i}].{name}` must be a string, not {}",
                    kind(other)
                )))
            }
        };
        values[k] = Some(text);
    }
    let mut texts = Vec::with_capacity(values.len());
    for (k, v) in values.into_iter().enumerate() {
        match v {
            Some(t) => texts.push(t),
            None => {
                return Err(ApiError::bad_request(format!(
                    "`rows[{i}]` is missing field `{}`; each row needs {}",
                    fields.fields[k].name,
                    field_list(fields)
                )))
            }
        }
    }
    Ok(fields.join(&texts))
}

fn field_list(fields: &TextFields) -> String {
    fields
        .fields
        .iter()
        .map(|f| format!("`{}`", f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The accepted body shapes, for error messages.
fn shape(fields: &TextFields) -> String {
    let example: Vec<String> = fields
        .fields
        .iter()
        .map(|f| format!("\"{}\": \"…\"", f.name))
        .collect();
    format!(
        "{{\"texts\": [\"…\"]}} or {{\"rows\": [{{{}}}]}}",
        example.join(", ")
    )
}

/// A JSON value's kind, for error messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::TextField;

    fn druglib() -> TextFields {
        let field = |name: &str| TextField {
            name: name.into(),
            aliases: Vec::new(),
        };
        TextFields {
            fields: vec![field("benefits"), field("sideEffects"), field("comments")],
            separator: " | ".into(),
            tags: false,
        }
    }

    fn parse(body: &str) -> Result<Vec<String>, ApiError> {
        parse_predict_body(body.as_bytes(), &druglib(), 3)
    }

    fn message(body: &str) -> String {
        let e = parse(body).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", e.message);
        e.message
    }

    #[test]
    fn texts_and_rows_give_the_model_its_texts() {
        assert_eq!(parse(r#"{"texts": ["a", "b"]}"#).unwrap(), vec!["a", "b"]);
        let rows = r#"{"rows": [{"benefits": "good", "sideEffects": " ", "comments": "ok", "rating": 9},
                                {"comments": null, "benefits": "x", "sideEffects": "y"}]}"#;
        assert_eq!(parse(rows).unwrap(), vec!["good | ok", "x | y"]);
    }

    #[test]
    fn bad_bodies_name_the_problem() {
        assert!(message("{\"texts\": [").contains("not valid JSON"));
        assert!(message("[1]").contains("must be a JSON object"));
        assert!(message("{}").contains("missing field `texts`"));
        let tagged = TextFields {
            tags: true,
            ..druglib()
        };
        let e = parse_predict_body(br#"{"texts": ["a"]}"#, &tagged, 10).unwrap_err();
        assert!(e.message.contains("send `rows`"), "{}", e.message);
        let rows = br#"{"rows": [{"benefits": "no pain", "sideEffects": "no", "comments": ""}]}"#;
        assert_eq!(
            parse_predict_body(rows, &tagged, 10).unwrap(),
            vec!["benefits·no benefits·pain | sideEffects·no"]
        );
        assert!(message(r#"{"text": ["a"]}"#).contains("unknown field `text`"));
        assert!(message(r#"{"texts": "a"}"#).contains("`texts` must be a list"));
        assert!(message(r#"{"texts": []}"#).contains("`texts` is empty"));
        assert!(
            message(r#"{"texts": ["a", 3]}"#).contains("`texts[1]` must be a string, not a number")
        );
        assert!(message(r#"{"texts": ["a"], "rows": []}"#).contains("not both"));
        let missing = message(r#"{"rows": [{"benefits": "a", "sideEffects": "b"}]}"#);
        assert!(
            missing.contains("`rows[0]` is missing field `comments`"),
            "{missing}"
        );
        let wrong = message(r#"{"rows": [{"benefits": 1, "sideEffects": "b", "comments": "c"}]}"#);
        assert!(
            wrong.contains("`rows[0].benefits` must be a string"),
            "{wrong}"
        );
    }

    #[test]
    fn too_many_rows_is_413_with_the_limit() {
        let e = parse(r#"{"texts": ["a", "b", "c", "d"]}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.message.contains("limit of 3"), "{}", e.message);
    }
}
