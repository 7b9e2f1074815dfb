#!/usr/bin/python3
"""Checks the open data of one exported cut (tests/integ/open_data.sh; issue 16 item 4).

usage: open_data_check.py WWW ACTAS_DIR CUT_LOCAL_TIME

(a) every datos.json of WWW validates against WWW/datos/esquema.json (python3-jsonschema,
    draft 2020-12, the schema itself checked first);
(b) its figures equal its page's: the HTML is parsed here (html.parser) and every summary
    item, vote table row, actas row, sub-unit row and acta block compared, for every unit
    page but the per-election section pages and seccion/NNNN/, of which a fixed sample;
    every datos.csv's rows against its datos.json;
(c) a few sections' totals equal a recount of the simulated actas files themselves.
Prints "ok - ..." / "FAIL - ..." lines; exit status 1 on any failure.
"""
import csv
import glob
import html.parser
import io
import json
import os
import sys

import jsonschema

WWW, ACTAS, CUT = sys.argv[1], sys.argv[2], sys.argv[3]
fails = 0


def bad(msg):
    global fails
    fails += 1
    if fails <= 40:
        print("FAIL - " + msg)


def fmt(n):
    return f"{n:,}"


class Page(html.parser.HTMLParser):
    """The parts of a page the comparison needs: summary lists, tables by caption, acta
    blocks, per-election sections (seccion/NNNN/)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections = []        # [{"title", "dls": [...], "tables": [...]}]
        self.cur = {"title": None, "dls": [], "tables": [], "actas": {}}
        self.sections.append(self.cur)
        self.text = None          # collecting text into a list, or None
        self.table = None
        self.row = None
        self.dl = None
        self.dt = None
        self.acta = None
        self.in_main = False
        self.h2 = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "main":
            self.in_main = True
        if not self.in_main:
            return
        if tag == "section":
            self.cur = {"title": None, "dls": [], "tables": [], "actas": {}}
            self.sections.append(self.cur)
        elif tag == "h2":
            self.h2 = []
            self.text = self.h2
        elif tag == "div" and a.get("class") == "acta":
            self.acta = {"id": a.get("id"), "dl": {}, "rows": {}, "text": []}
            self.cur["actas"][a.get("id")] = self.acta
        elif tag == "table":
            self.table = {"caption": "", "rows": []}
        elif tag == "caption":
            self.text = []
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("th", "td") and self.row is not None:
            self.text = []
        elif tag == "dl":
            self.dl = {}
        elif tag == "dt":
            self.text = []
        elif tag == "dd":
            self.text = []

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        if not self.in_main:
            return
        t = "".join(self.text).strip() if self.text is not None else None
        if tag == "h2" and self.h2 is not None:
            if self.cur["title"] is None:
                self.cur["title"] = t
            self.h2 = None
            self.text = None
        elif tag == "caption" and self.table is not None:
            self.table["caption"] = t
            self.text = None
        elif tag in ("th", "td") and self.row is not None:
            self.row.append(t)
            self.text = None
        elif tag == "tr" and self.row is not None:
            if self.table is not None:
                self.table["rows"].append(self.row)
                if self.acta is not None and len(self.row) == 2:
                    self.acta["rows"][self.row[0]] = self.row[1]
            self.row = None
        elif tag == "table" and self.table is not None:
            if self.acta is None:
                self.cur["tables"].append(self.table)
            self.table = None
        elif tag == "dt":
            self.dt = t
            self.text = None
        elif tag == "dd" and self.dl is not None:
            self.dl[self.dt] = t
            self.text = None
        elif tag == "dl" and self.dl is not None:
            if self.acta is not None:
                self.acta["dl"] = self.dl
            else:
                self.cur["dls"].append(self.dl)
            self.dl = None
        elif tag == "div" and self.acta is not None and self.table is None and self.dl is None:
            self.acta = None

    def handle_data(self, data):
        if self.text is not None:
            self.text.append(data)
        if self.acta is not None:
            self.acta["text"].append(data)


def parse(path):
    p = Page()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def table(sec, prefix):
    for t in sec["tables"]:
        if t["caption"].startswith(prefix):
            return t
    return None


def check_summary(where, dl, r):
    want = {
        "Actas contabilizadas": f"{fmt(r['actas_contabilizadas'])} de {fmt(r['actas_esperadas'])} ({r['porcentaje_contabilizadas']}%)",
        "Actas capturadas": f"{fmt(r['actas_capturadas'])} ({r['porcentaje_capturadas']}%)",
        "Participación ciudadana": f"{r['participacion']}%",
        "Total de votos": fmt(r["total_votos"]),
        "Lista nominal de actas contabilizadas": fmt(r["lista_nominal"]),
    }
    for k, v in want.items():
        if dl.get(k) != v:
            bad(f"{where}: summary '{k}': page '{dl.get(k)}', json '{v}'")


def check_votes(where, sec, j):
    total = j["resumen"]["total_votos"]
    tail = [("Candidaturas no registradas", j["no_registradas"]), ("Votos nulos", j["nulos"])]
    if "candidaturas" in j:
        t = table(sec, "Votos por candidatura")
        rows = [(c["nombre"], c) for c in j["candidaturas"]] + tail
        cmp_rows(where + " candidaturas", t, rows, total)
    elif table(sec, "Votos por candidatura"):
        bad(f"{where}: the page has candidacies, the json none")
    t = table(sec, "Votos por partido")
    rows = [(p["id"], p) for p in j["partidos"]]
    if "independientes" in j:
        rows.append(("Candidaturas independientes", j["independientes"]))
    cmp_rows(where + " partidos", t, rows + tail, total)
    t = table(sec, "Votos por combinaci")
    if j["combinaciones"]:
        # the page names a combination by its parties ("PAN-QI"), the JSON by column and parties
        cmp_rows(where + " combinaciones", t, [("-".join(c["partidos"]), c) for c in j["combinaciones"]], None)
    elif t:
        bad(f"{where}: the page has combinations, the json none")


def cmp_rows(where, t, rows, total):
    if t is None:
        bad(f"{where}: no such table on the page")
        return
    body = [r for r in t["rows"][1:]]
    if total is not None:
        if not body or not body[-1][0].startswith("Total") or body[-1][1] != fmt(total):
            bad(f"{where}: total row {body[-1] if body else None} vs {total}")
        body = body[:-1]
    if len(body) != len(rows):
        bad(f"{where}: {len(body)} rows on the page, {len(rows)} in the json")
        return
    for (name, v), r in zip(rows, body):
        if name not in r[0] or r[1] != fmt(v["votos"]) or r[2] != v["porcentaje"] + "%":
            bad(f"{where}: page row {r} vs json {name} {v}")


def check_actas(where, sec, r):
    t = table(sec, "Actas")
    if t is None:
        bad(f"{where}: no actas table")
        return
    got = {row[0].strip("\u2003 "): row[1] for row in t["rows"][1:]}
    want = {"Esperadas": r["actas_esperadas"], "Capturadas": r["actas_capturadas"],
            "Contabilizadas": r["actas_contabilizadas"], "No contabilizadas": r["actas_no_contabilizadas"],
            "Exceden la lista nominal": r["exceden_lista_nominal"],
            "Todos los campos ilegibles o sin dato": r["ilegibles_o_sin_dato"], "Sin acta": r["sin_acta"],
            "Con inconsistencias": r["con_inconsistencias"]}
    if "fuera_de_catalogo" in r:
        want["Fuera de catálogo"] = r["fuera_de_catalogo"]
    for k, v in want.items():
        if got.get(k) != fmt(v):
            bad(f"{where}: actas '{k}': page {got.get(k)}, json {v}")


def check_units(where, sec, caption, units):
    t = table(sec, caption)
    if t is None:
        bad(f"{where}: no table '{caption}'")
        return
    body = t["rows"][1:]
    if len(body) != len(units):
        bad(f"{where}: {caption}: {len(body)} rows, json {len(units)}")
        return
    for row, u in zip(body, units):
        cells = row[-3:]
        lead = "\u2014" if u["encabeza"] is None else u["encabeza"]
        if (u["nombre"] not in row[0] or cells[0] != f"{fmt(u['actas_contabilizadas'])} de {fmt(u['actas_esperadas'])}"
                or cells[1] != u["participacion"] + "%" or lead not in cells[2]):
            bad(f"{where}: {caption} row {row} vs {u}")


def check_acta_blocks(where, sec, casillas):
    for c in casillas:
        a = sec["actas"].get("casilla-" + c["clave"])
        if a is None:
            bad(f"{where}: no block for casilla {c['clave']}")
            continue
        if not c["capturada"]:
            if "no capturada" not in "".join(a["text"]):
                bad(f"{where}: {c['clave']} not captured in json, the page says otherwise")
            continue
        dl = a["dl"]
        want = {"Estado": c["estado"], "Clave del acta": c["clave_acta"], "Lista nominal": fmt(c["lista_nominal"]),
                "SHA-256 de la imagen del acta": c["sha256"] or "\u2014"}
        for k, v in want.items():
            if dl.get(k) != v:
                bad(f"{where}: {c['clave']} '{k}': page {dl.get(k)}, json {v}")
        # the acta's row named as the acta names it (TOTAL_VOTOS_CALCULADO in the database)
        got = a["rows"].get("Total de votos calculado")
        if got != fmt(c["total_votos_calculado"]):
            bad(f"{where}: {c['clave']} 'Total de votos calculado' {got}, json {c['total_votos_calculado']}")


def check_casillas_table(where, sec, casillas):
    t = table(sec, "Casillas")
    if t is None or len(t["rows"]) - 1 != len(casillas):
        bad(f"{where}: casillas table")
        return
    for row, c in zip(t["rows"][1:], casillas):
        est = c.get("estado", "No capturada")
        sha = c.get("sha256") or "\u2014"
        if c["clave"] not in row[0] or row[1] != est or row[2] != sha:
            bad(f"{where}: casillas row {row} vs {c}")


def check_page(jpath, j):
    d = os.path.dirname(jpath)
    page = parse(os.path.join(d, "index.html"))
    u = j["unidad"]
    where = u["pagina"]
    if u["nivel"] == "seccion_todas":
        secs = [s for s in page.sections if s["title"]]
        if [s["title"] for s in secs] != [e["eleccion_nombre"] for e in j["elecciones"]]:
            bad(f"{where}: elections {[s['title'] for s in secs]}")
            return
        for s, e in zip(secs, j["elecciones"]):
            check_summary(where + " " + e["eleccion"], s["dls"][0], e["resumen"])
            check_casillas_table(where + " " + e["eleccion"], s, e["casillas"])
        return
    sec = page.sections[0]
    check_summary(where, sec["dls"][0], j["resumen"])
    check_votes(where, sec, j)
    check_actas(where, sec, j["resumen"])
    if "distritos" in j:
        check_units(where, sec, "Resultados por distrito", j["distritos"])
    if "municipios" in j:
        check_units(where, sec, "Resultados por municipio", j["municipios"])
    if "secciones" in j:
        check_units(where, sec, "Resultados por secci", j["secciones"])
    if "casillas" in j:
        check_acta_blocks(where, sec, j["casillas"])


def check_csv(jpath, j):
    with open(os.path.join(os.path.dirname(jpath), "datos.csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    groups = [(e["eleccion"], e["resumen"]) for e in j["elecciones"]] if "elecciones" in j else \
        [(j["unidad"]["eleccion"], j["resumen"])]
    for eid, r in groups:
        got = {x["clave"]: int(x["valor"]) for x in rows if x["eleccion"] == eid and x["bloque"] == "resumen"}
        for k in ("actas_esperadas", "actas_capturadas", "actas_contabilizadas", "lista_nominal", "total_votos"):
            if got.get(k) != r[k]:
                bad(f"{j['unidad']['pagina']}datos.csv: {eid} {k} {got.get(k)} vs json {r[k]}")
    if "partidos" in j:
        got = {x["clave"]: (int(x["valor"]), x["porcentaje"]) for x in rows if x["bloque"] == "partido"}
        for p in j["partidos"]:
            if got.get(p["id"]) != (p["votos"], p["porcentaje"]):
                bad(f"{j['unidad']['pagina']}datos.csv: party {p['id']} {got.get(p['id'])}")


def recount(jsons):
    """Totals of sections from the simulated actas files: the rows of each casilla, kept
    only for sections whose every capture (every timestamp) is 30 minutes or more before
    the cut and whose casillas were captured once, so no supersede or cut-edge rule is
    involved; counted = the simulator's CONTABILIZADA flag."""
    limit = CUT.replace("23:00", "22:30") + ":00"
    checked = 0
    for path in sorted(glob.glob(os.path.join(ACTAS, "*.csv"))):
        eid = os.path.basename(path)[:-4]
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        h = next(i for i, l in enumerate(lines) if l.startswith("CLAVE_CASILLA|"))
        rows = list(csv.reader(io.StringIO("\n".join(lines[h:])), delimiter="|"))
        head, rows = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
        ix = {n: i for i, n in enumerate(head)}
        vote_cols = head[ix["TOTAL_VOTOS_SACADOS"] + 1:ix["TOTAL_VOTOS_ASENTADO"]]
        per = {}
        for r in rows:
            per.setdefault(int(r[ix["SECCION"]]), []).append(r)
        done = 0
        for sec in sorted(per):
            rs = per[sec]
            keys = [r[ix["CLAVE_CASILLA"]] for r in rs]
            times = [r[ix[c]] for r in rs for c in ("FECHA_HORA_ACOPIO", "FECHA_HORA_CAPTURA", "FECHA_HORA_VERIFICACION")]
            if len(set(keys)) != len(keys) or any(t and t > limit for t in times):
                continue
            j = jsons.get(sec)
            if j is None:
                continue
            e = next((x for x in j["elecciones"] if x["eleccion"] == eid), None)
            counted = [r for r in rs if r[ix["CONTABILIZADA"]] == "1"]
            total = sum(int(r[ix[c]]) for r in counted for c in vote_cols if r[ix[c]].isdigit())
            ln = sum(int(r[ix["LISTA_NOMINAL"]]) for r in counted)
            got = e["resumen"]
            want = {"actas_capturadas": len(rs), "actas_contabilizadas": len(counted), "total_votos": total,
                    "lista_nominal": ln}
            for k, v in want.items():
                if got[k] != v:
                    bad(f"recount {eid} section {sec}: {k} json {got[k]}, actas files {v}")
            checked += 1
            done += 1
            if done == 6:
                break
    return checked


