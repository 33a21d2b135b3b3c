//! The vocabulary of `seed`: cities, people, titles and notes in five languages.

/// A city a site is in: its name, IANA zone and main language (index into [`LANGS`]).
pub struct City {
    pub name: &'static str,
    pub tz: &'static str,
    pub lang: usize,
}

const EN: usize = 0;
const ES: usize = 1;
const FR: usize = 2;
const DE: usize = 3;
const PT: usize = 4;

/// The languages of titles, descriptions and notes.
pub const LANGS: [&str; 5] = ["en", "es", "fr", "de", "pt"];

macro_rules! cities {
    ($(($n:expr, $tz:expr, $l:expr)),* $(,)?) => {
        &[$(City { name: $n, tz: $tz, lang: $l }),*]
    };
}

pub const CITIES: &[City] = cities![
    ("Lisbon", "Europe/Lisbon", PT),
    ("São Paulo", "America/Sao_Paulo", PT),
    ("Porto", "Europe/Lisbon", PT),
    ("Madrid", "Europe/Madrid", ES),
    ("Mexico City", "America/Mexico_City", ES),
    ("Buenos Aires", "America/Argentina/Buenos_Aires", ES),
    ("Bogotá", "America/Bogota", ES),
    ("Santiago", "America/Santiago", ES),
    ("Paris", "Europe/Paris", FR),
    ("Montréal", "America/Toronto", FR),
    ("Dakar", "Africa/Dakar", FR),
    ("Lyon", "Europe/Paris", FR),
    ("Berlin", "Europe/Berlin", DE),
    ("Zürich", "Europe/Zurich", DE),
    ("Vienna", "Europe/Vienna", DE),
    ("Munich", "Europe/Berlin", DE),
    ("London", "Europe/London", EN),
    ("New York", "America/New_York", EN),
    ("Chicago", "America/Chicago", EN),
    ("Denver", "America/Denver", EN),
    ("Los Angeles", "America/Los_Angeles", EN),
    ("Honolulu", "Pacific/Honolulu", EN),
    ("Nairobi", "Africa/Nairobi", EN),
    ("Lagos", "Africa/Lagos", EN),
    ("Johannesburg", "Africa/Johannesburg", EN),
    ("Mumbai", "Asia/Kolkata", EN),
    ("Kathmandu", "Asia/Kathmandu", EN),
    ("Singapore", "Asia/Singapore", EN),
    ("Tokyo", "Asia/Tokyo", EN),
    ("Sydney", "Australia/Sydney", EN),
    ("Auckland", "Pacific/Auckland", EN),
    ("Dubai", "Asia/Dubai", EN),
    ("Reykjavík", "Atlantic/Reykjavik", EN),
    ("Stockholm", "Europe/Stockholm", EN),
    ("Warsaw", "Europe/Warsaw", EN),
];

pub const SITE_KINDS: &[&str] = &[
    "Regional Office",
    "Headquarters",
    "Field Office",
    "Research Lab",
    "Sales Hub",
    "Support Center",
    "Innovation Studio",
    "Partner Desk",
];

/// First and family names of one culture.
pub struct Names {
    pub first: &'static [&'static str],
    pub last: &'static [&'static str],
}

