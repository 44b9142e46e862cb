"""Small fixed tables the scenarios draw from: places, lab analyses, health conditions.

Real place names and postcodes (public facts), so that an address, its postcode and
its commune agree; invented people only. Health conditions tie free-text comments,
ICD-10 codes and medication together per person, so a record never says a man is
pregnant.
"""

from __future__ import annotations

# (département, [(postcode, commune), ...]) for the départements the Mega-Bus labs served,
# then a spread of others (Corsica included) for patients living elsewhere.
FR_COMMUNES: dict[str, list[tuple[str, str]]] = {
    "56": [
        ("56000", "Vannes"),
        ("56100", "Lorient"),
        ("56600", "Lanester"),
        ("56300", "Pontivy"),
        ("56400", "Auray"),
        ("56800", "Ploërmel"),
        ("56700", "Hennebont"),
        ("56520", "Guidel"),
        ("56170", "Quiberon"),
        ("56370", "Sarzeau"),
        ("56270", "Ploemeur"),
        ("56500", "Locminé"),
    ],
    "27": [
        ("27000", "Évreux"),
        ("27200", "Vernon"),
        ("27400", "Louviers"),
        ("27100", "Val-de-Reuil"),
        ("27300", "Bernay"),
        ("27500", "Pont-Audemer"),
        ("27140", "Gisors"),
        ("27700", "Les Andelys"),
        ("27600", "Gaillon"),
        ("27120", "Pacy-sur-Eure"),
    ],
    "45": [
        ("45000", "Orléans"),
        ("45160", "Olivet"),
        ("45400", "Fleury-les-Aubrais"),
        ("45800", "Saint-Jean-de-Braye"),
        ("45200", "Montargis"),
        ("45500", "Gien"),
        ("45300", "Pithiviers"),
        ("45140", "Saint-Jean-de-la-Ruelle"),
        ("45770", "Saran"),
        ("45250", "Briare"),
    ],
    "22": [
        ("22000", "Saint-Brieuc"),
        ("22300", "Lannion"),
        ("22100", "Dinan"),
        ("22200", "Guingamp"),
        ("22400", "Lamballe-Armor"),
        ("22600", "Loudéac"),
        ("22700", "Perros-Guirec"),
        ("22500", "Paimpol"),
        ("22190", "Plérin"),
        ("22440", "Ploufragan"),
    ],
    "41": [
        ("41000", "Blois"),
        ("41100", "Vendôme"),
        ("41200", "Romorantin-Lanthenay"),
        ("41500", "Mer"),
        ("41300", "Salbris"),
        ("41700", "Le Controis-en-Sologne"),
    ],
    "75": [("75011", "Paris"), ("75015", "Paris"), ("75018", "Paris"), ("75020", "Paris")],
    "35": [("35000", "Rennes"), ("35400", "Saint-Malo"), ("35300", "Fougères")],
    "44": [("44000", "Nantes"), ("44600", "Saint-Nazaire")],
    "29": [("29200", "Brest"), ("29000", "Quimper")],
    "28": [("28000", "Chartres"), ("28100", "Dreux")],
    "76": [("76000", "Rouen"), ("76600", "Le Havre")],
    "37": [("37000", "Tours"), ("37400", "Amboise")],
    "69": [("69003", "Lyon"), ("69100", "Villeurbanne")],
    "13": [("13001", "Marseille"), ("13100", "Aix-en-Provence")],
    "33": [("33000", "Bordeaux"), ("33600", "Pessac")],
    "59": [("59000", "Lille"), ("59100", "Roubaix")],
    "2A": [("20000", "Ajaccio"), ("20137", "Porto-Vecchio")],
    "2B": [("20200", "Bastia"), ("20260", "Calvi")],
}

#: Landline prefix (02 … 05, 01 for Île-de-France) per département, for consistent fixed lines.
FR_LANDLINE_ZONE: dict[str, int] = {
    "56": 2,
    "27": 2,
    "45": 2,
    "22": 2,
    "41": 2,
    "35": 2,
    "44": 2,
    "29": 2,
    "28": 2,
    "76": 2,
    "37": 2,
    "75": 1,
    "69": 4,
    "13": 4,
    "2A": 4,
    "2B": 4,
    "33": 5,
    "59": 3,
}

#: Every metropolitan birth département for NIRs (Corsica handled by birth year).
FR_BIRTH_DEPARTEMENTS: list[str] = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]

#: INSEE country codes (the "commune" part of an NIR for people born abroad, département 99).
FR_BIRTH_COUNTRIES: list[int] = [109, 127, 131, 134, 139, 212, 216, 331, 350, 351, 352, 401]

