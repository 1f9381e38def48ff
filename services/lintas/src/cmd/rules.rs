//! Thresholds and windows of the agencies' rules, from flags or the environment; the
//! defaults are the domain brief's. Shared by `lintas subscriber` and `lintas up`.
//!
//! Each agency's builder below is the only code of the binary that is particular to one
//! agency: `agencies::AGENCIES` names it beside the agency, and every command iterates over
//! that list. A builder refuses settings its agency cannot serve under.

use clap::Args;
use lintas_kit::events::calendar::TimeZone;
use time::Duration;

#[derive(Args, Debug, Clone)]
pub struct RuleArgs {
    /// The deployment's time zone (WIB, WITA or WIT): the local day of every rule's ages,
    /// dates and day-counted deadlines.
    #[arg(long, env = "LINTAS_TIME_ZONE", default_value = "WIB")]
    pub time_zone: TimeZone,
    /// Office code stamped on the alerts a subscriber raises (default: LINTAS-<AGENCY>).
    #[arg(long, env = "LINTAS_ALERT_OFFICE")]
    pub alert_office: Option<String>,
    /// IM1: a stop within this many calendar months of an earlier one (the same date a year
    /// later is within 12).
    #[arg(long, env = "LINTAS_IM1_WINDOW_MONTHS", default_value_t = 12)]
    pub im1_window_months: u32,
    /// The window in days of earlier releases: refused naming its replacement, so that a
    /// deployment still setting it does not run on a window it did not choose.
    #[arg(long, env = "LINTAS_IM1_WINDOW_DAYS", hide = true, value_parser = replaced_by_months)]
    pub im1_window_days: Option<String>,
    /// IM2: transit points (IATA) of pilgrimage-visa routes to watch.
    #[arg(
        long,
        env = "LINTAS_IM2_TRANSIT_POINTS",
        value_delimiter = ',',
        default_value = "DXB,AUH,DOH,MCT,BAH,KWI,KUL"
    )]
    pub im2_transit_points: Vec<String>,
    /// Disnaker: the regency the office serves, by Kemendagri code (33.01 is Kabupaten
    /// Cilacap). Applicants whose village code lies elsewhere are another office's: no view,
    /// task or alert here. Required by `lintas subscriber disnaker`; `lintas up` defaults to
    /// 33.01, the simulator's regency.
    #[arg(long, env = "LINTAS_DISNAKER_REGENCY")]
    pub disnaker_regency: Option<lintas_kit::events::RegencyCode>,
    /// DN1: days the village office has to follow up a blocked resident.
    #[arg(long, env = "LINTAS_DN1_FOLLOW_UP_DAYS", default_value_t = 7)]
    pub dn1_follow_up_days: i64,
    /// DN2: placement-agency licence (SIP3MI) numbers known to be valid.
    #[arg(long, env = "LINTAS_DN2_VALID_LICENCES", value_delimiter = ',')]
    pub dn2_valid_licences: Vec<String>,
    /// DN3: licence numbers of the placement agencies designated for the one open channel
    /// for domestic work in the Middle East (the scheme to Saudi Arabia).
    #[arg(long, env = "LINTAS_DN3_SCHEME_AGENCIES", value_delimiter = ',')]
    pub dn3_scheme_agencies: Vec<String>,
    /// PO1: blocked people linked to one recruiter…
    #[arg(long, env = "LINTAS_PO1_THRESHOLD", default_value_t = 5)]
    pub po1_threshold: usize,
    /// …within this many days.
    #[arg(long, env = "LINTAS_PO1_WINDOW_DAYS", default_value_t = 90)]
    pub po1_window_days: i64,
    /// PO3: days from a referral to the police to an investigation.
    #[arg(long, env = "LINTAS_PO3_DAYS", default_value_t = 14)]
    pub po3_days: i64,
    /// JA1: days from the opening of an investigation to the SPDP.
    #[arg(long, env = "LINTAS_JA1_DAYS", default_value_t = 7)]
    pub ja1_days: i64,
    /// JA2: days from the SPDP to the assignment of a prosecutor (P-16).
    #[arg(long, env = "LINTAS_JA2_DAYS", default_value_t = 7)]
    pub ja2_days: i64,
    /// JA3: days to return a corrected file after P-18 or P-19 (when the form sets no date).
    #[arg(long, env = "LINTAS_JA3_CORRECTED_FILE_DAYS", default_value_t = 14)]
    pub ja3_corrected_file_days: i64,
    /// JA3: days for the prosecutor to answer a file the investigator sent (KUHAP art. 138).
    #[arg(long, env = "LINTAS_JA3_FILE_ANSWER_DAYS", default_value_t = 7)]
    pub ja3_file_answer_days: i64,
}

fn replaced_by_months(_: &str) -> Result<String, String> {
    Err(
        "LINTAS_IM1_WINDOW_DAYS (--im1-window-days) is replaced by LINTAS_IM1_WINDOW_MONTHS \
         (--im1-window-months): IM1's window is counted in calendar months, 12 by default"
            .into(),
    )
}

