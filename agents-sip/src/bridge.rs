//! Connects two calls in-process: each side's audio is played to the other (the last step
//! of a warm transfer: caller and human talk directly, the agent leaves). Bridging here,
//! rather than REFER with Replaces, works with any peer (many trunks refuse REFER) at the
//! cost of keeping the media flowing through this process.

use crate::audio::{AudioOutput, InputEvent};
use crate::call::Call;
use crate::error::SipError;

/// Plays `a`'s audio to `b` and `b`'s to `a` until either side hangs up, then hangs up the
/// other. Digits are not forwarded. Takes both calls' inputs (fails if one was taken).
pub async fn bridge(a: &mut Call, b: &mut Call) -> Result<(), SipError> {
    let (Some(a_in), Some(b_in)) = (a.take_input(), b.take_input()) else {
        return Err(SipError::Config(
            "a bridged call's input was already taken".into(),
        ));
    };
    let (a_out, b_out) = (a.output(), b.output());
    let (a_ctl, b_ctl) = (a.control(), b.control());
    let forward = |mut input: tokio::sync::mpsc::Receiver<InputEvent>,
                   mut out: crate::playout::CallOutput| async move {
        while let Some(ev) = input.recv().await {
            match ev {
                InputEvent::Audio(frame) => {
                    if out.capture_frame(frame).await.is_err() {
                        return;
                    }
                }
                InputEvent::Hangup => return,
                InputEvent::Dtmf(_) => {}
            }
        }
    };
    tokio::select! {
        _ = forward(a_in, b_out) => {}
        _ = forward(b_in, a_out) => {}
    }
    tokio::join!(a_ctl.hangup(), b_ctl.hangup());
    Ok(())
}
