#!/usr/bin/env python3
"""Writes the INE federal test files of tests/data/actas/ (issue 15, item 2).

Each file is in the exact layout of one INE LEEME (../shared/data/ine-2018-prep-dip-fed,
ine-2021-prep-dip-fed): the column list, its spellings (CAND_IND_01 and the C_ prefix in
2018, CAND_IND_1 and no prefix plus CODIGOS_* in 2021), several entities, federal
districts numbered within each entity, special casillas with an MR and an RP acta
(same CLAVE_CASILLA, different TIPO_ACTA), votes from abroad (TIPO_CASILLA M, section 0
of district 0 of the voter's entity), prison votes (V, 2021), out-of-catalogue rows
(CLAVE_CASILLA "-" in 2021, TIPO_ACTA 0 in 2018), and actas with each inconsistency.

The header block is written from the generator's own model (the status it gave each
acta), not by recounting the rows: tests/integ/ine_federal.sh recounts the rows with a
second, independent method and prep must reproduce both.

    python3 tests/data/actas/gen_ine_federal.py tests/data/actas

Deterministic (fixed seeds): running it again gives the same bytes.
"""
import random
import sys

ENTITIES = [  # id, name, districts (id, name)
    (1, 'AGUASCALIENTES', [(1, 'JESÚS MARÍA'), (2, 'AGUASCALIENTES'), (3, 'AGUASCALIENTES')]),
    (9, 'CIUDAD DE MÉXICO', [(1, 'GUSTAVO A. MADERO'), (2, 'GUSTAVO A. MADERO')]),
    (14, 'JALISCO', [(1, 'TEQUILA'), (2, 'LAGOS DE MORENO')]),
]

# Status of an acta in the model: how the generator writes it and how the header counts it.
COUNTED, SOME, ALL, EXCEEDS, NO_ACTA, PENDING, OUT = range(7)


class Layout:
    def __init__(self, year, election, sep, enc, times, acta_types, parties, combos, indeps,
                 coalition_units, codigos, special_ballots, with_name, final):
        self.year, self.election, self.sep, self.enc = year, election, sep, enc
        self.times, self.acta_types = times, acta_types
        self.parties, self.combos, self.indeps = parties, combos, indeps
        self.coalition_units, self.codigos = coalition_units, codigos
        self.special_ballots, self.with_name, self.final = special_ballots, with_name, final


P18 = ['PAN', 'PRI', 'PRD', 'PVEM', 'PT', 'MC', 'PANAL', 'MORENA', 'PES']
C18 = ['C_PAN_PRD_MC', 'C_PAN_PRD', 'C_PAN_MC', 'C_PRD_MC', 'C_PRI_PVEM_PANAL', 'C_PRI_PVEM', 'C_PRI_PANAL',
       'C_PVEM_PANAL', 'C_PT_MORENA_PES', 'C_PT_MORENA', 'C_PT_PES', 'C_MORENA_PES']
P21 = ['PAN', 'PRI', 'PRD', 'PVEM', 'PT', 'MC', 'MORENA', 'PES', 'RSP', 'FXM']
C21 = ['PAN_PRI_PRD', 'PAN_PRI', 'PAN_PRD', 'PRI_PRD', 'PVEM_PT_MORENA', 'PVEM_PT', 'PVEM_MORENA', 'PT_MORENA']


def columns(L):
    c = ['CLAVE_CASILLA', 'CLAVE_ACTA', 'ID_ESTADO', 'ESTADO', 'ID_DISTRITO_FEDERAL', 'DISTRITO_FEDERAL',
         'SECCION', 'ID_CASILLA', 'TIPO_CASILLA', 'EXT_CONTIGUA', 'UBICACION_CASILLA', 'TIPO_ACTA',
         'TOTAL_BOLETAS_SOBRANTES', 'TOTAL_PERSONAS_VOTARON', 'TOTAL_REP_PARTIDO_CI_VOTARON', 'TOTAL_VOTOS_SACADOS']
    if L.codigos:
        c += ['CODIGOS_ENTREGADOS_PMDC', 'CODIGOS_SOBRANTES', 'CODIGOS_UTILIZADOS']
    if L.year == 2018:
        c += L.parties + L.combos + L.indeps
    else:
        c += L.parties + L.indeps + L.combos
    c += ['NO_REGISTRADOS', 'NULOS', 'TOTAL_VOTOS_ASENTADO', 'TOTAL_VOTOS_CALCULADO', 'LISTA_NOMINAL',
          'REPRESENTANTES_PP_CI', 'OBSERVACIONES', 'CONTABILIZADA', 'MECANISMOS_TRASLADO', 'SHA',
          'FECHA_HORA_ACOPIO', 'FECHA_HORA_CAPTURA', 'FECHA_HORA_VERIFICACION', 'ORIGEN', 'DIGITALIZACION',
          'TIPO_DOCUMENTO', 'COTEJADA']
    return c


