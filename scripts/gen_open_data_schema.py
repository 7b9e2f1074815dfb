#!/usr/bin/env python3
"""Writes src/render/datos-esquema.json: the JSON Schema (draft 2020-12) of the open data's
datos.json, which render ships as datos/esquema.json (docs/formats/open-data.md; the build
embeds the file, cmake/embed.cmake). Every field is described here; change the schema here
and run this from the repository root, then commit both files (tests/integ/open_data.sh
validates every datos.json against it)."""
import json
I = {"type":"integer","minimum":0}
P = {"type":"string","pattern":"^[0-9]+(\\.[0-9]+)?$","description":"A percentage as the page shows it: truncated to the catalogue's decimals, period as decimal separator, without '%'."}
def d(desc, base): x=dict(base); x["description"]=desc; return x
V = {"$ref":"#/$defs/votos"}         # a vote count, defined once
PT = {"$ref":"#/$defs/porcentaje"}   # a share of the total votes, defined once
vote = {"type":"object","additionalProperties":False,"required":["votos","porcentaje"],
        "properties":{"votos":V,"porcentaje":d("Of the total votes of the unit.",P)}}
resumen = {"type":"object","additionalProperties":False,
 "description":"The page's summary and actas progress blocks.",
 "required":["actas_esperadas","actas_capturadas","actas_contabilizadas","actas_no_contabilizadas","exceden_lista_nominal","ilegibles_o_sin_dato","sin_acta","con_inconsistencias","porcentaje_contabilizadas","porcentaje_capturadas","lista_nominal","votos_participacion","participacion","total_votos"],
 "properties":{
  "actas_esperadas":d("Actas expected (one per casilla).",I),
  "actas_capturadas":d("Actas captured.",I),
  "actas_contabilizadas":d("Actas counted.",I),
  "actas_no_contabilizadas":d("Actas captured and not counted.",I),
  "exceden_lista_nominal":d("Not counted: the votes exceed the lista nominal.",I),
  "ilegibles_o_sin_dato":d("Not counted: every field illegible or blank.",I),
  "sin_acta":d("Not counted: no acta.",I),
  "con_inconsistencias":d("Actas with inconsistencies.",I),
  "fuera_de_catalogo":d("Entity level only: captures that match no expected acta.",I),
  "porcentaje_contabilizadas":d("Actas counted of expected.",P),
  "porcentaje_capturadas":d("Actas captured of expected.",P),
  "lista_nominal":d("Lista nominal of the counted actas.",I),
  "votos_participacion":d("The participation numerator: votes of counted actas (special casillas per the catalogue's rule).",I),
  "participacion":d("Participation: votos_participacion of lista_nominal.",P),
  "total_votos":d("Total votes: the sum of every vote column of the counted actas.",I)}}
casilla = {"type":"object","additionalProperties":False,"required":["clave","tipo","lista_nominal","capturada"],
 "properties":{
  "clave":d("CLAVE_CASILLA (catalogue key).",{"type":"string"}),
  "tipo":{"type":"string","enum":["B","C","E","S","M"],"description":"B basica, C contigua, E extraordinaria, S especial, M mesa."},
  "lista_nominal":d("The casilla's lista nominal (0 for special casillas).",I),
  "capturada":{"type":"boolean","description":"Its acta was captured by this cut."},
  "clave_acta":d("CLAVE_ACTA (when captured).",{"type":"string"}),
  "estado":{"type":"string","enum":["Contabilizada","No contabilizada"],"description":"The acta's status, as the page says it."},
  "contabilizada":{"type":"boolean","description":"The acta is counted."},
  "sha256":{"type":["string","null"],"pattern":"^[0-9a-f]{64}$","description":"SHA-256 of the acta's image; null when none was published."},
  "total_votos_calculado":d("TOTAL_VOTOS_CALCULADO of the acta.",I)}}
sub = {"type":"object","additionalProperties":False,"required":["id","nombre","pagina","actas_contabilizadas","actas_esperadas","participacion","encabeza"],
 "properties":{
  "id":d("Catalogue number: district number, INEGI municipality number or section number.",I),
  "nombre":d("Its name as the page shows it (a section: its four-digit number).",{"type":"string"}),
  "pagina":d("Its page, relative to the site root.",{"type":"string"}),
  "actas_contabilizadas":d("Actas counted.",I),"actas_esperadas":d("Actas expected.",I),
  "participacion":d("Participation.",P),
  "encabeza":{"type":["string","null"],"description":"The leading candidacy's label, \"Empate\" on a tie, null with no counted actas."}}}
subs = {"type":"array","items":{"$ref":"#/$defs/subunidad"}}
cand = {"type":"object","additionalProperties":False,"required":["etiqueta","nombre","votos","porcentaje"],
 "properties":{"etiqueta":d("The contender's label: party id, coalition parties joined by '-', or Independiente.",{"type":"string"}),
  "nombre":d("The candidate's name.",{"type":"string"}),"votos":V,"porcentaje":PT}}
