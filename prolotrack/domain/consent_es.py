"""The consent form in Spanish: the product's default paragraphs, the risks and the fixed words (docs/CONSENT.md,
docs/LANGUAGES.md, "Documents").

A faithful, plain translation of domain/consent.py's English for patients in the US ("usted", "medicinas",
"acetaminofén (paracetamol)"), with the same facts, numbers and sources (the sources stay on the English risks: they
are for the clinic, not printed). Tests check every English risk, word and default paragraph has its Spanish, with the
same placeholders and numbers, and that the Spanish passes the overclaim check. Clinical content: changed with review
and tests, not through the .po catalogue. The course's indication and protocol name are printed as the clinician wrote
them.
"""

# The risks, keyed by their English text (domain.consent.Risk.text).
RISKS: dict[str, str] = {
    "Pain and stiffness after the injections (a flare), usually for 1 to 3 days. It is the commonest effect: "
    "in trials about 1 in 10 people had a flare lasting up to 72 hours, and stiffness is reported in about "
    "1 in 4.": (
        "Dolor y rigidez después de las inyecciones (un brote de dolor), por lo general durante 1 a 3 días. Es el "
        "efecto más común: en los estudios, alrededor de 1 de cada 10 personas tuvo un brote que duró hasta 72 "
        "horas, y se informa rigidez en alrededor de 1 de cada 4."
    ),
    "Bruising at an injection site (about 1 in 20).": "Moretones en un sitio de inyección (alrededor de 1 de cada 20).",
    "Feeling faint or fainting during or just after the injections (a vasovagal reaction).": (
        "Sentirse a punto de desmayarse o desmayarse durante las inyecciones o justo después (una reacción vasovagal)."
    ),
    "Bleeding at an injection site; more likely if you take blood thinners.": (
        "Sangrado en un sitio de inyección; es más probable si toma anticoagulantes."
    ),
    "Infection where the needle went in. This is rare; the skin is cleaned before each injection.": (
        "Infección donde entró la aguja. Es poco frecuente; la piel se limpia antes de cada inyección."
    ),
    "An allergic reaction to the local anaesthetic or another ingredient. This is rare (one survey counted "
    "14 in about 495,000 treatments).": (
        "Una reacción alérgica al anestésico local o a otro ingrediente. Es poco frecuente (una encuesta contó "
        "14 en alrededor de 495,000 tratamientos)."
    ),
    "Irritation of or injury to a nerve near an injection site, causing numbness or weakness. This is rare.": (
        "Irritación o lesión de un nervio cerca de un sitio de inyección, que causa adormecimiento o debilidad. Es "
        "poco frecuente."
    ),
    "A reaction to too much local anaesthetic in the blood (numb lips, metallic taste, ringing ears, confusion). "
    "The dose is calculated from your weight to stay under the safe limit, and you are watched after the "
    "injections.": (
        "Una reacción por demasiado anestésico local en la sangre (labios adormecidos, sabor metálico, zumbido en "
        "los oídos, confusión). La dosis se calcula según su peso para no pasar el límite seguro, y lo/la "
        "vigilamos después de las inyecciones."
    ),
    "Injections at the chest wall or the upper and middle back (thoracic spine) can rarely puncture the lung "
    "(a pneumothorax). Get urgent help for chest pain or shortness of breath after the session.": (
        "En raras ocasiones, las inyecciones en la pared del pecho o en la parte alta y media de la espalda "
        "(columna dorsal) pueden perforar el pulmón (un neumotórax). Busque ayuda urgente si tiene dolor en el "
        "pecho o falta de aire después de la sesión."
    ),
    "Injections near the spine can rarely puncture the covering of the spinal cord, causing a headache that is "
    "worse when you stand up. Call the clinic if this happens.": (
        "En raras ocasiones, las inyecciones cerca de la columna pueden perforar la membrana que cubre la médula "
        "espinal y causar un dolor de cabeza que empeora al ponerse de pie. Llame a la clínica si le pasa."
    ),
    "Nerve roots run close to the spine: call the clinic about new weakness or numbness in a limb.": (
        "Las raíces de los nervios pasan cerca de la columna: llame a la clínica si tiene debilidad o "
        "adormecimiento nuevos en un brazo o una pierna."
    ),
    "When the injection goes into the joint, an infection inside the joint is possible though rare, and serious: "
    "call the clinic at once for a hot, red, swollen joint or a fever.": (
        "Cuando la inyección entra en la articulación, es posible una infección dentro de la articulación; es poco "
        "frecuente pero grave: llame a la clínica de inmediato si la articulación está caliente, roja e hinchada, o "
        "si tiene fiebre."
    ),
    "If you have diabetes: each session gives a small amount of sugar (about 2.6 g in a typical knee session). "
    "Check your blood sugar as you usually would.": (
        "Si tiene diabetes: cada sesión le da una pequeña cantidad de azúcar (alrededor de 2.6 g en una sesión "
        "típica de rodilla). Mídase el azúcar en la sangre como lo hace normalmente."
    ),
}

