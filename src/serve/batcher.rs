//! Batching concurrent prediction requests.
//!
//! Every call of [`Predictor::predict`] has a fixed cost besides its per-text
//! work (reading the fitted vocabulary, setting up the forward pass), so many
//! small concurrent requests are served faster as one call. Requests join a
//! queue; at most `workers` blocking tasks (tokio's blocking pool) drain it,
//! each taking every waiting request up to [`MAX_BATCH_TEXTS`] texts into one
//! call and handing each request its own rows. A lone request is predicted
//! at once, without waiting for company.

use crate::pipeline::predict::TextPrediction;
use anyhow::Result;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Most texts predicted in one call when several requests are merged (a
/// single larger request is still predicted whole).
pub const MAX_BATCH_TEXTS: usize = 512;

/// What predicts a batch of texts; the server's model, or a stand-in in tests.
pub trait PredictTexts: Send + Sync + 'static {
    /// One prediction per text, in order.
    fn predict_texts(&self, texts: &[String]) -> Result<Vec<TextPrediction>>;
}

/// A request waiting in the queue.
struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<TextPrediction>, String>>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    running: usize,
}

/// The shared queue of prediction requests.
pub struct Batcher<P: PredictTexts> {
    model: Arc<P>,
    queue: Mutex<Queue>,
    workers: usize,
}

impl<P: PredictTexts> Batcher<P> {
    /// A batcher running at most `workers` (at least 1) predictions at once.
    pub fn new(model: Arc<P>, workers: usize) -> Arc<Batcher<P>> {
        Arc::new(Batcher {
            model,
            queue: Mutex::new(Queue::default()),
            workers: workers.max(1),
        })
    }

    /// Predict `texts`, batched with whatever else is waiting. Errors are
    /// the model's message (a bug or a broken artifact, not bad input).
    pub async fn predict(
        self: &Arc<Self>,
        texts: Vec<String>,
    ) -> Result<Vec<TextPrediction>, String> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        let start_worker = {
            let mut q = self.queue.lock().map_err(|_| poisoned())?;
            q.jobs.push_back(Job { texts, reply });
            if q.running < self.workers {
                q.running += 1;
                true
            } else {
                false
            }
        };
        if start_worker {
            let me = Arc::clone(self);
            tokio::task::spawn_blocking(move || me.drain());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the prediction worker stopped".to_string()))
    }

    /// Predict queued requests until the queue is empty.
    fn drain(&self) {
        loop {
            let batch = {
                let Ok(mut q) = self.queue.lock() else { return };
                let mut batch = Vec::new();
                let mut n = 0;
                while let Some(job) = q.jobs.front() {
                    if !batch.is_empty() && n + job.texts.len() > MAX_BATCH_TEXTS {
                        break;
                    }
                    n += job.texts.len();
                    batch.extend(q.jobs.pop_front());
                }
                if batch.is_empty() {
                    q.running -= 1;
                    return;
                }
                batch
            };
            self.run(batch);
        }
    }

    /// Predict one batch and answer each of its requests.
    fn run(&self, batch: Vec<Job>) {
        let mut texts = Vec::with_capacity(batch.iter().map(|j| j.texts.len()).sum());
        for job in &batch {
            texts.extend(job.texts.iter().cloned());
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.model.predict_texts(&texts)
        }));
        match result {
            Ok(Ok(predictions)) if predictions.len() == texts.len() => {
                let mut rest = predictions.into_iter();
                for job in batch {
                    let mine: Vec<_> = rest.by_ref().take(job.texts.len()).collect();
                    let _ = job.reply.send(Ok(mine));
                }
            }
            other => {
                let message = match other {
                    Ok(Ok(p)) => format!(
                        "the model returned {} predictions for {} texts",
                        p.len(),
                        texts.len()
                    ),
                    Ok(Err(e)) => format!("{e:#}"),
                    Err(_) => "the model panicked while predicting".to_string(),
                };
                for job in batch {
                    let _ = job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

fn poisoned() -> String {
    "the prediction queue is unusable after an earlier failure".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Labels each text with its length and counts the calls.
    struct Lengths {
        calls: AtomicUsize,
    }

    impl PredictTexts for Lengths {
        fn predict_texts(&self, texts: &[String]) -> Result<Vec<TextPrediction>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
            Ok(texts
                .iter()
                .map(|t| TextPrediction {
                    predicted: t.len().to_string(),
                    probabilities: Vec::new(),
                    raw: None,
                })
                .collect())
        }
    }

    #[test]
    fn concurrent_requests_share_calls_and_get_their_own_rows() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let model = Arc::new(Lengths {
            calls: AtomicUsize::new(0),
        });
        let batcher = Batcher::new(Arc::clone(&model), 1);
        let answers = rt.block_on(async {
            let mut handles = Vec::new();
            for i in 0..40 {
                let b = Arc::clone(&batcher);
                handles.push(tokio::spawn(async move {
                    b.predict(vec!["x".repeat(i), "y".repeat(i + 1)]).await
                }));
            }
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await.unwrap().unwrap());
            }
            out
        });
        for (i, a) in answers.iter().enumerate() {
            let labels: Vec<&str> = a.iter().map(|p| p.predicted.as_str()).collect();
            assert_eq!(labels, vec![i.to_string(), (i + 1).to_string()]);
        }
        let calls = model.calls.load(Ordering::SeqCst);
        assert!(calls < 40, "40 concurrent requests took {calls} calls");
    }

    struct Failing;

    impl PredictTexts for Failing {
        fn predict_texts(&self, _: &[String]) -> Result<Vec<TextPrediction>> {
            anyhow::bail!("broken artifact")
        }
    }

    #[test]
    fn a_failed_prediction_answers_its_requests_with_the_error() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let batcher = Batcher::new(Arc::new(Failing), 2);
        let err = rt.block_on(batcher.predict(vec!["a".into()])).unwrap_err();
        assert_eq!(err, "broken artifact");
    }
}
