//! Fixed tables of the model: Cilacap's sub-districts and villages, names, placement
//! agencies, carriers and routes. Labels only: every person and organisation is synthetic.

/// A kecamatan of Kabupaten Cilacap with its Kemendagri code (the NIK's digits 5 and 6), a
/// few of its villages, and its weight among people who apply to go abroad.
pub struct Kecamatan {
    pub code: u8,
    pub name: &'static str,
    pub villages: &'static [&'static str],
    /// Relative weight of residents in the feed. Assumption (the brief gives no breakdown by
    /// sub-district): the coastal and eastern kecamatan named by the project as sending
    /// areas (Kesugihan, Adipala, Maos, Sampang, Kroya, Binangun, Nusawungu, Cilacap Selatan,
    /// Jeruklegi, Majenang, Sidareja, Kawunganten) weigh 3 to 5, the others 1 to 2.
    pub weight: u32,
}

impl Kecamatan {
    /// The Kemendagri code of one of its villages, `33.01.KK.VVVV`: how the intakes and
    /// subscribers tell villages apart. The kecamatan codes are Cilacap's; the village serials
    /// are illustrative: the n-th village listed is 2001+n (a desa), or 1001+n (a kelurahan)
    /// in the three kecamatan of Cilacap city.
    pub fn village_code(&self, village: &str) -> String {
        let n = self
            .villages
            .iter()
            .position(|v| *v == village)
            .expect("a village of this kecamatan");
        let kelurahan = self.name.starts_with("Cilacap ");
        let serial = if kelurahan { 1001 } else { 2001 } + n;
        format!("33.01.{:02}.{serial}", self.code)
    }
}

