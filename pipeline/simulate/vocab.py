"""Invented names and the words the synthetic exports use.

Every person here is invented; emails use the reserved example.org / example.com /
example.net domains and phone numbers the UK drama range (+44 7700 900xxx), which never
reaches a real line. The medication names follow the study's default medication lists
(pipeline.config.MedicationsSection) so the pipeline classifies them.
"""

from __future__ import annotations

#: (yes, no) word pairs of the daily forms; a client's form uses one pair throughout.
YES_NO_STYLES = (
    ("yes", "no"), ("y", "n"), ("1", "0"), ("TRUE", "FALSE"), ("Yes", "No"), ("Y", "N"),
    ("true", "false"),
)  # fmt: skip

#: Migraine-specific drugs, as (site A form, site B form, attack-log app).
TRIPTANS = (
    ("Sumatriptan 50mg", "Sumatriptan 50 mg", "Sumatriptan (Imigran) 50mg"),
    ("Rizatriptan 10mg", "Rizatriptan 10 mg", "Rizatriptan (Maxalt) 10mg"),
    ("Zolmitriptan 2.5mg", "Zolmitriptan 2,5 mg", "Zolmitriptan (Zomig) 2.5mg"),
    ("Eletriptan 40mg", "Eletriptan 40 mg", "Eletriptan (Relpax) 40mg"),
    ("Naratriptan 2.5mg", "Naratriptan 2,5 mg", "Naratriptan (Naramig) 2.5mg"),
    ("Rimegepant 75mg", "Rimegepant 75 mg", "Rimegepant (Vydura) 75mg"),
)
#: Simple analgesics (acute medication, not migraine-specific), same three spellings.
ANALGESICS = (
    ("Ibuprofen 400mg", "Ibuprofen 400", "Ibuprofen (Nurofen) 400mg"),
    ("Paracetamol 1g", "Paracetamol 500 mg \u2013 Z\u00e4pfchen", "Paracetamol 500mg"),
    ("Naproxen 500mg", "Naproxen 500 mg", "Naproxen 500mg"),
    ("Aspirin 900mg", "Aspirin 500 mg", "Aspirin (Disprin) 300mg"),
    ("Co-codamol 30/500", "Metamizol 500 mg", "Co-codamol 30/500"),
)
#: How each site separates two drugs in one cell.
MEDICATION_SEPARATORS = ("; ", ", ", ", ")


def medication_labels(form: int) -> list[str]:
    """Labels of medication code ``(t + 1) * (len(ANALGESICS) + 1) + (a + 1)``.

    ``t`` / ``a`` are the triptan / analgesic index or -1 for none; code 0 is no drug.
    ``form`` is 0 (site A), 1 (site B) or 2 (attack-log app).
    """
    triptans = ["", *(t[form] for t in TRIPTANS)]
    analgesics = ["", *(a[form] for a in ANALGESICS)]
    return [
        MEDICATION_SEPARATORS[form].join(x for x in (t, a) if x)
        for t in triptans
        for a in analgesics
    ]


#: Appointment services: (name, minutes, is therapy). Therapy matches "(?i)cranio|cranial".
THERAPY_SERVICES = (
    ("Craniosacral Therapy 60 min", 60),
    ("Craniosacral Therapy 45 min", 45),
    ("Cranial Massage 45 min", 45),
    ("Cranio-Sacral Follow-up 30 min", 30),
)
OTHER_SERVICES = (
    ("Deep Tissue Massage 60 min", 60),
    ("Sports Massage 45 min", 45),
    ("Swedish Massage 60 min", 60),
)
CONSULTATION = ("Consultation 15 min", 15)
SERVICES = (*THERAPY_SERVICES, *OTHER_SERVICES, CONSULTATION)
N_THERAPY_SERVICES = len(THERAPY_SERVICES)

#: Appointment statuses: attended first, then the ones that do not count.
STATUSES = ("Completed", "Arrived", "Cancelled", "No Show", "Rescheduled", "Late cancellation")
ATTENDED_STATUSES = 2

#: Adverse-event texts: blank / "none" when nothing happened, then mild reactions.
NO_REACTION = ("", "none")
REACTIONS = ("mild headache", "tiredness", "dizziness", "soreness", "yes")

PRACTITIONERS = ("Imogen Hartley", "Tomasz Wierzbicki", "Priya Raman", "Callum Fairweather")

