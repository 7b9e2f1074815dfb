#!/usr/bin/env python3
"""An independent recount of a simulated national night, compared with prep's tally.

Reads the catalogue TEXT (docs/formats/catalog.md) and the actas CSV files that
`prep sim actas` wrote (docs/formats/actas.md), applies the counting rules of
docs/formats/actas.md "Counting rules" itself, and adds the counted actas up to the nation,
every entity, every district and every section. Then compares with the per-unit figures
prep printed (`prep tally --units-json`): votes per column, actas expected, captured,
counted. Nothing here calls prep or reads its code: the rules are re-implemented from the
docs, so a bug in prep's reader, classifier or tally shows as a difference.

usage: national_recount.py --catalog FILE --actas DIR --units FILE [--at 'YYYY-MM-DD HH:MM:SS']
                           [--sections N]
Exit 0 when every compared figure is equal, 1 otherwise (the differences are printed).
"""
import argparse
import json
import random
import sys


def read_catalog(path):
    """Tables and [process] keys of a catalogue file, as lists of dicts by column name."""
    tables, keys, cur, header = {}, {}, None, None
    with open(path, encoding="utf-8-sig") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#") or line.startswith("prep-catalog"):
                continue
            if line.startswith("[") and line.endswith("]"):
                cur, header = line[1:-1], None
                if cur not in ("process", "labels", "rules"):
                    tables[cur] = []
                continue
            # trailing comment: a '#' with a blank before and a blank or the end after
            for i, ch in enumerate(line):
                if ch == "#" and i > 0 and line[i - 1] in " \t" and (i + 1 == len(line) or line[i + 1] in " \t"):
                    line = line[:i].rstrip()
                    break
            if cur in ("process", "labels", "rules"):
                k, _, v = line.partition("=")
                keys[(cur, k.strip())] = v.strip()
            elif header is None:
                header = [h.strip() for h in line.split("|")]
            else:
                tables[cur].append(dict(zip(header, [x.strip() for x in line.split("|")])))
    return keys, tables


class Catalog:
    def __init__(self, path):
        keys, t = read_catalog(path)
        wc = keys[("process", "window_close")]
        self.window_close = wc if len(wc) == 19 else wc + ":00"  # the catalogue's "YYYY-MM-DD HH:MM"
        self.section_district = {}
        for s in t["sections"]:
            self.section_district[(int(s["entity"]), int(s["id"]))] = int(s["district"])
        self.casillas = {}
        for c in t["casillas"]:
            ent, sec = int(c["entity"]), int(c["section"])
            key = "%02d%04d%s%02d%02d" % (ent, sec, c["type"], int(c["number"]), int(c["ext"]))
            self.casillas[key] = {
                "entity": ent, "section": sec, "district": self.section_district[(ent, sec)],
                "type": c["type"], "ln": int(c["lista_nominal"]), "reps": int(c["representatives"]),
                "ballots": int(c["ballots"]),
            }
        self.elections = {}
        for e in t["elections"]:
            at = int(e["acta_type"])
            abroad = e.get("abroad_acta_type") or str(at)
            self.elections[e["id"]] = {
                "scope": e["scope"],
                "name": e["name"],
                "acta": at,
                "special": int(e.get("special_acta_type") or at),
                # "-": the votes from abroad do not elect this office (catalog.md)
                "abroad": None if abroad == "-" else int(abroad),
                "rp": int(e.get("rp_acta_type") or 0),
            }
        # units with candidacies: an election expects actas only where it has a ballot
        self.units = {}
        for c in t["candidacies"]:
            self.units.setdefault(c["election"], set()).add(c["unit"])

    def unit_of(self, el, cas):
        scope = self.elections[el]["scope"]
        if scope == "nation":
            return "*"
        if scope == "entity":
            return str(cas["entity"])
        if scope == "district":
            return "%d-%d" % (cas["entity"], cas["district"])
        raise ValueError("scope " + scope)

    def expected(self, el, cas):
        """TIPO_ACTA of every acta election el expects from casilla cas."""
        if self.unit_of(el, cas) not in self.units.get(el, ()):
            return []
        e = self.elections[el]
        if cas["type"] == "M":
            return [e["abroad"]] if e["abroad"] is not None else []
        if cas["type"] == "S":
            return [e["special"]] + ([e["rp"]] if e["rp"] else [])
        return [e["acta"]]