impl RuleArgs {
    fn office(&self, default: String) -> String {
        self.alert_office.clone().unwrap_or(default)
    }

    pub fn imigrasi(&self) -> anyhow::Result<lintas_imigrasi::ImigrasiHandler> {
        let mut im1 = lintas_imigrasi::Im1Settings::default();
        im1.window_months = self.im1_window_months;
        im1.im2_transit_points = self.im2_transit_points.clone();
        im1.office = self.office(im1.office);
        im1.time_zone = self.time_zone;
        Ok(lintas_imigrasi::ImigrasiHandler { im1 })
    }

    pub fn disnaker(&self) -> anyhow::Result<lintas_disnaker::DisnakerHandler> {
        // A manpower office serves one regency; on a national feed, a missing setting would
        // give it every regency's residents and tasks. (`lintas up` sets Cilacap's.)
        if self.disnaker_regency.is_none() {
            anyhow::bail!(
                "the disnaker subscriber needs the regency it serves: set LINTAS_DISNAKER_REGENCY \
                 (--disnaker-regency) to its Kemendagri code, for example 33.01 for Kabupaten Cilacap"
            );
        }
        let mut handler = lintas_disnaker::DisnakerHandler::default();
        let s = &mut handler.settings;
        s.regency = self.disnaker_regency.clone();
        s.follow_up_days = self.dn1_follow_up_days;
        s.valid_licences = self.dn2_valid_licences.clone();
        s.scheme_agencies = self.dn3_scheme_agencies.clone();
        s.time_zone = self.time_zone;
        s.office = self.office(std::mem::take(&mut s.office));
        Ok(handler)
    }

    pub fn polri(&self) -> anyhow::Result<lintas_polri::PolriHandler> {
        let mut handler = lintas_polri::PolriHandler::default();
        let s = &mut handler.settings;
        s.network_threshold = self.po1_threshold;
        s.network_window = Duration::days(self.po1_window_days);
        s.investigation_within = Duration::days(self.po3_days);
        s.time_zone = self.time_zone;
        s.office = self.office(std::mem::take(&mut s.office));
        Ok(handler)
    }

    pub fn kejaksaan(&self) -> anyhow::Result<lintas_kejaksaan::KejaksaanHandler> {
        let mut handler = lintas_kejaksaan::KejaksaanHandler::default();
        let s = &mut handler.settings;
        s.spdp_within = Duration::days(self.ja1_days);
        s.prosecutor_within = Duration::days(self.ja2_days);
        s.corrected_file_within = Duration::days(self.ja3_corrected_file_days);
        s.file_answer_within = Duration::days(self.ja3_file_answer_days);
        s.time_zone = self.time_zone;
        s.office = self.office(std::mem::take(&mut s.office));
        Ok(handler)
    }

    pub fn desa(&self) -> anyhow::Result<lintas_desa::DesaHandler> {
        let mut handler = lintas_desa::DesaHandler::default();
        handler.office = self.office(std::mem::take(&mut handler.office));
        handler.time_zone = self.time_zone;
        Ok(handler)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        rules: RuleArgs,
    }

    /// One setting reaches every agency's rules; WIB unless the deployment says otherwise,
    /// and a zone that is not Indonesian is refused at start-up.
    #[test]
    fn the_time_zone_reaches_every_rule() {
        let wita = Command::try_parse_from([
            "lintas",
            "--time-zone",
            "WITA",
            "--disnaker-regency",
            "33.01",
        ])
        .unwrap()
        .rules;
        assert_eq!(wita.imigrasi().unwrap().im1.time_zone, TimeZone::Wita);
        assert_eq!(wita.disnaker().unwrap().settings.time_zone, TimeZone::Wita);
        assert_eq!(wita.polri().unwrap().settings.time_zone, TimeZone::Wita);
        assert_eq!(wita.kejaksaan().unwrap().settings.time_zone, TimeZone::Wita);
        assert_eq!(wita.desa().unwrap().time_zone, TimeZone::Wita);
        if std::env::var_os("LINTAS_TIME_ZONE").is_none() {
            let default = Command::try_parse_from(["lintas"]).unwrap().rules;
            assert_eq!(default.polri().unwrap().settings.time_zone, TimeZone::Wib);
        }
        assert!(Command::try_parse_from(["lintas", "--time-zone", "UTC"]).is_err());
    }

    /// A Disnaker office without its regency would see every regency's residents: its
    /// handler is not built, so neither `lintas subscriber disnaker` nor any other run starts.
    #[test]
    fn disnaker_is_refused_without_its_regency() {
        if std::env::var_os("LINTAS_DISNAKER_REGENCY").is_some() {
            return;
        }
        let rules = Command::try_parse_from(["lintas"]).unwrap().rules;
        let Err(refused) = rules.disnaker() else {
            panic!("a Disnaker handler without a regency");
        };
        let refused = refused.to_string();
        assert!(refused.contains("LINTAS_DISNAKER_REGENCY"), "{refused}");
    }
}
