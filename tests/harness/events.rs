//! Fixtures: events as a publisher sends them on the broker, and feeds of them streamed in
//! the background.

use std::collections::HashSet;
use std::time::Duration;

use lintas_kit::events::{ApplicantRegistered, SubjectKeyer};
use lintas_kit::producer::EventProducer;

/// A valid ApplicantRegistered for `nik` (a woman born 5 January 1990 when the NIK says so),
/// of Adipala, going to work in Malaysia on her own: the kit's example, about `nik`'s subject.
pub fn applicant(keyer: &SubjectKeyer, nik: &str) -> ApplicantRegistered {
    use lintas_kit::events::ApplicantPersonalData;
    use lintas_kit::testing::examples::{example, Example};
    ApplicantRegistered {
        personal: ApplicantPersonalData {
            nik: nik.into(),
            full_name: "Dewi".into(),
        },
        birth_date: time::macros::date!(1990 - 01 - 05),
        village: "Adipala".into(),
        sub_district: "Adipala".into(),
        village_code: Some("33.01.03.2001".parse().expect("a village code")),
        placement_agency: None,
        ..example()
    }
    .about(&keyer.subject_key(nik))
}

/// `n` registrations of distinct applicants (NIKs 3301014501000000 on), and their event ids.
pub fn applicants(keyer: &SubjectKeyer, n: usize) -> (Vec<ApplicantRegistered>, HashSet<String>) {
    let events: Vec<ApplicantRegistered> = (0..n)
        .map(|i| applicant(keyer, &format!("3301014501{i:06}")))
        .collect();
    let ids = events
        .iter()
        .map(|e| e.envelope.event_id.to_string())
        .collect();
    (events, ids)
}

/// Publishes `events` in the background, `chunk` of them at once, with `pause` between
/// chunks; fails the task on a publish the broker does not acknowledge.
pub fn stream(
    producer: EventProducer,
    events: Vec<ApplicantRegistered>,
    chunk: usize,
    pause: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for chunk in events.chunks(chunk) {
            let mut tasks = tokio::task::JoinSet::new();
            for event in chunk {
                let (producer, event) = (producer.clone(), event.clone());
                tasks.spawn(async move { producer.publish(&event).await });
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap().expect("broker acknowledged");
            }
            tokio::time::sleep(pause).await;
        }
    })
}
