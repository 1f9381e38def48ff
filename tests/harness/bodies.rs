//! Fixtures: the request bodies the intakes take, one builder a kind with the few fields the
//! tests vary as parameters.

use serde_json::{json, Value};

/// Siti, a woman born 5 January 1990 (the NIK says so).
pub const NIK_SITI: &str = "3301014501900001";
/// Budi, a man born 13 January 1990.
pub const NIK_BUDI: &str = "3301011301900001";
/// Ani, a girl born 20 July 2010: a minor.
pub const NIK_ANI: &str = "3301016007100003";

/// Kesugihan's Kemendagri village code (the village of `DESA_KESUGIHAN_TOKEN`).
pub const KESUGIHAN: &str = "33.01.02.2001";

/// A registration (`POST /v1/applicants`) through `source` of Siti (`nik`, `full_name`) of
/// Kesugihan, declaring umrah in Saudi Arabia.
pub fn registration(source: &str, nik: &str, full_name: &str) -> Value {
    json!({
        "source": source, "nik": nik, "full_name": full_name, "sex": "female",
        "birth_date": "1990-01-05", "village_code": KESUGIHAN, "village": "Kesugihan",
        "sub_district": "Kesugihan", "regency": "Cilacap", "declared_purpose": "umrah",
        "destination_country": "SA", "officer_id": "off-17"
    })
}

/// Budi's registration with his AK/1 card, to work in Malaysia, as a resident of the village
/// `village_code` (`village`, of the sub-district of the same name).
pub fn budi_registration(village_code: &str, village: &str) -> Value {
    json!({
        "source": "jobseeker_card_ak1", "nik": NIK_BUDI, "full_name": "Budi", "sex": "male",
        "birth_date": "1990-01-13", "village_code": village_code, "village": village,
        "sub_district": village, "regency": "Cilacap", "declared_purpose": "work",
        "destination_country": "MY", "officer_id": "off-2"
    })
}

/// Ani, the girl of 15, registered as a jobseeker (`POST /v1/disnaker/jobseekers`) in the
/// village `village_code` (`village`, of the sub-district of the same name), to work in
/// Malaysia.
pub fn minor_jobseeker(village_code: &str, village: &str) -> Value {
    json!({
        "nik": NIK_ANI, "full_name": "Ani", "sex": "female", "birth_date": "2010-07-20",
        "village_code": village_code, "village": village, "sub_district": village,
        "regency": "Cilacap", "declared_purpose": "work", "destination_country": "MY",
        "officer_id": "dn-1"
    })
}

/// Ani refused at `checkpoint` (`POST /v1/checkpoints/departure-checks`): a minor without a
/// guardian, handed to social services.
pub fn minor_refused(checkpoint: &str) -> Value {
    json!({
        "nik": NIK_ANI, "checkpoint_code": checkpoint, "decision": "refused",
        "carrier": "AirAsia", "flight_or_vessel": "QZ 262", "destination_country": "MY",
        "visa_shown": "tourist", "return_ticket": false, "reason": "minor_without_guardian",
        "handed_to": "social_services", "officer_id": "tpi-9"
    })
}

/// A village office's report (`POST /v1/applicants`) of Siti as a resident of the village
/// with that Kemendagri code.
pub fn village_report(village_code: &str) -> Value {
    json!({
        "source": "village_report", "nik": NIK_SITI, "full_name": "Siti", "sex": "female",
        "birth_date": "1990-01-05", "village_code": village_code, "village": "Maos Kidul",
        "sub_district": "Maos", "regency": "Cilacap", "declared_purpose": "work",
        "destination_country": "MY", "officer_id": "desa-1"
    })
}

/// An immigration office's flag (`POST /v1/imigrasi/visa-flags`) of `nik`'s umrah visa
/// without the travel operator's letter, at the passport interview.
pub fn umrah_flag(nik: &str) -> Value {
    json!({
        "nik": nik, "reason": "umrah_or_ziarah_without_travel_operator_letter",
        "stage": "passport_interview", "visa_type": "umrah", "destination_country": "SA",
        "officer_id": "im-3"
    })
}

/// `body` with `field` set to `value`.
pub fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}