FR_STREET_TYPES = ["rue", "avenue", "boulevard", "impasse", "allée", "chemin", "place", "route"]

# Lab analyses: (code, label, unit, low, high, decimals) for numeric results.
FR_ANALYSES: list[tuple[str, str, str, float, float, int]] = [
    ("GLY", "Glycémie à jeun", "g/L", 0.70, 1.10, 2),
    ("HBA1C", "Hémoglobine glyquée", "%", 4.0, 6.0, 1),
    ("HB", "Hémoglobine", "g/dL", 12.0, 17.0, 1),
    ("PLQ", "Plaquettes", "G/L", 150, 400, 0),
    ("GB", "Leucocytes", "G/L", 4.0, 10.0, 2),
    ("CRP", "Protéine C réactive", "mg/L", 0.0, 5.0, 1),
    ("CHOL", "Cholestérol total", "g/L", 1.5, 2.4, 2),
    ("LDL", "Cholestérol LDL", "g/L", 0.7, 1.6, 2),
    ("TG", "Triglycérides", "g/L", 0.4, 1.5, 2),
    ("CREA", "Créatinine", "µmol/L", 50, 110, 0),
    ("TSH", "TSH ultrasensible", "mUI/L", 0.4, 4.0, 2),
    ("FERR", "Ferritine", "µg/L", 20, 300, 0),
    ("VITD", "Vitamine D 25-OH", "ng/mL", 30, 100, 1),
    ("INR", "INR", "", 0.8, 1.2, 2),
    ("PSA", "PSA total", "ng/mL", 0.0, 4.0, 2),
    ("ASAT", "ASAT (TGO)", "UI/L", 5, 40, 0),
    ("ALAT", "ALAT (TGP)", "UI/L", 5, 40, 0),
    ("GGT", "Gamma GT", "UI/L", 8, 61, 0),
    ("K", "Potassium", "mmol/L", 3.5, 5.0, 1),
    ("NA", "Sodium", "mmol/L", 136, 145, 0),
    ("BHCG", "Beta-HCG plasmatique", "UI/L", 0, 5, 0),
]

#: NABM act codes (the French lab nomenclature), one per analysis above, same order.
FR_NABM = [
    "0552",
    "1577",
    "1104",
    "1104",
    "1104",
    "1804",
    "0580",
    "0599",
    "0590",
    "0592",
    "1208",
    "1617",
    "1139",
    "0126",
    "7318",
    "0516",
    "0522",
    "0519",
    "1610",
    "1610",
    "7402",
]

