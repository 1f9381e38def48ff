//! Identities in the immigration view, on the kit's harness, each scenario on SQLite and on
//! PostgreSQL: only entitled channels assert one, a record whose personal data this
//! subscriber cannot decrypt leaves none (and still applies), and an erasure removes it
//! whatever the order in which the erasure and the registrations it covers arrive.

use lintas_imigrasi::ImigrasiHandler;
use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, Example};
use lintas_kit::testing::{Backend, Harness};
use time::{Duration, OffsetDateTime};

lintas_kit::on_both_stores!(
    a_claim_never_replaces_or_stands_in_for_the_verified_identity,
    a_sealed_registration_applies_without_an_identity,
    an_erasure_holds_in_either_arrival_order,
    the_history_age_band_is_taken_on_the_local_day,
);

/// A woman registered for umrah to Saudi Arabia (IM2's pattern) through `source` under
/// `name`: a village report comes from the village office, the rest from immigration.
fn registration(
    source: RegistrationSource,
    name: &str,
    verified: bool,
    at: OffsetDateTime,
) -> AnyEvent {
    let agency = match source {
        RegistrationSource::VillageReport => Agency::Desa,
        _ => Agency::Imigrasi,
    };
    ApplicantRegistered {
        source,
        personal: ApplicantPersonalData {
            nik: "3301014501900001".into(),
            full_name: name.into(),
        },
        birth_date: time::macros::date!(1990 - 01 - 05),
        declared_purpose: DeclaredPurpose::Umrah,
        destination_country: "SA".into(),
        placement_agency: None,
        identity_verified: verified,
        ..example()
    }
    .by(agency, "OFFICE")
    .at(at)
    .into_any()
}

/// The subject's erasure at the data subject's request, at `at`, under UU 27/2022.
fn erasure(at: OffsetDateTime) -> AnyEvent {
    let mut erased = example::<PersonalDataErased>().at(at);
    erased.envelope.legal_basis = Some("UU 27/2022 Pasal 8".into());
    erased.into_any()
}

async fn harness(backend: Backend) -> Harness<ImigrasiHandler> {
    Harness::on(
        backend,
        ImigrasiHandler::default(),
        lintas_imigrasi::migrations(),
    )
    .await
}

/// (verified identity's name, claimed names) as the view holds them.
async fn identities(harness: &Harness<ImigrasiHandler>) -> (Option<String>, Vec<String>) {
    let pool = harness.store().pool();
    let verified = sqlx::query_scalar("SELECT full_name FROM subject_identities")
        .fetch_optional(pool)
        .await
        .unwrap();
    let claims =
        sqlx::query_scalar("SELECT full_name FROM identity_claims ORDER BY occurred_at_ms")
            .fetch_all(pool)
            .await
            .unwrap();
    (verified, claims)
}

/// A village report is a claim beside the identity, never the identity, before or after the
/// passport application; the first verified registration stays the identity.
async fn a_claim_never_replaces_or_stands_in_for_the_verified_identity(backend: Backend) {
    let t0 = timefmt::millis::now() - Duration::days(3);
    let claim = registration(RegistrationSource::VillageReport, "Nama Palsu", false, t0);
    let verified = registration(
        RegistrationSource::PassportApplication,
        "Siti Aminah",
        true,
        t0 + Duration::days(1),
    );
    let again = registration(
        RegistrationSource::PassportApplication,
        "Siti Lain",
        true,
        t0 + Duration::days(2),
    );
    let mut h = harness(backend).await;
    h.apply_each(vec![claim.clone()]).await.unwrap();
    assert_eq!(identities(&h).await, (None, vec!["Nama Palsu".to_string()]));
    h.apply_each(vec![verified, again, claim]).await.unwrap();
    assert_eq!(
        identities(&h).await,
        (
            Some("Siti Aminah".to_string()),
            vec!["Nama Palsu".to_string()]
        )
    );
}

/// Without the key (or after it was destroyed) the registration applies, its history and the
/// rules it feeds included, but no identity is stored from ciphertext.
async fn a_sealed_registration_applies_without_an_identity(backend: Backend) {
    let mut h = harness(backend).await;
    let at = timefmt::millis::now();
    h.apply_sealed(vec![registration(
        RegistrationSource::PassportApplication,
        "x",
        true,
        at,
    )])
    .await
    .unwrap();
    assert_eq!(identities(&h).await, (None, vec![]));
    let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subject_history")
        .fetch_one(h.store().pool())
        .await
        .unwrap();
    assert_eq!(history, 1);
    assert_eq!(
        h.rules_raised(),
        ["IM2"],
        "the woman on umrah to SA still raises IM2"
    );
}

/// An erasure removes the identity and the claims recorded before it, whether it arrives after
/// them or (on another topic, in a rebuild) before them; what is recorded after it is new.
async fn an_erasure_holds_in_either_arrival_order(backend: Backend) {
    let t0 = timefmt::millis::now() - Duration::days(3);
    let before = vec![
        registration(
            RegistrationSource::PassportApplication,
            "Siti Aminah",
            true,
            t0,
        ),
        registration(RegistrationSource::VillageReport, "Nama Palsu", false, t0),
    ];
    let erased = erasure(t0 + Duration::days(1));
    for order in [
        [before.clone(), vec![erased.clone()]].concat(),
        [vec![erased.clone()], before.clone()].concat(),
    ] {
        let mut h = harness(backend).await;
        h.apply_each(order).await.unwrap();
        assert_eq!(identities(&h).await, (None, vec![]));
        h.apply_each(vec![registration(
            RegistrationSource::PassportApplication,
            "Siti Aminah",
            true,
            t0 + Duration::days(2),
        )])
        .await
        .unwrap();
        assert_eq!(
            identities(&h).await,
            (Some("Siti Aminah".to_string()), vec![]),
            "a registration after the erasure is new data"
        );
    }
}

/// The history keeps an age band taken on the local day of the registration: at 00:30 WIB
/// on an 18th birthday (17:30 UTC the day before) the applicant is 18, not "under_18".
async fn the_history_age_band_is_taken_on_the_local_day(backend: Backend) {
    let mut h = harness(backend).await;
    let mut event = registration(
        RegistrationSource::PassportApplication,
        "Siti",
        true,
        time::macros::datetime!(2026-06-15 00:30 +7),
    );
    if let AnyEvent::ApplicantRegistered(e) = &mut event {
        e.birth_date = time::macros::date!(2008 - 06 - 15);
    }
    h.apply(vec![event]).await.unwrap();
    let details: String = sqlx::query_scalar("SELECT details FROM subject_history")
        .fetch_one(h.store().pool())
        .await
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["age_band"], "18-24", "{details}");
}
