//! The telephony tasks are importable from this crate, like every other prebuilt task, and run
//! from these paths.

mod common;

use agents_core::prelude::*;
use agents_core::testing::{Reply, ScriptedLlm};
use agents_prebuilt::telephony::{DialOutcome, SimulatedTelephony};
use agents_prebuilt::{
    DtmfKey, DtmfResult, GetDtmfTask, TransferError, WarmTransferResult, WarmTransferTask,
};
use std::sync::Arc;

runner!(DtmfRunner, GetDtmfTask, DtmfResult);
runner!(TransferRunner, WarmTransferTask, WarmTransferResult);

#[tokio::test]
async fn the_dtmf_task_collects_keypad_digits() {
    let llm = ScriptedLlm::new().otherwise(Reply::text("Please enter your PIN."));
    let task = GetDtmfTask::new(4).stop_key(Some(DtmfKey::Pound));
    let (session, outcome) = DtmfRunner::start(&llm, task).await;
    let turn = session.send_dtmf("1234#").await.unwrap();
    assert_eq!(
        turn.final_output::<DtmfResult>().map(|r| r.digits.as_str()),
        Some("1234")
    );
    assert_eq!(common::take(&outcome).unwrap().unwrap().digits, "1234");
    session.close().await;
}

#[tokio::test]
async fn a_busy_warm_transfer_fails_with_its_typed_error() {
    let llm = ScriptedLlm::new().otherwise(Reply::text("One moment."));
    let telephony = SimulatedTelephony::new().with_outcome(DialOutcome::Busy);
    let task = WarmTransferTask::new(
        Arc::new(telephony.clone()),
        Arc::new(llm.clone()),
        "+15550100",
    );
    let (session, outcome) = TransferRunner::start(&llm, task).await;
    let error = common::take(&outcome).unwrap().unwrap_err();
    assert_eq!(
        error.downcast_ref::<TransferError>(),
        Some(&TransferError::Busy)
    );
    assert_eq!(
        telephony.labels(),
        vec!["hold caller", "dial +15550100", "unhold caller"]
    );
    session.close().await;
}