def unit_keys(cas, rp):
    """The units an acta of casilla cas adds to: (level, entity, id). A special casilla's
    representación proporcional acta elects by list, not in its district or section: it adds
    to the nation and its entity only (docs/internals/tally.md "RP actas")."""
    ent = cas["entity"]
    keys = [("nation", 0, 0), ("entity", ent, ent)]
    if not rp:
        keys += [("district", ent, cas["district"]), ("section", ent, cas["section"])]
    return keys


def acta_type(row):
    """TIPO_ACTA: the digits after CLAVE_CASILLA in CLAVE_ACTA."""
    return int(row["CLAVE_ACTA"].strip()[len(unguard(row["CLAVE_CASILLA"])):])


def read_actas(path, names=None):
    """Rows of an actas CSV as dicts, and the vote column names in file order: the run
    between TOTAL_VOTOS_SACADOS and TOTAL_VOTOS_ASENTADO (the layout of actas.md), else
    the given names."""
    with open(path, encoding="utf-8-sig") as f:
        lines = f.read().split("\n")
    sep = "|"
    if lines and lines[0].startswith("sep="):
        sep = lines[0][4]
    hi = next(i for i, l in enumerate(lines) if "CLAVE_CASILLA" in l.split(sep))
    header = lines[hi].split(sep)
    if "TOTAL_VOTOS_SACADOS" in header and "TOTAL_VOTOS_ASENTADO" in header:
        a, b = header.index("TOTAL_VOTOS_SACADOS"), header.index("TOTAL_VOTOS_ASENTADO")
        vote_cols = header[a + 1:b]
    else:
        vote_cols = [c for c in names if c in header]
    rows = []
    for n, l in enumerate(lines[hi + 1:], start=hi + 2):
        if not l.strip():
            continue
        f = l.split(sep)
        if len(f) != len(header):
            raise SystemExit("%s:%d: %d fields, header has %d" % (path, n, len(f), len(header)))
        r = dict(zip(header, f))
        r["_line"] = n
        rows.append(r)
    return rows, vote_cols


def unguard(k):
    k = k.strip()
    if k.startswith('="') and k.endswith('"'):
        k = k[2:-1]
    return k.strip('"')


def vote_value(v):
    """(number, legible, applicable) of one vote field (actas.md "Vote values")."""
    v = v.strip().upper()
    if v == "-":
        return 0, False, False
    if v.isdigit():
        return int(v), True, True
    if v in ("ILEGIBLE", "SIN DATO", ""):
        return 0, False, True
    raise ValueError("bad vote value %r" % v)


def classify(row, vote_cols, cas):
    """Anexo 13 status, as docs/formats/actas.md "Counting rules" orders them."""
    if cas is None:
        return "out_of_catalog", None
    if "SIN ACTA" in row.get("OBSERVACIONES", "").upper():
        return "no_acta", None
    votes, legible, illegible = [], 0, 0
    for c in vote_cols:
        n, leg, app = vote_value(row[c])
        votes.append(n)
        if app:
            legible += leg
            illegible += not leg
    if legible == 0:
        return "all_illegible", None
    cap = (cas["ballots"] if cas["type"] == "S" else cas["ln"]) + cas["reps"]
    if sum(votes) > cap:
        return "exceeds", None
    return ("some_illegible" if illegible else "counted"), votes


def instant(row):
    for k in ("FECHA_HORA_VERIFICACION", "FECHA_HORA_CAPTURA", "FECHA_HORA_ACOPIO"):
        if row.get(k, "").strip():
            return row[k].strip()
    return ""


def empty_unit(vote_cols):
    return {"votes": [0] * len(vote_cols), "esperadas": 0, "capturadas": 0, "contabilizadas": 0, "ln": 0,
            "status": {}}