# Health conditions a person may carry. Each: share of people, which sex can have it
# (None for both), ICD-10 code, medication, and comment texts per language.
CONDITIONS: list[dict] = [
    {
        "id": "none",
        "share": 0.70,
        "sex": None,
        "icd10": None,
        "medication": None,
        "notes": {
            "fr": [
                "RAS",
                "Prélèvement sans difficulté",
                "Patient à jeun",
                "Tube hémolysé, à recontrôler",
                "Bilan de contrôle annuel",
                "Prélèvement au domicile",
            ],
            "en": [
                "Nothing to report",
                "Routine check-up",
                "Patient fasting",
                "Sample haemolysed, repeat",
            ],
            "de": [
                "Ohne Befund",
                "Routinekontrolle",
                "Patient nüchtern",
                "Probe hämolysiert, wiederholen",
            ],
        },
    },
    {
        "id": "pregnancy",
        "share": 0.06,
        "sex": "F",
        "icd10": "Z34",
        "medication": "Acide folique 0,4 mg",
        "notes": {
            "fr": [
                "Patiente enceinte, grossesse de 14 SA",
                "Grossesse en cours, suivi toxoplasmose",
                "Enceinte de 5 mois, contrôle glycémie",
                "Suivi de grossesse, 3e trimestre",
            ],
            "en": ["Patient is pregnant, 14 weeks", "Pregnancy follow-up, third trimester"],
            "de": ["Patientin schwanger, 14. SSW", "Schwangerschaftskontrolle, drittes Trimester"],
        },
    },
    {
        "id": "deafness",
        "share": 0.03,
        "sex": None,
        "icd10": "H91",
        "medication": None,
        "notes": {
            "fr": [
                "Patient sourd, communiquer par écrit",
                "Malentendant, appareillé des deux oreilles",
                "Surdité profonde, prévoir interprète LSF",
            ],
            "en": [
                "Patient is deaf, communicate in writing",
                "Hearing impaired, wears hearing aids",
            ],
            "de": ["Patient gehörlos, schriftlich kommunizieren", "Schwerhörig, trägt Hörgeräte"],
        },
    },
    {
        "id": "hiv",
        "share": 0.015,
        "sex": None,
        "icd10": "B20",
        "medication": "Biktarvy",
        "notes": {
            "fr": [
                "Patient VIH+ sous trithérapie",
                "Suivi charge virale VIH",
                "Séropositif VIH, CD4 à contrôler",
            ],
            "en": ["HIV positive, on antiretroviral therapy", "HIV viral load follow-up"],
            "de": ["HIV-positiv, antiretrovirale Therapie", "Kontrolle HIV-Viruslast"],
        },
    },
    {
        "id": "diabetes",
        "share": 0.08,
        "sex": None,
        "icd10": "E11",
        "medication": "Metformine 850 mg",
        "notes": {
            "fr": [
                "Diabétique type 2 sous metformine",
                "Diabète insulino-dépendant, contrôle HbA1c",
                "Patient diabétique, à jeun depuis 12 h",
            ],
            "en": ["Type 2 diabetes on metformin", "Insulin-dependent diabetes, HbA1c check"],
            "de": [
                "Diabetes Typ 2 unter Metformin",
                "Insulinpflichtiger Diabetes, HbA1c-Kontrolle",
            ],
        },
    },
    {
        "id": "cancer",
        "share": 0.04,
        "sex": None,
        "icd10": "C50",
        "medication": "Tamoxifène 20 mg",
        "notes": {
            "fr": [
                "Suivi cancer du sein, chimiothérapie en cours",
                "ATCD de cancer, bilan post-chimio",
                "Patient en cours de traitement oncologique",
            ],
            "en": [
                "Breast cancer follow-up, chemotherapy ongoing",
                "History of cancer, post-chemo check",
            ],
            "de": ["Nachsorge Brustkrebs, laufende Chemotherapie", "Krebs in der Vorgeschichte"],
        },
    },
    {
        "id": "anticoagulant",
        "share": 0.05,
        "sex": None,
        "icd10": "I48",
        "medication": "Préviscan 20 mg",
        "notes": {
            "fr": [
                "Sous AVK (Préviscan), contrôle INR",
                "Traitement anticoagulant, surveillance INR",
            ],
            "en": ["On warfarin, INR monitoring", "Anticoagulant treatment, check INR"],
            "de": ["Unter Marcumar, INR-Kontrolle", "Antikoagulation, INR überwachen"],
        },
    },
    {
        "id": "thyroid",
        "share": 0.025,
        "sex": None,
        "icd10": "E03",
        "medication": "Lévothyrox 75 µg",
        "notes": {
            "fr": ["Traitement par Lévothyrox, contrôle TSH", "Hypothyroïdie traitée"],
            "en": ["On levothyroxine, TSH check", "Treated hypothyroidism"],
            "de": ["L-Thyroxin-Therapie, TSH-Kontrolle", "Behandelte Hypothyreose"],
        },
    },
    {
        "id": "depression",
        "share": 0.015,
        "sex": None,
        "icd10": "F32",
        "medication": "Sertraline 50 mg",
        "notes": {
            "fr": ["Dépression sévère, suivi psychiatrique", "Sous antidépresseur"],
            "en": ["Severe depression, psychiatric follow-up", "On antidepressants"],
            "de": ["Schwere Depression, psychiatrische Betreuung", "Unter Antidepressiva"],
        },
    },
]

MEDICATION_EXTRA = {
    "en": {
        "Metformine 850 mg": "Metformin 850 mg",
        "Acide folique 0,4 mg": "Folic acid 0.4 mg",
        "Tamoxifène 20 mg": "Tamoxifen 20 mg",
        "Préviscan 20 mg": "Warfarin 5 mg",
        "Lévothyrox 75 µg": "Levothyroxine 75 mcg",
    },
    "de": {
        "Metformine 850 mg": "Metformin 850 mg",
        "Acide folique 0,4 mg": "Folsäure 0,4 mg",
        "Tamoxifène 20 mg": "Tamoxifen 20 mg",
        "Préviscan 20 mg": "Marcumar 3 mg",
        "Lévothyrox 75 µg": "L-Thyroxin 75 µg",
    },
}

BLOOD_GROUPS = ["O+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-"]
# Shares in the French population (EFS).
BLOOD_GROUP_SHARES = [0.36, 0.37, 0.08, 0.03, 0.06, 0.07, 0.02, 0.01]