pub const NAMES: &[Names] = &[
    Names {
        first: &[
            "José", "María", "Lucía", "Álvaro", "Sofía", "Martín", "Inés", "Íñigo",
        ],
        last: &[
            "García",
            "Álvarez",
            "Núñez",
            "Fernández",
            "Muñoz",
            "Ibáñez",
            "Peña",
        ],
    },
    Names {
        first: &["João", "Ana", "Luís", "Gonçalo", "Inês", "Tomé", "Beatriz"],
        last: &[
            "Gonçalves",
            "Araújo",
            "Magalhães",
            "Simões",
            "Conceição",
            "Brandão",
        ],
    },
    Names {
        first: &[
            "Chloé",
            "Théo",
            "Zoé",
            "Léa",
            "François",
            "Hélène",
            "Jérôme",
            "Aïcha",
        ],
        last: &[
            "Lefèvre",
            "Dubois",
            "Bérénger",
            "Girard",
            "Rousseau",
            "Moreau",
            "Diallo",
        ],
    },
    Names {
        first: &[
            "Jürgen",
            "Käthe",
            "Lena",
            "Maximilian",
            "Jörg",
            "Ursula",
            "Götz",
        ],
        last: &[
            "Müller",
            "Schäfer",
            "Großmann",
            "Köhler",
            "Weiß",
            "Hoffmann",
        ],
    },
    Names {
        first: &[
            "Oliver", "Amelia", "Siobhán", "Liam", "Grace", "Noah", "Aoife",
        ],
        last: &[
            "Smith",
            "O'Connor",
            "Johnson",
            "Walker",
            "Brown",
            "Ní Bhriain",
        ],
    },
    Names {
        first: &["Søren", "Åsa", "Øystein", "Ingrid", "Björn", "Sigríður"],
        last: &["Sørensen", "Ångström", "Lindqvist", "Haugen", "Jónsdóttir"],
    },
    Names {
        first: &["Łukasz", "Zofia", "Jiří", "Anežka", "Małgorzata", "Tomáš"],
        last: &["Wójcik", "Dvořák", "Kowalczyk", "Novák", "Szymański"],
    },
    Names {
        first: &["Hương", "Đức", "Minh Anh", "Thảo"],
        last: &["Nguyễn", "Trần", "Lê", "Phạm"],
    },
    Names {
        first: &["Kenji", "Yūko", "Haruto", "Sakura", "Ren"],
        last: &["Watanabe", "Satō", "Itō", "Takahashi"],
    },
    Names {
        first: &[
            "Adébáyọ̀",
            "Chiamaka",
            "Oluwaseun",
            "Ngozi",
            "Kwame",
            "Wanjiru",
        ],
        last: &["Ọlárewájú", "Okafor", "Adeyemi", "Mensah", "Kamau"],
    },
    Names {
        first: &["Aḥmad", "Fāṭima", "Youssef", "Layla", "Çağrı", "Gülşen"],
        last: &["Al-Khalīl", "El Idrissi", "Haddad", "Yılmaz", "Öztürk"],
    },
    Names {
        first: &["Priya", "Arjun", "Ananya", "Rohan", "Mei-Ling", "Hao"],
        last: &["Raghunathan", "Mehta", "Iyer", "Chen", "Wang"],
    },
];

/// Interaction types: name, relative frequency, shortest and longest duration (minutes).
pub const TYPES: &[(&str, u32, u32, u32)] = &[
    ("Meeting", 30, 30, 120),
    ("Call", 22, 15, 60),
    ("Review", 10, 30, 90),
    ("Workshop", 8, 120, 480),
    ("Visit", 8, 60, 240),
    ("Interview", 7, 30, 90),
    ("Training", 5, 60, 360),
    ("Demo", 6, 30, 60),
    ("Site inspection", 3, 60, 180),
    ("Conference", 1, 480, 2880),
];

pub const TOPICS: [&[&str]; 5] = [
    &[
        "the Q3 budget",
        "onboarding",
        "supplier contracts",
        "the data migration",
        "customer feedback",
        "the product roadmap",
        "the safety audit",
        "the hiring plan",
        "the marketing launch",
        "the API integration",
        "the office relocation",
        "the annual report",
        "GDPR compliance",
        "the partner programme",
        "pricing",
    ],
    &[
        "el presupuesto del tercer trimestre",
        "la incorporación de personal",
        "los contratos con proveedores",
        "la migración de datos",
        "las opiniones de clientes",
        "la hoja de ruta",
        "la auditoría de seguridad",
        "el plan de contratación",
        "el lanzamiento de la campaña",
        "la integración de la API",
    ],
    &[
        "le budget du troisième trimestre",
        "l'intégration des nouveaux employés",
        "les contrats fournisseurs",
        "la migration des données",
        "les retours clients",
        "la feuille de route",
        "l'audit de sécurité",
        "le plan de recrutement",
        "le lancement marketing",
        "l'intégration de l'API",
    ],
    &[
        "das Budget für das dritte Quartal",
        "die Einarbeitung",
        "die Lieferantenverträge",
        "die Datenmigration",
        "das Kundenfeedback",
        "die Roadmap",
        "die Sicherheitsprüfung",
        "den Einstellungsplan",
        "die Markteinführung",
        "die API-Anbindung",
    ],
    &[
        "o orçamento do terceiro trimestre",
        "a integração de novos colaboradores",
        "os contratos de fornecedores",
        "a migração de dados",
        "o feedback dos clientes",
        "o planeamento estratégico",
        "a auditoria de segurança",
        "o plano de contratação",
        "o lançamento da campanha",
        "a integração da API",
    ],
];