/// The 24 kecamatan of Cilacap (kode wilayah 33.01.01 to 33.01.24).
pub const KECAMATAN: &[Kecamatan] = &[
    Kecamatan {
        code: 1,
        name: "Kedungreja",
        villages: &[
            "Kedungreja",
            "Tambakreja",
            "Bangunreja",
            "Tambaksari",
            "Ciklapa",
        ],
        weight: 2,
    },
    Kecamatan {
        code: 2,
        name: "Kesugihan",
        villages: &[
            "Kesugihan",
            "Kesugihan Kidul",
            "Karangkandri",
            "Menganti",
            "Slarang",
            "Dondong",
        ],
        weight: 5,
    },
    Kecamatan {
        code: 3,
        name: "Adipala",
        villages: &["Adipala", "Adiraja", "Bunton", "Doplang", "Penggalang"],
        weight: 4,
    },
    Kecamatan {
        code: 4,
        name: "Binangun",
        villages: &[
            "Binangun",
            "Widarapayung Kulon",
            "Widarapayung Wetan",
            "Sidaurip",
            "Pagubugan",
        ],
        weight: 4,
    },
    Kecamatan {
        code: 5,
        name: "Nusawungu",
        villages: &["Nusawungu", "Banjarsari", "Karangputat", "Jetis", "Danasri"],
        weight: 4,
    },
    Kecamatan {
        code: 6,
        name: "Kroya",
        villages: &[
            "Kroya",
            "Bajing",
            "Mergawati",
            "Pekuncen",
            "Ayamalas",
            "Karangmangu",
        ],
        weight: 5,
    },
    Kecamatan {
        code: 7,
        name: "Maos",
        villages: &[
            "Maos Kidul",
            "Maos Lor",
            "Karangreja",
            "Klapagada",
            "Glempang",
        ],
        weight: 4,
    },
    Kecamatan {
        code: 8,
        name: "Jeruklegi",
        villages: &[
            "Jeruklegi Kulon",
            "Jeruklegi Wetan",
            "Tritih Lor",
            "Brebeg",
            "Sumingkir",
        ],
        weight: 3,
    },
    Kecamatan {
        code: 9,
        name: "Kawunganten",
        villages: &[
            "Kawunganten",
            "Kubangkangkung",
            "Bojong",
            "Sarwadadi",
            "Grugu",
        ],
        weight: 3,
    },
    Kecamatan {
        code: 10,
        name: "Gandrungmangu",
        villages: &["Gandrungmangu", "Cisumur", "Layansari", "Gintungreja"],
        weight: 2,
    },
    Kecamatan {
        code: 11,
        name: "Sidareja",
        villages: &[
            "Sidareja",
            "Tinggarjaya",
            "Margasari",
            "Sudagaran",
            "Penyarang",
        ],
        weight: 3,
    },
    Kecamatan {
        code: 12,
        name: "Karangpucung",
        villages: &["Karangpucung", "Sidamulya", "Pamulihan", "Ciporos"],
        weight: 1,
    },
    Kecamatan {
        code: 13,
        name: "Cimanggu",
        villages: &["Cimanggu", "Cilempuyang", "Negarajati"],
        weight: 1,
    },
    Kecamatan {
        code: 14,
        name: "Majenang",
        villages: &[
            "Majenang",
            "Cibeunying",
            "Jenang",
            "Pahonjean",
            "Sindangsari",
        ],
        weight: 3,
    },
    Kecamatan {
        code: 15,
        name: "Wanareja",
        villages: &["Wanareja", "Cigintung", "Madura", "Majingklak"],
        weight: 1,
    },
    Kecamatan {
        code: 16,
        name: "Dayeuhluhur",
        villages: &["Dayeuhluhur", "Matenggeng", "Panulisan", "Ciwalen"],
        weight: 1,
    },
    Kecamatan {
        code: 17,
        name: "Sampang",
        villages: &[
            "Sampang",
            "Karangtengah",
            "Ketanggung",
            "Paberasan",
            "Nusajati",
        ],
        weight: 4,
    },
    Kecamatan {
        code: 18,
        name: "Cipari",
        villages: &["Cipari", "Kutasari", "Caruy", "Mulyadadi"],
        weight: 1,
    },
    Kecamatan {
        code: 19,
        name: "Patimuan",
        villages: &["Patimuan", "Cimrutu", "Sidamukti", "Bulupayung"],
        weight: 1,
    },
    Kecamatan {
        code: 20,
        name: "Bantarsari",
        villages: &["Bantarsari", "Kamulyan", "Rawajaya", "Cikedondong"],
        weight: 1,
    },
    Kecamatan {
        code: 21,
        name: "Cilacap Selatan",
        villages: &[
            "Sidakaya",
            "Tegalkamulyan",
            "Tambakreja",
            "Cilacap",
            "Tegalreja",
        ],
        weight: 3,
    },
    Kecamatan {
        code: 22,
        name: "Cilacap Tengah",
        villages: &[
            "Sidanegara",
            "Gunungsimping",
            "Lomanis",
            "Donan",
            "Kutawaru",
        ],
        weight: 2,
    },
    Kecamatan {
        code: 23,
        name: "Cilacap Utara",
        villages: &[
            "Gumilir",
            "Karangtalun",
            "Kebonmanis",
            "Mertasinga",
            "Tritih Kulon",
        ],
        weight: 2,
    },
    Kecamatan {
        code: 24,
        name: "Kampung Laut",
        villages: &["Ujungalang", "Ujunggagak", "Panikel", "Klaces"],
        weight: 1,
    },
];

pub const FEMALE_FIRST: &[&str] = &[
    "Siti", "Sri", "Dwi", "Tri", "Nur", "Endang", "Yuni", "Rina", "Ani", "Eka", "Wulan", "Fitri",
    "Umi", "Ratna", "Dewi", "Puji", "Sumiati", "Warsini", "Tarsini", "Kasini", "Suryati", "Indah",
    "Nining", "Rohmah", "Tutik", "Sulastri",
];
pub const FEMALE_SECOND: &[&str] = &[
    "Aminah",
    "Rahayu",
    "Lestari",
    "Wulandari",
    "Handayani",
    "Ningsih",
    "Khasanah",
    "Suryani",
    "Mulyani",
    "Fatimah",
    "Hidayah",
    "Purwanti",
    "Susilowati",
    "Maryati",
    "Wahyuni",
];
pub const MALE_FIRST: &[&str] = &[
    "Agus", "Budi", "Eko", "Slamet", "Joko", "Bambang", "Dedi", "Ahmad", "Muhammad", "Rudi",
    "Wahyu", "Teguh", "Sugeng", "Aris", "Heru", "Darsono", "Kusno", "Tarno", "Rizki", "Fajar",
    "Imam", "Yusuf", "Anton", "Saeful",
];
pub const MALE_SECOND: &[&str] = &[
    "Susanto",
    "Prasetyo",
    "Saputra",
    "Hidayat",
    "Setiawan",
    "Nugroho",
    "Purwanto",
    "Kurniawan",
    "Santoso",
    "Wibowo",
    "Riyanto",
    "Firmansyah",
    "Maulana",
    "Hakim",
    "Sutrisno",
];

