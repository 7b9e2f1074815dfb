/* prep catalog: counting-rule profiles. The choices the Lineamientos leave to each
 * institute, as presets with the evidence for each (docs/formats/actas.md, "Rule
 * profiles"), and the "key = value" setter shared by the catalogue's [rules] section and
 * the command line. */
#include "catalog_internal.h"

#include <stdio.h>
#include <string.h>

#define INC_INE (PREP_INC_SOME_ILLEGIBLE | PREP_INC_ALL_ILLEGIBLE | PREP_INC_EXCEEDS)

/* Every preset states all fields. special_ballots: 750 per special casilla until 2018,
 * 1,000 from the 2020-2021 process (docs/formats/actas.md, source 4). The evidence is each file's own header block, recounted
 * from its rows with its CONTABILIZADA flags (tests/integ/real_files.sh checks them all). */
static const prep_rules presets[] = {
    /* INE LEEME 2018 and 2021 (data/ine-*-prep-dip-fed/LEEME.txt): inconsistencies are
     * "Excede Lista Nominal, Ilegible o Sin Dato" (item 8); no contabilizadas include
     * identification errors (fuera de catálogo) and sin acta (item 9); specials enter
     * participation only in the last cut (item 13); cap = LN + representatives, special
     * casillas: ballots approved + representatives (item 6). */
    {"ine", INC_INE, 1, 1, PREP_CAT_SPECIALS_FINAL_ONLY, 1, 1000, 0, 0, 0, ""},
    /* Quintana Roo 2019 (QROO_DIP_LOC_2019.csv): 492 inconsistent = 417 counted with an
     * illegible field + 75 all illegible; final cut's participation 263,005 / 1,187,254. */
    {"ieqroo-2019", INC_INE, 1, 1, PREP_CAT_SPECIALS_FINAL_ONLY, 1, 750, 23, 2019, 0, ""},
    /* Campeche 2021 (CAMP_GOB_2021.csv): 2.4369 % of 1,190 = 29 = 24 all illegible + 5
     * exceeding, the 229 counted with an illegible field left out; 42 no contabilizadas =
     * 45 flagged 0 - 3 fuera de catálogo; participation 63.2564 = C_CS / LN with 91.76 %
     * captured (specials included before the last cut). */
    {"ieec-2021", PREP_INC_ALL_ILLEGIBLE | PREP_INC_EXCEEDS, 0, 1, PREP_CAT_SPECIALS_INCLUDE, 1, 1000, 4, 2021, 0, ""},
    /* Puebla 2018 (PUE_GOB_2018.csv): 4.0805 % of 7,548 = 308 = 187 all illegible + 103
     * all blank + 18 exceeding; participation 67.6491 = S_CS / LN in the 02/07 20:00 cut
     * (98.13 % captured). */
    {"iee-puebla-2018", INC_INE, 1, 1, PREP_CAT_SPECIALS_FINAL_ONLY, 1, 750, 21, 2018, 0, ""},
    /* Sonora 2021 (SON_GOB_2021.csv): 16.0885 % of 3,748 = 603 = 570 + 29 + 4; 584 no
     * contabilizadas = 3,748 captured - 3,164 counted, the 24 fuera de catálogo left out;
     * participation 44.0964 = C_CS / LN with every acta captured. */
    {"ieesonora-2021", INC_INE, 0, 1, PREP_CAT_SPECIALS_FINAL_ONLY, 1, 1000, 26, 2021, 0, ""},
    /* Querétaro 2018 (QRO_DIP_LOC_2018.csv): 21.9033 % of 2,648 = 580 = 365 + 37 + 5 + 173
     * sin acta; 43 no contabilizadas are the rows flagged 0 (the 172 sin acta rows carry
     * no flag); participation 62.7206 = C_CS / LN, every acta captured. */
    {"ieeq-2018", PREP_INC_ALL, 1, 0, PREP_CAT_SPECIALS_FINAL_ONLY, 1, 750, 22, 2018, 0, ""},
};

int prep_catalog_rules_preset(const char *name, prep_rules *out)
{
    for (size_t i = 0; i < PREP_ARRAY_LEN(presets); i++)
        if (name && !strcmp(presets[i].name, name)) {
            *out = presets[i];
            return 0;
        }
    return -1;
}

const char *prep_catalog_rules_preset_name(size_t i)
{
    return i < PREP_ARRAY_LEN(presets) ? presets[i].name : NULL;
}

const char *prep_catalog_rules_preset_for(uint32_t entity_id, uint32_t year)
{
    for (size_t i = 0; i < PREP_ARRAY_LEN(presets); i++)
        if (presets[i].entity_id && presets[i].entity_id == entity_id && presets[i].year == year)
            return presets[i].name;
    return NULL;
}

const char *prep_catalog_rules_specials_name(prep_cat_specials_mode m)
{
    switch (m) {
    case PREP_CAT_SPECIALS_EXCLUDE: return "exclude";
    case PREP_CAT_SPECIALS_FINAL_ONLY: return "final-only";
    case PREP_CAT_SPECIALS_INCLUDE: return "include";
    }
    return NULL;
}