party = {"type":"object","additionalProperties":False,"required":["id","nombre","votos","porcentaje"],
 "properties":{"id":d("Party id (catalogue key, the actas column name).",{"type":"string"}),
  "nombre":d("Party name.",{"type":"string"}),"votos":d("Votes after the split of combined votes.",I),"porcentaje":PT}}
combo = {"type":"object","additionalProperties":False,"required":["columna","partidos","votos","porcentaje"],
 "properties":{"columna":d("The actas column name.",{"type":"string"}),
  "partidos":{"type":"array","items":{"type":"string"},"description":"Its parties' ids."},
  "votos":V,"porcentaje":PT}}
unidad = {"type":"object","additionalProperties":False,"required":["nivel","entidad","nombre","pagina"],
 "properties":{
  "nivel":{"type":"string","enum":["nacional","entidad","distrito","municipio","seccion","seccion_todas"],"description":"The page's level; nacional: an election's top page in a national process (issue 15); seccion_todas: seccion/NNNN/ (national: seccion/EE/NNNN/), the section in every election."},
  "eleccion":d("The election's catalogue id (absent for seccion_todas).",{"type":"string"}),
  "eleccion_nombre":d("The election's title.",{"type":"string"}),
  "entidad":d("The entity's number (INEGI); a national process keys sections by entity and section.",I),
  "distrito":d("District number.",I),"municipio":d("INEGI municipality number.",I),"seccion":d("Section number.",I),
  "nombre":d("The page's title.",{"type":"string"}),
  "pagina":d("The page beside this file, relative to the site root.",{"type":"string"})}}
eleccion = {"type":"object","additionalProperties":False,"required":["eleccion","eleccion_nombre","pagina","resumen","casillas"],
 "properties":{"eleccion":d("The election's catalogue id.",{"type":"string"}),"eleccion_nombre":d("Its title.",{"type":"string"}),
  "pagina":d("The election's page of this section.",{"type":"string"}),"resumen":{"$ref":"#/$defs/resumen"},
  "casillas":{"type":"array","items":{"$ref":"#/$defs/casilla"}}}}
schema = {
 "$schema":"https://json-schema.org/draft/2020-12/schema",

 "title":"PREP: datos abiertos de una pagina (datos.json)",
 "description":"The figures of one unit page of one cut, as the page shows them. docs/formats/open-data.md.",
 "type":"object","additionalProperties":False,
 "required":["corte","formato","unidad"],
 "properties":{
  "corte":{"type":"object","additionalProperties":False,"required":["secuencia","instante","proceso","simulacro"],
   "description":"The cut this file belongs to (the same in every datos.json of a cut).",
   "properties":{"secuencia":d("The cut's sequence number.",{"type":"integer","minimum":1}),
    "instante":{"type":"string","format":"date-time","pattern":"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$","description":"The cut instant, ISO 8601 with the process zone's offset, as the pages show it."},
    "proceso":d("The process id.",{"type":"string"}),"simulacro":{"type":"boolean","description":"A drill cut."}}},
  "formato":{"const":1,"description":"This format's version."},
  "unidad":{"$ref":"#/$defs/unidad"},
  "resumen":{"$ref":"#/$defs/resumen"},
  "candidaturas":{"type":"array","items":{"$ref":"#/$defs/candidatura"},"description":"Votes by candidacy, ballot order (pages that show them)."},
  "partidos":{"type":"array","items":{"$ref":"#/$defs/partido"},"description":"Votes by party."},
  "independientes":{"$ref":"#/$defs/voto","description":"Independent candidacies together (when any runs in the unit)."},
  "no_registradas":{"$ref":"#/$defs/voto","description":"Candidaturas no registradas."},
  "nulos":{"$ref":"#/$defs/voto","description":"Votos nulos."},
  "combinaciones":{"type":"array","items":{"$ref":"#/$defs/combinacion"},"description":"Votes by coalition combination."},
  "entidades":d("National top page: the entities table.",subs),
  "distritos":d("Entity level (an entity of a national process too): the districts table.",subs),
  "municipios":d("Entity level: the municipalities table.",subs),
  "secciones":d("District or municipality: the sections table.",subs),
  "casillas":{"type":"array","items":{"$ref":"#/$defs/casilla"},"description":"Section: its casillas and their actas."},
  "elecciones":{"type":"array","items":{"$ref":"#/$defs/eleccion"},"description":"seccion_todas: the section in each election."}},
 "$defs":{"votos":d("Votes.",I),"porcentaje":d("Of the total votes.",P),"voto":vote,"resumen":resumen,"casilla":casilla,"subunidad":sub,"candidatura":cand,"partido":party,"combinacion":combo,"unidad":unidad,"eleccion":eleccion}}
# a national process's seccion_todas carries each election's votes too (no per-election section page)
for k in ("candidaturas", "partidos", "independientes", "no_registradas", "nulos", "combinaciones"):
    eleccion["properties"][k] = schema["properties"][k]
txt = json.dumps(schema, ensure_ascii=True, indent=1) + "\n"
open('src/render/datos-esquema.json','w').write(txt)
