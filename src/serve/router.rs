//! The routes: `GET /` and `POST /` (the page), `POST /predict`,
//! `GET /health`, `GET /model`, `GET /report`; everything else is 404.

use super::access_log::log_request;
use super::api::{parse_predict_body, ApiError, ApiPrediction, PredictResponse};
use super::batcher::{Batcher, PredictTexts};
use super::limits::{enforce_timeout, read_body, Limits};
use super::model::ServedModel;
use super::page::{self, Submission};
use super::security::security_headers;
use crate::pipeline::explain::explain_prediction;
use crate::pipeline::predict::TextPrediction;
use axum::body::{Body, Bytes};
use axum::extract::{Form, FromRequest, State};
use axum::http::{header, Method, Request, StatusCode, Uri};
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

impl PredictTexts for ServedModel {
    fn predict_texts(&self, texts: &[String]) -> anyhow::Result<Vec<TextPrediction>> {
        self.predictor.predict(texts)
    }
}

/// What every handler shares.
pub struct AppState {
    /// The model, loaded once.
    pub model: Arc<ServedModel>,
    /// The queue batching `POST /predict` requests.
    pub batcher: Arc<Batcher<ServedModel>>,
    /// The request limits.
    pub limits: Arc<Limits>,
}

type Shared = State<Arc<AppState>>;

/// The application: routes, limits, security headers and the access log.
/// `workers` is the most predictions run at once.
pub fn router(model: Arc<ServedModel>, limits: Limits, workers: usize) -> Router {
    let limits = Arc::new(limits);
    let state = Arc::new(AppState {
        batcher: Batcher::new(Arc::clone(&model), workers),
        model,
        limits: Arc::clone(&limits),
    });
    Router::new()
        .route("/", get(form_page).post(submit_page))
        .route("/predict", post(predict))
        .route("/health", get(health))
        .route("/model", get(model_info))
        .route("/report", get(report))
        .fallback(not_found)
        .with_state(state)
        .layer(middleware::from_fn_with_state(limits, enforce_timeout))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(log_request))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn model_info(State(app): Shared) -> Json<serde_json::Value> {
    let m = &app.model;
    Json(json!({
        "name": m.name,
        "variant": m.variant,
        "task": m.task(),
        "classes": m.predictor.classes(),
        "range": m.range,
        "text_fields": m.text.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        "text_separator": m.text.separator,
        "metrics": m.metrics,
        "report": m.report.as_ref().map(|_| "/report"),
        "kerros_version": env!("CARGO_PKG_VERSION"),
        "limits": {
            "max_body_bytes": app.limits.max_body,
            "max_rows": app.limits.max_rows,
            "timeout_seconds": app.limits.timeout.as_secs_f64(),
        },
    }))
}

async fn predict(State(app): Shared, body: Body) -> Result<Json<PredictResponse>, ApiError> {
    let bytes = read_body(body, app.limits.max_body).await.map_err(|e| {
        let (status, message) = e.status_and_message();
        ApiError { status, message }
    })?;
    let texts = parse_predict_body(&bytes, &app.model.text, app.limits.max_rows)?;
    let predictions = app.batcher.predict(texts).await.map_err(internal)?;
    let classes = app.model.predictor.classes();
    Ok(Json(PredictResponse {
        model: app.model.name.clone(),
        variant: app.model.variant.clone(),
        predictions: predictions
            .into_iter()
            .map(|p| ApiPrediction::new(classes, p))
            .collect(),
    }))
}

async fn form_page(State(app): Shared) -> Response {
    html(page::form_page(&app.model, None, None))
}

async fn submit_page(State(app): Shared, body: Body) -> Response {
    let bytes = match read_body(body, app.limits.max_body).await {
        Ok(b) => b,
        Err(e) => {
            let (status, message) = e.status_and_message();
            return page_error(&app, status, None, message);
        }
    };
    let texts = match form_texts(&app.model, bytes).await {
        Ok(t) => t,
        Err(message) => return page_error(&app, StatusCode::BAD_REQUEST, None, message),
    };
    if app.model.text.join(&texts).trim().is_empty() {
        let message = "write a text first: every box is empty".to_string();
        return page_error(&app, StatusCode::BAD_REQUEST, Some(&texts), message);
    }
    let model = Arc::clone(&app.model);
    let words = app.limits.explain_words;
    let job = tokio::task::spawn_blocking(move || {
        let joined = model.text.join(&texts);
        let prediction = model.predictor.predict(&[joined])?.pop();
        let fields: Vec<&str> = texts.iter().map(String::as_str).collect();
        let explanation = explain_prediction(&model.predictor, &fields, words)?;
        let prediction =
            prediction.ok_or_else(|| anyhow::anyhow!("the model gave no prediction"))?;
        page::result_page(
            &model,
            &Submission {
                texts: &texts,
                prediction: &prediction,
                explanation: &explanation,
            },
        )
    });
    match job.await {
        Ok(rendered) => html(rendered),
        Err(e) => internal(e.to_string()).into_response(),
    }
}

/// The text boxes of a submitted form, in field order; a missing box is an
/// error naming it.
async fn form_texts(model: &ServedModel, bytes: Bytes) -> Result<Vec<String>, String> {
    // POST: axum reads a GET form from the query string instead.
    let request = Request::builder()
        .method(Method::POST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(bytes))
        .map_err(|e| e.to_string())?;
    let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, &())
        .await
        .map_err(|e| format!("the form cannot be read: {}", e.body_text()))?;
    let mut texts: Vec<Option<String>> = vec![None; model.text.fields.len()];
    for (name, value) in pairs {
        if let Some(k) = model.text.index(&name) {
            texts[k] = Some(value);
        }
    }
    texts
        .into_iter()
        .enumerate()
        .map(|(k, t)| {
            t.ok_or_else(|| format!("the form has no field `{}`", model.text.fields[k].name))
        })
        .collect()
}

fn page_error(
    app: &AppState,
    status: StatusCode,
    texts: Option<&[String]>,
    message: String,
) -> Response {
    let mut response = html(page::form_page(&app.model, texts, Some(message)));
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

fn html(page: anyhow::Result<String>) -> Response {
    match page {
        Ok(text) => Html(text).into_response(),
        Err(e) => internal(format!("{e:#}")).into_response(),
    }
}

async fn report(State(app): Shared) -> Response {
    match &app.model.report {
        Some(bytes) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            bytes.clone(),
        )
            .into_response(),
        None => ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "the report {} was not found when the server started",
                app.model.report_path.display()
            ),
        }
        .into_response(),
    }
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: format!(
            "no page at {}; there are GET / (the form), POST /predict, GET /model, \
             GET /health and GET /report",
            super::access_log::loggable_path(uri.path())
        ),
    }
}

/// A failure that is not the client's: logged, and answered with 500.
fn internal(message: String) -> ApiError {
    eprintln!("error: {message}");
    ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message,
    }
}