def main():
    with open(os.path.join(WWW, "datos/esquema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    paths = sorted(glob.glob(os.path.join(WWW, "**/datos.json"), recursive=True))
    paths = [p for p in paths if "/cortes/" not in p and "/embebido/" not in p]
    n_bad = 0
    docs = {}
    for p in paths:
        with open(p, encoding="utf-8") as f:
            j = json.load(f)
        errs = list(v.iter_errors(j))
        if errs:
            n_bad += 1
            bad(f"{p}: {errs[0].message} at {list(errs[0].absolute_path)}")
        docs[p] = j
    print(f"{'ok' if not n_bad else 'FAIL'} - (a) {len(paths)} datos.json files validate against datos/esquema.json"
          f" ({n_bad} do not)")
    # (b) figures: every election/district/municipality page, a fixed sample of the rest
    f0 = fails
    compared = 0
    sections = sorted(p for p in paths if "/seccion-" in p)
    everyone = sorted(p for p in paths if "/seccion-" not in p and "seccion/" not in p[len(WWW):])
    alls = sorted(p for p in paths if "seccion/" in p[len(WWW):] and "/seccion-" not in p)
    for p in everyone + sections[::17] + alls:
        check_page(p, docs[p])
        check_csv(p, docs[p])
        compared += 1
    print(f"{'ok' if fails == f0 else 'FAIL'} - (b) {compared} pages: every figure of the json and csv is the page's"
          f" ({len(everyone)} unit pages, {len(sections[::17])} election sections, {len(alls)} seccion/NNNN)")
    f0 = fails
    alljs = {docs[p]["unidad"]["seccion"]: docs[p] for p in alls}
    n = recount(alljs)
    print(f"{'ok' if fails == f0 and n >= 10 else 'FAIL'} - (c) {n} sections recounted from the actas files agree")
    if n < 10:
        bad("too few sections recounted")
    return 1 if fails else 0


sys.exit(main())
