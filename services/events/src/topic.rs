use crate::Agency;

/// The topics of the feed: one per event family, and one per agency for its alerts. See
/// `schemas/README.md` for keys and owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Applicants,
    Screening,
    Departures,
    Cases,
    /// One agency's alerts and their lifecycle. Only that agency may write it, so a
    /// lifecycle action read there is the owner's own: another agency's subscriber cannot
    /// close or acknowledge an alert it does not own by publishing on a topic it can write.
    Alerts(Agency),
    /// Data-protection records: personal-data reads (the audit chain) and erasures.
    Privacy,
}

/// The agencies that raise alerts, in topic order. Village offices raise notices for their
/// village and run no alert desk, so nobody escalates from or reads their topic but the
/// operators' monitor.
pub const ALERT_OWNERS: [Agency; 5] = [
    Agency::Imigrasi,
    Agency::Disnaker,
    Agency::Kejaksaan,
    Agency::Polri,
    Agency::Desa,
];

/// The alert topics of [`ALERT_OWNERS`], in the same order.
pub const ALERT_TOPICS: [Topic; 5] = [
    Topic::Alerts(Agency::Imigrasi),
    Topic::Alerts(Agency::Disnaker),
    Topic::Alerts(Agency::Kejaksaan),
    Topic::Alerts(Agency::Polri),
    Topic::Alerts(Agency::Desa),
];

/// Who may read whose alerts, beyond each agency its own (and the operators' monitor every
/// agency's, since alerts carry no personal data): `(reader, owner)`. An alert is only
/// escalated to an agency that may read it, and a reader learns of an escalation from the
/// owner's topic alone. Every grant is an ACL in `deploy/` and a line in
/// `docs/alert-grants.md`.
pub const ALERT_GRANTS: [(Agency, Agency); 5] = [
    // Trafficking indicators raised at immigration and by the manpower office go to the
    // police.
    (Agency::Polri, Agency::Imigrasi),
    (Agency::Polri, Agency::Disnaker),
    // The manpower office follows up prospective workers flagged at immigration.
    (Agency::Disnaker, Agency::Imigrasi),
    // Prosecutor and police hold each other to a case's deadlines.
    (Agency::Kejaksaan, Agency::Polri),
    (Agency::Polri, Agency::Kejaksaan),
];

/// Whether `reader` may read `owner`'s alerts.
pub fn may_read_alerts(reader: Agency, owner: Agency) -> bool {
    reader == owner || ALERT_GRANTS.contains(&(reader, owner))
}

/// The alert topics `reader` may read: its own first, then the granted ones.
pub fn readable_alert_topics(reader: Agency) -> Vec<Topic> {
    std::iter::once(reader)
        .chain(
            ALERT_GRANTS
                .iter()
                .filter(|(r, _)| *r == reader)
                .map(|(_, owner)| *owner),
        )
        .map(Topic::Alerts)
        .collect()
}

/// The topic that alert lifecycle used to share (until 0.2). Nothing writes or reads it any
/// more: anyone who could read it could forge an action on another agency's alert.
pub const RETIRED_SHARED_ALERTS: &str = "lintas.alerts.v1";

impl Topic {
    pub const ALL: [Topic; 10] = [
        Topic::Applicants,
        Topic::Screening,
        Topic::Departures,
        Topic::Cases,
        Topic::Alerts(Agency::Imigrasi),
        Topic::Alerts(Agency::Disnaker),
        Topic::Alerts(Agency::Kejaksaan),
        Topic::Alerts(Agency::Polri),
        Topic::Alerts(Agency::Desa),
        Topic::Privacy,
    ];

    /// Topic name without a deployment prefix.
    pub fn base_name(self) -> &'static str {
        match self {
            Topic::Applicants => "lintas.applicants.v1",
            Topic::Screening => "lintas.screening.v1",
            Topic::Departures => "lintas.departures.v1",
            Topic::Cases => "lintas.cases.v1",
            Topic::Alerts(Agency::Imigrasi) => "lintas.alerts.imigrasi.v1",
            Topic::Alerts(Agency::Disnaker) => "lintas.alerts.disnaker.v1",
            Topic::Alerts(Agency::Kejaksaan) => "lintas.alerts.kejaksaan.v1",
            Topic::Alerts(Agency::Polri) => "lintas.alerts.polri.v1",
            Topic::Alerts(Agency::Desa) => "lintas.alerts.desa.v1",
            Topic::Alerts(Agency::P2mi) => "lintas.alerts.p2mi.v1",
            Topic::Alerts(Agency::Dinsos) => "lintas.alerts.dinsos.v1",
            Topic::Alerts(Agency::Other) => "lintas.alerts.other.v1",
            Topic::Privacy => "lintas.privacy.v1",
        }
    }

    /// The topic named `name` (with a deployment `prefix`), if it is one of the feed's.
    pub fn from_name(prefix: &str, name: &str) -> Option<Topic> {
        let base = name.strip_prefix(prefix)?;
        Topic::ALL.into_iter().find(|t| t.base_name() == base)
    }

    /// The agency whose alerts this topic carries.
    pub fn alert_owner(self) -> Option<Agency> {
        match self {
            Topic::Alerts(owner) => Some(owner),
            _ => None,
        }
    }

    /// Whether this topic carries alerts (of any agency).
    pub fn is_alerts(self) -> bool {
        self.alert_owner().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_owner_has_a_topic_and_grants_name_owners() {
        for owner in ALERT_OWNERS {
            assert!(Topic::ALL.contains(&Topic::Alerts(owner)));
        }
        for (reader, owner) in ALERT_GRANTS {
            assert_ne!(
                reader, owner,
                "an agency reads its own alerts without a grant"
            );
            assert!(ALERT_OWNERS.contains(&reader) && ALERT_OWNERS.contains(&owner));
            assert_ne!(owner, Agency::Desa, "village notices are not escalated");
        }
        assert_eq!(
            readable_alert_topics(Agency::Kejaksaan),
            [
                Topic::Alerts(Agency::Kejaksaan),
                Topic::Alerts(Agency::Polri)
            ]
        );
        assert!(!may_read_alerts(Agency::Desa, Agency::Polri));
        assert_eq!(
            Topic::from_name("dev.", "dev.lintas.alerts.polri.v1"),
            Some(Topic::Alerts(Agency::Polri))
        );
        assert_eq!(Topic::from_name("dev.", "lintas.alerts.polri.v1"), None);
    }
}
