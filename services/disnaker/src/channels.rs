//! The legal placement channels for work in the Middle East, the one place DN3 takes them
//! from.
//!
//! Since Kepmenaker 260/2015 no worker may be placed with a private household (domestic
//! work) in the Middle East. The one channel left open is the designated scheme: the
//! one-channel placement system (Sistem Penempatan Satu Kanal, SPSK, Kepmenaker 291/2018) to
//! Saudi Arabia, run by placement agencies (P3MI) designated for it. A licence number on its
//! own proves nothing about the channel: any licensed agency may send workers to Malaysia,
//! only designated ones may send domestic workers to Saudi Arabia, and nobody may send them to
//! Kuwait. A placement is inside a channel when its destination, its purpose and its agency
//! all fit the same one.
//!
//! What the events do not say: the sector (household or formal). ApplicantRegistered carries
//! the declared purpose `work` and no occupation, so DN3 treats work in a banned country as
//! the domestic work the ban is about (the common modus) unless it is inside an open channel;
//! the alert says so and the officer checks the sector.

use lintas_kit::events::DeclaredPurpose;

/// A channel still open for domestic work in a country under the ban.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenChannel {
    /// What officers call it.
    pub name: &'static str,
    /// The regulation that opened it.
    pub legal_basis: &'static str,
    /// Destination countries (ISO 3166-1 alpha-2) it places workers in.
    pub destinations: &'static [&'static str],
    /// Declared purposes it places workers for.
    pub purposes: &'static [DeclaredPurpose],
}

/// Every channel open for domestic work in the Middle East: today, the single one.
pub const OPEN_CHANNELS: &[OpenChannel] = &[OpenChannel {
    name: "SPSK, the one-channel placement system to Saudi Arabia",
    legal_basis: "Kepmenaker 291/2018",
    destinations: &["SA"],
    purposes: &[DeclaredPurpose::Work],
}];

/// A placement as registered: where, for what, through which agency's licence.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub destination: &'a str,
    pub purpose: DeclaredPurpose,
    /// The placement agency's licence number, if an agency and a number were named.
    pub licence: Option<&'a str>,
}

/// The open channel `placement` is inside, if any: one whose destinations and purposes
/// include it, through an agency whose licence is among `designated` (the licence numbers
/// of the agencies designated for the scheme, a deployment's data). Numbers compare without
/// surrounding spaces or case, as officers type them.
pub fn open_channel(
    placement: Placement<'_>,
    designated: &[String],
) -> Option<&'static OpenChannel> {
    let licence = placement.licence.map(str::trim).filter(|l| !l.is_empty())?;
    let destination = placement.destination.trim();
    let designated = designated
        .iter()
        .any(|d| d.trim().eq_ignore_ascii_case(licence));
    OPEN_CHANNELS.iter().find(|channel| {
        designated
            && channel
                .destinations
                .iter()
                .any(|d| d.eq_ignore_ascii_case(destination))
            && channel.purposes.contains(&placement.purpose)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(destination: &'static str, licence: Option<&'static str>) -> Placement<'static> {
        Placement {
            destination,
            purpose: DeclaredPurpose::Work,
            licence,
        }
    }

    fn designated() -> Vec<String> {
        vec!["SIP3MI-SPSK-017".into()]
    }

    #[test]
    fn the_designated_scheme_to_saudi_arabia_is_open() {
        let channel = open_channel(work("SA", Some("SIP3MI-SPSK-017")), &designated()).unwrap();
        assert_eq!(channel.legal_basis, "Kepmenaker 291/2018");
        // As typed at the counter.
        assert!(open_channel(work(" sa ", Some(" sip3mi-spsk-017 ")), &designated()).is_some());
    }

    #[test]
    fn a_licence_number_alone_is_no_channel() {
        // Any string, a real licence not designated for the scheme, or none at all.
        assert!(open_channel(work("SA", Some("X")), &designated()).is_none());
        assert!(open_channel(work("SA", Some("SIP3MI-001")), &designated()).is_none());
        assert!(open_channel(work("SA", None), &designated()).is_none());
        assert!(open_channel(work("SA", Some("  ")), &[" ".into()]).is_none());
        // With no agency designated in this deployment, nobody is inside.
        assert!(open_channel(work("SA", Some("SIP3MI-SPSK-017")), &[]).is_none());
    }

    #[test]
    fn the_scheme_goes_to_saudi_arabia_only_and_for_work_only() {
        for country in ["KW", "AE", "QA", "JO"] {
            assert!(
                open_channel(work(country, Some("SIP3MI-SPSK-017")), &designated()).is_none(),
                "{country}"
            );
        }
        let umrah = Placement {
            purpose: DeclaredPurpose::Umrah,
            ..work("SA", Some("SIP3MI-SPSK-017"))
        };
        assert!(open_channel(umrah, &designated()).is_none());
    }

    #[test]
    fn every_channel_is_in_a_country_and_for_a_purpose() {
        for channel in OPEN_CHANNELS {
            assert!(!channel.destinations.is_empty() && !channel.purposes.is_empty());
            assert!(channel
                .destinations
                .iter()
                .all(|d| d.len() == 2 && d.chars().all(|c| c.is_ascii_uppercase())));
        }
    }
}