def recount(cat, el, rows, vote_cols, at):
    """{(level, entity, id): {"votes": [...], "esperadas", "capturadas", "contabilizadas"}}."""
    units = {}

    def unit(k):
        if k not in units:
            units[k] = empty_unit(vote_cols)
        return units[k]

    rp_type = cat.elections[el]["rp"]
    for key, cas in cat.casillas.items():
        for t in cat.expected(el, cas):
            for k in unit_keys(cas, cas["type"] == "S" and t == rp_type):
                unit(k)["esperadas"] += 1
    # the capture that counts for each acta: the latest instant up to the cut, ties to the
    # later line (actas.md "A later capture replaces an earlier one")
    latest = {}
    for r in rows:
        t = instant(r)
        if at and t > at:
            continue
        ka = r["CLAVE_ACTA"].strip()
        if ka not in latest or (t, r["_line"]) >= (instant(latest[ka]), latest[ka]["_line"]):
            latest[ka] = r
    summary = {"fuera": 0, "inconsistentes": 0, "ln": 0, "c_cs": 0, "s_cs": 0}
    for r in latest.values():
        cas = cat.casillas.get(unguard(r["CLAVE_CASILLA"]))
        if cas is not None and acta_type(r) not in cat.expected(el, cas):
            cas = None  # an acta the casilla does not have in this election: out of catalogue
        status, votes = classify(r, vote_cols, cas)
        if cas is None:
            summary["fuera"] += 1
            continue
        summary["inconsistentes"] += status in ("some_illegible", "all_illegible", "exceeds")
        if votes is not None:
            summary["ln"] += cas["ln"]
            summary["c_cs"] += sum(votes)
            summary["s_cs"] += 0 if cas["type"] == "S" else sum(votes)
        for k in unit_keys(cas, cas["type"] == "S" and acta_type(r) == rp_type):
            u = unit(k)
            u["capturadas"] += 1
            u["status"][status] = u["status"].get(status, 0) + 1
            if votes is not None:
                u["contabilizadas"] += 1
                u["ln"] += cas["ln"]
                u["votes"] = [a + b for a, b in zip(u["votes"], votes)]
    return units, summary


