//! Fixtures: events as a publisher sends them on the broker.

/// A valid ApplicantRegistered for `nik` (a woman born 5 January 1990 when the NIK says so).
pub fn applicant(
    keyer: &lintas_kit::events::SubjectKeyer,
    nik: &str,
) -> lintas_kit::events::ApplicantRegistered {
    use lintas_kit::events::*;
    let mut envelope = Envelope::new(
        Agency::Disnaker,
        "DISNAKER-CILACAP",
        "test",
        timefmt::millis::now(),
    );
    envelope.subject_key = Some(keyer.subject_key(nik));
    ApplicantRegistered {
        envelope,
        source: RegistrationSource::JobseekerCardAk1,
        personal: ApplicantPersonalData {
            nik: nik.into(),
            full_name: "Dewi".into(),
        },
        sex: Sex::Female,
        birth_date: time::macros::date!(1990 - 01 - 05),
        village: "Adipala".into(),
        sub_district: "Adipala".into(),
        regency: "Cilacap".into(),
        declared_purpose: DeclaredPurpose::Work,
        destination_country: "MY".into(),
        placement_agency: None,
        sponsor_name: None,
        identity_verified: true,
        village_code: Some("33.01.03.2001".parse().expect("a village code")),
    }
}
