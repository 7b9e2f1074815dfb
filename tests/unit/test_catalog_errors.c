/* Unit tests of the catalogue reader on malformed input: each case changes one thing in
 * a small valid catalogue and asserts the diag's kind tag, line and (where it means
 * something) byte column, counted by hand from BASE below. A bad catalogue never comes
 * back: *out stays NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"

/* Line numbers on the right; only ASCII on the lines whose columns are checked. */
static const char BASE[] =
    "prep-catalog 1\n"                                            /*  1 */
    "[process]\n"                                                 /*  2 */
    "id = t\n"                                                    /*  3 */
    "name = Prueba\n"                                             /*  4 */
    "institute = IEQ\n"                                           /*  5 */
    "entity_id = 22\n"                                            /*  6 */
    "entity = QUERETARO\n"                                        /*  7 */
    "timezone = America/Mexico_City\n"                            /*  8 */
    "window_open = 2021-06-06 20:00\n"                            /*  9 */
    "window_close = 2021-06-07 20:00\n"                           /* 10 */
    "[parties]\n"                                                 /* 11 */
    "id|name|color\n"                                             /* 12 */
    "PAN|Partido Accion Nacional|#0055A5\n"                       /* 13 */
    "PRI|Partido Revolucionario Institucional|#E30613\n"          /* 14 */
    "MORENA|Morena|#B5261E\n"                                     /* 15 */
    "[districts]\n"                                               /* 16 */
    "id|name\n"                                                   /* 17 */
    "1|DISTRITO 01\n"                                             /* 18 */
    "2|DISTRITO 02\n"                                             /* 19 */
    "[municipalities]\n"                                          /* 20 */
    "id|name\n"                                                   /* 21 */
    "14|Queretaro\n"                                              /* 22 */
    "[sections]\n"                                                /* 23 */
    "id|district|municipality\n"                                  /* 24 */
    "412|1|14\n"                                                  /* 25 */
    "413|2|14\n"                                                  /* 26 */
    "[casillas]\n"                                                /* 27 */
    "section|type|number|ext|urban|lista_nominal|representatives|ballots\n" /* 28 */
    "412|B|1|0|1|650|14|0\n"                                      /* 29 */
    "412|S|1|0|1|0|14|750\n"                                      /* 30 */
    "413|B|1|0|1|600|14|0\n"                                      /* 31 */
    "[elections]\n"                                               /* 32 */
    "id|name|title|scope|acta_type|parties\n"                     /* 33 */
    "gub|GUBERNATURA|Gubernatura|entity|1|PAN PRI MORENA\n"       /* 34 */
    "dip|DIPUTACIONES|Diputaciones|district|2|PAN PRI MORENA\n"   /* 35 */
    "[coalitions]\n"                                              /* 36 */
    "election|id|name|parties\n"                                  /* 37 */
    "dip|VXQ|Va por Queretaro|PAN PRI\n"                          /* 38 */
    "[candidacies]\n"                                             /* 39 */
    "election|unit|contender|name\n"                              /* 40 */
    "gub|*|PAN|Ana\n"                                             /* 41 */
    "gub|*|PRI|Beto\n"                                            /* 42 */
    "gub|*|MORENA|Carla\n"                                        /* 43 */
    "dip|1|VXQ|Dora\n"                                            /* 44 */
    "dip|1|MORENA|Elsa\n"                                         /* 45 */
    "dip|2|PAN|Fede\n"                                            /* 46 */
    "dip|2|PRI|Gil\n"                                             /* 47 */
    "dip|2|CAND_IND_1|Hilda\n";                                   /* 48 */

/* Replaces the first `find` in s with `repl` (owned result). */
static char *subst(const char *s, const char *find, const char *repl)
{
    const char *p = strstr(s, find);
    if (!p) fail_msg("test setup: '%s' not in the text", find);
    size_t a = (size_t)(p - s), fl = strlen(find), rl = strlen(repl), n = strlen(s);
    char *o = malloc(n - fl + rl + 1);
    assert_non_null(o);
    memcpy(o, s, a);
    memcpy(o + a, repl, rl);
    memcpy(o + a + rl, p + fl, n - a - fl + 1);
    return o;
}

