/// The topics of the feed: one per event family. See `schemas/README.md` for keys and owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Applicants,
    Screening,
    Departures,
    Cases,
    Alerts,
    /// Data-protection records: personal-data reads (the audit chain) and erasures.
    Privacy,
}

impl Topic {
    pub const ALL: [Topic; 6] = [
        Topic::Applicants,
        Topic::Screening,
        Topic::Departures,
        Topic::Cases,
        Topic::Alerts,
        Topic::Privacy,
    ];

    /// Topic name without a deployment prefix.
    pub fn base_name(self) -> &'static str {
        match self {
            Topic::Applicants => "lintas.applicants.v1",
            Topic::Screening => "lintas.screening.v1",
            Topic::Departures => "lintas.departures.v1",
            Topic::Cases => "lintas.cases.v1",
            Topic::Alerts => "lintas.alerts.v1",
            Topic::Privacy => "lintas.privacy.v1",
        }
    }
}