def casillas(L, _rng):
    """(entity, ename, district, dname, section, type, number, ext, acta kind, LN) for every
    expected acta; kind: mr, smr, srp, abroad. The casillas are those of the year (the
    same for every election of it); the election decides which actas they have."""
    rng = random.Random(L.year)
    out = []
    sec = 100
    for ent, ename, districts in ENTITIES:
        for did, dname in districts:
            for k in range(2):
                sec += 7
                out.append((ent, ename, did, dname, sec, 'B', 1, 0, 'mr', rng.randint(300, 700)))
                for n in range(1, rng.randint(1, 3)):
                    out.append((ent, ename, did, dname, sec, 'C', n, 0, 'mr', rng.randint(300, 700)))
                if (sec // 7) % 3 == 0:
                    out.append((ent, ename, did, dname, sec, 'E', 1, 0, 'mr', rng.randint(100, 400)))
                    out.append((ent, ename, did, dname, sec, 'E', 1, 1, 'mr', rng.randint(100, 400)))
            # a special casilla per district but one: an MR acta and, for chambers, an RP one
            if (ent, did) != (9, 2):
                s = sec
                out.append((ent, ename, did, dname, s, 'S', 1, 0, 'smr', 0))
                if L.election != 'pres':
                    out.append((ent, ename, did, dname, s, 'S', 1, 0, 'srp', 0))
            if L.year == 2021 and did == 1:
                # prison votes (VPP): a casilla of its own type in a section of the district
                out.append((ent, ename, did, dname, sec, 'V', 1, 0, 'mr', rng.randint(40, 90)))
        if L.year == 2018:
            # votes from abroad: mesas of the entity, section 0 of district 0; they elect
            # the president and the senators, not the deputies (LEEME 2018, TIPO_ACTA 1, 18)
            for n in range(1, 3):
                out.append((ent, ename, 0, 'VOTO EN EL EXTRANJERO', 0, 'M', n, 0, 'abroad', rng.randint(200, 600)))
    return [x for x in out if x[8] != 'abroad' or L.election in ('pres', 'sen')]


def key(ent, sec, typ, num, ext):
    return '%02d%04d%s%02d%02d' % (ent, sec, typ, num, ext)


def unit(L, ent, did):
    """The unit of the election a casilla of (ent, did) votes in: presidencia one for the
    nation, senadurías one per entity, diputaciones one per federal district."""
    return {'pres': '*', 'sen': str(ent)}.get(L.election, '%d-%d' % (ent, did))


def applies(L, ent, did, col):
    """Which combination / independent columns are on a unit's ballot."""
    u = unit(L, ent, did)
    if col in L.combos:
        return u in L.coalition_units
    if col in L.indeps:
        return (u, col) in L.indep_units
    return True


def vote_fields(L, ent, did):
    return [c for c in L.parties + L.combos + L.indeps if applies(L, ent, did, c)] + ['NO_REGISTRADOS', 'NULOS']


def tstamp(L, minute):
    h, m = divmod(20 * 60 + minute, 60)
    d = 1 + h // 24 if L.year == 2018 else 6 + h // 24
    h %= 24
    if L.year == 2018:
        return '2018-07-%02d %02d:%02d:00' % (d, h, m)
    return '%02d/06/2021 %02d:%02d:00' % (d, h, m)


def make(L, seed):
    rng = random.Random(seed)
    cols = columns(L)
    rows = []
    model = []  # (status, special, ln, total)
    ilegible = 'ILEGIBLE' if L.year == 2018 else 'Ilegible'
    sindato = 'SIN DATO' if L.year == 2018 else 'Sin dato'
    L.casillas = casillas(L, rng)
    for i, (ent, ename, did, dname, sec, typ, num, ext, kind, ln) in enumerate(L.casillas):
        r = {c: '' for c in cols}
        k = key(ent, sec, typ, num, ext)
        ta = L.acta_types[kind]
        r.update(CLAVE_CASILLA=k, CLAVE_ACTA=k + '%02d' % ta, ID_ESTADO=str(ent), ESTADO=ename,
                 ID_DISTRITO_FEDERAL=str(did), DISTRITO_FEDERAL=dname, SECCION=str(sec), ID_CASILLA=str(num),
                 TIPO_CASILLA=typ, EXT_CONTIGUA=str(ext), UBICACION_CASILLA=str(1 + (sec + num) % 2),
                 TIPO_ACTA=str(ta), LISTA_NOMINAL=str(ln))
        special = typ == 'S'
        fields = vote_fields(L, ent, did)
        reps = 2 * (len(L.parties) + sum(1 for c in L.indeps if c in fields))
        r['REPRESENTANTES_PP_CI'] = str(reps)
        # the acta's fate: a fixed sequence, so that every status occurs in every file
        roll = rng.random()
        st = COUNTED
        if roll < 0.10: st = SOME
        elif roll < 0.13: st = ALL
        elif roll < 0.16: st = NO_ACTA
        elif roll < 0.19: st = EXCEEDS
        elif roll < 0.24 and not L.final: st = PENDING
        if i == 3: st = SOME
        if i == 5: st = EXCEEDS
        if i == 7: st = ALL
        if i == 9: st = NO_ACTA
        if kind == 'srp' and i % 2: st = EXCEEDS  # an RP acta over the special ballots
        if kind == 'srp' and st == NO_ACTA: st = COUNTED
        cap = (L.special_ballots if special else ln) + reps
        vals = {}
        for c in L.parties + L.combos + L.indeps:
            vals[c] = '-'
        for c in fields:
            vals[c] = 0
        total = 0
        if st in (COUNTED, SOME, EXCEEDS):
            budget = cap + rng.randint(5, 40) if st == EXCEEDS else rng.randint(cap // 4, cap * 3 // 4)
            if kind == 'abroad' and st != EXCEEDS: budget = rng.randint(10, max(11, ln // 3))
            for c in fields:
                vals[c] = 0
            for _ in range(budget):
                vals[rng.choice(fields)] += 1
            if st == SOME:
                for c in rng.sample(fields, 2):
                    vals[c] = ilegible if rng.random() < 0.5 else sindato
            total = sum(v for v in vals.values() if isinstance(v, int))
        elif st == ALL:
            for c in fields:
                vals[c] = ilegible if rng.random() < 0.5 else sindato
            vals[fields[0]] = ilegible
        if st == PENDING:
            for c in cols[12:]:
                if c not in ('LISTA_NOMINAL', 'REPRESENTANTES_PP_CI'):
                    r[c] = ''
            rows.append(r)
            model.append((st, special, ln, 0))
            continue
        if st == NO_ACTA:
            for c in fields:
                vals[c] = 0 if L.year == 2018 else '-'
        for c in L.parties + L.combos + L.indeps + ['NO_REGISTRADOS', 'NULOS']:
            r[c] = str(vals.get(c, '-'))
        r['NO_REGISTRADOS'] = str(vals['NO_REGISTRADOS'])
        r['NULOS'] = str(vals['NULOS'])
        r['TOTAL_VOTOS_CALCULADO'] = str(total)
        r['TOTAL_VOTOS_ASENTADO'] = str(total) if st != ALL else ilegible
        if st == NO_ACTA:
            r['TOTAL_VOTOS_ASENTADO'] = '-' if L.year == 2021 else '0'
        people = total if st in (COUNTED, SOME, EXCEEDS) else 0
        r['TOTAL_BOLETAS_SOBRANTES'] = str(max(0, (L.special_ballots if special else ln) - people))
        r['TOTAL_PERSONAS_VOTARON'] = str(people)
        r['TOTAL_REP_PARTIDO_CI_VOTARON'] = str(rng.randint(0, 6))
        r['TOTAL_VOTOS_SACADOS'] = str(people)
        if L.codigos:
            r['CODIGOS_ENTREGADOS_PMDC'] = r['CODIGOS_SOBRANTES'] = r['CODIGOS_UTILIZADOS'] = '-'
        r['OBSERVACIONES'] = {
            COUNTED: '', SOME: 'Ilegible' if rng.random() < 0.5 else 'Sin dato', ALL: 'Todos los campos ilegibles',
            EXCEEDS: 'Excede lista nominal',
            NO_ACTA: 'Sin Acta – Paquete no Entregado' if L.year == 2021 else 'Sin Acta - Casilla no Instalada'}[st]
        if st == ALL and rng.random() < 0.5: r['OBSERVACIONES'] = 'Todos los campos vacíos'
        r['CONTABILIZADA'] = '1' if st in (COUNTED, SOME) else '0'
        m = 30 + i * 3
        if st != NO_ACTA:
            r['SHA'] = '%064x' % rng.getrandbits(256)
            r['FECHA_HORA_ACOPIO'] = tstamp(L, m)
            r['FECHA_HORA_CAPTURA'] = tstamp(L, m + 1)
            r['FECHA_HORA_VERIFICACION'] = tstamp(L, m + 2)
            r['ORIGEN'] = 'CASILLA' if i % 3 else 'CATD'
            r['DIGITALIZACION'] = 'MOVIL' if i % 3 else 'ESCANER'
            r['TIPO_DOCUMENTO'] = {'abroad': 'Acta VE', }.get(kind, 'Acta PREP' if L.year == 2021 else 'ACTA PREP')
            if typ == 'V': r['TIPO_DOCUMENTO'] = 'Acta Prisión'
            r['COTEJADA'] = str(1 + i % 2)
        else:
            r['FECHA_HORA_CAPTURA'] = tstamp(L, m)
            r['FECHA_HORA_VERIFICACION'] = tstamp(L, m + 1)
            r['ORIGEN'] = 'CATD'
            r['DIGITALIZACION'] = 'ESCANER'
            if L.year == 2021:
                r['FECHA_HORA_ACOPIO'] = '-'
        if i % 11 == 4: r['MECANISMOS_TRASLADO'] = 'F'
        rows.append(r)
        model.append((st, special, ln, total))
    # out-of-catalogue actas (LEEME: not expected, not in the inconsistencies); in 2021 a
    # third one with "-" in every field, flag and OBSERVACIONES too (the R script that read
    # the real file: "En todas estas observaciones el valor ... es '-'")
    for j in range(3 if L.year == 2021 else 2):
        r = {c: '' for c in cols}
        fields = vote_fields(L, 1, 1)
        for c in L.parties + L.combos + L.indeps:
            r[c] = '-'
        if L.year == 2021:
            # LEEME 2021: "Para las actas fuera de catálogo el valor de este campo será guion"
            r.update(CLAVE_CASILLA='-', CLAVE_ACTA='-', ID_ESTADO='14', ESTADO='JALISCO', ID_DISTRITO_FEDERAL='-',
                     DISTRITO_FEDERAL='-', SECCION='-', ID_CASILLA='-', TIPO_CASILLA='-', EXT_CONTIGUA='-',
                     UBICACION_CASILLA='-', TIPO_ACTA='-')
            for c in fields + ['NO_REGISTRADOS', 'NULOS']:
                r[c] = '-'
            r['TOTAL_VOTOS_ASENTADO'] = r['TOTAL_VOTOS_CALCULADO'] = '-'
        else:
            # LEEME 2018: the key "puede no ser el correcto o estar incompleto"; TIPO_ACTA 0
            # (the second one carries the key of an expected casilla: TIPO_ACTA 0 decides)
            sec = 9990 if j == 0 else 107
            k = key(1, sec, 'B', 1, 0)
            r.update(CLAVE_CASILLA=k, CLAVE_ACTA=k + '00', ID_ESTADO='1', ESTADO='AGUASCALIENTES',
                     ID_DISTRITO_FEDERAL='null', DISTRITO_FEDERAL='null', SECCION=str(sec), ID_CASILLA='1',
                     TIPO_CASILLA='B', EXT_CONTIGUA='0', UBICACION_CASILLA='1', TIPO_ACTA='0')
            for c in fields:
                r[c] = '3'
            r['TOTAL_VOTOS_ASENTADO'] = r['TOTAL_VOTOS_CALCULADO'] = str(3 * (len(fields)))
            for c in ('LISTA_NOMINAL', 'REPRESENTANTES_PP_CI', 'TOTAL_BOLETAS_SOBRANTES'):
                r[c] = 'null'  # nothing known of an unidentified casilla
        r['OBSERVACIONES'] = 'Fuera de catálogo'
        r['CONTABILIZADA'] = '0'
        r['FECHA_HORA_CAPTURA'] = tstamp(L, 200 + j)
        r['ORIGEN'] = 'CATD'
        if j == 2:
            r = {c: '-' for c in cols}
        rows.insert(len(rows) // (2 + j), r)
        model.append((OUT, False, 0, 0))
    return cols, rows, header(L, model)


COALITIONS = {2018: [('PAF', 'Por México al Frente', 'PAN PRD MC'), ('TPM', 'Todos por México', 'PRI PVEM PANAL'),
                    ('JHH', 'Juntos Haremos Historia', 'PT MORENA PES')],
              2021: [('VXM', 'Va por México', 'PAN PRI PRD'), ('JHH', 'Juntos Hacemos Historia', 'PVEM PT MORENA')]}


def write_catalog(path, year, Ls):
    """The national catalogue of the files of one year (docs/formats/catalog.md, "National
    catalogues"), from the same model: every expected casilla with its lista nominal,
    representatives and special ballots; the acta types of the LEEME."""
    L0 = Ls[0]
    out = ['prep-catalog 1', '# Written by tests/data/actas/gen_ine_federal.py for the ine%d_*.csv test files.' % year,
           '[process]', 'id = ine%d' % year, 'name = Proceso Electoral Federal %d (prueba)' % year,
           'institute = Instituto Nacional Electoral', 'entity_id = 0', 'entity = ESTADOS UNIDOS MEXICANOS',
           'timezone = America/Mexico_City',
           'window_open = %s' % ('2018-07-01 20:00' if year == 2018 else '2021-06-06 20:00'),
           'window_close = %s' % ('2018-07-02 20:00' if year == 2018 else '2021-06-07 20:00'),
           'combo_prefix = %s' % ('C_' if year == 2018 else ''),
           'independents_first = %s' % ('no' if year == 2018 else 'yes'),
           'csv_separator = %s' % L0.sep, 'participation_specials = final-only', '',
           '[entities]', 'id|name|circ']
    circ = {1: 2, 9: 4, 14: 1}
    out += ['%d|%s|%d' % (e, n, circ[e]) for e, n, _ in ENTITIES]
    out += ['', '[parties]', 'id|name|color']
    colors = ['#0055A5', '#E30613', '#FFD200', '#50B747', '#D71920', '#F58025', '#00A3AD', '#B5261E', '#5C2D91',
              '#E5007E', '#7F7F7F']
    out += ['%s|%s|%s' % (p, p, colors[i % len(colors)]) for i, p in enumerate(L0.parties)]
    out += ['', '[districts]', 'entity|id|name']
    abroad = year == 2018
    for e, n, ds in ENTITIES:
        if abroad: out.append('%d|0|VOTO EN EL EXTRANJERO' % e)
        out += ['%d|%d|%s %02d' % (e, did, dn, did) for did, dn in ds]
    out += ['', '[municipalities]', 'entity|id|name']
    out += ['%d|1|MUNICIPIO NO INDICADO' % e for e, _, _ in ENTITIES]
    secs, cas = {}, {}
    for L in Ls:
        for (ent, ename, did, dname, sec, typ, num, ext, kind, ln) in L.casillas:
            secs[(ent, sec)] = did
            if kind == 'srp': continue
            cas.setdefault((ent, sec, typ, num, ext), (ln, L))
    out += ['', '[sections]', 'entity|id|district|municipality']
    out += ['%d|%d|%d|1' % (e, sec, did) for (e, sec), did in sorted(secs.items())]
    out += ['', '[casillas]', 'entity|section|type|number|ext|urban|lista_nominal|representatives|ballots']
    for (ent, sec, typ, num, ext), (ln, L) in sorted(cas.items()):
        did = secs[(ent, sec)]
        reps = 2 * (len(L.parties) + sum(1 for c in L.indeps if applies(L, ent, did, c)))
        out.append('%d|%d|%s|%d|%d|%d|%d|%d|%d' % (ent, sec, typ, num, ext, 1 + (sec + num) % 2, ln, reps,
                                                  L.special_ballots if typ == 'S' else 0))
    out += ['', '[elections]', 'id|name|title|scope|acta_type|parties|special_acta_type|abroad_acta_type|rp_acta_type']
    meta = {'pres': ('PRESIDENCIA', 'Presidencia de la República', 'nation'),
            'sen': ('SENADURIAS', 'Senadurías', 'entity'), 'dip': ('DIPUTACIONES FEDERALES', 'Diputaciones federales',
                                                                   'district')}
    for L in Ls:
        n, t, sc = meta[L.election]
        ty = L.acta_types
        out.append('%s|%s|%s|%s|%d|%s|%d|%s|%d' % (L.election, n, t, sc, ty['mr'], ' '.join(L.parties), ty['smr'],
                                                   ty.get('abroad', '-'), ty.get('srp', 0)))
    out += ['', '[coalitions]', 'election|id|name|parties']
    for L in Ls:
        out += ['%s|%s|%s|%s' % (L.election, i, n, ps) for i, n, ps in COALITIONS[year]]
    out += ['', '[candidacies]', 'election|unit|contender|name']
    for L in Ls:
        units = []
        for e, n, ds in ENTITIES:
            for did, _ in ds:
                u = unit(L, e, did)
                if u not in units: units.append(u)
        for u in units:
            e, did = (1, 1) if u == '*' else (int(u), 1) if '-' not in u else map(int, u.split('-'))
            inco = set()
            if u in L.coalition_units:
                for i, n, ps in COALITIONS[year]:
                    out.append('%s|%s|%s|CANDIDATURA %s %s' % (L.election, u, i, i, u))
                    inco |= set(ps.split())
            for p in L.parties:
                if p not in inco: out.append('%s|%s|%s|CANDIDATURA %s %s' % (L.election, u, p, p, u))
            for c in L.indeps:
                if (u, c) in L.indep_units:
                    out.append('%s|%s|%s|INDEPENDIENTE %s %s' % (L.election, u, c.replace('_0', '_'), c, u))
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')


def trunc4(num, den):
    if den == 0:
        return '0.0000'
    v = num * 1000000 // den
    return '%d.%04d' % (v // 10000, v % 10000)


def header(L, model):
    esp = sum(1 for m in model if m[0] != OUT)
    out = sum(1 for m in model if m[0] == OUT)
    cap = sum(1 for m in model if m[0] not in (OUT, PENDING))
    cont = [m for m in model if m[0] in (COUNTED, SOME)]
    inc = sum(1 for m in model if m[0] in (SOME, ALL, EXCEEDS))
    nc = sum(1 for m in model if m[0] in (ALL, EXCEEDS, NO_ACTA)) + out
    ln = sum(m[2] for m in cont)
    ccs = sum(m[3] for m in cont)
    scs = sum(m[3] for m in cont if not m[1])
    part = trunc4(ccs if cap == esp else scs, ln)
    return [esp, cap + out, out, cap, trunc4(cap, esp), len(cont), trunc4(len(cont), esp), trunc4(inc, esp), nc,
            ln, ccs, scs, part]


NAMES = ['ACTAS_ESPERADAS', 'ACTAS_REGISTRADAS', 'ACTAS_FUERA_DE_CATALOGO', 'ACTAS_CAPTURADAS',
         'PORCENTAJE_ACTAS_CAPTURADAS', 'ACTAS_CONTABILIZADAS', 'PORCENTAJE_ACTAS_CONTABILIZADAS',
         'PORCENTAJE_ACTAS_CON_INCONSISTENCIAS', 'ACTAS_NO_CONTABILIZADAS', 'LISTA_NOMINAL_ACTAS_CONTABILIZADAS',
         'TOTAL_VOTOS_C_CS', 'TOTAL_VOTOS_S_CS', 'PORCENTAJE_PARTICIPACION_CIUDADANA']


def quote(v, sep):
    return '"%s"' % v.replace('"', '""') if sep in v or '"' in v else v


def write(path, L, cols, rows, hdr, cut):
    lines = []
    if L.with_name:
        lines.append(L.with_name)
    lines.append(cut)
    lines.append(L.sep.join(NAMES))
    lines.append(L.sep.join(str(v) for v in hdr))
    lines.append('')
    lines.append(L.sep.join(cols))
    for r in rows:
        lines.append(L.sep.join(quote(r[c], L.sep) for c in cols))
    data = '\r\n'.join(lines) + '\r\n' if L.enc == 'latin-1' else '\n'.join(lines) + '\n'
    with open(path, 'wb') as f:
        f.write(data.encode(L.enc))


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else 'tests/data/actas'
    # LEEME 2018, TIPO_ACTA: presidencia 2 (abroad 1); senadurías 3, special 4 / RP 5, abroad 18;
    # diputaciones 6, special 7 / RP 8
    specs = [
        ('ine2018_presidencia.csv', 2018, 'pres', {'mr': 2, 'smr': 2, 'abroad': 1}, None, True),
        ('ine2018_senadurias.csv', 2018, 'sen', {'mr': 3, 'smr': 4, 'srp': 5, 'abroad': 18}, None, False),
        ('ine2018_diputaciones.csv', 2018, 'dip', {'mr': 6, 'smr': 7, 'srp': 8}, None, True),
        # LEEME 2021 lists the three kinds without numbers; any numbering must do
        ('ine2021_diputaciones.csv', 2021, 'dip', {'mr': 2, 'smr': 3, 'srp': 4}, 'DIPUTACIONES FEDERALES', False),
    ]
    coal = {'pres': {'*'}, 'sen': {'1', '14'}}
    indep = {('pres', 2018): {('*', 'CAND_IND_01'), ('*', 'CAND_IND_02')},
             ('sen', 2018): {('9', 'CAND_IND_01'), ('14', 'CAND_IND_02')},
             ('dip', 2018): {('14-1', 'CAND_IND_01'), ('1-3', 'CAND_IND_01'), ('1-3', 'CAND_IND_02')},
             ('dip', 2021): {('9-2', 'CAND_IND_1'), ('1-1', 'CAND_IND_2'), ('14-2', 'CAND_IND_3')}}
    made = {2018: [], 2021: []}
    for name, year, el, types, with_name, final in specs:
        if year == 2018:
            L = Layout(year, el, '|', 'latin-1', None, types, P18, C18, ['CAND_IND_01', 'CAND_IND_02'],
                       coal.get(el, {'1-1', '1-2', '9-1', '14-2'}), False, 750, with_name, final)
            cut = '02/07/2018 21:00 (UTC-5)'
        else:
            L = Layout(year, el, ',', 'utf-8', None, types, P21, C21, ['CAND_IND_1', 'CAND_IND_2', 'CAND_IND_3'],
                       {'1-2', '9-1', '9-2', '14-1'}, True, 1000, with_name, final)
            cut = '07/06/2021 20:00 (UTC-5)'
        L.indep_units = indep.get((el, year), set())
        cols, rows, hdr = make(L, len(name) * 7919 + year)
        write('%s/%s' % (d, name), L, cols, rows, hdr, cut)
        made[year].append(L)
    for year, Ls in made.items():
        write_catalog('%s/ine%d.cat' % (d, year), year, Ls)


if __name__ == '__main__':
    main()