#: (as written, ASCII for emails)
FIRST_NAMES = (
    ("Amelia", "amelia"), ("Olivia", "olivia"), ("Isla", "isla"), ("Freya", "freya"),
    ("Grace", "grace"), ("Chlo\u00e9", "chloe"), ("Zo\u00eb", "zoe"), ("Siobh\u00e1n", "siobhan"),
    ("Aoife", "aoife"), ("Niamh", "niamh"), ("Priya", "priya"), ("Aisha", "aisha"),
    ("Fatima", "fatima"), ("Mei", "mei"), ("Yuki", "yuki"), ("Agnieszka", "agnieszka"),
    ("Katarzyna", "katarzyna"), ("Ana", "ana"), ("Luc\u00eda", "lucia"), ("Ingrid", "ingrid"),
    ("Astrid", "astrid"), ("Hannah", "hannah"), ("Emily", "emily"), ("Charlotte", "charlotte"),
    ("Sophie", "sophie"), ("Lucy", "lucy"), ("Ellie", "ellie"), ("Rebecca", "rebecca"),
    ("Laura", "laura"), ("Sarah", "sarah"), ("Helen", "helen"), ("Claire", "claire"),
    ("Joanna", "joanna"), ("Nadia", "nadia"), ("Leila", "leila"), ("Amara", "amara"),
    ("Oliver", "oliver"), ("George", "george"), ("Harry", "harry"), ("Noah", "noah"),
    ("Leo", "leo"), ("Oscar", "oscar"), ("Thomas", "thomas"), ("James", "james"),
    ("Daniel", "daniel"), ("Samuel", "samuel"), ("Mohammed", "mohammed"), ("Omar", "omar"),
    ("Ravi", "ravi"), ("Arjun", "arjun"), ("Wei", "wei"), ("Tomasz", "tomasz"),
    ("Jos\u00e9", "jose"), ("Mateo", "mateo"), ("S\u00f8ren", "soren"), ("J\u00fcrgen", "jurgen"),
    ("Kwame", "kwame"), ("Callum", "callum"), ("Rhys", "rhys"), ("Ciar\u00e1n", "ciaran"),
)  # fmt: skip
LAST_NAMES = (
    ("Ashby", "ashby"), ("Brennan", "brennan"), ("Calloway", "calloway"), ("Dunmore", "dunmore"),
    ("Ellery", "ellery"), ("Farrant", "farrant"), ("Gillard", "gillard"), ("Hollins", "hollins"),
    ("Ingleby", "ingleby"), ("Jessop", "jessop"), ("Kilbride", "kilbride"), ("Lockwood", "lockwood"),
    ("Merriman", "merriman"), ("Northcott", "northcott"), ("Okonkwo-Reed", "okonkwo-reed"),
    ("Pemberton", "pemberton"), ("Quaile", "quaile"), ("Radcliffe", "radcliffe"),
    ("Sandringham", "sandringham"), ("Thackeray", "thackeray"), ("Underhill", "underhill"),
    ("Varga", "varga"), ("Whitlock", "whitlock"), ("Yardley", "yardley"), ("O'Farrell", "ofarrell"),
    ("M\u00fcller-Hahn", "mueller-hahn"), ("Nowicka", "nowicka"), ("Wi\u015bniewski", "wisniewski"),
    ("Garc\u00eda Lorca", "garcialorca"), ("Fern\u00e1ndez", "fernandez"), ("Kaur", "kaur"),
    ("Raman", "raman"), ("Chaudhry", "chaudhry"), ("Lindqvist", "lindqvist"), ("Ahlberg", "ahlberg"),
    ("Nov\u00e1k", "novak"), ("Horv\u00e1th", "horvath"), ("Popescu", "popescu"),
    ("Yilmazer", "yilmazer"), ("Haddad", "haddad"), ("Adeyemi", "adeyemi"), ("Mensah", "mensah"),
    ("de Vries", "devries"), ("Castellano", "castellano"), ("Moretti", "moretti"),
    ("MacAlister", "macalister"), ("Fairbairn", "fairbairn"), ("Tregothnan", "tregothnan"),
)  # fmt: skip
EMAIL_DOMAINS = ("example.org", "example.com", "example.net")

#: Attack-log app vocabulary.
NAUSEA_WORDS = ("", "Nausea", "Vomiting", "Nausea, Vomiting")
AURA_WORDS = ("", "Visual aura", "Zigzag lines", "Blind spot")
PREMONITORY = ("", "Yawning", "Neck stiffness", "Food cravings", "Mood change", "Tiredness")
TRIGGERS = ("Stress", "Lack of sleep", "Weather", "Menstruation", "Alcohol", "Skipped meal")
NOTES = (
    "", "Woke up with it", "Had to leave work early", 'Called it a "bad one", went to bed',
    "Better after a nap", "Dark room helped", "Started at the office, screens",
)  # fmt: skip
MEDICATION_COLUMNS = (
    "Helpful Medication", "Somewhat Helpful Medication", "Unhelpful Medication",
    "Unsure Medication",
)  # fmt: skip
ATTACK_HEADER = (
    "#", "Started", "Lasted", "Pain Level", "Pain Position", "Symptoms", "Auras",
    "Premonitory Symptoms", *MEDICATION_COLUMNS, "Triggers", "Notes",
)  # fmt: skip
PAIN_POSITIONS = ("Left temple", "Right temple", "Forehead", "Behind the eyes", "Back of the head")
