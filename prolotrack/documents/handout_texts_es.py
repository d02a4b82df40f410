"""The product's Spanish text of every handout section (version 0 in Spanish), beside the English in handouts.py.

A faithful, plain translation of the English text, section by section, for patients in the US ("usted",
"medicinas", "acetaminofén (paracetamol)", "manejar"; docs/LANGUAGES.md, "Style for Spanish"). The facts, numbers,
placeholders and sources are the English text's: a test checks that both use the same placeholders, headings and
bullets, and that the Spanish passes the overclaim check (domain/claims.py has the Spanish phrases too). Like the
instrument texts, these are clinical content changed with review and tests, not by a catalogue edit, so they are not
in the .po. A clinic may write its own Spanish version of any section (models.HandoutVersion, language "es").
"""

from prolotrack.domain import citations

TEXTS: dict[str, str] = {
    "before.general": """## Analgésicos
- Deje de tomar los analgésicos antiinflamatorios (AINE, como ibuprofeno, naproxeno, diclofenaco o aspirina en dosis altas) {nsaid_stop_days} días antes de su sesión. Fecha de su sesión: {session_date}. Fecha en la que debe dejar de tomarlos: {nsaid_stop_date}.
- Por qué: la proloterapia busca iniciar una respuesta breve y local de reparación, y estas medicinas reducen la inflamación. Ningún estudio ha demostrado que disminuyan el efecto, así que es una precaución; cada clínica pide un tiempo distinto.
- No deje de tomar la aspirina ni un anticoagulante que un médico le recetó para el corazón o la circulación sin preguntar antes a ese médico o a nosotros.
- Puede tomar acetaminofén (paracetamol) antes y después de la sesión.

## El día de la sesión
- Coma algo ligero antes de venir: así es menos probable que se sienta mareado o a punto de desmayarse durante las inyecciones.
- Use ropa suelta que nos permita llegar a la zona que vamos a tratar.
- Traiga la lista de las medicinas que toma, los informes de estudios de imagen que todavía no hayamos visto y sus lentes si los necesita para leer.
- Avísenos si tiene fiebre, una infección, un sarpullido o una herida cerca de la zona, o si podría estar embarazada: es posible que tengamos que cambiar la fecha de la sesión.""",
    "before.sedation": """## Le darán un sedante en pastilla
- Un sedante le da sueño y hace más lentas sus reacciones durante el resto del día.
- Un adulto debe llevarlo a casa en auto: no maneje, no ande en bicicleta ni use máquinas hasta el día siguiente.
- No firme documentos importantes ni tome alcohol durante el resto del día.""",
    "after.general": """## Qué es normal
- Dolor, rigidez o un aumento de su dolor habitual donde le pusieron las inyecciones, durante uno a tres días. En los estudios, alrededor de 1 de cada 10 personas tuvo dolor que duró hasta 72 horas.
- Un pequeño moretón donde entró la aguja.

## Para el dolor
- Puede tomar acetaminofén (paracetamol), en la dosis que indica el envase.
- Evite los analgésicos antiinflamatorios (AINE) por un tiempo: las clínicas recomiendan desde unos días hasta varias semanas, así que pregúntenos qué le recomendamos.
- Hielo o calor: pregúntenos; cada clínica recomienda algo distinto.

## Actividad
- Puede hacer sus actividades diarias ligeras desde el mismo día. Evite el ejercicio intenso de la zona tratada durante unos días, a menos que le hayamos dicho otra cosa.

## Cuándo llamarnos
- Fiebre, o enrojecimiento, calor, hinchazón o salida de líquido en un sitio de inyección.
- Sangrado que no se detiene al apretar con firmeza.
- Dolor fuerte, o dolor que empeora en vez de mejorar después de más o menos una semana.
- Debilidad o adormecimiento nuevos.
- Llame a {clinic_name}. Si se siente muy mal, llame a los servicios de emergencia.""",
    "after.neck_thoracic": """## Pared del pecho y parte alta de la espalda: un riesgo poco frecuente pero grave
- En raras ocasiones, una aguja cerca de la pared del pecho deja que entre aire alrededor de un pulmón (neumotórax). Llame de inmediato a los servicios de emergencia si tiene dolor en el pecho, falta de aire o respiración rápida en las horas o los días después de la sesión.
- Después de inyecciones cerca de la columna, puede aparecer un dolor de cabeza que empeora al sentarse o ponerse de pie y mejora al acostarse, por una punción de la membrana que cubre la médula espinal. Llámenos si le pasa.""",
    "after.lumbopelvic": """## Parte baja de la espalda
- Puede aparecer un dolor de cabeza que empeora al sentarse o ponerse de pie y mejora al acostarse, por una punción de la membrana que cubre la médula espinal. No es frecuente; llámenos si le pasa.
- Llámenos de inmediato si tiene debilidad o adormecimiento nuevos en las piernas, o problemas nuevos para orinar.""",
    "evidence.general": """## En resumen
- La proloterapia consiste en inyectar una pequeña cantidad de una solución irritante, por lo general una solución de azúcar (dextrosa) con un anestésico local, donde los ligamentos y tendones adoloridos se unen al hueso, en varias sesiones.
- Se ha estudiado en ensayos aleatorizados, pero la mayoría son pequeños y los resultados varían de una afección a otra. No ayuda a todas las personas, y no se sabe bien cuánto dura un beneficio.
- La mayoría de los seguros médicos, incluido Medicare en los Estados Unidos, no la cubren y la consideran experimental.
- Otros tratamientos, como la terapia con ejercicios, también podrían servirle: pregúntenos por ellos.""",
    "evidence.knee": """## Artrosis de rodilla
- En un ensayo (Rabago 2013), las personas que recibieron proloterapia con dextrosa mejoraron más en una escala de dolor y función de la rodilla (WOMAC) al año que las que recibieron inyecciones de solución salina o ejercicio.
- Las revisiones que combinan varios ensayos encuentran un beneficio moderado frente a las inyecciones de solución salina (diferencia de medias estandarizada -0.44, Bae 2021). Los ensayos tienen un riesgo alto de sesgo, así que el efecto real podría ser menor.""",
    "evidence.lumbopelvic": """## Dolor en la parte baja de la espalda
- Una revisión Cochrane (Dagenais 2007: 5 ensayos, 366 personas) encontró que las inyecciones de proloterapia solas no funcionaron mejor que las inyecciones de control.
- Algunos ensayos que las combinaron con otros tratamientos encontraron beneficios, pero no se puede saber qué parte ayudó.""",
    "evidence.elbow": """## Codo de tenista (epicondilosis lateral)
- Los resultados son variados. Un ensayo aleatorizado publicado en 2019 no encontró diferencia con el tratamiento de comparación al año.""",
    "evidence.ankle_foot": """## Tendón de Aquiles y pie
- Tendón de Aquiles: en un ensayo (Yelland 2011), la proloterapia combinada con un programa de ejercicios para fortalecer la pantorrilla (ejercicios excéntricos) dio mejores resultados que el programa de ejercicios solo.
- Para otros problemas del pie y el tobillo hay pocos ensayos, así que no podemos decir qué tan probable es que le ayude.""",
    "evidence.shoulder": """## Hombro (manguito rotador)
- En un ensayo (Bertrand 2016), con fisioterapia para todos, 59 de cada 100 personas que recibieron inyecciones de dextrosa se consideraron mejoradas a los 9 meses, frente a 27 de cada 100 que recibieron inyecciones de control. Un solo ensayo no basta para estar seguros.""",
    "evidence.other": """## Su zona
- Para esta zona hay pocos ensayos, así que no podemos darle un cálculo confiable de qué tan probable es que la proloterapia le ayude. Pregúntenos qué se sabe sobre su afección.""",
}

