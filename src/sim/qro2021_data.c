/* prep sim: the real data behind the Querétaro 2021 drill, and the plan the simulation
 * lays over it. Sources and which facts are real or invented: docs/formats/sim.md.
 *
 * Real (checked):
 *   - the 18 municipalities, INEGI ids and names: /work/shared/data/geo/
 *     queretaro-municipios-2021.geojson (CVE_MUN, NOM_MUN);
 *   - the 11 parties on the 2021 local ballot (PAN, PRI, PRD, MC, PVEM, MORENA, PT,
 *     Querétaro Independiente, PES, RSP, FXM) and the 10 gubernatura candidacies, with
 *     Mauricio Kuri González running for both PAN and QI (IEEQ registrations as
 *     reported by the press, April 2021);
 *   - PAN+QI together for the Querétaro ayuntamiento; QI on its own in local district 13;
 *   - where the independents ran: 12 ayuntamientos candidacies (Arroyo Seco, Colón,
 *     Corregidora, Ezequiel Montes x2, Huimilpan, Jalpan de Serra x2, Pedro Escobedo,
 *     San Joaquín, Tequisquiapan, Tolimán) and local districts 6 and 13.
 * Invented (plausible): lista nominal and section counts per municipality (sizes
 * ordered as in reality), the grouping of municipalities into the 15 local districts,
 * where else the PAN+QI and MORENA+PT alliances ran, which small parties fielded no
 * candidacy in a unit, the parties' colours, every name below the gubernatura. */
#include "sim_internal.h"

#include <string.h>

#define B_PANQI 1u
#define B_MORPT 2u

const sim_qro_muni sim_qro_munis[SIM_QRO_N_MUNIS] = {
    /* id  name                    ln      secs urban dist nd spec ind coal     absent */
    {1, "Amealco de Bonfil", 53000, 120, 0.20, 12, 1, 1, 0, B_MORPT, ""},
    {2, "Pinal de Amoles", 23000, 95, 0.10, 15, 1, 0, 0, 0, "FXM"},
    {3, "Arroyo Seco", 12000, 45, 0.10, 15, 1, 0, 1, 0, "RSP FXM"},
    {4, "Cadereyta de Montes", 55000, 130, 0.25, 14, 1, 1, 0, B_MORPT, ""},
    {5, "Colón", 51000, 95, 0.30, 13, 1, 0, 1, B_PANQI, ""},
    {6, "Corregidora", 160000, 160, 0.80, 7, 1, 3, 1, B_PANQI, ""},
    {7, "Ezequiel Montes", 34000, 55, 0.45, 13, 1, 0, 2, 0, ""},
    {8, "Huimilpan", 34000, 70, 0.20, 12, 1, 0, 1, B_PANQI, ""},
    {9, "Jalpan de Serra", 23000, 70, 0.30, 15, 1, 1, 2, 0, ""},
    {10, "Landa de Matamoros", 18000, 70, 0.10, 15, 1, 0, 0, B_MORPT, "FXM PES"},
    {11, "El Marqués", 150000, 180, 0.50, 10, 1, 3, 0, B_PANQI, ""},
    {12, "Pedro Escobedo", 58000, 80, 0.40, 11, 1, 1, 1, B_MORPT, ""},
    {13, "Peñamiller", 16000, 55, 0.15, 14, 1, 0, 0, 0, "RSP"},
    {14, "Querétaro", 780000, 800, 0.93, 1, 6, 10, 0, B_PANQI, ""},
    {15, "San Joaquín", 8000, 25, 0.20, 14, 1, 0, 1, 0, "RSP FXM PES"},
    {16, "San Juan del Río", 225000, 290, 0.70, 8, 2, 4, 0, B_PANQI, ""},
    {17, "Tequisquiapan", 57000, 85, 0.50, 11, 1, 1, 1, 0, ""},
    {18, "Tolimán", 23000, 60, 0.20, 13, 1, 0, 1, B_MORPT, "RSP"},
};

const sim_qro_district sim_qro_districts[SIM_QRO_N_DISTRICTS] = {
    {1, B_PANQI, 0, ""},           {2, B_PANQI, 0, ""},
    {3, B_PANQI | B_MORPT, 0, ""}, {4, B_PANQI, 0, ""},
    {5, B_PANQI, 0, ""},           {6, B_PANQI, 1, ""},
    {7, B_PANQI, 0, ""},           {8, B_PANQI, 0, ""},
    {9, B_PANQI | B_MORPT, 0, ""}, {10, B_PANQI, 0, ""},
    {11, B_PANQI, 0, ""},          {12, B_PANQI | B_MORPT, 0, "PES"},
    {13, 0, 1, ""},                {14, B_PANQI | B_MORPT, 0, "FXM"},
    {15, B_PANQI, 0, "RSP FXM"},
};

/* Ballot order (registration seniority); colours chosen for charts. */
const sim_party_def sim_qro_parties[SIM_QRO_N_PARTIES] = {
    {"PAN", "Partido Acción Nacional", "#06338E"},
    {"PRI", "Partido Revolucionario Institucional", "#E31D1C"},
    {"PRD", "Partido de la Revolución Democrática", "#FFCB05"},
    {"PVEM", "Partido Verde Ecologista de México", "#50B747"},
    {"PT", "Partido del Trabajo", "#D52B1E"},
    {"MC", "Movimiento Ciudadano", "#FF8300"},
    {"MORENA", "Morena", "#B5261E"},
    {"QI", "Querétaro Independiente", "#6A2C91"},
    {"PES", "Partido Encuentro Solidario", "#5C2D91"},
    {"RSP", "Redes Sociales Progresistas", "#C6007E"},
    {"FXM", "Fuerza por México", "#2F4F8F"},
};

