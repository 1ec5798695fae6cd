//! Batching concurrent prediction requests.
//!
//! Every call of [`Predictor::predict`] has a fixed cost besides its per-text
//! work (reading the fitted vocabulary, setting up the forward pass), so many
//! small concurrent requests are served faster as one call. Requests join a
//! queue; `workers` long-lived threads drain it, each taking every waiting
//! request up to [`MAX_BATCH_TEXTS`] texts into one call and handing each
//! request its own rows. A lone request is predicted at once, without
//! waiting for company.
//!
//! The workers are the same few threads for the server's whole life (not
//! tokio's blocking pool, which starts and retires threads as load comes and
//! goes): the allocator keeps memory per thread, so a changing set of
//! predicting threads made the server's memory creep upward under load.

use crate::pipeline::predict::TextPrediction;
use anyhow::Result;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
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
    /// Set when the batcher is dropped: the workers finish the queue and stop.
    closed: bool,
}

/// What the workers share with the batcher.
struct Shared<P: PredictTexts> {
    model: Arc<P>,
    queue: Mutex<Queue>,
    /// Signalled when a job arrives or the batcher closes.
    arrived: Condvar,
}

/// The shared queue of prediction requests.
pub struct Batcher<P: PredictTexts> {
    shared: Arc<Shared<P>>,
    /// Worker threads started; 0 when the system refused threads, and then
    /// each request drains the queue on tokio's blocking pool instead.
    workers: usize,
}

impl<P: PredictTexts> Batcher<P> {
    /// A batcher with `workers` (at least 1) prediction threads.
    pub fn new(model: Arc<P>, workers: usize) -> Arc<Batcher<P>> {
        let shared = Arc::new(Shared {
            model,
            queue: Mutex::new(Queue::default()),
            arrived: Condvar::new(),
        });
        let mut started = 0;
        for k in 0..workers.max(1) {
            let shared = Arc::clone(&shared);
            let spawned = std::thread::Builder::new()
                .name(format!("kerros-predict-{k}"))
                .spawn(move || shared.work());
            started += usize::from(spawned.is_ok());
        }
        Arc::new(Batcher {
            shared,
            workers: started,
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
        {
            let mut q = self.shared.queue.lock().map_err(|_| poisoned())?;
            q.jobs.push_back(Job { texts, reply });
        }
        if self.workers == 0 {
            let shared = Arc::clone(&self.shared);
            tokio::task::spawn_blocking(move || {
                while let Some(batch) = shared.next_batch(false) {
                    shared.run(batch);
                }
            });
        } else {
            self.shared.arrived.notify_one();
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the prediction worker stopped".to_string()))
    }
}

impl<P: PredictTexts> Drop for Batcher<P> {
    fn drop(&mut self) {
        if let Ok(mut q) = self.shared.queue.lock() {
            q.closed = true;
        }
        self.shared.arrived.notify_all();
    }
}

impl<P: PredictTexts> Shared<P> {
    /// A worker: predict queued requests as they come, until closed.
    fn work(&self) {
        while let Some(batch) = self.next_batch(true) {
            self.run(batch);
        }
    }

    /// The waiting requests up to [`MAX_BATCH_TEXTS`] texts (a single
    /// larger request whole). With `wait`, blocks until there is one;
    /// `None` once the queue is empty and closed (or, without `wait`, empty).
    fn next_batch(&self, wait: bool) -> Option<Vec<Job>> {
        let mut q = self.queue.lock().ok()?;
        while wait && q.jobs.is_empty() && !q.closed {
            q = self.arrived.wait(q).ok()?;
        }
        let mut batch = Vec::new();
        let mut n = 0;
        while let Some(job) = q.jobs.front() {
            if !batch.is_empty() && n + job.texts.len() > MAX_BATCH_TEXTS {
                break;
            }
            n += job.texts.len();
            batch.extend(q.jobs.pop_front());
        }
        (!batch.is_empty()).then_some(batch)
    }

    /// Predict one batch and answer each of its requests.
    fn run(&self, mut batch: Vec<Job>) {
        // The texts move into one list (no copy); `counts` splits the answers.
        let counts: Vec<usize> = batch.iter().map(|j| j.texts.len()).collect();
        let mut texts = Vec::with_capacity(counts.iter().sum());
        for job in &mut batch {
            texts.append(&mut job.texts);
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.model.predict_texts(&texts)
        }));
        match result {
            Ok(Ok(predictions)) if predictions.len() == texts.len() => {
                let mut rest = predictions.into_iter();
                for (job, n) in batch.into_iter().zip(counts) {
                    let mine: Vec<_> = rest.by_ref().take(n).collect();
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

    /// Labels each text with the name of the thread that predicted it.
    struct ThreadNames;

    impl PredictTexts for ThreadNames {
        fn predict_texts(&self, texts: &[String]) -> Result<Vec<TextPrediction>> {
            let name = std::thread::current().name().unwrap_or("").to_string();
            Ok(texts
                .iter()
                .map(|_| TextPrediction {
                    predicted: name.clone(),
                    probabilities: Vec::new(),
                    raw: None,
                })
                .collect())
        }
    }

    #[test]
    fn predictions_run_on_the_same_few_threads_which_stop_with_the_batcher() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let model = Arc::new(ThreadNames);
        let batcher = Batcher::new(Arc::clone(&model), 2);
        let names = rt.block_on(async {
            let mut names = std::collections::BTreeSet::new();
            for round in 0..20 {
                let mut handles = Vec::new();
                for i in 0..(round % 7 + 1) {
                    let b = Arc::clone(&batcher);
                    handles.push(tokio::spawn(
                        async move { b.predict(vec!["x".repeat(i)]).await },
                    ));
                }
                for h in handles {
                    names.extend(h.await.unwrap().unwrap().into_iter().map(|p| p.predicted));
                }
            }
            names
        });
        assert!(
            names.iter().all(|n| n.starts_with("kerros-predict-")) && names.len() <= 2,
            "{names:?}"
        );
        drop(batcher);
        // The workers hold the model until they stop.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while Arc::strong_count(&model) > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(Arc::strong_count(&model), 1, "the workers did not stop");
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
