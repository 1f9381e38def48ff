//! Personal data on the wire.

use crate::encryption::Sealed;
use crate::metrics::FIELDS_SEALED;

/// A record's personal-data fields stayed encrypted for this reader: fires once per record
/// (`lintas_personal_data_sealed_total` by reason). Not holding the KEK (`no_key`) or a
/// crypto-shredded key (`key_destroyed`) is normal (debug); a KEK of this service that does
/// not open its key (`wrong_key`) or a ciphertext this build cannot read (`unreadable`) is a
/// fault to look into (error). Names the KEK and the subject, never a field's value.
#[derive(Debug, Clone, Copy)]
pub struct PersonalDataSealed<'a> {
    pub kek: &'a str,
    /// The schema subject of the record.
    pub subject: &'a str,
    pub reason: Sealed,
}

impl PersonalDataSealed<'_> {
    pub fn emit(&self) {
        let (kek, subject, reason) = (self.kek, self.subject, self.reason.as_str());
        match self.reason {
            Sealed::WrongKey | Sealed::Unreadable => tracing::error!(
                kek,
                subject,
                reason,
                "personal data held under a KEK of this service does not decrypt"
            ),
            Sealed::NoKey | Sealed::KeyDestroyed => {
                tracing::debug!(kek, subject, reason, "personal data stays sealed")
            }
        }
        FIELDS_SEALED.with_label_values(&[reason]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internal_events::counter_value;

    #[test]
    fn sealed_records_are_counted_by_reason() {
        let count =
            |reason| counter_value("lintas_personal_data_sealed_total", &[("reason", reason)]);
        let before = count("unreadable");
        PersonalDataSealed {
            kek: "lintas-imigrasi",
            subject: "lintas.applicants.v1-value",
            reason: Sealed::Unreadable,
        }
        .emit();
        assert!(count("unreadable") >= before + 1.0);
    }
}
