//! The enums of the contract. Symbols are the Avro symbols, in schema order.

/// An enum that mirrors an Avro enum; the drift test compares `SYMBOLS` with the schema.
pub trait AvroEnum: Sized + Copy + 'static {
    const AVRO_NAME: &'static str;
    const ALL: &'static [Self];
    fn symbol(self) -> &'static str;
    fn from_symbol(symbol: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.symbol() == symbol)
    }
    fn symbols() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.symbol()).collect()
    }
}

macro_rules! avro_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $symbol:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $symbol)] $variant),+
        }
        impl AvroEnum for $name {
            const AVRO_NAME: &'static str = concat!("lintas.events.", stringify!($name));
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn symbol(self) -> &'static str {
                match self { $($name::$variant => $symbol),+ }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.symbol())
            }
        }
        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::from_symbol(s).ok_or_else(|| format!(
                    "unknown {} `{s}`; expected one of: {}", stringify!($name), Self::symbols().join(", ")
                ))
            }
        }
    };
}

avro_enum!(
    /// An agency taking part in Lintas.
    Agency {
        Imigrasi = "imigrasi", Disnaker = "disnaker", Polri = "polri", Kejaksaan = "kejaksaan",
        Desa = "desa", P2mi = "p2mi", Dinsos = "dinsos", Other = "other",
    }
);

avro_enum!(VisaType {
    None = "none", Work = "work", Umrah = "umrah", Haji = "haji", Ziarah = "ziarah",
    Tourist = "tourist", Visit = "visit", Student = "student", Internship = "internship",
    Seaman = "seaman", Spouse = "spouse", Other = "other",
});

avro_enum!(RegistrationSource {
    JobseekerCardAk1 = "jobseeker_card_ak1", PassportApplication = "passport_application",
    VillageReport = "village_report", PassportRecommendation = "passport_recommendation",
    Other = "other",
});

avro_enum!(Sex { Female = "female", Male = "male" });

avro_enum!(DeclaredPurpose {
    Work = "work", Umrah = "umrah", Haji = "haji", Ziarah = "ziarah", Tourism = "tourism",
    FamilyVisit = "family_visit", Internship = "internship", CulturalAmbassador = "cultural_ambassador",
    Seaman = "seaman", Study = "study", Marriage = "marriage", Other = "other",
});

avro_enum!(VisaFlagReason {
    PurposeWorkWithoutRecommendation = "purpose_work_without_recommendation",
    UmrahOrZiarahWithoutTravelOperatorLetter = "umrah_or_ziarah_without_travel_operator_letter",
    InternshipWithoutMinistryRecommendation = "internship_without_ministry_recommendation",
    FamilyVisitWithoutGuarantee = "family_visit_without_guarantee",
    TouristVisaToHighRiskDestination = "tourist_visa_to_high_risk_destination",
    CulturalAmbassador = "cultural_ambassador",
    CleaningServiceOffer = "cleaning_service_offer",
    MarriageArrangedAbroad = "marriage_arranged_abroad",
    SeamanWithoutSeamanBook = "seaman_without_seaman_book",
    ConcealedPriorPassport = "concealed_prior_passport",
    DuplicateApplication = "duplicate_application",
    Other = "other",
});

avro_enum!(ScreeningStage { PassportInterview = "passport_interview", Checkpoint = "checkpoint", Other = "other" });

avro_enum!(BlockDecision { Deferred = "deferred", Refused = "refused" });

avro_enum!(BlockReason {
    SuspectedNonProceduralWorker = "suspected_non_procedural_worker",
    VisaPurposeMismatch = "visa_purpose_mismatch",
    IncompleteDocuments = "incomplete_documents",
    NoPlacementAgreement = "no_placement_agreement",
    SuspectedTraffickingVictim = "suspected_trafficking_victim",
    MinorWithoutGuardian = "minor_without_guardian",
    ForgedDocuments = "forged_documents",
    Other = "other",
});