def pct(n, d):
    """x 100, 4 decimals, truncated (actas.md "Percentages")."""
    if d == 0:
        return "0.0000"
    v = n * 1000000 // d
    return "%d.%04d" % (v // 10000, v % 10000)


def expected_block(nat, summary, final):
    """The 13 header-block figures of a cut. Participation (the ine profile's final-only
    rule): special casillas' votes only in the final cut."""
    esp, cap, cont = nat["esperadas"], nat["capturadas"], nat["contabilizadas"]
    reg = cap + summary["fuera"]
    return [str(esp), str(reg), str(summary["fuera"]), str(cap), pct(cap, esp), str(cont), pct(cont, esp),
            pct(summary["inconsistentes"], esp), str(reg - cont), str(summary["ln"]), str(summary["c_cs"]),
            str(summary["s_cs"]), pct(summary["c_cs"] if final else summary["s_cs"], summary["ln"])]


def read_blocks(path):
    """{election name: [13 values]} from prep tally's standard output."""
    lines = [l.rstrip("\n") for l in open(path, encoding="utf-8")]
    out = {}
    for i, l in enumerate(lines):
        if l.startswith("ACTAS_ESPERADAS"):
            out[lines[i - 2]] = lines[i + 1].split("|")
    return out


def variety(cat, el, rows, vote_cols):
    """1 (and a message) unless the file holds each kind of row the recount treats apart."""
    kinds = {}
    seen = set()
    e = cat.elections[el]
    for r in rows:
        cas = cat.casillas.get(unguard(r["CLAVE_CASILLA"]))
        status, _ = classify(r, vote_cols, cas)
        kinds[status] = kinds.get(status, 0) + 1
        ka = r["CLAVE_ACTA"].strip()
        if ka in seen:
            kinds["correction"] = kinds.get("correction", 0) + 1
        seen.add(ka)
        if cas and cas["type"] in "SM":
            k = "abroad" if cas["type"] == "M" else (
                "rp" if e["rp"] and int(r["TIPO_ACTA"]) == e["rp"] else "special")
            kinds[k] = kinds.get(k, 0) + 1
    want = ["counted", "some_illegible", "all_illegible", "exceeds", "no_acta", "out_of_catalog", "correction",
            "special"]
    if e["rp"]:
        want.append("rp")
    if any(c["type"] == "M" and cat.expected(el, c) for c in cat.casillas.values()):
        want.append("abroad")
    missing = [k for k in want if not kinds.get(k)]
    print("%s: rows %s" % (el, ", ".join("%s %d" % (k, kinds[k]) for k in sorted(kinds))))
    if missing:
        print("%s: the night has no %s: the test would prove nothing about them" % (el, ", ".join(missing)))
        return 1
    return 0


LEVELS = {"nacional": "nation", "entidad": "entity", "distrito": "district", "seccion": "section"}


def site_figures(m, vote_cols, d):
    """[(name, published, recounted)] for one unit's datos.json d (docs/formats/open-data.md)."""
    st = m["status"]
    v = dict(zip(vote_cols, m["votes"]))
    r = d["resumen"]
    out = [("actas_esperadas", r["actas_esperadas"], m["esperadas"]),
           ("actas_capturadas", r["actas_capturadas"], m["capturadas"]),
           ("actas_contabilizadas", r["actas_contabilizadas"], m["contabilizadas"]),
           ("actas_no_contabilizadas", r["actas_no_contabilizadas"], m["capturadas"] - m["contabilizadas"]),
           ("exceden_lista_nominal", r["exceden_lista_nominal"], st.get("exceeds", 0)),
           ("ilegibles_o_sin_dato", r["ilegibles_o_sin_dato"], st.get("all_illegible", 0)),
           ("sin_acta", r["sin_acta"], st.get("no_acta", 0)),
           ("con_inconsistencias", r["con_inconsistencias"],
            st.get("exceeds", 0) + st.get("all_illegible", 0) + st.get("some_illegible", 0)),
           ("lista_nominal", r["lista_nominal"], m["ln"]),
           ("total_votos", r["total_votos"], sum(m["votes"])),
           ("nulos", d["nulos"]["votos"], v.get("NULOS", 0)),
           ("no_registradas", d["no_registradas"]["votos"], v.get("NO_REGISTRADOS", 0))]
    for c in d.get("combinaciones", []):
        out.append(("combinacion " + c["columna"], c["votos"], v.get(c["columna"])))
    for c in d.get("candidaturas", []):
        if c["etiqueta"].startswith("Independiente"):
            want = sum(x for col, x in v.items() if col.startswith("CAND_IND_"))
        else:
            parties = set(c["etiqueta"].split("-"))
            want = sum(x for col, x in v.items()
                       if col not in ("NULOS", "NO_REGISTRADOS") and not col.startswith("CAND_IND_")
                       and set(col.split("_")) <= parties)
        out.append(("candidatura " + c["etiqueta"], c["votos"], want))
    return out


def check_site(site, el, mine, vote_cols, summary):
    """Differences between the published open data of election el and the recount."""
    import glob
    import os
    bad = n = rows = 0
    for f in glob.glob(os.path.join(site, "**", "datos.json"), recursive=True):
        if os.path.relpath(f, site).startswith("embebido"):
            continue
        with open(f, encoding="utf-8") as fh:
            d = json.load(fh)
        u = d["unidad"]
        if u.get("eleccion") != el or u["nivel"] not in LEVELS:
            continue
        lvl = LEVELS[u["nivel"]]
        uid = {"nation": 0, "entity": u["entidad"], "district": u.get("distrito"), "section": u.get("seccion")}[lvl]
        m = mine.get((lvl, u["entidad"], uid)) or empty_unit(vote_cols)
        figs = site_figures(m, vote_cols, d)
        # the children rows a lean aggregate file keeps (docs/formats/open-data.md): the
        # nation's entities, an entity's districts, each against its own recount
        kids = {"nation": ("entidades", "entity"), "entity": ("distritos", "district")}.get(lvl)
        for row in d.get(kids[0], []) if kids else []:
            key = (kids[1], row["id"], row["id"]) if kids[1] == "entity" else (kids[1], u["entidad"], row["id"])
            k = mine.get(key) or empty_unit(vote_cols)
            rows += 1
            figs.append(("%s %s actas_contabilizadas" % (kids[0], row["id"]), row["actas_contabilizadas"],
                         k["contabilizadas"]))
            figs.append(("%s %s actas_esperadas" % (kids[0], row["id"]), row["actas_esperadas"], k["esperadas"]))
        if lvl == "nation":
            figs.append(("fuera_de_catalogo", d["resumen"]["fuera_de_catalogo"], summary["fuera"]))
        n += 1
        for name, pub, want in figs:
            if pub != want:
                print("%s %s: %s: published %s, recount %s" % (el, f, name, pub, want))
                bad += 1
    print("%s: %d datos.json compared with the recount (and %d rows of their entities / districts)" % (el, n, rows))
    return bad + (rows == 0), n  # no children rows: nothing proved about them


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--actas", required=True)
    ap.add_argument("--units", required=True)
    ap.add_argument("--at", default="")
    ap.add_argument("--block", help="prep tally's standard output: its 13 summary figures are compared too")
    ap.add_argument("--site", help="a site prep render wrote for the same cut: every unit's datos.json is compared too")
    ap.add_argument("--sections", type=int, default=200, help="sections compared per election (sample)")
    ap.add_argument("--variety", action="store_true",
                    help="fail unless the night holds every kind of acta the rules treat apart")
    a = ap.parse_args()
    cat = Catalog(a.catalog)
    with open(a.units, encoding="utf-8") as f:
        prep = json.load(f)
    bad, compared = 0, 0
    rng = random.Random(15)
    for pe in prep["elections"]:
        el = pe["id"]
        rows, vote_cols = read_actas("%s/%s.csv" % (a.actas, el), pe["columns"])
        if vote_cols != pe["columns"]:
            print("%s: vote columns differ: file %s, prep %s" % (el, vote_cols, pe["columns"]))
            bad += 1
            continue
        mine, summary = recount(cat, el, rows, vote_cols, a.at)
        if a.block:
            stated = read_blocks(a.block).get(cat.elections[el]["name"])
            nat = mine[("nation", 0, 0)]
            # prep takes a cut as final at the window's close, or when every acta is captured
            final = (a.at and a.at >= cat.window_close) or nat["capturadas"] == nat["esperadas"]
            want = expected_block(nat, summary, final)
            if stated != want:
                print("%s: header block: prep %s, recount %s" % (el, stated, want))
                bad += 1
        if a.variety:
            bad += variety(cat, el, rows, vote_cols)
        theirs = {(u["level"], u["entity"], u["id"]): u for u in pe["units"]}
        levels = {}
        for k in theirs:
            levels.setdefault(k[0], []).append(k)
        for lvl in ("nation", "entity", "district", "section"):
            ks = sorted(levels.get(lvl, []))
            # units that expect actas (prep may also list empty ones: district 0 of diputaciones)
            ks_exp = sorted(k for k in ks if theirs[k]["esperadas"])
            mine_ks = sorted(k for k in mine if k[0] == lvl and mine[k]["esperadas"])
            if lvl != "section" and ks_exp != mine_ks:
                print("%s %s: units differ: prep %d, recount %d" % (el, lvl, len(ks), len(mine_ks)))
                bad += 1
            if lvl == "section" and len(ks) > a.sections:
                ks = sorted(rng.sample(ks, a.sections))
            for k in ks:
                p = theirs[k]
                m = mine.get(k) or empty_unit(vote_cols)
                compared += 1
                for f in ("esperadas", "capturadas", "contabilizadas", "votes"):
                    if p[f] != m[f]:
                        print("%s %s %s: prep %s, recount %s" % (el, k, f, p[f], m[f]))
                        bad += 1
        if a.site:
            b, n = check_site(a.site, el, mine, vote_cols, summary)
            bad += b + (n == 0)
        nat = mine.get(("nation", 0, 0))
        print("%s: nation: %d actas expected, %d captured, %d counted, %d votes"
              % (el, nat["esperadas"], nat["capturadas"], nat["contabilizadas"],
                 sum(nat["votes"])))
    print("compared %d units, %d differences" % (compared, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