/// Title templates per language; `{T}` is a topic.
pub const TITLES: [&[&str]; 5] = [
    &[
        "Kickoff: {T}",
        "Quarterly review of {T}",
        "Follow-up on {T}",
        "Planning session for {T}",
        "Weekly sync – {T}",
        "Deep dive into {T}",
        "Decisions needed on {T}",
        "Status update on {T}",
    ],
    &[
        "Reunión sobre {T}",
        "Revisión trimestral de {T}",
        "Seguimiento de {T}",
        "Planificación: {T}",
        "Sincronización semanal – {T}",
        "Análisis a fondo de {T}",
    ],
    &[
        "Réunion sur {T}",
        "Revue trimestrielle : {T}",
        "Suivi de {T}",
        "Séance de planification – {T}",
        "Point hebdomadaire – {T}",
        "Atelier sur {T}",
    ],
    &[
        "Besprechung über {T}",
        "Quartalsrückblick – {T}",
        "Nachbereitung: {T}",
        "Planungsrunde für {T}",
        "Wöchentlicher Abgleich – {T}",
        "Workshop über {T}",
    ],
    &[
        "Reunião sobre {T}",
        "Revisão trimestral d{T}",
        "Acompanhamento d{T}",
        "Sessão de planeamento – {T}",
        "Ponto de situação sobre {T}",
        "Análise detalhada d{T}",
    ],
];

/// Sentences for descriptions and notes; `{T}` is the topic, `{L}` the lead.
pub const SENTENCES: [&[&str]; 5] = [
    &[
        "We went through the open points on {T} and agreed on next steps.",
        "{L} will circulate the minutes by Friday.",
        "The main risk remains the timeline; a fallback plan is needed.",
        "Budget approval is still pending with finance.",
        "Attendees raised concerns about data quality and ownership.",
        "Action items were assigned and will be reviewed next week.",
        "The client asked for a written proposal covering {T}.",
        "Overall the discussion was constructive and well prepared.",
        "{L} presented the figures; the trend is better than expected.",
    ],
    &[
        "Repasamos los puntos abiertos sobre {T} y acordamos los próximos pasos.",
        "{L} enviará el acta antes del viernes.",
        "El principal riesgo sigue siendo el calendario; hace falta un plan alternativo.",
        "La aprobación del presupuesto sigue pendiente en finanzas.",
        "Los asistentes expresaron dudas sobre la calidad de los datos.",
        "Se asignaron tareas que revisaremos la próxima semana.",
        "El cliente pidió una propuesta por escrito sobre {T}.",
        "En general, la conversación fue constructiva y bien preparada.",
    ],
    &[
        "Nous avons passé en revue les points ouverts sur {T} et convenu des prochaines étapes.",
        "{L} diffusera le compte rendu d'ici vendredi.",
        "Le principal risque reste le calendrier ; il faut un plan de repli.",
        "L'approbation du budget est toujours en attente auprès des finances.",
        "Les participants ont soulevé des questions sur la qualité des données.",
        "Les actions ont été attribuées et seront revues la semaine prochaine.",
        "Le client a demandé une proposition écrite concernant {T}.",
        "Dans l'ensemble, l'échange a été constructif et bien préparé.",
    ],
    &[
        "Wir haben die offenen Punkte zu {T} besprochen und die nächsten Schritte vereinbart.",
        "{L} verschickt das Protokoll bis Freitag.",
        "Das größte Risiko bleibt der Zeitplan; ein Ausweichplan ist nötig.",
        "Die Budgetfreigabe durch die Finanzabteilung steht noch aus.",
        "Die Teilnehmer äußerten Bedenken zur Datenqualität.",
        "Die Aufgaben wurden verteilt und werden nächste Woche überprüft.",
        "Der Kunde bat um ein schriftliches Angebot für {T}.",
        "Insgesamt war das Gespräch konstruktiv und gut vorbereitet.",
    ],
    &[
        "Revimos os pontos em aberto sobre {T} e acordámos os próximos passos.",
        "{L} vai enviar a ata até sexta-feira.",
        "O principal risco continua a ser o calendário; é preciso um plano alternativo.",
        "A aprovação do orçamento ainda está pendente nas finanças.",
        "Os participantes levantaram dúvidas sobre a qualidade dos dados.",
        "As tarefas foram atribuídas e serão revistas na próxima semana.",
        "O cliente pediu uma proposta escrita sobre {T}.",
        "No geral, a conversa foi construtiva e bem preparada.",
    ],
];