# The sources that are sentences of the product's own (clinic practice, a plain description), in Spanish. Published
# sources are printed as published (authors, title, journal, year), whatever the document's language.
SOURCES: dict[str, str] = {
    citations.CLINIC_PRACTICE_NSAID: (
        "Práctica de las clínicas: piden dejar los AINE desde 2-3 días hasta 2 semanas antes; ningún estudio ha "
        "demostrado que los AINE reduzcan el efecto"
    ),
    citations.CLINIC_PRACTICE_MEAL: "Práctica de las clínicas: comer algo ligero antes ayuda a evitar desmayos",
    citations.CLINIC_PRACTICE_SEDATION: (
        "Práctica de las clínicas: después de un sedante por boca, un adulto lleva al paciente a casa"
    ),
    citations.CLINIC_PRACTICE_AFTER: (
        "Práctica de las clínicas: los consejos sobre los AINE después de la sesión (de días a 12 semanas) y sobre "
        "el hielo o el calor varían"
    ),
    citations.ELBOW_2019: (
        "Un ensayo controlado aleatorizado de proloterapia para la epicondilosis lateral, 2019 (sin diferencia a "
        "las 52 semanas)"
    ),
    "Few trials exist for this area; none is summarised here": (
        "Hay pocos ensayos para esta zona; aquí no se resume ninguno"
    ),
}
