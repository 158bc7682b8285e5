//! A stoppable relay of a call's input: while a leg is talking to the agent its input goes
//! to the agent (voice pipeline or speech recognition); when the leg is bridged the relay
//! stops and hands the input back, so [`crate::bridge::bridge`] can take it from the call.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::audio::InputEvent;

/// Forwards a call's [`InputEvent`]s to a channel until stopped or the call ends.
pub(crate) struct InputTap {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Option<mpsc::Receiver<InputEvent>>>,
}

impl InputTap {
    /// Starts relaying `input` to `sink`. With `lossy`, frames are dropped while the sink is
    /// full (a consumer that fell behind must not stall the call); `Hangup` is always
    /// delivered.
    pub(crate) fn spawn(
        mut input: mpsc::Receiver<InputEvent>,
        sink: mpsc::Sender<InputEvent>,
        lossy: bool,
    ) -> Self {
        let (stop_tx, mut stop_rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = &mut stop_rx => return Some(input),
                    ev = input.recv() => match ev {
                        Some(InputEvent::Hangup) | None => {
                            let _ = sink.send(InputEvent::Hangup).await;
                            return None;
                        }
                        Some(ev) if lossy => {
                            if let Err(mpsc::error::TrySendError::Full(_)) = sink.try_send(ev) {
                                tracing::trace!("input consumer behind: frame dropped");
                            }
                        }
                        Some(ev) => {
                            if sink.send(ev).await.is_err() {
                                // Nobody listens any more: keep draining until stopped.
                                tracing::trace!("input consumer gone");
                            }
                        }
                    }
                }
            }
        });
        InputTap {
            stop: Some(stop_tx),
            task,
        }
    }

    /// Stops relaying and returns the input, or `None` when the call already ended.
    pub(crate) async fn stop(mut self) -> Option<mpsc::Receiver<InputEvent>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.ok().flatten()
    }
}

impl Drop for InputTap {
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::mono_8k;

    #[tokio::test]
    async fn relays_then_hands_the_input_back() {
        let (tx, rx) = mpsc::channel(4);
        let (sink, mut out) = mpsc::channel(4);
        let tap = InputTap::spawn(rx, sink, false);
        tx.send(InputEvent::Dtmf('5')).await.unwrap();
        assert_eq!(out.recv().await, Some(InputEvent::Dtmf('5')));
        let mut back = tap.stop().await.expect("the call is up");
        tx.send(InputEvent::Audio(mono_8k(vec![1; 160])))
            .await
            .unwrap();
        assert!(matches!(back.recv().await, Some(InputEvent::Audio(_))));
    }

    #[tokio::test]
    async fn hangup_is_delivered_and_ends_the_relay() {
        let (tx, rx) = mpsc::channel(4);
        let (sink, mut out) = mpsc::channel(1);
        let tap = InputTap::spawn(rx, sink, true);
        // A full lossy sink drops frames but not the hangup.
        for _ in 0..3 {
            tx.send(InputEvent::Audio(mono_8k(vec![0; 160])))
                .await
                .unwrap();
        }
        tx.send(InputEvent::Hangup).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(matches!(out.recv().await, Some(InputEvent::Audio(_))));
        assert_eq!(out.recv().await, Some(InputEvent::Hangup));
        assert!(tap.stop().await.is_none());
    }
}