avro_enum!(HandedTo {
    None = "none", AirportPolice = "airport_police", Bp3miShelter = "bp3mi_shelter",
    SocialServices = "social_services", Family = "family", Other = "other",
});

avro_enum!(ReferralReason {
    SuspectedTrafficking = "suspected_trafficking", IllegalPlacement = "illegal_placement",
    ChildExploitation = "child_exploitation", DocumentFraud = "document_fraud",
    VictimProtection = "victim_protection", Other = "other",
});

avro_enum!(AlertSeverity { Info = "info", Warning = "warning", Priority = "priority" });

avro_enum!(
    /// Decision of a passport interview; a closed set.
    InterviewOutcome { Approve = "approve", Defer = "defer", Reject = "reject" }
);

avro_enum!(
    /// Why a passport application was deferred or rejected at the interview.
    InterviewReason {
        PurposeMismatch = "purpose_mismatch",
        MissingRecommendation = "missing_recommendation",
        MissingTravelOperatorLetter = "missing_travel_operator_letter",
        SuspectedNonProcedural = "suspected_non_procedural",
        IncompleteDocuments = "incomplete_documents",
        ConcealedPriorPassport = "concealed_prior_passport",
        Other = "other",
    }
);

avro_enum!(
    /// Role of a reported person in the recruitment or trafficking process.
    RecruiterRole {
        Recruiter = "recruiter", Sponsor = "sponsor", Transporter = "transporter",
        ShelterOperator = "shelter_operator", UnlicensedTrainingCentre = "unlicensed_training_centre",
        Broker = "broker", Other = "other",
    }
);

avro_enum!(
    /// Placement licence status; unknown newer symbols read as `unknown`.
    LicenceStatus { Licensed = "licensed", Unlicensed = "unlicensed", Revoked = "revoked", Unknown = "unknown" }
);

avro_enum!(
    /// Stage of pre-prosecution or prosecution, named by the prosecutor's form.
    ProsecutionStage {
        /// P-16: prosecutor assigned to follow the investigation (after the SPDP).
        P16 = "p16",
        /// P-17: prosecutor's request for the progress of the investigation.
        P17 = "p17",
        /// P-18: investigation file incomplete.
        P18 = "p18",
        /// P-19: file returned to the investigator with instructions.
        P19 = "p19",
        /// P-20: notice that the deadline for returning the corrected file has passed.
        P20 = "p20",
        /// P-21: investigation file complete.
        P21 = "p21",
        /// P-22: request for handover of the suspect and the evidence.
        P22 = "p22",
        /// P-29: indictment.
        P29 = "p29",
        /// P-31: case transferred to the court.
        P31 = "p31",
        /// Any other form.
        Other = "other",
        /// The investigator sends the investigation file (berkas perkara, tahap I) to the
        /// prosecutor: the first time, or corrected after P-18/P-19. It meets the
        /// investigator's deadline to return a corrected file and starts the prosecutor's 7
        /// days to answer (KUHAP art. 138).
        FileSent = "file_sent",
    }
);

avro_enum!(
    /// Why an alert was escalated.
    EscalationReason {
        NotAcknowledged = "not_acknowledged", ReviewOverdue = "review_overdue",
        SeverityRaised = "severity_raised", Manual = "manual", Other = "other",
    }
);

avro_enum!(
    /// Why an alert was closed.
    AlertCloseReason {
        Resolved = "resolved", FalsePositive = "false_positive", Expired = "expired",
        Duplicate = "duplicate", Other = "other",
    }
);

avro_enum!(
    /// Which kind of person an erasure concerns.
    ErasureScope { Subject = "subject", Recruiter = "recruiter", Other = "other" }
);

avro_enum!(
    /// Why a controller erased a person's personal data.
    ErasureReason {
        ConsentWithdrawn = "consent_withdrawn", PurposeFulfilled = "purpose_fulfilled",
        RetentionExpired = "retention_expired", UnlawfulProcessing = "unlawful_processing",
        CourtOrder = "court_order", DataSubjectRequest = "data_subject_request", Other = "other",
    }
);