static prep_err parse(const char *text, prep_diags *d)
{
    prep_diags_init(d);
    prep_catalog *c = (prep_catalog *)d; /* must come back NULL on error */
    prep_err r = prep_catalog_parse("t.cat", text, strlen(text), &c, d);
    if (r == PREP_OK) {
        assert_non_null(c);
        prep_catalog_free(c);
    } else {
        assert_null(c);
    }
    return r;
}

/* A diag with this kind at this line (and column, unless col < 0). */
static const prep_diag *has(const prep_diags *d, const char *kind, long line, long col)
{
    for (size_t i = 0; i < d->n; i++) {
        const prep_diag *g = &d->v[i];
        if (!strcmp(g->kind, kind) && g->line == line && (col < 0 || g->col == col)) return g;
    }
    return NULL;
}

static void expect(const prep_diags *d, const char *what, const char *kind, long line, long col)
{
    if (!has(d, kind, line, col)) {
        prep_diags_print(d, stderr, 0);
        fail_msg("%s: no '%s' diag at line %ld col %ld", what, kind, line, col);
    }
}

static void test_base_is_valid(void **st)
{
    (void)st;
    prep_diags d;
    prep_err r = parse(BASE, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(d.total, 0);
    prep_diags_free(&d);
}

typedef struct bad_case {
    const char *name;
    const char *find, *repl;   /* one change to BASE */
    const char *kind;
    long line, col;            /* col -1: not checked */
    prep_err rc;               /* expected return code */
    size_t n_diags;            /* exact number of diags, 0 = not checked */
    const char *in_msg;        /* text the message must contain, or NULL */
} bad_case;

static const bad_case cases[] = {
    /* the version line */
    {"unsupported version", "prep-catalog 1\n", "prep-catalog 2\n", "bad-version", 1, 1, PREP_ERR_PARSE, 1,
     "prep-catalog 2"},
    /* no version line: reported, and the rest is still read (nothing else is wrong) */
    {"missing version", "prep-catalog 1\n", "", "bad-version", 1, 1, PREP_ERR_PARSE, 1, NULL},
    {"unknown section", "[parties]\n", "[extras]\nfoo|bar\n[parties]\n", "unknown-section", 11, 1, PREP_ERR_PARSE, 1,
     "extras"},
    {"repeated section", "[coalitions]\n", "[labels]\n[labels]\n[coalitions]\n", "repeated-section", 37, 1,
     PREP_ERR_PARSE, 1, "line 36"},
    {"line outside sections", "[process]\n", "stray line\n[process]\n", "syntax", 2, 1, PREP_ERR_PARSE, 1, NULL},
    {"key without '='", "name = Prueba\n", "name Prueba\n", "syntax", 4, 1, PREP_ERR_PARSE, 0, NULL},
    /* [process] keys */
    {"unknown key", "entity_id = 22\n", "entity_idd = 22\n", "unknown-key", 6, 1, PREP_ERR_PARSE, 2, "entity_idd"},
    {"missing key", "entity_id = 22\n", "", "missing-key", 2, 0, PREP_ERR_PARSE, 1, "entity_id"},
    {"repeated key", "name = Prueba\n", "name = Prueba\nname = Otra\n", "repeated-key", 5, 1, PREP_ERR_PARSE, 1,
     "line 4"},
    /* "entity_id = " is 12 bytes: the value starts at column 13 */
    {"bad number", "entity_id = 22\n", "entity_id = 2x\n", "bad-value", 6, 13, PREP_ERR_INVALID, 1, "2x"},
    {"entity out of range", "entity_id = 22\n", "entity_id = 100\n", "bad-value", 6, 13, PREP_ERR_INVALID, 1, NULL},
    /* "timezone = " is 11 bytes */
    {"unknown time zone", "America/Mexico_City", "America/Atlantis", "bad-timezone", 8, 12, PREP_ERR_INVALID, 1,
     "America/Atlantis"},
    {"time zone path escape", "America/Mexico_City", "../../etc/passwd", "bad-timezone", 8, 12, PREP_ERR_INVALID, 1,
     NULL},
    /* "window_open = " is 14 bytes */
    {"bad time", "2021-06-06 20:00\n", "2021-13-06 20:00\n", "bad-value", 9, 15, PREP_ERR_INVALID, 1, "2021-13-06"},
    /* "window_close = " is 15 bytes */
    {"window closes before it opens", "2021-06-07 20:00", "2021-06-06 19:00", "bad-window", 10, 16, PREP_ERR_INVALID,
     1, NULL},
    {"bad enum", "window_close = 2021-06-07 20:00\n",
     "window_close = 2021-06-07 20:00\nparticipation_specials = sometimes\n", "bad-value", 11, 26, PREP_ERR_INVALID, 1,
     "sometimes"},
    /* tables; "PRI|Partido Revolucionario Institucional|" is 4 + 36 + 1 = 41 bytes */
    /* "id|name|" is 8 bytes; the rows of [districts] then have too few fields */
    {"repeated column", "id|name\n", "id|name|name\n", "repeated-column", 17, 9, PREP_ERR_PARSE, 0, "name"},
    /* two municipalities whose names give the same URL path; "15|" is 3 bytes */
    {"duplicate slug", "14|Queretaro\n", "14|Queretaro\n15|QUERETARO\n", "duplicate-slug", 23, 4, PREP_ERR_INVALID, 1,
     "queretaro"},
    {"bad color", "#E30613", "E30613", "bad-value", 14, 42, PREP_ERR_INVALID, 1, "E30613"},
    {"field count", "412|B|1|0|1|650|14|0\n", "412|B|1|0|1|650|14\n", "field-count", 29, 0, PREP_ERR_PARSE, 1, "7"},
    /* "section|type|number|ext|" is 24 bytes: 'urbano' at column 25 */
    {"unknown column", "ext|urban|", "ext|urbano|", "unknown-column", 28, 25, PREP_ERR_PARSE, 2, "urbano"},
    {"missing column", "ext|urban|", "ext|urbano|", "missing-column", 28, 0, PREP_ERR_PARSE, 2, "urban"},
    {"duplicate party", "MORENA|Morena|", "PAN|Morena|", "duplicate-id", 15, 1, PREP_ERR_INVALID, 0, "PAN"},
    /* ...and MORENA, now unknown, in "gub|GUBERNATURA|Gubernatura|entity|1|PAN PRI MORENA":
     * the parties field starts at 4+12+12+7+2+1 = 38, MORENA 8 bytes further: column 46 */
    {"unknown party in election", "MORENA|Morena|", "PAN|Morena|", "unknown-reference", 34, 46, PREP_ERR_INVALID, 0,
     "MORENA"},
    {"duplicate section", "413|2|14\n", "412|1|14\n", "duplicate-id", 26, 1, PREP_ERR_INVALID, 0, "line 25"},
    /* 412 again in district 2: a part of a split section (catalog.h). Its casillas must
     * say their part (line 29 names neither), and gub, one unit over both parts, cannot
     * count it (reported on the second part's line) */
    {"split section, casilla without its part", "413|2|14\n", "412|2|14\n", "split-section", 29, 1, PREP_ERR_INVALID,
     0, "district, municipality"},
    {"split section's shared casilla in an election of one unit",
     "413|2|14\n[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n412|B|1|0|1|650|14|0\n"
     "412|S|1|0|1|0|14|750\n413|B|1|0|1|600|14|0\n",
     "412|2|14\n[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots|district|municipality\n"
     "412|B|1|0|1|650|14|0|1|\n412|S|1|0|1|0|14|750|1|\n412|B|1|0|1|40|14|0|2|\n",
     "split-section", 26, 0, PREP_ERR_INVALID, 1, "both parts list casilla 220412B0100, but election 'gub'"},
    /* a casilla's part that is not there */
    {"casilla in no part of its split section",
     "413|2|14\n[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n412|B|1|0|1|650|14|0\n"
     "412|S|1|0|1|0|14|750\n413|B|1|0|1|600|14|0\n",
     "412|2|14\n[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots|district|municipality\n"
     "412|B|1|0|1|650|14|0|3|14\n412|S|1|0|1|0|14|750|1|\n413|B|1|0|1|600|14|0||\n",
     "unknown-reference", 29, -1, PREP_ERR_INVALID, 0, "has no part in district '3'"},
    {"casilla in another district than its section's",
     "section|type|number|ext|urban|lista_nominal|representatives|ballots\n412|B|1|0|1|650|14|0\n412|S|1|0|1|0|14|750\n"
     "413|B|1|0|1|600|14|0\n",
     "section|type|number|ext|urban|lista_nominal|representatives|ballots|district|municipality\n"
     "412|B|1|0|1|650|14|0|2|14\n412|S|1|0|1|0|14|750||\n413|B|1|0|1|600|14|0||\n",
     "unknown-reference", 29, -1, PREP_ERR_INVALID, 1, "not district '2'"},
    {"duplicate casilla", "413|B|1|0|1|600|14|0\n", "412|B|1|0|1|600|14|0\n", "duplicate-id", 31, 1, PREP_ERR_INVALID,
     1, "220412B0100"},
    /* "413|" is 4 bytes: the district at column 5 */
    {"unknown district", "413|2|14\n", "413|3|14\n", "unknown-reference", 26, 5, PREP_ERR_INVALID, 1, "'3'"},
    {"unknown section in casilla", "413|B|1|0|1|600|14|0\n", "414|B|1|0|1|600|14|0\n", "unknown-reference", 31, 1,
     PREP_ERR_INVALID, 1, "414"},
    {"bad casilla type", "413|B|1|0|", "413|X|1|0|", "bad-value", 31, 5, PREP_ERR_INVALID, 1, "X"},
    /* "412|S|1|0|1|" is 12 bytes: lista_nominal at 13 */
    {"special with lista nominal", "412|S|1|0|1|0|14|750", "412|S|1|0|1|5|14|750", "special-casilla", 30, 13,
     PREP_ERR_INVALID, 1, NULL},
    /* "412|S|1|0|1|0|14|" is 17 bytes: ballots at 18 */
    {"special without ballots", "412|S|1|0|1|0|14|750", "412|S|1|0|1|0|14|0", "special-casilla", 30, 18,
     PREP_ERR_INVALID, 1, NULL},
    /* "413|B|1|" is 8 bytes: ext at 9 */
    {"contigua of a basica", "413|B|1|0|", "413|B|1|1|", "bad-casilla", 31, 9, PREP_ERR_INVALID, 1, NULL},
    {"duplicate election", "dip|DIPUTACIONES|Diputaciones|district|2|", "gub|DIPUTACIONES|Diputaciones|district|2|",
     "duplicate-id", 35, 1, PREP_ERR_INVALID, 0, "gub"},
    /* "dip|DIPUTACIONES|Diputaciones|" is 30 bytes; its candidacies are not flagged again */
    {"bad scope", "|district|2|", "|distrito|2|", "bad-value", 35, 31, PREP_ERR_INVALID, 1, "distrito"},
    /* "dip|VXQ|Va por Queretaro|" is 25 bytes: the parties at 26 */
    {"coalition of one party", "Queretaro|PAN PRI\n", "Queretaro|PAN\n", "coalition-size", 38, 26, PREP_ERR_INVALID,
     1, "1 party;"},
    {"coalition of an unknown election", "dip|VXQ|", "dep|VXQ|", "unknown-reference", 38, 1, PREP_ERR_INVALID, 0,
     "dep"},
    {"coalition id is a party id", "dip|VXQ|", "dip|PRI|", "duplicate-id", 38, 5, PREP_ERR_INVALID, 0, NULL},
    /* dip lists PAN MORENA only: VXQ's PRI (26 + 4 = column 30) is not in the election */
    {"coalition party not in election", "district|2|PAN PRI MORENA", "district|2|PAN MORENA", "party-not-in-election",
     38, 30, PREP_ERR_INVALID, 0, "PRI"},
    {"candidacy party not in election", "district|2|PAN PRI MORENA", "district|2|PAN MORENA", "party-not-in-election",
     47, 7, PREP_ERR_INVALID, 0, "PRI"},
    /* PAN runs in district 1 inside VXQ already: "dip|1|" is 6 bytes */
    {"party twice in a unit", "dip|1|MORENA|Elsa", "dip|1|PAN|Elsa", "party-twice-in-unit", 45, 7, PREP_ERR_INVALID, 1,
     "VXQ"},
    {"unit without candidacy", "dip|2|PAN|Fede\ndip|2|PRI|Gil\ndip|2|CAND_IND_1|Hilda\n", "", "unit-without-candidacy",
     35, 0, PREP_ERR_INVALID, 1, "district 2"},
    {"unknown contender", "dip|2|PRI|Gil", "dip|2|PRX|Gil", "unknown-reference", 47, 7, PREP_ERR_INVALID, 0, "PRX"},
    {"unknown unit", "dip|2|PRI|Gil", "dip|7|PRI|Gil", "unknown-reference", 47, 5, PREP_ERR_INVALID, 1, "'7'"},
    {"entity unit not *", "gub|*|PAN|Ana", "gub|1|PAN|Ana", "bad-value", 41, 5, PREP_ERR_INVALID, 1, NULL},
    {"independent twice", "dip|2|PRI|Gil", "dip|2|PRI|Gil\ndip|2|CAND_IND_1|Otra", "duplicate-id", 49, 7,
     PREP_ERR_INVALID, 1, "line 48"},
    /* combination spellings ([parties] combo_name): "MORENA|Morena|#B5261E|" is 22 bytes */
#define PARTIES3 "id|name|color\nPAN|Partido Accion Nacional|#0055A5\nPRI|Partido Revolucionario Institucional|#E30613\n" \
                 "MORENA|Morena|#B5261E\n"
#define PARTIES4(pan, mor)                                                                                           \
    "id|name|color|combo_name\nPAN|Partido Accion Nacional|#0055A5|" pan                                            \
    "\nPRI|Partido Revolucionario Institucional|#E30613|\nMORENA|Morena|#B5261E|" mor "\n"
    {"combo_name not an id", PARTIES3, PARTIES4("", "MO RENA"), "bad-value", 15, 23, PREP_ERR_INVALID, 1, "MO RENA"},
    {"combo_name is its id", PARTIES3, PARTIES4("", "MORENA"), "bad-value", 15, 23, PREP_ERR_INVALID, 1, "not its id"},
    {"combo_name is a party", PARTIES3, PARTIES4("", "PAN"), "duplicate-id", 15, 23, PREP_ERR_INVALID, 1,
     "already names party 'PAN'"},
    /* PAN's combo_name PRI: reported at the party PRI, its id at column 1 */
    {"party is a combo_name", PARTIES3, PARTIES4("PRI", ""), "duplicate-id", 14, 1, PREP_ERR_INVALID, 1,
     "already names party 'PAN'"},
    /* declared independents ([elections] independents): "dip|DIPUTACIONES|Diputaciones|district|2|PAN PRI
     * MORENA|" is 56 bytes */
#define ELECTIONS6 "parties\ngub|GUBERNATURA|Gubernatura|entity|1|PAN PRI MORENA\ndip|DIPUTACIONES|Diputaciones|district|2|PAN PRI MORENA\n"
#define ELECTIONS7(v) "parties|independents\ngub|GUBERNATURA|Gubernatura|entity|1|PAN PRI MORENA|\ndip|DIPUTACIONES|Diputaciones|district|2|PAN PRI MORENA|" v "\n"
    {"independents out of range", ELECTIONS6, ELECTIONS7("100"), "bad-value", 35, 57, PREP_ERR_INVALID, 1, "1..99"},
    {"independent named twice", ELECTIONS6, ELECTIONS7("CAND_IND_HILDA CAND_IND_HILDA"), "bad-value", 35, 72,
     PREP_ERR_INVALID, 1, "listed twice"},
    {"independent numbered elsewhere", ELECTIONS6, ELECTIONS7("CAND_IND_2"), "bad-value", 35, 57, PREP_ERR_INVALID, 0,
     "another position"},
    {"independent not CAND_IND_", ELECTIONS6, ELECTIONS7("IND_HILDA"), "bad-value", 35, 57, PREP_ERR_INVALID, 0,
     "not CAND_IND_"},
    /* rp_acta_type with the letters that mark the RP acta (2RP): upper case, after digits */
#define ELECTIONS_RP(v) "parties|rp_acta_type\ngub|GUBERNATURA|Gubernatura|entity|1|PAN PRI MORENA|0\ndip|DIPUTACIONES|Diputaciones|district|2|PAN PRI MORENA|" v "\n"
    {"rp mark lower case", ELECTIONS6, ELECTIONS_RP("2rp"), "bad-value", 35, 57, PREP_ERR_INVALID, 1, "2rp"},
    {"rp mark without number", ELECTIONS6, ELECTIONS_RP("RP"), "bad-value", 35, 57, PREP_ERR_INVALID, 1, NULL},
    {"rp type of the MR acta, unmarked", ELECTIONS6, ELECTIONS_RP("2"), "bad-value", 35, 57, PREP_ERR_INVALID, 1,
     "2RP"},
    /* "413|B|" is 6 bytes; number 0 is for the votes from abroad only */
    {"casilla number 0", "413|B|1|0|", "413|B|0|0|", "bad-value", 31, 7, PREP_ERR_INVALID, 1, "0..99 for an M, A or P mesa"},
    /* [rules]: "published = " is 12 bytes */
    {"bad published", "window_close = 2021-06-07 20:00\n", "window_close = 2021-06-07 20:00\n[rules]\npublished = maybe\n",
     "bad-value", 12, 13, PREP_ERR_INVALID, 1, "yes or no"},
    {"empty table", "412|B|1|0|1|650|14|0\n412|S|1|0|1|0|14|750\n413|B|1|0|1|600|14|0\n", "", "empty-section", 27, 0,
     PREP_ERR_INVALID, 1, "casillas"},
    /* a missing table: reported once, and references into it are not reported again */
    {"missing section", "[districts]\n", "[district]\n", "missing-section", 0, 0, PREP_ERR_PARSE, 0, "districts"},
    /* bytes: "gub|*|PAN|" is 10 bytes, "An" 2 more: the bad byte is at column 13 */
    {"bad utf-8", "gub|*|PAN|Ana", "gub|*|PAN|An\xff", "bad-utf8", 41, 13, PREP_ERR_PARSE, 1, NULL},
    {"control character", "gub|*|PAN|Ana", "gub|*|PAN|A\x01na", "bad-char", 41, 12, PREP_ERR_PARSE, 1, NULL},
};

static void test_bad_catalogues(void **st)
{
    (void)st;
    for (size_t i = 0; i < PREP_ARRAY_LEN(cases); i++) {
        const bad_case *k = &cases[i];
        char *text = subst(BASE, k->find, k->repl);
        prep_diags d;
        prep_err r = parse(text, &d);
        if (r != k->rc) {
            prep_diags_print(&d, stderr, 0);
            fail_msg("%s: returned %d, expected %d", k->name, r, k->rc);
        }
        expect(&d, k->name, k->kind, k->line, k->col);
        if (k->n_diags && d.total != k->n_diags) {
            prep_diags_print(&d, stderr, 0);
            fail_msg("%s: %zu diags, expected %zu", k->name, d.total, k->n_diags);
        }
        if (k->in_msg) {
            const prep_diag *g = has(&d, k->kind, k->line, k->col);
            if (!strstr(g->msg, k->in_msg)) fail_msg("%s: message '%s' lacks '%s'", k->name, g->msg, k->in_msg);
        }
        for (size_t j = 0; j < d.n; j++) assert_string_equal(d.v[j].file, "t.cat");
        prep_diags_free(&d);
        free(text);
    }
}

/* An election that declares its independent columns: a candidacy beyond them is refused
 * at its contender ("dip|2|" is 6 bytes), one within them is its column. */
static void test_independents_declared(void **st)
{
    (void)st;
    char *a = subst(BASE, ELECTIONS6, ELECTIONS7("1"));
    char *b = subst(a, "dip|2|CAND_IND_1|Hilda", "dip|2|CAND_IND_2|Hilda");
    prep_diags d;
    assert_int_equal(parse(b, &d), PREP_ERR_INVALID);
    expect(&d, "beyond the declared", "unknown-reference", 48, 7);
    assert_non_null(strstr(d.v[0].msg, "declares 1 independent columns"));
    prep_diags_free(&d);
    char *c = subst(BASE, ELECTIONS6, ELECTIONS7("CAND_IND_HILDA"));
    char *e = subst(c, "dip|2|CAND_IND_1|Hilda", "dip|2|CAND_IND_HILDA|Hilda");
    assert_int_equal(parse(e, &d), PREP_OK);
    assert_int_equal(d.total, 0);
    prep_diags_free(&d);
    free(a);
    free(b);
    free(c);
    free(e);
}

/* A party whose id is the name of a combination column of the same election: one party
 * line inserted after line 15, so the dip election moves to line 36. */
static void test_column_clash(void **st)
{
    (void)st;
    char *a = subst(BASE, "MORENA|Morena|#B5261E\n", "MORENA|Morena|#B5261E\nC_PAN_PRI|Raro|#000000\n");
    char *b = subst(a, "district|2|PAN PRI MORENA", "district|2|PAN PRI MORENA C_PAN_PRI");
    prep_diags d;
    assert_int_equal(parse(b, &d), PREP_ERR_INVALID);
    expect(&d, "column clash", "column-clash", 36, 0);
    assert_non_null(strstr(d.v[0].msg, "'C_PAN_PRI'"));
    assert_int_equal(d.total, 1);
    prep_diags_free(&d);
    free(a);
    free(b);
}

/* A missing table is reported once; what refers to it is not flagged again and again. */
static void test_no_cascade(void **st)
{
    (void)st;
    char *text = subst(BASE, "[districts]\n", "[district]\n");
    prep_diags d;
    assert_int_equal(parse(text, &d), PREP_ERR_PARSE);
    expect(&d, "missing table", "unknown-section", 16, 1);
    expect(&d, "missing table", "missing-section", 0, 0);
    /* dip has 0 units now (no districts), so no unit errors, and no section->district errors */
    assert_null(prep_diags_find(&d, "unknown-reference"));
    assert_int_equal(d.total, 2);
    prep_diags_free(&d);
    free(text);
}

/* Several problems in one file: every one is reported, each at its own line. */
static void test_many_errors(void **st)
{
    (void)st;
    char *a = subst(BASE, "entity_id = 22", "entity_id = 2x");            /* line 6 */
    char *b = subst(a, "#E30613", "E30613");                              /* line 14 */
    char *c = subst(b, "412|B|1|0|1|650|14|0\n", "412|B|1|0|1|650|14\n"); /* line 29 */
    char *e = subst(c, "dip|2|PRI|Gil", "dip|2|PRX|Gil");                 /* line 47 */
    char *f = subst(e, "dip|2|CAND_IND_1|Hilda", "dip|9|CAND_IND_1|Hilda"); /* line 48 */
    prep_diags d;
    assert_int_equal(parse(f, &d), PREP_ERR_PARSE);
    expect(&d, "many", "bad-value", 6, 13);
    expect(&d, "many", "bad-value", 14, 42);
    expect(&d, "many", "field-count", 29, 0);
    expect(&d, "many", "unknown-reference", 47, 7);
    expect(&d, "many", "unknown-reference", 48, 5);
    assert_int_equal(d.total, 5);
    prep_diags_free(&d);
    free(a);
    free(b);
    free(c);
    free(e);
    free(f);
}

/* Limits: a line over 64 KiB is refused (and only that line), table rows are capped. */
static void test_limits(void **st)
{
    (void)st;
    size_t big = PREP_CAT_MAX_LINE + 10;
    char *name = malloc(big + 1);
    assert_non_null(name);
    memset(name, 'x', big);
    name[big] = 0;
    char *text = subst(BASE, "Hilda", name);
    prep_diags d;
    /* the long line is dropped: district 2 still has PAN and PRI, so nothing else fails */
    assert_int_equal(parse(text, &d), PREP_ERR_LIMIT);
    expect(&d, "long line", "line-too-long", 48, 0);
    assert_int_equal(d.total, 1);
    prep_diags_free(&d);
    free(text);

    /* a comment line is also bounded */
    memcpy(name, "# ", 2);
    text = subst(BASE, "[process]\n", "[process]\n");
    char *t2 = malloc(strlen(text) + big + 2);
    assert_non_null(t2);
    sprintf(t2, "%s\n%s", name, text);
    assert_int_equal(parse(t2, &d), PREP_ERR_LIMIT);
    expect(&d, "long comment", "line-too-long", 1, 0);
    prep_diags_free(&d);
    free(t2);
    free(text);
    free(name);

    /* more than PREP_CAT_MAX_PARTIES parties */
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, BASE);
    char *p = strstr(b.data, "MORENA|Morena|#B5261E\n");
    assert_non_null(p);
    size_t at = (size_t)(p - b.data) + strlen("MORENA|Morena|#B5261E\n");
    prep_buf extra;
    prep_buf_init(&extra, 0);
    for (unsigned i = 0; i < PREP_CAT_MAX_PARTIES; i++) prep_buf_printf(&extra, "P%u|Partido %u|#000000\n", i, i);
    prep_buf all;
    prep_buf_init(&all, 0);
    prep_buf_append(&all, b.data, at);
    prep_buf_append(&all, extra.data, extra.len);
    prep_buf_puts(&all, b.data + at);
    assert_int_equal(parse(all.data, &d), PREP_ERR_LIMIT);
    /* lines 13..15 hold 3 parties, the extra ones start at 16: the 65th party is on
     * line 13 + 64 = 77 */
    expect(&d, "too many parties", "too-many", 77, 0);
    assert_int_equal(d.total, 1);
    prep_diags_free(&d);
    prep_buf_free(&b);
    prep_buf_free(&extra);
    prep_buf_free(&all);

    /* more than PREP_CAT_MAX_COLUMNS vote columns: 40 more parties in gub and five disjoint
     * coalitions of 8 of them: 5 * (2^8 - 1 - 8) = 5 * 247 = 1235 combinations, + 43
     * parties + NO_REGISTRADOS + NULOS = 1280 > 1024. The 40 party lines go after line 15,
     * so gub's election line moves from 34 to 74. */
    prep_buf pl, el, co;
    prep_buf_init(&pl, 0);
    prep_buf_init(&el, 0);
    prep_buf_init(&co, 0);
    prep_buf_puts(&pl, "MORENA|Morena|#B5261E\n");
    prep_buf_puts(&el, "entity|1|PAN PRI MORENA");
    prep_buf_puts(&co, "election|id|name|parties\n");
    for (unsigned i = 0; i < 40; i++) {
        prep_buf_printf(&pl, "P%u|Partido %u|#000000\n", i, i);
        prep_buf_printf(&el, " P%u", i);
    }
    for (unsigned k = 0; k < 5; k++) {
        prep_buf_printf(&co, "gub|K%u|Coalicion %u|", k, k);
        for (unsigned i = 0; i < 8; i++) prep_buf_printf(&co, "%sP%u", i ? " " : "", k * 8 + i);
        prep_buf_puts(&co, "\n");
    }
    char *t1 = subst(BASE, "MORENA|Morena|#B5261E\n", pl.data);
    char *t3 = subst(t1, "entity|1|PAN PRI MORENA", el.data);
    char *t4 = subst(t3, "election|id|name|parties\n", co.data);
    assert_int_equal(parse(t4, &d), PREP_ERR_LIMIT);
    expect(&d, "too many columns", "too-many", 74, 0);
    assert_int_equal(d.total, 1);
    prep_diags_free(&d);
    /* Moving K3 and K4 to dip leaves three in gub: 3 * 247 + 43 + 2 = 786 columns, within
     * the limit. Their parties are not in dip: the [coalitions] header moved from 37 to 77,
     * K0..K4 follow on 78..82, so K3 is on line 81; "dip|K3|Coalicion 3|" is 19 bytes and
     * its first party P24 starts at column 20. */
    char *t5 = subst(t4, "gub|K3|", "dip|K3|");
    char *t6 = subst(t5, "gub|K4|", "dip|K4|");
    assert_int_equal(parse(t6, &d), PREP_ERR_INVALID);
    assert_null(prep_diags_find(&d, "too-many"));
    expect(&d, "moved coalitions", "party-not-in-election", 81, 20);
    prep_diags_free(&d);
    free(t1);
    free(t3);
    free(t4);
    free(t5);
    free(t6);
    prep_buf_free(&pl);
    prep_buf_free(&el);
    prep_buf_free(&co);
}

/* The diag list keeps at most max_keep entries but counts all, and parsing a file full
 * of bad rows still ends. */
static void test_diag_cap(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, BASE);
    for (int i = 0; i < 3000; i++) prep_buf_puts(&b, "dip|2|NOPE|x\n");
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 10;
    prep_catalog *c = NULL;
    assert_int_equal(prep_catalog_parse("t.cat", b.data, b.len, &c, &d), PREP_ERR_INVALID);
    assert_null(c);
    assert_int_equal(d.n, 10);
    assert_int_equal(d.total, 3000);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_is_valid), cmocka_unit_test(test_bad_catalogues),
        cmocka_unit_test(test_no_cascade),    cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_limits),        cmocka_unit_test(test_diag_cap),
        cmocka_unit_test(test_column_clash),
        cmocka_unit_test(test_independents_declared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