/* The ten gubernatura candidacies approved by the IEEQ (April 2021). */
const sim_qro_gub_cand sim_qro_gub[SIM_QRO_N_GUB] = {
    {"PANQI_G", "Mauricio Kuri González"},
    {"PRI", "Abigail Arredondo Ramos"},
    {"PRD", "Raquel Ruiz de Santiago Álvarez"},
    {"PVEM", "Katia Reséndiz Jaime"},
    {"PT", "Penélope Ramírez Manríquez"},
    {"MC", "Beatriz León Sotelo"},
    {"MORENA", "Celia Maya García"},
    {"PES", "María de Jesús Ibarra Silva"},
    {"RSP", "Miguel Nava Alvarado"},
    {"FXM", "Juan Carlos Martínez Cecias Rodríguez"},
};

/* The ten national parties of 2021, in INE's order. */
const sim_party_def sim_nat_parties[SIM_NAT_N_PARTIES] = {
    {"PAN", "Partido Acción Nacional", "#06338E"},
    {"PRI", "Partido Revolucionario Institucional", "#E31D1C"},
    {"PRD", "Partido de la Revolución Democrática", "#FFCB05"},
    {"PVEM", "Partido Verde Ecologista de México", "#50B747"},
    {"PT", "Partido del Trabajo", "#D52B1E"},
    {"MC", "Movimiento Ciudadano", "#FF8300"},
    {"MORENA", "Morena", "#B5261E"},
    {"PES", "Partido Encuentro Solidario", "#5C2D91"},
    {"RSP", "Redes Sociales Progresistas", "#C6007E"},
    {"FXM", "Fuerza por México", "#2F4F8F"},
};

typedef struct strength_row {
    const char *id;
    sim_strength s;
} strength_row;

/* Querétaro 2021: near the gubernatura's preliminary result (PAN+QI about 54%,
 * MORENA about 24% of the vote at 93.55% of actas, as reported on 7 June 2021);
 * the small parties' shares are guesses. */
static const strength_row qro_strength[] = {
    {"PAN", {0.470, -0.30}}, {"PRI", {0.075, 0.25}},  {"PRD", {0.013, 0.10}},
    {"PVEM", {0.025, 0.05}}, {"PT", {0.016, 0.15}},   {"MC", {0.028, -0.10}},
    {"MORENA", {0.235, 0.05}}, {"QI", {0.035, -0.10}}, {"PES", {0.012, 0.05}},
    {"RSP", {0.010, 0.00}},  {"FXM", {0.011, 0.05}},
};

/* National 2021 federal deputies, rounded shares of the vote. */
static const strength_row nat_strength[] = {
    {"PAN", {0.183, -0.25}}, {"PRI", {0.177, 0.25}}, {"PRD", {0.037, 0.10}},
    {"PVEM", {0.055, 0.05}}, {"PT", {0.033, 0.15}},  {"MC", {0.071, -0.10}},
    {"MORENA", {0.345, 0.05}}, {"PES", {0.028, 0.05}}, {"RSP", {0.018, 0.00}},
    {"FXM", {0.025, 0.05}},
};

sim_strength sim_party_strength(const char *process_id, const char *id)
{
    const strength_row *t = nat_strength;
    size_t n = PREP_ARRAY_LEN(nat_strength);
    if (process_id && strcmp(process_id, "qro2021") == 0) {
        t = qro_strength;
        n = PREP_ARRAY_LEN(qro_strength);
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].id, id) == 0) return t[i].s;
    return (sim_strength){0.02, 0.0};
}

int sim_word_in(const char *list, const char *id)
{
    size_t n = strlen(id);
    const char *p = list;
    while (p && *p) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if ((size_t)(e - p) == n && n > 0 && memcmp(p, id, n) == 0) return 1;
        p = e;
    }
    return 0;
}

/* Common Mexican given names and surnames, for invented candidates. */
const char *const sim_first_names[] = {
    "María", "José", "Juan", "Guadalupe", "Francisco", "Ana", "Luis", "Carmen", "Miguel",
    "Rosa", "Jesús", "Laura", "Antonio", "Patricia", "Alejandro", "Verónica", "Jorge",
    "Gabriela", "Pedro", "Leticia", "Ricardo", "Adriana", "Fernando", "Claudia", "Roberto",
    "Silvia", "Manuel", "Mónica", "Eduardo", "Elena", "Javier", "Alejandra", "Sergio",
    "Teresa", "Arturo", "Margarita", "Raúl", "Beatriz", "Héctor", "Lucía", "Rafael",
    "Norma", "Óscar", "Araceli", "Enrique", "Sofía", "Martín", "Isabel", "Gerardo", "Irma",
};
const size_t sim_n_first_names = PREP_ARRAY_LEN(sim_first_names);

const char *const sim_surnames[] = {
    "Hernández", "García", "Martínez", "López", "González", "Rodríguez", "Pérez",
    "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes",
    "Jiménez", "Torres", "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz",
    "Moreno", "Castillo", "Romero", "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez",
    "Ramos", "Domínguez", "Herrera", "Medina", "Castro", "Vargas", "Guzmán", "Velázquez",
    "Muñoz", "Rojas", "Salazar", "Contreras", "Luna", "Ortega", "Guerrero", "Estrada",
    "Bautista", "Delgado", "Cortés", "Navarro", "Trejo", "Olvera", "Reséndiz", "Ugalde",
    "Montes", "Pacheco", "Rangel", "Zúñiga", "Camacho", "Ledesma", "Báez", "Cabrera",
    "Espinoza", "Ibarra", "Nieves", "Osornio", "Pozo", "Quintanar", "Soto", "Valencia",
};
const size_t sim_n_surnames = PREP_ARRAY_LEN(sim_surnames);