/// Licensed placement agencies (P3MI) named by legal workers; fictional names and numbers.
pub const LICENSED_AGENCIES: &[(&str, &str)] = &[
    ("PT Bina Karya Samudra", "SIP3MI-2019-0412"),
    ("PT Mitra Tenaga Cilacap", "SIP3MI-2020-0187"),
    ("PT Sinar Jaya Mandiri", "SIP3MI-2018-0733"),
    ("PT Anugerah Pekerja Utama", "SIP3MI-2021-0056"),
    ("PT Karya Insani Sejahtera", "SIP3MI-2022-0240"),
];

/// Agencies recruiters claim to work for: not licensed (rule DN2). Fictional names.
pub const UNLICENSED_AGENCIES: &[&str] = &[
    "PT Maju Jaya Global",
    "CV Berkah Umroh Mandiri",
    "PT Duta Wisata Nusantara",
    "LPK Harapan Bangsa",
    "PT Cahaya Magang Internasional",
];

/// A way out: carrier, flight or vessel, and transit points in travel order.
pub struct Route {
    pub carrier: &'static str,
    pub flight: &'static str,
    pub transit: &'static [&'static str],
}

const fn r(carrier: &'static str, flight: &'static str, transit: &'static [&'static str]) -> Route {
    Route {
        carrier,
        flight,
        transit,
    }
}

/// Routes by destination country (flight numbers are plausible, not a timetable).
const ROUTES: &[(&str, &[Route])] = &[
    (
        "SA",
        &[
            r("Saudia", "SV 817", &[]),
            r("Garuda Indonesia", "GA 980", &[]),
            r("Emirates", "EK 357", &["DXB"]),
            r("Qatar Airways", "QR 955", &["DOH"]),
            r("Malaysia Airlines", "MH 720", &["KUL"]),
        ],
    ),
    (
        "MY",
        &[
            r("AirAsia", "QZ 200", &[]),
            r("Malaysia Airlines", "MH 720", &[]),
            r("Batik Air", "OD 351", &[]),
        ],
    ),
    (
        "KH",
        &[
            r("AirAsia", "QZ 262", &["KUL"]),
            r("Singapore Airlines", "SQ 957", &["SIN"]),
            r("Thai AirAsia", "FD 396", &["BKK"]),
        ],
    ),
    (
        "SG",
        &[
            r("Singapore Airlines", "SQ 957", &[]),
            r("Garuda Indonesia", "GA 828", &[]),
            r("Scoot", "TR 277", &[]),
        ],
    ),
    (
        "TH",
        &[
            r("Thai Airways", "TG 434", &[]),
            r("Thai AirAsia", "FD 396", &[]),
        ],
    ),
    (
        "AE",
        &[
            r("Emirates", "EK 357", &[]),
            r("Etihad Airways", "EY 475", &[]),
        ],
    ),
    (
        "HK",
        &[
            r("Cathay Pacific", "CX 718", &[]),
            r("Garuda Indonesia", "GA 860", &[]),
        ],
    ),
    (
        "TW",
        &[
            r("China Airlines", "CI 762", &[]),
            r("EVA Air", "BR 238", &[]),
        ],
    ),
    (
        "KR",
        &[
            r("Korean Air", "KE 628", &[]),
            r("Garuda Indonesia", "GA 878", &[]),
        ],
    ),
    (
        "JP",
        &[
            r("Garuda Indonesia", "GA 874", &[]),
            r("Japan Airlines", "JL 726", &[]),
        ],
    ),
];
const DEFAULT_ROUTES: &[Route] = &[r("Garuda Indonesia", "GA 880", &[])];

pub fn routes(destination: &str) -> &'static [Route] {
    ROUTES
        .iter()
        .find(|(d, _)| *d == destination)
        .map_or(DEFAULT_ROUTES, |(_, routes)| routes)
}

/// Vessels leaving from the port of Tanjung Intan, Cilacap (TPI-CLP), for ship crew.
pub const VESSELS: &[(&str, &str)] = &[
    ("PT Pelayaran Segara Kencana", "MV Segara Kencana"),
    ("PT Samudra Intan Lines", "MV Tanjung Intan Jaya"),
    ("PT Nusa Bahari Shipping", "KM Sinar Samudra"),
];