/// A line added to the notes by a later edit, per language.
pub const UPDATES: [&str; 5] = [
    "Update: the follow-up meeting is confirmed.",
    "Actualización: la reunión de seguimiento está confirmada.",
    "Mise à jour : la réunion de suivi est confirmée.",
    "Nachtrag: Der Folgetermin ist bestätigt.",
    "Atualização: a reunião de acompanhamento está confirmada.",
];

/// Location templates; `{C}` is the city.
pub const LOCATIONS: &[&str] = &[
    "{C} office, room 1",
    "{C} office, room 2",
    "{C} office, room 4B",
    "{C} office, boardroom",
    "Client premises, {C}",
    "Hotel conference centre, {C}",
    "Café next to the {C} office",
    "Video call",
    "Phone",
];

/// `s` folded to lowercase ASCII letters, digits and dots (for usernames).
pub fn ascii_fold(s: &str) -> String {
    const FROM: &str = "áàâäãåāçćčďđéèêëēěğíìîïīıłńñňóòôöõøōőřśšşșťțúùûüūůűýÿźžżæœßþðḥṭ";
    const TO: &[&str] = &[
        "a", "a", "a", "a", "a", "a", "a", "c", "c", "c", "d", "d", "e", "e", "e", "e", "e", "e",
        "g", "i", "i", "i", "i", "i", "i", "l", "n", "n", "n", "o", "o", "o", "o", "o", "o", "o",
        "o", "r", "s", "s", "s", "s", "t", "t", "u", "u", "u", "u", "u", "u", "u", "y", "y", "z",
        "z", "z", "ae", "oe", "ss", "th", "d", "h", "t",
    ];
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if c == ' ' || c == '-' || c == '.' {
            out.push('.');
        } else if let Some(i) = FROM.chars().position(|f| f == c) {
            out.push_str(TO[i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_consistent() {
        assert_eq!(
            "áàâäãåāçćčďđéèêëēěğíìîïīıłńñňóòôöõøōőřśšşșťțúùûüūůűýÿźžżæœßþðḥṭ"
                .chars()
                .count(),
            63
        );
        assert_eq!(ascii_fold("Jürgen Großmann"), "jurgen.grossmann");
        assert_eq!(ascii_fold("Łukasz Wójcik"), "lukasz.wojcik");
        assert_eq!(ascii_fold("O'Connor"), "oconnor");
        for c in CITIES {
            assert!(c.lang < LANGS.len());
        }
        for lang in 0..LANGS.len() {
            assert!(TITLES[lang].iter().all(|t| t.contains("{T}")));
            assert!(!TOPICS[lang].is_empty() && !SENTENCES[lang].is_empty());
        }
    }
}