static const struct {
    const char *name;
    unsigned bit;
} inc_names[] = {
    {"some-illegible", PREP_INC_SOME_ILLEGIBLE},
    {"all-illegible", PREP_INC_ALL_ILLEGIBLE},
    {"exceeds", PREP_INC_EXCEEDS},
    {"no-acta", PREP_INC_NO_ACTA},
};

void prep_catalog_rules_inconsistent_text(unsigned set, char *out, size_t outsz)
{
    size_t n = 0;
    if (outsz) out[0] = 0;
    for (size_t i = 0; i < PREP_ARRAY_LEN(inc_names); i++)
        if (set & inc_names[i].bit) {
            int w = snprintf(out + n, n < outsz ? outsz - n : 0, "%s%s", n ? " " : "", inc_names[i].name);
            if (w > 0) n += (size_t)w;
        }
    if (!n) snprintf(out, outsz, "none");
}

static int yes_no(const char *v, int *out)
{
    if (!strcmp(v, "yes")) *out = 1;
    else if (!strcmp(v, "no")) *out = 0;
    else return -1;
    return 0;
}

int prep_catalog_rules_set(prep_rules *r, const char *key, const char *value, char *msg, size_t msgsz)
{
    if (!strcmp(key, "profile")) {
        if (!prep_catalog_rules_preset(value, r)) return 0;
        size_t n = (size_t)snprintf(msg, msgsz, "profile '%s' is not a preset (one of", value);
        for (size_t i = 0; prep_catalog_rules_preset_name(i) && n < msgsz; i++)
            n += (size_t)snprintf(msg + n, msgsz - n, " %s", prep_catalog_rules_preset_name(i));
        if (n < msgsz) snprintf(msg + n, msgsz - n, ")");
        return -1;
    }
    if (!strcmp(key, "inconsistent")) {
        unsigned set = 0;
        char buf[128];
        snprintf(buf, sizeof buf, "%s", value);
        if (strcmp(buf, "none")) {
            char *save = NULL;
            for (char *t = strtok_r(buf, " ,+", &save); t; t = strtok_r(NULL, " ,+", &save)) {
                size_t i = 0;
                while (i < PREP_ARRAY_LEN(inc_names) && strcmp(inc_names[i].name, t)) i++;
                if (i == PREP_ARRAY_LEN(inc_names)) {
                    snprintf(msg, msgsz,
                             "inconsistent: '%s' is not one of some-illegible, all-illegible, exceeds, no-acta "
                             "(or none)",
                             t);
                    return -1;
                }
                set |= inc_names[i].bit;
            }
        }
        r->inconsistent = set;
        return 0;
    }
    if (!strcmp(key, "no_counted_out_of_catalog") || !strcmp(key, "no_counted_no_acta") ||
        !strcmp(key, "cap_representatives") || !strcmp(key, "published")) {
        int *dst = !strcmp(key, "no_counted_out_of_catalog") ? &r->no_counted_out_of_catalog
                   : !strcmp(key, "no_counted_no_acta")      ? &r->no_counted_no_acta
                   : !strcmp(key, "published")               ? &r->published
                                                             : &r->cap_representatives;
        if (yes_no(value, dst)) {
            snprintf(msg, msgsz, "%s '%s' must be yes or no", key, value);
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "participation_specials")) {
        for (int m = PREP_CAT_SPECIALS_EXCLUDE; m <= PREP_CAT_SPECIALS_INCLUDE; m++)
            if (!strcmp(value, prep_catalog_rules_specials_name((prep_cat_specials_mode)m))) {
                r->specials = (prep_cat_specials_mode)m;
                return 0;
            }
        snprintf(msg, msgsz, "participation_specials '%s' must be exclude, final-only or include", value);
        return -1;
    }
    if (!strcmp(key, "special_ballots")) {
        int64_t v;
        if (prep_parse_i64(value, &v) || v < 1 || v > 100000) {
            snprintf(msg, msgsz, "special_ballots '%s' must be a number 1..100000", value);
            return -1;
        }
        r->special_ballots = (uint32_t)v;
        return 0;
    }
    if (!strcmp(key, "other_casilla_types")) {
        char got[27] = "";
        size_t n = 0;
        for (const char *p = value; *p; p++) {
            if (*p == ' ' || *p == ',') continue;
            if (*p < 'A' || *p > 'Z' || prep_catalog_type_valid(NULL, *p) || strchr(got, *p)) {
                snprintf(msg, msgsz,
                         "other_casilla_types '%s': each must be a capital letter A-Z, once, other than B C E S M "
                         "A P V",
                         value);
                return -1;
            }
            got[n++] = *p;
        }
        memcpy(r->other_types, got, sizeof got);
        return 0;
    }
    snprintf(msg, msgsz,
             "unknown rule '%s' (profile, inconsistent, no_counted_out_of_catalog, no_counted_no_acta, "
             "participation_specials, cap_representatives, special_ballots, published, other_casilla_types)",
             key);
    return -1;
}

int prep_catalog_type_valid(const prep_rules *r, char type)
{
    int rank = cat_type_rank(type); /* the known types rank 0..CAT_TYPES_KNOWN-1 */
    return (rank >= 0 && rank < CAT_TYPES_KNOWN) || (type && r && strchr(r->other_types, type));
}