# The fixed words of the form, by id (domain.consent.WORDS["en"] has the English); {names} are filled in.
WORDS: dict[str, str] = {
    "treatment_title": "Consentimiento para la proloterapia: {indication}",
    "research_title": "Consentimiento para el uso de datos sin identificación en investigación",
    "what_it_is": "Qué es la proloterapia",
    "your_plan": "Su plan",
    "treatment_of": "Tratamiento de: {indication} ({where}).",
    "protocol": " Sigue el protocolo «{protocol}».",
    "dates_move": "Las fechas pueden cambiar al reservar las citas; cada sesión queda anotada en su historia clínica.",
    "what_to_expect": "Qué puede esperar",
    "common_risks": "Riesgos comunes",
    "common_intro": "La mayoría de las personas tiene algunos de estos efectos; por lo general se pasan sin tratamiento.",
    "regional_risks": "Riesgos de las inyecciones en la zona: {region}",
    "no_regional": "Para esta zona no hay riesgos adicionales a los de arriba.",
    "off_label": "Uso fuera de indicación",
    "cost": "Costo y seguro médico",
    "alternatives": "Alternativas",
    "tell_us": "Avísenos antes de cada sesión",
    "right_to_stop": "Su derecho a dejar el tratamiento",
    "agreement": "Su acuerdo",
    "agreement_text": (
        "Leí este formulario o me lo leyeron, me respondieron mis preguntas y acepto el tratamiento descrito arriba. "
        "Sé que puedo dejarlo en cualquier momento."
    ),
    "research_heading": "Uso de sus datos sin identificación en investigación",
    "research_stop": "Puede retirar este permiso en cualquier momento avisando a la clínica.",
    "research_agreement": (
        "Acepto que mis datos de tratamiento y de resultados, sin identificación, se usen en investigación como se "
        "describe arriba."
    ),
    "one_session": "1 sesión, prevista para el {date}",
    "sessions": "{n} sesiones con {gap} de separación, previstas del {first} al {last}",
    "more": ", y hasta {extra} más si hacen falta ({total} en total)",
    "day": "alrededor de {n} día",
    "days": "alrededor de {n} días",
    "week": "alrededor de {n} semana",
    "weeks": "alrededor de {n} semanas",
    "months": "alrededor de {n} meses",
}

# Region and side names in the plan's sentence ("rodilla, lado izquierdo").
REGIONS: dict[str, str] = {
    "knee": "rodilla",
    "lumbopelvic": "columna lumbar y pelvis",
    "shoulder": "hombro",
    "elbow": "codo",
    "ankle_foot": "tobillo y pie",
    "hip": "cadera",
    "neck_thoracic": "cuello y columna dorsal",
    "tmj": "articulación de la mandíbula",
    "other": "otra zona",
}
SIDES: dict[str, str] = {"left": "lado izquierdo", "right": "lado derecho", "bilateral": "ambos lados"}

# The product's default paragraphs (version 0) in Spanish, by TemplateTexts field.
DEFAULT_TEXTS: dict[str, str] = {
    "what_it_is": (
        "La proloterapia es una serie de inyecciones de una solución, sobre todo dextrosa (un azúcar) concentrada con "
        "un anestésico local, en los lugares donde los ligamentos y tendones adoloridos se unen al hueso y a veces "
        "dentro de la articulación cercana. Se aplica en varias sesiones, por lo general con algunas semanas de "
        "separación."
    ),
    "expected_benefit": (
        "La evidencia es variada. Para la artrosis de rodilla, los estudios encontraron una mejoría moderada en "
        "comparación con inyecciones de agua con sal, pero los estudios tienen un riesgo alto de sesgo. Para el dolor "
        "crónico en la parte baja de la espalda, la proloterapia sola no fue mejor que las inyecciones de control. "
        "Algunas personas mejoran y otras no; no se garantiza ningún resultado, y revisaremos su evolución con "
        "cuestionarios durante y después del tratamiento."
    ),
    "off_label": (
        "La dextrosa y el anestésico local son medicinas aprobadas, pero no para este uso: usarlas para la "
        "proloterapia es un uso «fuera de indicación». Su médico le explica por qué cree que le puede ayudar."
    ),
    "insurance": (
        "Medicare no cubre la proloterapia y la mayoría de los seguros médicos la consideran experimental, así que "
        "debe contar con pagarla usted. Pregúntenos el costo de las sesiones previstas antes de firmar."
    ),
    "alternatives": (
        "Puede elegir otro tratamiento o ninguno: por ejemplo, ejercicio y fisioterapia, medicinas para el dolor, "
        "rodilleras, férulas u otros soportes, otras inyecciones, o la opinión de un cirujano cuando corresponda. Su "
        "médico puede hablar de estas opciones con usted."
    ),
    "tell_us": (
        "Avísenos antes de cada sesión si toma anticoagulantes o medicinas antiinflamatorias, si podría estar "
        "embarazada, si tiene diabetes, defensas bajas (sistema inmunitario débil), una prótesis de articulación o "
        "una válvula cardíaca artificial, fiebre o una infección, o alergia a los anestésicos locales."
    ),
    "right_to_stop": (
        "Puede hacer preguntas en cualquier momento, y puede dejar el tratamiento en cualquier momento, antes o "
        "durante cualquier sesión, sin dar una razón. Dejarlo no cambia el resto de su atención en esta clínica."
    ),
    "research": (
        "Con su permiso, la clínica puede incluir los resultados de su tratamiento y de sus cuestionarios en "
        "investigaciones, quitando su nombre, sus datos de contacto, su número de expediente y otros datos que lo/la "
        "identifiquen, y dejando de las fechas solo el año. Decir que no, no cambia su atención. Puede retirar este "
        "permiso en cualquier momento; los datos ya compartidos sin identificación no se pueden recuperar."
    ),
}