FR_EMAIL_DOMAINS = [
    "gmail.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "hotmail.fr",
    "laposte.net",
    "sfr.fr",
    "yahoo.fr",
    "outlook.fr",
]
FR_EMAIL_SHARES = [0.30, 0.18, 0.10, 0.10, 0.10, 0.07, 0.06, 0.05, 0.04]
EN_EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com"]
EN_EMAIL_SHARES = [0.45, 0.15, 0.12, 0.12, 0.08, 0.08]
DE_EMAIL_DOMAINS = ["gmx.de", "web.de", "t-online.de", "gmail.com", "freenet.de", "yahoo.de"]
DE_EMAIL_SHARES = [0.28, 0.25, 0.15, 0.20, 0.06, 0.06]

SPECIALITIES = {
    "fr": [
        "Médecin généraliste",
        "Gynécologue",
        "Psychiatre",
        "Dermatologue",
        "Pédiatre",
        "Ophtalmologue",
        "Dentiste",
        "Kinésithérapeute",
        "Cardiologue",
        "Sage-femme",
    ],
}

APPOINTMENT_REASONS = {
    "fr": [
        "Première consultation",
        "Consultation de suivi",
        "Renouvellement d'ordonnance",
        "Suivi de grossesse",
        "Bilan dépression",
        "Dépistage IST",
        "Vaccination",
        "Certificat médical",
        "Contrôle tension artérielle",
        "Suivi diabète",
    ],
}

COSMETIC_PROCEDURES = [
    "Rhinoplasty",
    "Breast augmentation",
    "Abdominoplasty",
    "Liposuction",
    "Blepharoplasty",
    "Facelift",
    "Botox injections",
    "Dermal fillers",
    "Brazilian butt lift",
    "Otoplasty",
    "Labiaplasty",
    "Hair transplant",
]

TREATMENT_STEPS = [
    "Step 1: consultation and 3D scan",
    "Step 2: surgery under general anaesthesia",
    "Step 3: post-operative review at 6 weeks",
    "Revision surgery planned",
    "Compression garment for 4 weeks",
    "Follow-up photos at 3 months",
]

HEALTH_SEARCHES = [
    "depression therapist",
    "hiv testing near me",
    "abortion clinic",
    "diabetes type 2 diet",
    "anxiety medication",
    "std symptoms",
    "cancer screening",
    "bipolar disorder treatment",
    "alcohol rehab",
    "pregnancy test",
    "chemotherapy side effects",
    "find a psychiatrist",
    "erectile dysfunction",
    "opioid addiction help",
]

PIXEL_PAGES = [
    "/find-a-doctor",
    "/search",
    "/member/claims",
    "/pharmacy/refill",
    "/coverage/mental-health",
    "/member/benefits",
    "/telehealth/book",
]

PIXEL_EVENTS = [
    "PageView",
    "Search",
    "ViewContent",
    "Lead",
    "AppointmentBooked",
    "Login",
    "FindCare",
    "RefillRequested",
]

US_ETHNICITY = [
    "White",
    "Black or African American",
    "Hispanic or Latino",
    "Asian",
    "American Indian or Alaska Native",
    "Native Hawaiian or Other Pacific Islander",
    "Two or more races",
    "Declined to answer",
]
US_ETHNICITY_SHARES = [0.58, 0.13, 0.18, 0.06, 0.01, 0.005, 0.025, 0.01]

US_STATES = ["CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI"]

DE_KRANKENKASSEN = [
    ("AOK Bayern", "108310400"),
    ("Techniker Krankenkasse", "101575519"),
    ("Barmer", "104940005"),
    ("DAK-Gesundheit", "101570104"),
    ("IKK classic", "107202793"),
    ("KKH", "102171012"),
]

ICD10_BY_LANG = {
    "fr": {
        "Z34": "Surveillance d'une grossesse normale",
        "H91": "Autres pertes de l'audition",
        "B20": "Maladie due au VIH",
        "E11": "Diabète sucré de type 2",
        "C50": "Tumeur maligne du sein",
        "I48": "Fibrillation auriculaire",
        "E03": "Autres hypothyroïdies",
        "F32": "Épisode dépressif",
    },
}

PART_NAMES = [
    "Hex bolt M8",
    "Ball bearing 6204",
    "Hydraulic hose 1/2in",
    "Gear pump",
    "Relay 24V",
    "Fuse 10A",
    "O-ring 40x3",
    "Drive belt",
    "Air filter",
    "Spark plug",
    "Thermostat valve",
    "Pressure sensor",
    "Solenoid coil",
    "Circuit breaker 16A",
    "Cable gland M20",
]
WAREHOUSES = ["WH-LYS-01", "WH-RTM-02", "WH-HAM-03", "WH-BCN-04"]
