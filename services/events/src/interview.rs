use serde::{Deserialize, Serialize};
use time::Date;

use crate::{impl_event, timefmt, Envelope, InterviewOutcome, InterviewReason, Topic};

/// schemas/PassportInterviewConducted.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassportInterviewConducted {
    pub envelope: Envelope,
    pub interview_office: String,
    pub outcome: InterviewOutcome,
    /// For a deferral: when the applicant may apply again
    /// ([`PassportInterviewConducted::DEFAULT_DEFERRAL_DAYS`] after the interview by default).
    #[serde(with = "timefmt::days::option")]
    pub defer_until: Option<Date>,
    pub reason_codes: Vec<InterviewReason>,
    /// Personal data: the passport issued, or a prior passport found.
    pub passport_number: Option<String>,
}
impl_event!(PassportInterviewConducted, Topic::Applicants, |e| {
    crate::subject_partition_key(&e.envelope)
});

impl PassportInterviewConducted {
    /// Length of a deferral unless the officer sets another date.
    pub const DEFAULT_DEFERRAL_DAYS: i64 = 30;

    /// The default `defer_until` for an interview held on `interview_date` (the office's
    /// local date): [`Self::DEFAULT_DEFERRAL_DAYS`] later.
    pub fn default_defer_until(interview_date: Date) -> Date {
        interview_date.saturating_add(time::Duration::days(Self::DEFAULT_DEFERRAL_DAYS))
    }
}
