//! A model's layer stack as one readable line, Keras names and main
//! arguments: `Embedding(10000,16) → Flatten → Dense(1, sigmoid)`.
//!
//! The comparison page compares models as whole stacks: comparing layer
//! settings by position would set an `embedding` setting of one run against a
//! `dense` setting of another.

use serde_json::Value;

/// The one-line summary of a resolved spec (as JSON, the way run records
/// keep it): the input a bag-of-words model sees (`MultiHot(1–2-grams,
/// 200000)`), then each layer of `model.layers`. Empty when the spec has no
/// layers.
pub fn stack_summary(spec: &Value) -> String {
    let Some(layers) = spec.pointer("/model/layers").and_then(Value::as_array) else {
        return String::new();
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(input) = vectorizer(spec) {
        parts.push(input);
    }
    parts.extend(layers.iter().map(layer));
    if layers.is_empty() {
        return String::new();
    }
    parts.join(" → ")
}

/// The vectorizer of a bag-of-words spec; `None` for token sequences (`int`),
/// whose first layer (an embedding) already says what the model reads.
fn vectorizer(spec: &Value) -> Option<String> {
    let v = spec.get("vectorize")?;
    let mode = v.get("mode")?.as_str()?;
    if mode == "int" {
        return None;
    }
    let mut args = Vec::new();
    match v.get("ngrams").and_then(Value::as_u64) {
        Some(n) if n > 1 => args.push(format!("1–{n}-grams")),
        _ => {}
    }
    if let Some(m) = v.get("max_tokens").and_then(Value::as_u64) {
        args.push(m.to_string());
    }
    if v.get("nb_weighting").and_then(Value::as_bool) == Some(true) {
        args.push("NB".to_string());
    }
    Some(call(&camel(mode), &args))
}

/// One layer: a bare name (`"flatten"`) or a one-key map (`{"dense": {…}}`).
fn layer(l: &Value) -> String {
    match l {
        Value::String(name) => keras_name(name),
        Value::Object(m) if m.len() == 1 => {
            let (kind, settings) = m.iter().next().expect("one entry");
            call(&keras_name(kind), &arguments(kind, settings))
        }
        other => other.to_string(),
    }
}

/// The main arguments of a layer, Keras order; default-valued options left out.
fn arguments(kind: &str, s: &Value) -> Vec<String> {
    let num = |key: &str| s.get(key).map(text);
    let activation = |default: &str| {
        s.get("activation")
            .and_then(Value::as_str)
            .filter(|a| *a != default)
            .map(str::to_string)
    };
    let mut args: Vec<String> = Vec::new();
    match kind {
        "embedding" => {
            args.extend(num("input_dim"));
            args.extend(num("output_dim"));
            if let Some(init) = s
                .get("init")
                .and_then(Value::as_str)
                .filter(|i| *i != "random")
            {
                args.push(init.to_string());
            }
            if s.get("trainable").and_then(Value::as_bool) == Some(false) {
                args.push("frozen".to_string());
            }
        }
        "dense" => {
            args.extend(num("units"));
            args.extend(activation("linear"));
            if let Some(l2) = s.pointer("/kernel_regularizer/l2") {
                args.push(format!("l2={}", text(l2)));
            }
        }
        "dropout" => args.extend(num("rate")),
        "conv1d" => {
            args.extend(num("filters"));
            args.extend(num("kernel_size"));
            args.extend(activation("linear"));
        }
        "max_pooling1d" | "average_pooling1d" => args.extend(num("pool_size")),
        "simple_rnn" | "lstm" | "gru" => {
            args.extend(num("units"));
            if s.get("return_sequences").and_then(Value::as_bool) == Some(true) {
                args.push("sequences".to_string());
            }
        }
        "bidirectional" => {
            if let Some(inner) = s.get("layer") {
                args.push(layer(inner));
            }
            if let Some(mode) = s
                .get("merge_mode")
                .and_then(Value::as_str)
                .filter(|m| *m != "concat")
            {
                args.push(mode.to_string());
            }
        }
        _ => {}
    }
    args
}

/// `Name(a, b)`, or `Name` without arguments. Two plain numbers are written
/// `(10000,16)`, the way the course writes embedding sizes.
fn call(name: &str, args: &[String]) -> String {
    if args.is_empty() {
        return name.to_string();
    }
    let numeric = args.iter().all(|a| a.parse::<f64>().is_ok());
    let sep = if numeric { "," } else { ", " };
    format!("{name}({})", args.join(sep))
}

/// A scalar as text, strings without quotes.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The Keras class name of a spec's layer type (`simple_rnn` → `SimpleRNN`).
fn keras_name(kind: &str) -> String {
    match kind {
        "simple_rnn" => "SimpleRNN".to_string(),
        "lstm" => "LSTM".to_string(),
        "gru" => "GRU".to_string(),
        other => camel(other).replace("1d", "1D"),
    }
}

/// `snake_case` → `SnakeCase`.
fn camel(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_course_model_reads_as_keras_writes_it() {
        let spec = json!({"vectorize": {"mode": "int"}, "model": {"layers": [
            {"embedding": {"input_dim": 10000, "output_dim": 16, "init": "random", "trainable": true}},
            "flatten",
            {"dense": {"units": 1, "activation": "sigmoid", "use_bias": true}},
        ]}});
        assert_eq!(
            stack_summary(&spec),
            "Embedding(10000,16) → Flatten → Dense(1, sigmoid)"
        );
    }

    #[test]
    fn recurrent_and_bag_of_words_models() {
        let rnn = json!({"model": {"layers": [
            {"embedding": {"input_dim": 10000, "output_dim": 32}},
            {"simple_rnn": {"units": 32, "activation": "tanh", "return_sequences": false}},
            {"bidirectional": {"layer": {"lstm": {"units": 8, "return_sequences": true}}, "merge_mode": "sum"}},
            "global_max_pooling1d",
            {"dense": {"units": 1, "activation": "linear"}},
        ]}});
        assert_eq!(
            stack_summary(&rnn),
            "Embedding(10000,32) → SimpleRNN(32) → Bidirectional(LSTM(8, sequences), sum) → GlobalMaxPooling1D → Dense(1)"
        );
        let bag = json!({"vectorize": {"mode": "multi_hot", "ngrams": 2, "max_tokens": 200000, "nb_weighting": false},
            "model": {"layers": [{"dense": {"units": 1, "kernel_regularizer": {"l2": 0.01}}}]}});
        assert_eq!(
            stack_summary(&bag),
            "MultiHot(1–2-grams, 200000) → Dense(1, l2=0.01)"
        );
        assert_eq!(stack_summary(&json!({"name": "hand"})), "");
    }
}
